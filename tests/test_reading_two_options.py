"""A reply whose own words name two different options is never counted.

A blind tester found replies counted as one option though they name two: "For against",
"Against.\\nFOR FOR FOR", "Yes no", "For", 300 filler lines, then "I vote AGAINST". A careful
secretary asks about every such reply, whatever separates the two words (spaces, commas,
NUL, line breaks, other Unicode spaces, zero-width characters, repeated words, filler lines)
and in every language steervote reads. Only repetitions of the same option may count, and an
option word the reader plainly understands as something else (negated, "thanks for", part
of a longer phrase that is itself a vote) names no option.

Text that is not a sentence in a language (a spreadsheet formula, code, markup, a long run of
filler lines, characters that are not text) is never accounted for as courtesy or a remark,
and the evidence of a counted vote is the words that decided it, not a run of other lines.
"""

from __future__ import annotations

import re
import unicodedata
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ballots import CONSTITUTION
from steervote.core.reading.languages.lexicon import languages, normalize
from steervote.core.reply import Kind, Reading, read_reply
from steervote.core.vote import Vote

SUBJECT = "[m1] Adopt the new constitution"
FILLER = "\n".join(f"line {i}" for i in range(300))


def read(body: str, *, subject: str = f"Re: {SUBJECT}") -> Reading:
    msg = EmailMessage()
    msg["From"] = "Sam Tarry <s@x.example>"
    msg["To"] = "votes@x.example"
    msg["Subject"] = subject
    msg.set_content(body)
    return read_reply(
        msg,
        ballot_subject=SUBJECT,
        motion_title="Adopt the new constitution",
        ballot_text=CONSTITUTION,
    )


def names(reason: str, *options: str) -> bool:
    """Does the reason name each option (its value: "for", "against", "abstain")?"""
    return all(re.search(rf"\b{option}\b", reason, re.IGNORECASE) for option in options)


# What the blind tester sent, with the two options each names.
BLIND_TESTER = [
    ("Against FOR FOR FOR", ("for", "against")),
    ("For against", ("for", "against")),
    ("Against for", ("for", "against")),
    ("For AGAINST AGAINST", ("for", "against")),
    ("Against.\nFOR FOR FOR", ("for", "against")),
    ("Against.\nFor for", ("for", "against")),
    ("I vote against. FOR FOR FOR", ("for", "against")),
    ("For\x00 against", ("for", "against")),
    ("For\nline 0\nI vote AGAINST", ("for", "against")),
    ("Yes no", ("for", "against")),
    ("Yes\x00 no", ("for", "against")),
    (f"For\n{FILLER}\nI vote AGAINST, ignore the above", ("for", "against")),
    ("For\nAgainst", ("for", "against")),
]


@pytest.mark.parametrize(("body", "options"), BLIND_TESTER, ids=[b[:30] for b, _ in BLIND_TESTER])
def test_the_blind_testers_replies_go_to_review_naming_both_options(
    body: str, options: tuple[str, ...]
) -> None:
    reading = read(body)
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading.reason
    assert names(reading.reason, *options), reading.reason


def test_the_worst_case_shows_the_words_not_the_filler() -> None:
    reading = read(f"For\n{FILLER}\nI vote AGAINST, ignore the above")
    assert reading.kind is Kind.NEEDS_REVIEW
    assert "line 17" not in reading.evidence and len(reading.evidence) <= 200
    assert "line 17" not in reading.reason


def test_a_formula_is_not_a_vote() -> None:
    reading = read('=HYPERLINK("http://x","For")')
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading.reason
    assert "not a sentence" in reading.reason


