"""An answer to a request for one word (`steervote ask`, issue #12) is read by a strict rule.

The member's own text must be one option word, in any language steervote reads, with only
courtesy beside it; anything more stays in review with the new words shown. The replies here
are built as a member's client builds them: the request quoted under "> " after an "On ...
wrote:" line, an HTML-only reply, and Gmail's text-and-HTML pair.
"""

from __future__ import annotations

from email.message import EmailMessage
from html import escape

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from steervote.core.reading.languages.lexicon import languages
from steervote.core.reading.vote.answer import option_words, read_answer
from steervote.core.reply import Kind, Reading, read_reply
from steervote.core.vote import Vote

TITLE = "Adopt the new constitution"
BALLOT_SUBJECT = f"[m1] {TITLE}"
ASK_SUBJECT = f"[m1] Please answer in one word: {TITLE}"
ASK = """\
We could not count your reply of Wednesday 11 January 2017, 09:14 GMT as a vote: it holds a
hedge.
Your words: Leaning towards yes, but clause 9 worries me.

Please reply to this message with one word: FOR, AGAINST or ABSTAIN.

Motion m1: Adopt the new constitution
Voting closes: Thursday 12 January 2017, 19:39 GMT (Europe/London)
"""
# The words steervote wrote, known wherever a reply quotes them: the request without the
# member's own earlier words, which are theirs, not steervote's (see the test below).
ASK_KNOWN = "\n".join(line for line in ASK.splitlines() if not line.startswith("Your words:"))
ATTRIBUTION = "On Wed, 11 Jan 2017 at 10:02, Steering Group votes <votes@x.example> wrote:"
SENDER = "Sam Tarry <sam@x.example>"
ONE_WORD = "an answer to a request for one word (FOR, AGAINST or ABSTAIN) must be that word alone"


def _headers(msg: EmailMessage, sender: str) -> None:
    msg["From"] = sender
    msg["To"] = "votes+k3y@x.example"
    msg["Subject"] = f"Re: {ASK_SUBJECT}"
    msg["In-Reply-To"] = "<ask.k3y@x.example>"
    msg["References"] = "<ballot.t0k@x.example> <ask.k3y@x.example>"


def plain_reply(answer: str, *, sender: str = SENDER) -> EmailMessage:
    """A plain-text reply: the answer on top, the request quoted below it."""
    msg = EmailMessage()
    _headers(msg, sender)
    quoted = "\n".join(f"> {line}" if line else ">" for line in ASK.splitlines())
    msg.set_content(f"{answer}\n\n{ATTRIBUTION}\n{quoted}\n")
    return msg


def _html(answer: str) -> str:
    lines = "".join(
        f"<div>{escape(line)}</div>" if line else "<div><br></div>" for line in ASK.splitlines()
    )
    own = "".join(
        f"<div>{escape(line)}</div>" if line else "<div><br></div>" for line in answer.splitlines()
    )
    return (
        f'<html><body><div dir="ltr">{own}</div><br>'
        '<div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">{escape(ATTRIBUTION)}<br></div>'
        f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
        f"{lines}</blockquote></div></body></html>"
    )


def html_reply(answer: str, *, sender: str = SENDER) -> EmailMessage:
    """An HTML-only reply (no text part), the request in the client's quote container."""
    msg = EmailMessage()
    _headers(msg, sender)
    msg.set_content(_html(answer), subtype="html")
    return msg


def gmail_reply(answer: str, *, sender: str = SENDER) -> EmailMessage:
    """Gmail's shape: multipart/alternative, the text part quoting under "> ", the HTML part
    in a gmail_quote blockquote."""
    msg = plain_reply(answer, sender=sender)
    msg.add_alternative(_html(answer), subtype="html")
    return msg


REPLIES = {"plain": plain_reply, "html": html_reply, "gmail": gmail_reply}


def strict(msg: EmailMessage) -> Reading:
    return read_reply(
        msg,
        ballot_subject=ASK_SUBJECT,
        motion_title=TITLE,
        ballot_text=ASK_KNOWN,
        strict_answer=True,
    )


