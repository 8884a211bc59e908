"""Reply kinds a new user's real mail brings, read as a careful secretary would.

Each template in tests/corpus_kinds/ (format: tests/corpus/README.md) is filled with both ballots
of test_reply_corpus.py and read through read_reply; the label in corpus_kinds/labels.tsv must
come out. The kinds: quote starts a reader may not know (with a colleague's vote beneath),
replies that answer something else, bare vote words shared by several languages, clear and
hedged votes in many languages, and machine mail recognised by its content.

A template check runs first and independently of the reader: every filled template parses
without defects, every text part decodes in its declared charset, the Subject carries the
ballot subject, and the words the member (or the machine) wrote - listed in WORDS - appear in
every decoded text part. A failure of the reading test is then a reading failure, not a
broken template.
"""

from __future__ import annotations

import csv
import email
import html
import re
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from corpus_fill import fill

if TYPE_CHECKING:  # imported lazily below: the template checks must run without the reader
    from steervote.core.reply import Reading

KINDS = Path(__file__).parent / "corpus_kinds"
LABELS = [
    (row["file"], row["expected"])
    for row in csv.DictReader(
        (KINDS / "labels.tsv").read_text(encoding="utf-8").splitlines(), delimiter="\t"
    )
]
IDS = [name for name, _ in LABELS]

from ballots import BALLOTS  # noqa: E402 - the shared ballots, one of them hostile