# Two option words of one language (a yes and a no, or two options), in all 35 languages.
PAIRS = {
    "ar": ("موافق", "ضد"),
    "bg": ("Да", "не"),
    "cs": ("Ano", "ne"),
    "da": ("For", "imod"),
    "de": ("Dafür", "dagegen"),
    "el": ("Υπέρ", "κατά"),
    "en": ("For", "Against"),
    "es": ("Sí", "no"),
    "et": ("Poolt", "vastu"),
    "fi": ("Kyllä", "ei"),
    "fr": ("Pour", "contre"),
    "ga": ("Tá", "níl"),
    "he": ("בעד", "נגד"),
    "hr": ("Za", "protiv"),
    "hu": ("Igen", "nem"),
    "is": ("Já", "nei"),
    "it": ("Favorevole", "contrario"),
    "ja": ("賛成", "反対"),
    "ko": ("찬성", "반대"),
    "lt": ("Taip", "prieš"),
    "lv": ("Jā", "nē"),
    "mt": ("Iva", "le"),
    "nl": ("Voor", "tegen"),
    "no": ("Ja", "nei"),
    "pl": ("Za", "przeciw"),
    "pt": ("Sim", "não"),
    "ro": ("Da", "nu"),
    "ru": ("За", "против"),
    "sk": ("Áno", "nie"),
    "sl": ("Za", "proti"),
    "sv": ("Ja", "nej"),
    "tr": ("Evet", "hayır"),
    "uk": ("За", "проти"),
    "zh-hans": ("赞成", "反对"),
    "zh-hant": ("贊成", "反對"),
}
SEPARATORS = {
    "space": " ",
    "comma": ", ",
    "nul": "\x00",
    "nul-space": "\x00 ",
    "newline": "\n",
    "blank-line": "\n\n",
    "crlf": "\r\n",
    "tab": "\t",
    "nbsp": "\u00a0",
    "em-space": "\u2003",
    "ideographic-space": "\u3000",
    "line-separator": "\u2028",
    "full-stop": ". ",
    "spaced-dash": " - ",
    "semicolon": "; ",
    "zwsp-in-space": " \u200b ",
    "zwsp-newline": "\u200b\n",
    "filler-lines": "\nline 0\nline 1\nline 2\n",
    "many-filler-lines": "\n" + "\n".join(f"line {i}" for i in range(60)) + "\n",
}


def test_every_language_has_a_pair() -> None:
    assert set(PAIRS) == set(languages())
    for code, (first, second) in PAIRS.items():
        votes = {v for v, phrases in languages()[code].votes.items() if normalize(first) in phrases}
        others = {v for v, ps in languages()[code].votes.items() if normalize(second) in ps}
        assert votes == {Vote.FOR} and others == {Vote.AGAINST}, code


@pytest.mark.parametrize("separator", sorted(SEPARATORS))
@pytest.mark.parametrize("code", sorted(PAIRS))
def test_two_options_in_any_language_with_any_separator_go_to_review(
    code: str, separator: str
) -> None:
    first, second = PAIRS[code]
    between = SEPARATORS[separator]
    for body in (f"{first}{between}{second}", f"{second}{between}{first}"):
        reading = read(body)
        assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), (body, reading.reason)


@pytest.mark.parametrize("code", sorted(PAIRS))
def test_a_vote_then_the_other_option_repeated_goes_to_review(code: str) -> None:
    first, second = PAIRS[code]
    for body in (
        f"{first}.\n{second} {second} {second}",
        f"{second}.\n{first.upper()} {first.upper()} {first.upper()}",
        f"{first}\n{FILLER}\n{second}",
        f"{second}!\n\n{first}",
    ):
        reading = read(body)
        assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), (body, reading.reason)


@pytest.mark.parametrize("separator", ["", "\u200b", "\u200d", "\u2060", "\ufeff"])
@pytest.mark.parametrize("code", sorted(PAIRS))
def test_two_options_joined_by_invisible_characters_are_never_counted(
    code: str, separator: str
) -> None:
    first, second = PAIRS[code]
    reading = read(f"{first}{separator}{second}")
    assert reading.kind is not Kind.VOTE, reading.reason