def normal(msg: EmailMessage) -> Reading:
    return read_reply(msg, ballot_subject=ASK_SUBJECT, motion_title=TITLE, ballot_text=ASK_KNOWN)


# --- The word alone counts, in any language steervote reads ---------------------------------

ACCEPTED = [
    # English
    ("For", Vote.FOR),
    ("for.", Vote.FOR),
    ("AGAINST", Vote.AGAINST),
    ("Abstain", Vote.ABSTAIN),
    ("FOR!", Vote.FOR),
    ("*abstain*", Vote.ABSTAIN),
    ('"Against."', Vote.AGAINST),
    ("In favour", Vote.FOR),
    ("For\n\nThanks,\nJon", Vote.FOR),
    ("Hi, \n\nAgainst\n\nBest regards\nMarsha", Vote.AGAINST),
    ("Hello Helen,\n\nAbstain.\n\nKind regards,\nSam Tarry", Vote.ABSTAIN),
    ("For, thanks!", Vote.FOR),
    # German
    ("Dafür", Vote.FOR),
    ("Dagegen.\n\nViele Grüße\nSam", Vote.AGAINST),
    ("Enthaltung", Vote.ABSTAIN),
    # French
    ("Contre", Vote.AGAINST),
    ("«Contre»", Vote.AGAINST),
    ("Bonjour,\n\nPour.\n\nCordialement,\nSam Tarry", Vote.FOR),
    ("Abstention", Vote.ABSTAIN),
    # Spanish
    ("A favor", Vote.FOR),
    ("¡A favor!", Vote.FOR),
    ("En contra", Vote.AGAINST),
    ("Abstención.\n\nSaludos,\nSam", Vote.ABSTAIN),
    # Polish
    ("Za", Vote.FOR),
    ("Przeciw.\n\nPozdrawiam\nSam", Vote.AGAINST),
    ("Wstrzymuję się.", Vote.ABSTAIN),
    # Japanese
    ("賛成", Vote.FOR),
    ("反対", Vote.AGAINST),
    ("棄権。", Vote.ABSTAIN),
    # Chinese, Korean
    ("赞成", Vote.FOR),
    ("反對", Vote.AGAINST),
    ("기권", Vote.ABSTAIN),
    # Dutch, Italian, Portuguese
    ("Voor", Vote.FOR),
    ("Tegen.\n\nMet vriendelijke groet,\nSam", Vote.AGAINST),
    ("Favorevole", Vote.FOR),
    ("Astenuto", Vote.ABSTAIN),
    ("Contra", Vote.AGAINST),
    ("Abstenção", Vote.ABSTAIN),
    # Nordic
    ("För", Vote.FOR),
    ("Imod", Vote.AGAINST),
    ("Avstår", Vote.ABSTAIN),
    # Slavic, Baltic, Greek, Hungarian, Turkish, Hebrew, Arabic, Irish, Finnish, Romanian
    ("Против", Vote.AGAINST),
    ("Утримуюсь", Vote.ABSTAIN),
    ("Proti", Vote.AGAINST),
    ("Už", Vote.FOR),
    ("Υπέρ", Vote.FOR),
    ("Çekimser", Vote.ABSTAIN),
    ("בעד", Vote.FOR),
    ("ضد", Vote.AGAINST),
    ("Ar son", Vote.FOR),
    ("Vastaan", Vote.AGAINST),
    ("Pentru", Vote.FOR),
]


@pytest.mark.parametrize(("answer", "vote"), ACCEPTED)
def test_one_option_word_with_courtesy_counts(answer: str, vote: Vote) -> None:
    reading = strict(plain_reply(answer))
    assert (reading.kind, reading.vote) == (Kind.VOTE, vote), reading.reason
    assert reading.reason.startswith("the one word asked for: ")
    assert reading.evidence
    assert normal(plain_reply(answer)).vote == vote  # the same vote the normal reader reads


@pytest.mark.parametrize("shape", sorted(REPLIES))
@pytest.mark.parametrize(
    ("answer", "vote"),
    [
        ("For", Vote.FOR),
        ("Contre", Vote.AGAINST),
        ("Wstrzymuję się", Vote.ABSTAIN),
        ("賛成", Vote.FOR),
    ],
)
def test_the_word_counts_in_plain_html_only_and_gmail_replies(
    shape: str, answer: str, vote: Vote
) -> None:
    reading = strict(REPLIES[shape](answer))
    assert (reading.kind, reading.vote) == (Kind.VOTE, vote), reading.reason