# What each template must show once decoded: the member's own words (and, where the case is
# about a colleague's vote or a machine's wording, that text too).
WORDS: dict[str, list[str]] = {
    "101-yahoo-android-en-sameline-wrote-colleague-for-member-against.eml": [
        "Against. I can't support winding up the branches.",
        "For.",
    ],
    "102-yahoo-android-en-sameline-empty-colleague-for.eml": [
        "Sent from Yahoo Mail on Android",
        "For.",
    ],
    "103-yahoo-android-german-sameline-schrieb-dafuer-member-enthaltung.eml": [
        "Enthaltung.",
        "Dafür.",
    ],
    "104-yahoo-web-spanish-sameline-escribio-a-favor-empty.eml": ["escribió:", "A favor."],
    "105-thebat-en-initials-bottom-post-against-below-tk-for.eml": [
        "Against, I'm afraid - see my note to Helen.",
        "TK> For.",
    ],
    "106-thebat-russian-cp1251-initials-vote-above-tk-protiv.eml": ["За.", "TK> Против."],
    "107-thebat-en-initials-jk-abstain-member-empty.eml": ["Hello Jon,", "JK> Abstain."],
    "108-thebat-polish-iso8859-2-initials-bottom-za-below-ab-przeciw.eml": [
        "Za. Zmiany są potrzebne.",
        "AB> Przeciw.",
    ],
    "109-outlook-express-pipe-quote-abstain-above-colleague-for.eml": ["Abstain.", "| For."],
    "110-outlook-express-pipe-quote-bottom-against-below-plus-one.eml": [
        "Against. Too rushed.",
        "| +1",
    ],
    "111-foxmail-gb2312-base64-original-block-colleague-zancheng-member-fandui.eml": [
        "反对。",
        "赞成。",
    ],
    "112-netease-163-gbk-zai-xiedao-colleague-zancheng-empty.eml": ["写道：", "赞成"],
    "113-qqmail-intl-utf8-base64-original-colleague-against-member-abstain.eml": [
        "Abstain.",
        "Against.",
    ],
    "114-outlook-finnish-lahettaja-colleague-puolesta-member-vastaan.eml": [
        "Vastaan.",
        "Puolesta.",
    ],
    "115-outlook-hungarian-felado-colleague-igen-member-empty.eml": ["Feladó:", "Igen."],
    "116-outlook-czech-od-odeslano-colleague-pro-member-zdrzuji.eml": [
        "Zdržuji se hlasování.",
        "Pro.",
    ],
    "117-outlook-turkish-kimden-colleague-evet-member-hayir.eml": ["Hayır.", "Evet."],
    "118-outlook-romanian-de-la-trimis-colleague-pentru-empty.eml": ["Trimis:", "Pentru."],
    "119-outlook-greek-apo-colleague-yper-member-kata.eml": ["Κατά.", "Υπέρ."],
    "120-outlook-hebrew-rlm-meat-colleague-baad-member-neged.eml": ["נגד.", "בעד."],
    "121-outlook-japanese-sjis-sashidashinin-colleague-sansei-member-hantai.eml": [
        "反対です。",
        "賛成です。",
    ],
    "122-outlook-korean-euckr-colleague-chanseong-member-gigwon.eml": [
        "기권합니다.",
        "찬성합니다.",
    ],
    "123-outlook-ukrainian-vid-colleague-za-empty-antv.eml": ["Надіслано:", "За."],
    "124-outlook-chinese-dafu-colleague-fandui-member-zancheng.eml": ["赞成。", "反对。"],
    "125-gmail-arabic-rtl-marks-attribution-colleague-muwafiq-empty.eml": [
        "تمت كتابة ما يلي بواسطة",
        "موافق.",
    ],
    "126-gmail-hebrew-rtl-marks-attribution-colleague-neged-member-nimna.eml": ["נמנע.", "נגד."],
    "127-gmail-fwd-then-reply-colleague-plus-one-member-abstain.eml": [
        "Abstain.",
        "+1 - Sam, did you get this?",
    ],
    "128-gmail-russian-fwd-then-reply-colleague-protiv-empty.eml": [
        "Пересылаемое сообщение",
        "Против.",
    ],
    "129-outlook-fw-then-reply-colleague-for-empty.eml": [
        "Subject: FW:",
        "For. Sam - forwarding in case this went to your spam.",
    ],
    "130-outlook-ios-norwegian-hent-outlook-for-ios-alone.eml": ["Hent Outlook for iOS"],
    "131-outlook-android-norwegian-fa-outlook-for-android-under-avstar.eml": [
        "Jeg avstår.",
        "Få Outlook for Android",
    ],
    "132-outlook-ios-swedish-skaffa-outlook-for-ios-alone.eml": ["Skaffa Outlook för iOS"],
    "133-outlook-android-swedish-skaffa-outlook-for-android-under-emot.eml": [
        "Emot.",
        "Skaffa Outlook för Android",
    ],
    "134-outlook-ios-german-von-outlook-fuer-ios-gesendet-alone.eml": ["Von Outlook für iOS"],
    "135-outlook-ios-dutch-download-outlook-voor-ios-alone.eml": ["Download Outlook voor iOS"],
    "136-outlook-ios-czech-ziskat-outlook-pro-ios-under-proti.eml": [
        "Proti.",
        "Získat Outlook pro iOS",
    ],
    "137-iphone-french-contre-envoye-de-mon-iphone.eml": ["Contre.", "Envoyé de mon iPhone"],
    "201-gmail-en-yes-got-it-will-vote-at-weekend.eml": [
        "Yes, got it — will read it at the weekend and vote then."
    ],
    "202-thunderbird-german-ja-habe-ich-bekommen-stimme-dann-ab.eml": [
        "Ja, hab's bekommen – ich lese es am Wochenende und stimme dann ab."
    ],
    "203-thunderbird-french-oui-bien-recu-je-voterai.eml": [
        "Oui, bien reçu. Je le lis ce week-end et je voterai ensuite."
    ],
    "204-gmail-spanish-si-recibido-voto-despues.eml": [
        "Sí, recibido. Lo leo el fin de semana y después voto."
    ],
    "205-outlook-polish-tak-dostalam-zaglosuje-odp.eml": [
        "Tak, dostałam. Przeczytam w weekend i wtedy zagłosuję."
    ],
    "206-thunderbird-japanese-iso2022jp-uketorimashita-shumatsu-ni-tohyo.eml": [
        "はい、受け取りました。週末に読んでから投票します。"
    ],
    "207-thebat-russian-koi8r-da-poluchil-progolosuyu-posle.eml": [
        "Да, получил. Проголосую после собрания в четверг."
    ],
    "208-gmail-yes-to-chair-followup-did-you-receive-attachment.eml": [
        "Yes",
        "Can you all confirm you received the attachment?",
    ],
    "209-outlook-yes-to-chair-followup-pdf-opens-unprefixed.eml": [
        "Yes.",
        "Could everyone just confirm the PDF opens for you?",
    ],
    "210-thunderbird-german-ja-to-habt-ihr-den-anhang-bekommen.eml": [
        "Ja",
        "Habt ihr alle den Anhang bekommen?",
    ],
    "301-iphone-swedish-ja-men-bara-om-stadgarna-andras.eml": ["Ja. Men bara om stadgarna ändras."],
    "302-thunderbird-polish-tak-ale-tylko-jesli.eml": [
        "Tak, ale tylko jeśli poprawka do punktu 9 zostanie przyjęta."
    ],
    "303-gmail-italian-si-ma-solo-se.eml": ["Si, ma solo se il punto 9 viene corretto prima."],
    "304-gmail-romanian-da-dar-numai-daca.eml": ["Da, dar numai dacă se modifică articolul 9."],
    "305-iphone-danish-ja-hvis-paragraf-9-aendres.eml": ["Ja, hvis paragraf 9 bliver ændret."],
    "306-gmail-ja-then-swahili-lakini-tu-ikiwa.eml": [
        "Ja. Lakini tu ikiwa kifungu cha 9 kitarekebishwa kwanza."
    ],
    "307-gmail-yes-then-indonesian-tapi-hanya-kalau.eml": [
        "Yes, tapi hanya kalau pasal 9 diubah dulu."
    ],
    "308-gmail-no-then-vietnamese-tru-khi.eml": [
        "No. Trừ khi điều 9 được sửa, khi đó tôi sẽ bỏ phiếu thuận."
    ],
    "309-iphone-norwegian-nei-ikke-for-vi-har-sett-budsjettet.eml": [
        "Nei, ikke før vi har sett budsjettet."
    ],
    "310-thunderbird-croatian-da-ali-samo-ako.eml": ["Da, ali samo ako se članak 9 izmijeni."],
    "311-gmail-spanish-no-no-es-que-este-en-contra.eml": [
        "No. Bueno, no es que esté en contra; solo necesito más tiempo para leerlo."
    ],
    "312-iphone-swedish-ja-tack-for-utskicket.eml": ["Ja. Tack för utskicket!"],
    "313-thunderbird-polish-tak-dziekuje.eml": ["Tak. Dziękuję i pozdrawiam"],
    "314-iphone-italian-si-grazie.eml": ["Si, grazie."],
    "315-gmail-romanian-da-multumesc.eml": ["Da. Mulțumesc frumos!"],
    "316-iphone-danish-nej-tak-for-beskeden.eml": ["Nej. Tak for beskeden."],
    "317-iphone-norwegian-ja-takk-for-jobben.eml": ["Ja. Takk for jobben med dette."],
    "318-thunderbird-croatian-ne-hvala-na-obavijesti.eml": ["Ne. Hvala na obavijesti."],
    "319-gmail-czech-no-jasne-jsem-pro-diky.eml": ["No jasně, jsem pro. Díky."],
    "401-thunderbird-polish-jestem-przeciw.eml": ["Jestem przeciw."],
    "402-outlook-swedish-jag-rostar-for-forslaget.eml": ["Jag röstar för förslaget."],
    "403-iphone-danish-jeg-stemmer-imod.eml": ["Jeg stemmer imod."],
    "404-outlook-finnish-kannatan.eml": ["Kannatan."],
    "405-thunderbird-czech-hlasuji-proti.eml": ["Hlasuji proti."],
    "406-outlook-slovak-zdrziavam-sa-hlasovania.eml": ["Zdržiavam sa hlasovania."],
    "407-gmail-hungarian-igen-tamogatom.eml": ["Igen, támogatom."],
    "408-gmail-romanian-votez-impotriva.eml": ["Votez împotrivă."],
    "409-outlook-bulgarian-vazdarzham-se.eml": ["Въздържам се."],
    "410-thunderbird-croatian-glasam-za.eml": ["Glasam za."],
    "411-gmail-slovenian-sem-proti.eml": ["Sem proti."],
    "412-iphone-estonian-poolt.eml": ["Poolt."],
    "413-thunderbird-latvian-atturos.eml": ["Atturos."],
    "414-gmail-lithuanian-pries.eml": ["Prieš."],
    "415-gmail-russian-golosuyu-za.eml": ["Голосую за."],
    "416-outlook-ukrainian-proty.eml": ["Проти."],
    "417-thunderbird-japanese-iso2022jp-sansei-desu.eml": ["賛成です。"],
    "418-foxmail-chinese-gb18030-wo-tou-zancheng-piao.eml": ["我投赞成票。"],
    "419-outlook-traditional-chinese-big5-fandui.eml": ["反對。"],
    "420-gmail-korean-euckr-bandaehamnida.eml": ["반대합니다."],
    "421-outlook-hebrew-ani-baad.eml": ["אני בעד."],
    "422-outlook-arabic-amtani-an-altaswit.eml": ["أمتنع عن التصويت."],
    "423-iphone-norwegian-jeg-stemmer-mot.eml": ["Jeg stemmer mot."],
    "424-outlook-turkish-cekimserim.eml": ["Çekimserim."],
    "425-thunderbird-greek-windows1253-yper.eml": ["Υπέρ."],
    "426-gmail-icelandic-eg-er-a-moti.eml": ["Ég er á móti."],
    "427-gmail-russian-ne-protiv-no-golosovat-ne-budu.eml": [
        "Не против, но голосовать пока не буду."
    ],
    "428-thunderbird-japanese-sansei-desuga-joken.eml": [
        "賛成ですが、第9条が修正されることが条件です。"
    ],
    "429-thunderbird-polish-nie-jestem-przeciw-ale-tez-nie-za.eml": [
        "Nie jestem przeciw, ale też nie za – muszę to jeszcze przemyśleć."
    ],
    "430-outlook-finnish-kannatan-jos.eml": ["Kannatan, jos 9 § korjataan ensin."],
    "431-outlook-turkish-evet-ama-sadece.eml": ["Evet, ama sadece 9. madde değişirse."],
    "432-qqmail-chinese-ruguo-xiugai-jiu-zancheng.eml": ["如果第九条修改的话，我就赞成。"],
    "433-outlook-hebrew-baad-betnai.eml": ["בעד, בתנאי שסעיף 9 יתוקן."],
    "434-gmail-greek-den-eimai-kata-alla.eml": ["Δεν είμαι κατά, αλλά δεν ψηφίζω ακόμα."],
    "501-freshdesk-automated-response-ticket-received.eml": [
        "This is an automated response.",
        "Your ticket #123 has been received",
    ],
    "502-jira-service-desk-reply-above-this-line-request-received.eml": [
        "Reply above this line.",
        "We've received your request",
    ],
    "503-otrs-german-automatisch-generierte-antwort-ticketnummer.eml": [
        "Dies ist eine automatisch generierte Antwort.",
        "vielen Dank für Ihre Nachricht",
    ],
    "504-zendesk-spanish-escriba-su-respuesta-solicitud-recibida.eml": [
        "Escriba su respuesta por encima de esta línea",
        "Su solicitud (#48213) ha sido recibida",
    ],
    "505-freshdesk-french-reponse-automatique-ticket-recu-pour.eml": [
        "Ceci est une réponse automatique",
        "Pour suivre l'avancement de votre demande",
    ],
    "506-spamarrest-challenge-once-i-approve-you.eml": [
        "I apologize for this automatic reply to your email.",
        "Once I approve you",
    ],
    "507-boxbe-please-confirm-you-are-a-human-yes-button.eml": [
        "Please confirm you are a human by replying to this email",
        "Yes, I'm a human",
    ],
    "508-outlook-finnish-automaattinen-vastaus-no-auto-submitted.eml": [
        "Olen lomalla 2.–13.1.2017 enkä lue sähköpostiani."
    ],
    "509-webmail-polish-urlop-re-subject-no-headers.eml": [
        "przebywam na urlopie bez dostępu do poczty",
        "Wiadomość wygenerowana automatycznie.",
    ],
    "510-czech-automaticka-odpoved-mimo-kancelar-pro.eml": [
        "jsem mimo kancelář",
        "plné moci pro hlasování",
        "Toto je automatická odpověď.",
    ],
    "511-japanese-jidou-outou-kyuuka-iso2022jp.eml": [
        "休暇をいただいております",
        "※本メールは自動送信です。",
    ],
    "512-zendesk-agent-update-holds-human-for-line.eml": [
        "FOR - sorry, replying from the helpdesk account.",
        "Please type your reply above this line",
    ],
    "513-exchange-automatic-reply-with-written-in-vote.eml": [
        "I am away until Friday 13 January",
        "I vote FOR,",
    ],
}