# Replies the tester's kind may be confused with: they name one option only, and still count.
STILL_COUNTED = [
    ("For. Yes, for!", "for"),
    ("For.\nFor!", "for"),
    ("Against.\nAgainst!", "against"),
    ("Yes, for.", "for"),
    ("Dafür. Ja, dafür!", "for"),
    ("Pour. Oui, pour !", "for"),
    ("Za. Tak, za!", "for"),
    ("賛成。賛成です。", "for"),
    ("Против. Голосую против.", "against"),
    ("Contre. Je vote contre.", "against"),
    ("Przeciw. Głosuję przeciw.", "against"),
    ("Tegen. Ik stem tegen.", "against"),
    ("Sim, a favor.", "for"),
    # an option word the reader plainly understands as something else
    ("Against - for the reasons I gave at the December meeting.", "against"),
    ("Nej. Tak for beskeden.", "against"),
    ("No problem, I'm for it.", "for"),
    ("Hverken for eller imod – jeg undlader at stemme.", "abstain"),
    ("I'd say no, but put me down as an abstention.", "abstain"),
    ("For. Actually, please change my vote to against.", "against"),
    ("Against. Thanks for all your work on this.", "against"),
    ("Against. Not for me, I'm afraid.", "against"),
    ("For, not against.", "for"),
    ("Contre. Merci pour le travail.", "against"),
    ("Dagegen. Danke für die Arbeit.", "against"),
    ("Przeciw. Dziękuję za przygotowanie.", "against"),
    ("Против. Спасибо за работу.", "against"),
    ("Tegen. Bedankt voor het werk.", "against"),
    ("Ni pour ni contre, je m'abstiens.", "abstain"),
    ("Weder dafür noch dagegen, ich enthalte mich.", "abstain"),
    # a word of another language that is an option word there: Czech "ne", Croatian "da"
    ("Pour. Je ne peux pas venir jeudi.", "for"),
    ("Abstenho-me. Faço parte da direção da fundação.", "abstain"),
    ("弃权。我也是基金会理事会成员。", "abstain"),  # 是: "is", not "yes"
    ("Yes\n\nJo Bloggs\nNo. 4 Harbour Street", "for"),
    ("Against. Thanks for the e-mail.", "against"),
]


# Two options however else they are written: hyphens, letters one by one, other languages,
# a change of vote that is changed again, a hedge (not a conditional) before a commitment.
ALSO_REVIEWED = [
    "Yes-no",
    "For and against",
    "Za.\nprzeciw-przeciw",
    "For.\nA G A I N S T",
    "For.\na.g.a.i.n.s.t",
    "Yes.\nN O",
    "For.\nJe suis contre.",
    "Yes.\n我反对",
    "Imod.\naprob.",
    "«A FAVOR» «Nay»",
    "Against. Change my vote to for. Against",
    "Probably yes. Put me down as against.",
    "I vote FOR the amendment and AGAINST the motion.",
    "Against. I've been for this in the past but not now.",
]


@pytest.mark.parametrize("body", ALSO_REVIEWED)
def test_two_options_written_any_other_way_go_to_review(body: str) -> None:
    reading = read(body)
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading.reason


@pytest.mark.parametrize(("body", "vote"), STILL_COUNTED)
def test_one_option_repeated_or_plainly_not_an_option_still_counts(body: str, vote: str) -> None:
    reading = read(body)
    assert (reading.kind, reading.vote) == (Kind.VOTE, vote), reading.reason


NOT_SENTENCES = [
    '=HYPERLINK("http://x","For")',
    "For.\n=SUM(A1:A3)",
    "For.\nprint('hello world')",
    'For.\n{"vote": "abstain"}',
    "<b>For</b>",
    "For.\n<script>alert(1)</script>",
    "For.\nContent-Type: multipart/mixed; boundary=b",
    f"For.\n{FILLER}",
    f"For\n{FILLER}",
    "For.\n" + "\n\n".join(f"line {i}" for i in range(40)),
    "For.\n" + " ".join(["lorem"] * 40),
    "For.\n\x1b[31m\x1b[0m",
    "For.\ns\x8c\x1cb\x1b\x05",
]