def test_the_answer_counts_whatever_the_ballot_text_given() -> None:
    """The request quoted below is recognised by its shape even when it is not the known text."""
    reading = read_reply(
        plain_reply("Against"),
        ballot_subject=BALLOT_SUBJECT,
        motion_title=TITLE,
        strict_answer=True,
    )
    assert (reading.kind, reading.vote) == (Kind.VOTE, Vote.AGAINST)


def test_every_language_has_an_option_word_for_every_option() -> None:
    """A member can answer in any language steervote reads."""
    words = option_words()
    for code, language in languages().items():
        for vote in Vote:
            named = {p for p in language.votes[vote] if words.get(p) == vote}
            assert named, f"{code}: no option word for {vote}"


@pytest.mark.parametrize(
    "statement",
    [
        "i vote for",
        "vote for",
        "i agree",
        "i oppose",
        "i abstain",
        "jestem za",
        "voto a favor",
        "ich bin dafür",
        "je vote pour",
        "賛成です",
        "찬성합니다",
        "+1",
        "tak",
    ],
)
def test_a_statement_or_a_sign_is_not_an_option_word(statement: str) -> None:
    assert statement not in option_words()


# --- Anything more stays in review, with the new words shown --------------------------------

REJECTED = [
    # a vote phrase, not the word alone
    "I vote FOR",
    "I vote for",
    "I agree",
    "Je vote pour",
    "Voto a favor",
    "Jestem za",
    "Ich bin dafür",
    "賛成です",
    # a condition, a question, a negation, a hedge
    "For, if clause 9 changes",
    "Dafür, wenn Absatz 9 geändert wird",
    "Za, jeśli zmieni się punkt 9",
    "For?",
    "Contre ?",
    "¿A favor?",
    "Not for",
    "Nie za",
    "for now against",
    # two option words
    "For and against",
    "Pour et contre",
    "For.\n\nAgainst.",
    "For. For.",
    "賛成。反対。",
    "For\n\nJa",
    # a remark (English, Croatian), or a sentence in a language steervote does not read (Welsh)
    "For\n\nI read the new clause 9 last night.",
    "For\n\nDiolch yn fawr iawn am anfon y cynnig hwn ataf",
    "Za\n\nHvala vam puno na poruci, vidimo se sutra",
    # more than the word around it
    "For 👍",
    "For :)",
    "(For)",
    "For…",
    "~~For~~",
    "+1",
    # ambiguous: Polish yes, Danish thanks
    "Tak",
    "Tak\n\nPozdrawiam",
    # no word of its own
    "Thanks",
]


@pytest.mark.parametrize("answer", REJECTED)
def test_anything_more_than_the_word_stays_in_review(answer: str) -> None:
    reading = strict(plain_reply(answer))
    assert reading.kind is Kind.NEEDS_REVIEW, reading
    assert reading.vote is None
    assert reading.reason.startswith((ONE_WORD, "answer to a request for one word: "))
    first = answer.split()[0].strip("~(¿")
    assert first[:2] in reading.own_text  # the new words are shown


@pytest.mark.parametrize("shape", sorted(REPLIES))
@pytest.mark.parametrize("answer", ["I vote FOR", "For, if clause 9 changes", "For and against"])
def test_more_than_the_word_stays_in_review_in_every_shape(shape: str, answer: str) -> None:
    reading = strict(REPLIES[shape](answer))
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading.reason


def test_the_reason_quotes_the_sentence_that_is_more_and_keeps_the_evidence() -> None:
    msg = plain_reply("Hi,\n\nI vote FOR\n\nThanks")
    before = normal(msg)
    reading = strict(msg)
    assert before.kind is Kind.VOTE  # the normal reader counts it; the strict one does not
    assert reading.reason == f'{ONE_WORD}: "I vote FOR"'
    assert (reading.evidence, reading.own_text) == (before.evidence, before.own_text)


