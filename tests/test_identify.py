"""Language identification of reply sentences (reading/languages/identify.py: pycld2).

Clear sentences of every language steervote reads must be identified, a sentence in a language
it does not read must say so, and nothing, whatever the text, may raise.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steervote.core.reading.languages.identify import (
    READ_LANGUAGES,
    THRESHOLD,
    identify,
    language_name,
)

CLEAR: dict[str, tuple[str, ...]] = {
    "bg": (
        "Гласувам за приемането на предложението, благодаря.",
        "Въздържам се поради конфликт на интереси.",
    ),
    "cs": ("Hlasuji pro přijetí návrhu, děkuji.", "Děkuji za přípravu nových stanov."),
    "da": (
        "Jeg undlader at stemme, da jeg også sidder i bestyrelsen.",
        "Tak for udarbejdelsen af de nye vedtægter.",
    ),
    "de": ("Vielen Dank für die Vorbereitung der Satzung.", "Ich stimme dem Antrag zu, danke."),
    "el": (
        "Ευχαριστώ για την προετοιμασία του νέου καταστατικού.",
        "Ψηφίζω υπέρ της πρότασης, ευχαριστώ.",
    ),
    "en": ("Thanks for preparing the new statutes.", "I vote in favour of the proposal."),
    "es": ("Gracias por preparar los nuevos estatutos.", "Voto a favor de la propuesta, gracias."),
    "et": ("Tänan uue põhikirja ettevalmistamise eest.", "Hääletan ettepaneku poolt, aitäh."),
    "fi": ("Kiitos uusien sääntöjen valmistelusta.", "Äänestän ehdotuksen puolesta, kiitos."),
    "fr": (
        "Merci pour la préparation des nouveaux statuts.",
        "Désolé pour la réponse tardive, je suis favorable.",
    ),
    "ga": (
        "Go raibh maith agaibh as an mbunreacht nua a ullmhú.",
        "Staonaim mar go bhfuil coinbhleacht leasa agam.",
    ),
    "hr": (
        "Glasam za prihvaćanje prijedloga, hvala.",
        "Ispričavam se zbog kasnog odgovora, ja sam za.",
    ),
    "hu": (
        "Köszönöm az új alapszabály előkészítését.",
        "A javaslat mellett szavazok, köszönöm.",
    ),
    "it": ("Grazie per aver preparato il nuovo statuto.", "Voto a favore della proposta, grazie."),
    "lt": ("Ačiū už naujųjų įstatų parengimą.", "Balsuoju už pasiūlymą, ačiū."),
    "lv": ("Paldies par jauno statūtu sagatavošanu.", "Balsoju par priekšlikumu, paldies."),
    "mt": ("Grazzi talli ħejjejtu l-istatut il-ġdid.", "Nivvota favur il-proposta, grazzi."),
    "nl": (
        "Dank voor het voorbereiden van de nieuwe statuten.",
        "Ik stem voor het voorstel, bedankt.",
    ),
    "pl": ("Dziękuję za przygotowanie statutu.", "Głosuję za przyjęciem uchwały, dziękuję."),
    "pt": (
        "Obrigado pela preparação dos novos estatutos.",
        "Abstenho-me porque tenho um conflito de interesses.",
    ),
    "ro": ("Mulțumesc pentru pregătirea noului statut.", "Votez pentru propunere, mulțumesc."),
    "sk": ("Ďakujem za prípravu nových stanov.", "Hlasujem za prijatie návrhu, ďakujem."),
    "sl": (
        "Vzdržim se glasovanja zaradi navzkrižja interesov.",
        "Glasujem za sprejem predloga, hvala.",
    ),
    "sv": (
        "Jag avstår eftersom jag sitter i styrelsen.",
        "Tack för att ni förberett de nya stadgarna.",
    ),
    "no": (
        "Takk for at dere har utarbeidet vedtektene.",
        "Jeg avstår fordi jeg er inhabil i saken.",
    ),
    "is": ("Takk fyrir að undirbúa nýju samþykktirnar.", "Ég greiði atkvæði með tillögunni, takk."),
    "tr": (
        "Yeni tüzüğü hazırladığınız için teşekkür ederim.",
        "Öneri lehine oy veriyorum, teşekkürler.",
    ),
    "ru": ("Спасибо за подготовку нового устава.", "Голосую за принятие предложения, спасибо."),
    "uk": ("Дякую за підготовку нового статуту.", "Голосую за ухвалення пропозиції, дякую."),
    "he": ("תודה על הכנת התקנון החדש.", "אני מצביע בעד ההצעה, תודה."),
    "ar": ("شكرا على إعداد النظام الأساسي الجديد.", "أمتنع عن التصويت بسبب تضارب المصالح."),
    "ja": ("新しい規約の準備ありがとうございました。", "提案に賛成します。ありがとうございます。"),
    "zh": ("我投票支持这项提案，谢谢。", "我投票支持這項提案，謝謝。"),
    "ko": ("새 정관을 준비해 주셔서 감사합니다.", "이 제안에 찬성합니다. 감사합니다."),
}


def test_every_read_language_has_sentences() -> None:
    assert set(CLEAR) == READ_LANGUAGES
    assert len(READ_LANGUAGES) == 34  # 35 language files, Chinese in two scripts as "zh"


@pytest.mark.parametrize(
    ("code", "text"), [(code, text) for code, texts in CLEAR.items() for text in texts]
)
def test_clear_sentence_is_identified(code: str, text: str) -> None:
    found = identify(text)
    assert (found.code, found.read) == (code, True), found
    assert THRESHOLD <= found.confidence <= 1.0


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("sw", "Napiga kura kuunga mkono pendekezo, asante."),
        ("sw", "Asante kwa kuandaa katiba mpya."),
        ("id", "Saya mendukung usulan ini, terima kasih."),
        ("id", "Terima kasih sudah menyiapkan anggaran dasar baru."),
    ],
)
def test_language_we_do_not_read_is_named_and_not_read(code: str, text: str) -> None:
    found = identify(text)
    assert found.code == code
    assert not found.read
    assert found.confidence >= THRESHOLD


def test_mail_client_footer_is_read_without_the_product_names() -> None:
    # "Outlook" and "iOS" are not English words here: the rest is too short to tell.
    assert identify("Hent Outlook for iOS").code != "en"


@pytest.mark.parametrize("text", ["Ja", "ja", "Si", "No", "For", "OK"])
def test_word_shared_by_several_languages_is_unsure(text: str) -> None:
    found = identify(text)
    assert (found.code, found.read) == (None, False), found


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "😀👍", "12345", "+44 20 7946 0000", "...!?", "\x00\x01", "\ud800"]
)
def test_no_language_gives_none_without_raising(text: str) -> None:
    found = identify(text)
    assert found.code is None
    assert not found.read
    assert 0.0 <= found.confidence < THRESHOLD


def test_language_names() -> None:
    assert language_name("sw") == "Swahili"
    assert language_name("pl") == "Polish"
    assert language_name("no") == "Norwegian"
    assert language_name("nb") == "Norwegian"
    assert language_name("zh") == "Chinese"
    assert language_name("qu") == "Quechua"  # from CLD2's own table
    assert language_name("not-a-code") == "not-a-code"
    assert all(language_name(code) != code for code in READ_LANGUAGES)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_identify_never_raises(text: str) -> None:
    found = identify(text)
    assert 0.0 <= found.confidence <= 1.0
    assert found.read == (found.code in READ_LANGUAGES)
    assert found.code is not None or not found.read


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_identify_never_raises_on_decoded_bytes(data: bytes) -> None:
    identify(data.decode("latin-1"))
    identify(data.decode("utf-8", errors="surrogateescape"))