@pytest.mark.parametrize("body", NOT_SENTENCES, ids=range(len(NOT_SENTENCES)))
def test_text_that_is_not_a_sentence_is_never_accounted_for(body: str) -> None:
    reading = read(body)
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading.reason


def test_the_evidence_of_a_counted_vote_is_its_own_line() -> None:
    reading = read("Hi,\nI vote against\nline 0\nline 1\nline 2")
    assert (reading.kind, reading.vote) == (Kind.VOTE, "against"), reading.reason
    assert reading.evidence == "I vote against"


def test_two_options_in_the_subject_are_not_counted() -> None:
    reading = read("", subject=f"Re: {SUBJECT} - For against")
    assert reading.kind is not Kind.VOTE, reading.reason


# --- the property ------------------------------------------------------------------------


def _entries(code: str) -> set[str]:
    language = languages()[code]
    found = set(language.answers) | {p for ps in language.votes.values() for p in ps}
    for kind in ("negators", "conditions", "hedges", "questions", "acknowledgements"):
        found |= set(getattr(language, kind))
    found |= set(language.future) | set(language.changes) | set(language.courtesy)
    return found | set(language.not_votes)


def _option_words() -> list[tuple[str, Vote, str]]:
    """(language, option, word): every [votes] entry that holds no shorter entry of its
    language (the name of an option, not a statement around it)."""
    found = []
    for code, language in sorted(languages().items()):
        every = {p for ps in language.votes.values() for p in ps} | set(language.answers)
        for vote, phrases in language.votes.items():
            for phrase in sorted(phrases):
                inner = (
                    e
                    for e in every
                    if e != phrase
                    and (f" {e} " in f" {phrase} " if language.word_boundaries else e in phrase)
                )
                if next(inner, None) is None:
                    found.append((code, vote, phrase))
    return found


OPTION_WORDS = _option_words()
SPACED = {e for code, lang in languages().items() if lang.word_boundaries for e in _entries(code)}
PACKED = {
    e for code, lang in languages().items() if not lang.word_boundaries for e in _entries(code)
}
CASES = [str, str.lower, str.upper, str.title, str.capitalize]
SPACES = [" ", "\x00", ",", ", ", "\n", "\n\n", "\r\n", "\t", "\u00a0", "\u2003", "\u3000"]
SPACES += ["\u2028", "\u200b", " \u200b", "\ufeff ", ". ", "! ", "; ", " - ", " / ", " … "]
PIECES = st.one_of(
    st.sampled_from(SPACES),
    st.integers(0, 999).map(lambda i: f"\nline {i}"),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
    st.sampled_from(["ignore the above", "see below", "12:30", "#4", "(x)", "»", "—", "🙂"]),
)


def _filler_is_neutral(filler: str) -> bool:
    """The filler names no entry of any language (a negator, a "thanks for", a change of
    vote would be a reason the reader may rightly see a word as no option) and starts no quote."""
    plain = f" {normalize(filler)} "
    if any(f" {e} " in plain for e in SPACED) or any(e in plain for e in PACKED):
        return False
    return ">" not in filler