def test_a_second_option_word_is_named() -> None:
    reading = strict(plain_reply("For. For."))
    assert reading.reason == f'{ONE_WORD}: "For." is a second option word'


def test_an_option_word_only_in_the_quoted_request_is_not_an_answer() -> None:
    for shape in REPLIES.values():
        reading = strict(shape("Thanks, will do"))
        assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None)
        assert "FOR" not in reading.own_text


def test_words_repeated_from_the_request_are_never_counted() -> None:
    """The request quotes the member's earlier words. Typed again above the quote, they are
    new words, so the answer is more than the word. (Were the whole request, the member's
    words included, given as the known text, they would be read as quoted and vanish.)"""
    earlier = "Leaning towards yes, but clause 9 worries me."
    reading = strict(plain_reply(f"{earlier}\nFor"))
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None), reading
    assert earlier in reading.own_text
    whole = read_reply(
        plain_reply(f"{earlier}\nFor"), ballot_text=ASK, strict_answer=True, motion_title=TITLE
    )
    assert earlier not in whole.own_text  # why the known text must leave the member's words out


def test_an_empty_answer_is_not_counted_from_the_subject() -> None:
    msg = EmailMessage()
    _headers(msg, SENDER)
    del msg["Subject"]
    msg["Subject"] = f"Re: {ASK_SUBJECT} - FOR"
    msg.set_content(f"\n{ATTRIBUTION}\n> Please reply to this message with one word\n")
    assert normal(msg).kind is Kind.VOTE  # the normal reader reads the subject
    reading = strict(msg)
    assert (reading.kind, reading.vote) == (Kind.NEEDS_REVIEW, None)
    assert reading.reason == f"{ONE_WORD}: the reply has no text of its own"


def test_a_reading_in_review_stays_in_review_with_its_reason_prefixed() -> None:
    before = normal(plain_reply("For, if clause 9 changes"))
    reading = strict(plain_reply("For, if clause 9 changes"))
    assert before.kind is Kind.NEEDS_REVIEW
    assert reading.reason == f"answer to a request for one word: {before.reason}"
    assert (reading.evidence, reading.own_text) == (before.evidence, before.own_text)


def test_an_auto_reply_stays_not_a_vote() -> None:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = "votes+k3y@x.example"
    msg["Subject"] = "Automatic reply: Out of office"
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("I am out of the office until Monday.")
    assert strict(msg).kind is Kind.NOT_A_VOTE
    assert strict(msg) == normal(msg)


# --- The rule itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "vote"),
    [
        ("For\n\nSam Tarry\nChair, Momentum", Vote.FOR),  # a signature after the word
        ("Contre\n\nCordialement,\nAna Da Silva", Vote.AGAINST),  # "da" is the member's name
        ("Hi Jon, against.", Vote.AGAINST),
        ("Za, dziękuję", Vote.FOR),
    ],
)
def test_courtesy_and_a_signature_beside_the_word_are_accepted(own: str, vote: Vote) -> None:
    assert read_answer(own, names=["Ana", "Da", "Silva"]).vote == vote


@pytest.mark.parametrize(
    "own",
    [
        "Jon\n\nFor",  # a name before the word is no sign-off
        "For\n\nNot Sure",  # a qualifier written like a name
        "For\n\nMaybe Later",
        "For\n\nJon Da Silva",  # "da" is a vote word, and not this member's name
        # Found by the property below: votes that look like names or courtesy.
        "emot. Ma Abtin, a chairde",  # Romanian "I abstain", capitalised beside a greeting
        "a favor\n\n반대표를 던집니다",  # a Korean vote in a script without capitals
        "nein, a chairde, Sam, a chairde",  # a no in a longer sentence may be an interjection
        "a favor\n\nSUBJECT TO",  # a qualifier in capitals is no signature
        "For\n\nThanks Maybe",  # nor a name beside thanks
        "guten morgen, a favor",  # "morgen" is also "tomorrow": the normal reader asks
        "a favor\n\n\x1b",  # a control character is no signature
        "",
        "For " * 200,
    ],
)
def test_what_is_not_a_signature_or_courtesy_is_rejected(own: str) -> None:
    answer = read_answer(own, names=["Sam", "Tarry"])
    assert (answer.vote, answer.word) == (None, "")
    assert answer.problem