def filled(name: str, ballot: str) -> bytes:
    subject, text = BALLOTS[ballot]
    return fill(
        (KINDS / name).read_bytes(),
        from_="Sam Tarry <sam.tarry@momentum.example>",
        to="votes+k3J9x2@steering-group.example.org",
        subject=subject,
        message_id="reply-1@momentum.example",
        in_reply_to="<ballot-1@steering-group.example.org>",
        references="<ballot-1@steering-group.example.org>",
        date="Thu, 05 Jan 2017 09:12:44 +0000",
        ballot_text=text,
    )


def read_kind_file(name: str, ballot: str) -> Reading:
    from steervote.core.reply import read_reply

    subject, text = BALLOTS[ballot]
    title = subject.split("] ", 1)[1]
    message = email.message_from_bytes(filled(name, ballot))
    return read_reply(message, ballot_subject=subject, motion_title=title, ballot_text=text)


def _visible(part: Message) -> str:
    """A text part decoded strictly in its declared charset; HTML reduced to its text."""
    raw = part.get_payload(decode=True)
    assert isinstance(raw, bytes)
    charset = part.get_content_charset() or "us-ascii"
    text = raw.decode(charset)  # strict: a wrongly encoded template fails here
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(style|head)\b.*?</\1>", " ", text)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.split())