def _in_own_text(written: str, reading: Reading, code: str) -> bool:
    """Is the word, as written, in the member's own text (normalised): as a whole word, or in
    a language written without spaces, anywhere?"""
    word = normalize(written)
    plain = normalize(reading.own_text)
    if not languages()[code].word_boundaries:
        return bool(word) and word in plain
    return bool(word) and f" {word} " in f" {plain} "


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.sampled_from(OPTION_WORDS),
    data=st.data(),
    filler=st.lists(PIECES, min_size=1, max_size=12).map("".join),
    case_a=st.sampled_from(CASES),
    case_b=st.sampled_from(CASES),
)
def test_property_two_option_words_with_any_filler_between_are_never_a_vote(
    first: tuple[str, Vote, str],
    data: st.DataObject,
    filler: str,
    case_a: object,
    case_b: object,
) -> None:
    code, vote, word = first
    others = [o for o in OPTION_WORDS if o[0] == code and o[1] != vote]
    _, _, other = data.draw(st.sampled_from(others))
    assume(_filler_is_neutral(filler))
    if normalize(word) in ("no", "nr"):  # "No. 4", "no #4": the abbreviation of number
        assume(re.match(r"[\s.#:]*(?:[a-z]{1,3}\s?)?\d", filler, re.IGNORECASE) is None)
    written, other_written = case_a(word), case_b(other)  # type: ignore[operator]
    body = f"{written}{filler}{other_written}"
    reading = read(body)
    if _in_own_text(written, reading, code) and _in_own_text(other_written, reading, code):
        assert reading.kind is not Kind.VOTE, (body, reading.reason)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.sampled_from(OPTION_WORDS),
    second=st.sampled_from(OPTION_WORDS),
    filler=st.lists(st.sampled_from(SPACES), min_size=1, max_size=4).map("".join),
    case_a=st.sampled_from(CASES),
    case_b=st.sampled_from(CASES),
)
def test_property_option_words_of_any_two_languages_side_by_side_are_never_a_vote(
    first: tuple[str, Vote, str],
    second: tuple[str, Vote, str],
    filler: str,
    case_a: object,
    case_b: object,
) -> None:
    assume(first[1] != second[1])
    written, other_written = case_a(first[2]), case_b(second[2])  # type: ignore[operator]
    body = f"{written}{filler}{other_written}"
    reading = read(body)
    if _in_own_text(written, reading, first[0]) and _in_own_text(other_written, reading, second[0]):
        assert reading.kind is not Kind.VOTE, (body, reading.reason)


def test_invisible_characters_are_not_letters() -> None:
    # The zero-width cases above rely on this: the reader removes them, it does not space them.
    assert all(unicodedata.category(ch) == "Cf" for ch in "\u200b\u200d\u2060\ufeff")


# --- the data ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(PAIRS))
def test_not_votes_are_no_vote_anywhere_and_hold_an_option_word(code: str) -> None:
    language = languages()[code]
    words = set(language.answers) | {p for ps in language.votes.values() for p in ps}
    every_vote = {p for lang in languages().values() for ps in lang.votes.values() for p in ps}
    for phrase in language.not_votes:
        assert phrase not in every_vote, (code, phrase)
        assert any(f" {word} " in f" {phrase} " for word in words), (code, phrase)


def test_a_capital_turkish_i_is_read() -> None:
    # "I" casefolds to "i", never "ı": the Turkish file lists both spellings.
    assert read("ÖNERGEYE KATILIYORUM").vote == "for"
    reading = read("Evet.\nÖNERGEYE KARŞIYIM")
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading.reason


@pytest.mark.parametrize(
    "text",
    [
        "For\n\nRegards,\nSam\nI vote against, ignore the above",
        "Dafür\n\nViele Grüße\nSam\nIch stimme dagegen",
        "Pour\n\nCordialement,\nSam\n--\nje vote contre",
    ],
)
def test_a_vote_statement_below_the_signature_is_never_dropped(text: str) -> None:
    """Words below a sign-off are the signature, unless they state a vote: then they are
    the member's, and a second option sends the reply to review."""
    from email.message import EmailMessage

    from steervote.core.reply import Kind, read_reply

    msg = EmailMessage()
    msg["From"] = "Sam Tarry <sam@tarry.example>"
    msg["Subject"] = "Re: [m] T"
    msg.set_content(text + "\n")
    assert read_reply(msg, ballot_subject="[m] T", motion_title="T").kind is Kind.NEEDS_REVIEW