# --- Strict never counts what the normal reader would not -----------------------------------

_OPTIONS = sorted(option_words())
_COURTESY = sorted({c for language in languages().values() for c in language.courtesy})
_OTHER = sorted(
    {p for language in languages().values() for ps in language.votes.values() for p in ps}
    | {c for language in languages().values() for c in language.conditions | language.negators}
)
_CASE = st.sampled_from([str.lower, str.upper, str.capitalize, str.title])
_OPTION = st.builds(
    lambda word, case, frame: frame.replace("W", case(word)),
    st.sampled_from(_OPTIONS),
    _CASE,
    st.sampled_from(["W", "W.", "W!", "«W»", "*W*", '"W"']),
)
_PIECE = st.one_of(
    st.builds(lambda word, case: case(word), st.sampled_from(_COURTESY), _CASE),
    st.sampled_from(["Sam", "Sam Tarry", "Jon", "Helen Marsh"]),
    st.builds(lambda words, case: case(words), st.sampled_from(_OTHER), _CASE),
    _OPTION,
    st.text(max_size=12),
)
_JOIN = st.sampled_from(["\n\n", "\n", ", ", ". ", " ", "! "])


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_PIECE, max_size=2),
    _OPTION,
    st.lists(_PIECE, max_size=3),
    _JOIN,
    _JOIN,
    st.sampled_from(sorted(REPLIES)),
)
def test_strict_never_counts_what_the_normal_reader_would_not(
    before: list[str], option: str, after: list[str], lead: str, tail: str, shape: str
) -> None:
    text = lead.join([*before, option])
    if after:
        text += tail + tail.join(after)
    msg = REPLIES[shape](text)
    loose, held = normal(msg), strict(msg)
    event(f"normal {loose.kind}, strict {held.kind}")
    answer = read_answer(loose.own_text, names=["Sam", "Tarry"])
    # Through read_reply: a counted answer is the normal reading's vote, the words unchanged.
    if held.kind is Kind.VOTE:
        assert (loose.kind, loose.vote) == (Kind.VOTE, held.vote)
        assert answer.vote == held.vote
        assert held.evidence == loose.evidence
    else:
        assert held.vote is None
    assert held.own_text == loose.own_text
    # The rule alone never reads another vote than the normal reader. (Where the normal
    # reader asks and the rule alone would not, read_reply asks: it holds to both.)
    if answer.vote is not None and loose.kind is Kind.VOTE:
        assert loose.vote == answer.vote, (text, loose, answer)
    if loose.kind is Kind.NOT_A_VOTE:
        assert held == loose


# --- Without strict_answer nothing changes ---------------------------------------------------


@pytest.mark.parametrize("answer", [a for a, _ in ACCEPTED] + REJECTED)
def test_strict_answer_false_is_the_reading_as_before(answer: str) -> None:
    msg = plain_reply(answer)
    default = read_reply(msg, ballot_subject=ASK_SUBJECT, motion_title=TITLE, ballot_text=ASK_KNOWN)
    assert (
        read_reply(
            msg,
            ballot_subject=ASK_SUBJECT,
            motion_title=TITLE,
            ballot_text=ASK_KNOWN,
            strict_answer=False,
        )
        == default
    )
    assert not default.reason.startswith(
        ("the one word asked for", ONE_WORD, "answer to a request")
    )


@pytest.mark.parametrize("word", ["Yes", "Ja", "Igen", "No", "Nein", "Oui"])
def test_a_yes_or_no_answers_no_ask(word: str) -> None:
    """The ask names FOR, AGAINST and ABSTAIN: a yes or a no (to "we must confirm the
    change", say) does not say which, so a person reads it."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Sam Tarry <sam@tarry.example>"
    msg["Subject"] = "Re: [m] Please confirm your vote: T"
    msg.set_content(word + "\n")
    reading = read_reply(msg, ballot_subject="[m] T", motion_title="T", strict_answer=True)
    assert reading.kind is Kind.NEEDS_REVIEW