def test_labels_are_complete() -> None:
    files = sorted(p.name for p in KINDS.glob("*.eml"))
    assert sorted(IDS) == files
    assert set(WORDS) == set(files)
    assert len(files) >= 60
    assert {expected for _, expected in LABELS} == {
        "for",
        "against",
        "abstain",
        "needs_review",
        "not_a_vote",
    }


@pytest.mark.parametrize("ballot", sorted(BALLOTS))
@pytest.mark.parametrize("name", IDS)
def test_template_decodes_as_written(name: str, ballot: str) -> None:
    """Template check, independent of the reader."""
    data = filled(name, ballot)
    assert not re.search(rb"\{[A-Z_]+\}", data), "a placeholder was left unfilled"
    message = email.message_from_bytes(data)
    subject = str(make_header(decode_header(message["Subject"])))
    assert BALLOTS[ballot][0] in subject
    texts = []
    for part in message.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
        if part.get_content_maintype() == "text" and not part.get_filename():
            texts.append(_visible(part))
    assert texts, "no text part"
    for text in texts:
        for words in WORDS[name]:
            assert " ".join(words.split()) in text, words


@pytest.mark.parametrize("ballot", sorted(BALLOTS))
@pytest.mark.parametrize(("name", "expected"), LABELS, ids=IDS)
def test_kind_reads_as_labelled(name: str, expected: str, ballot: str) -> None:
    from steervote.core.reply import Kind

    reading = read_kind_file(name, ballot)
    if expected in ("for", "against", "abstain"):
        assert (reading.kind, reading.vote) == (Kind.VOTE, expected), reading.reason
        assert reading.evidence.strip(), "a counted vote must show the words that decided it"
    else:
        assert reading.kind == expected, reading.reason
        assert reading.vote is None
    assert reading.reason
    assert len(reading.own_text) <= 2000


@pytest.mark.parametrize("ballot", sorted(BALLOTS))
@pytest.mark.parametrize("name", IDS)
def test_quoted_ballot_never_leaks_into_own_text(name: str, ballot: str) -> None:
    _, text = BALLOTS[ballot]
    distinctive = [line for line in text.splitlines() if len(line) > 30]
    own = read_kind_file(name, ballot).own_text
    assert not [line for line in distinctive if line in own]
