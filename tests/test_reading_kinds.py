"""Each kind of reply the first readers miscounted, in shapes and languages of our own.

A colleague's one-word vote under a quote start steervote may not know must never count as
the member's; a reply that answers something else, or whose other sentences steervote cannot
account for, goes to review; a clear vote in a language steervote reads is counted.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from steervote.core.reply import Kind, read_reply

BALLOT = """\
Motion m1: Adopt the new constitution

That the Steering Group adopts the constitution attached.

Proposed by: Helen Marsh (chair)
Committee: Steering Group (12 voting members)

HOW TO VOTE
Reply to this email with one word: FOR, AGAINST or ABSTAIN.
You may add reasons below your vote. Your reply address is personal to you:
please do not forward this ballot.

Rule: carried when more than half of all 12 voting members vote for (majority of members: 7 needed).
Quorum: 7 counted votes (for, against or abstain).
Voting closes: Thursday 12 January 2017, 19:39 GMT (Europe/London) = 2017-01-12 19:39 UTC.
Fingerprint: 3f9a-c2d1-77b0
"""
SUBJECT = "[m1] Adopt the new constitution"


def read(body: str, *, subject: str = f"Re: {SUBJECT}", sender: str = "Sam Tarry <s@x.example>"):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "votes@x.example"
    msg["Subject"] = subject
    msg.set_content(body)
    return read_reply(
        msg,
        ballot_subject=SUBJECT,
        motion_title="Adopt the new constitution",
        ballot_text=BALLOT,
    )


def quoted(prefix: str) -> str:
    return "\n".join(f"{prefix}{line}" if line else prefix.rstrip() for line in BALLOT.splitlines())


COLLEAGUE_QUOTES = {
    "yahoo inline, english": (
        "On Wednesday, 4 January 2017, 10:15, Anna Berg <anna@x.example> wrote: For.\n\n" + BALLOT
    ),
    "yahoo inline, unknown verb": (
        "Dne 4. 1. 2017 v 10:15 Anna Berg <anna@x.example> kirjutas: Against.\n" + BALLOT
    ),
    "initials prefix": "AB> For.\nAB>\n" + quoted("AB> "),
    "bar prefix": "| For.\n|\n" + quoted("| "),
    "qq original message": (
        "------------------ Оригинальное сообщение ------------------\n"
        'От: "Anna"<anna@x.example>;\nДата: 2017年1月4日 10:15\nКому: all;\n'
        f"Тема: Re: {SUBJECT}\n\nFor.\n\n" + BALLOT
    ),
    "outlook header block, unknown labels": (
        "Feladó: Anna Berg <anna@x.example>\nElküldve: 2017. január 4. 10:15\n"
        f"Címzett: votes@x.example\nTárgy: RE: {SUBJECT}\n\nFor.\n\n" + BALLOT
    ),
    "outlook header block, invented labels": (
        "Xyzzy: Anna Berg <anna@x.example>\nPlugh: 4 Jan 2017 10:15\nFrob: votes@x.example\n"
        f"Quux: RE: {SUBJECT}\n\nAgainst\n\n" + BALLOT
    ),
    "rtl marks around attribution": (
        "\u200fב-4 בינו׳ 2017, בשעה 10:15, \u200eAnna Berg <anna@x.example>\u200f כתב/ה:\u200f\n"
        "For.\n\n" + BALLOT
    ),
    "dashed rule with a label in any language": (
        "-------- Alkuperäinen viesti --------\nFor.\n\n" + BALLOT
    ),
}


@pytest.mark.parametrize("shape", sorted(COLLEAGUE_QUOTES))
def test_a_colleagues_vote_under_a_quote_never_counts(shape: str) -> None:
    reading = read(COLLEAGUE_QUOTES[shape])
    assert reading.kind == Kind.NEEDS_REVIEW, (reading.reason, reading.own_text)
    assert reading.vote is None


@pytest.mark.parametrize("shape", sorted(COLLEAGUE_QUOTES))
def test_the_members_own_vote_above_the_quote_counts(shape: str) -> None:
    reading = read("Abstain.\n\n" + COLLEAGUE_QUOTES[shape])
    assert (reading.kind, reading.vote) == (Kind.VOTE, "abstain"), reading.reason


@pytest.mark.parametrize(
    "footer",
    [
        "Hent Outlook for iOS",
        "Få Outlook for Android",
        "Skaffa Outlook för iOS",
        "Envoyé de mon iPhone",
        "Von meinem iPhone gesendet",
    ],
)
def test_a_localised_footer_is_not_a_vote(footer: str) -> None:
    assert read(f"{footer}\n\n" + quoted("> ")).kind == Kind.NEEDS_REVIEW
    reading = read(f"Against.\n\n{footer}\n\n" + quoted("> "))
    assert (reading.kind, reading.vote) == (Kind.VOTE, "against"), reading.reason


@pytest.mark.parametrize(
    "body",
    [
        "Yes, got it - will read it at the weekend and vote then.",
        "Got it, thanks. I will vote after the meeting.",
        "Yes, received. I'll read it tonight.",
    ],
)
def test_an_acknowledgement_or_a_vote_for_later_is_not_a_vote(body: str) -> None:
    reading = read(body + "\n\n" + quoted("> "))
    assert reading.kind == Kind.NEEDS_REVIEW, reading.reason


def test_the_ballot_quoted_without_any_marker_is_not_the_members_text() -> None:
    reading = read("For\n\n" + BALLOT)
    assert (reading.kind, reading.vote) == (Kind.VOTE, "for"), reading.reason
    assert "HOW TO VOTE" not in reading.own_text


def test_a_vote_below_an_unprefixed_ballot_is_read() -> None:
    reading = read(BALLOT + "\nAgainst.\n")
    assert (reading.kind, reading.vote) == (Kind.VOTE, "against"), reading.reason


@pytest.mark.parametrize(
    "body",
    [
        "Ja. Men bara om stadgarna ändras före årsmötet.",  # Swedish: only if
        "Tak, ale tylko jeśli poprawicie artykuł 4.",  # Polish: only if
        "Si, ma solo se l'articolo 4 viene corretto.",  # Italian: only if
        "Da, dar numai dacă se modifică articolul 4.",  # Romanian: only if
        "Ja, hvis vedtægterne bliver rettet.",  # Danish: if
        "Ja. Lakini tu ikiwa kifungu cha nne kitabadilishwa kabla ya mkutano.",  # Swahili
    ],
)
def test_a_shared_vote_word_with_a_condition_in_another_language_is_not_counted(body: str) -> None:
    reading = read(body + "\n\n" + quoted("> "))
    assert reading.kind == Kind.NEEDS_REVIEW, (reading.vote, reading.reason)


def test_a_word_that_is_a_vote_in_one_language_and_thanks_in_another_is_read_in_context() -> None:
    assert read("Tak.\n\n" + quoted("> ")).kind == Kind.NEEDS_REVIEW
    polish = read("Tak. Dziękuję za przygotowanie statutu.\n\n" + quoted("> "))
    assert (polish.kind, polish.vote) == (Kind.VOTE, "for"), polish.reason


@pytest.mark.parametrize(
    ("body", "vote"),
    [
        ("Głosuję za.\n\nPozdrawiam\nKasia", "for"),
        ("Против.\n\nС уважением,\nСэм", "against"),
        ("弃权。\n\n王伟", "abstain"),
        ("Jsem proti.\n\nS pozdravem\nPetr", "against"),
        ("Pidättäydyn äänestämästä.\n\nTerveisin\nMatti", "abstain"),
        ("賛成です。\n\nよろしくお願いします。", "for"),
    ],
)
def test_a_clear_vote_in_a_language_steervote_reads_is_counted(body: str, vote: str) -> None:
    reading = read(body + "\n\n" + quoted("> "))
    assert (reading.kind, reading.vote) == (Kind.VOTE, vote), reading.reason


@pytest.mark.parametrize(
    "body",
    [
        "Member A says AGAINST.",
        "Ann votes against.",
        "Jon: for.",
        "Anna Berg: against",
        "Voting on behalf of Tom Kibasi (he's in hospital): FOR",
        "Please record Tom as against (he asked me to pass it on) and me as for.",
    ],
)
def test_a_vote_reported_for_someone_else_is_not_the_members(body: str) -> None:
    reading = read(body + "\n\n" + quoted("> "))
    assert reading.kind == Kind.NEEDS_REVIEW, (reading.vote, reading.reason)


@pytest.mark.parametrize("body", ["Vote: FOR", "My vote: for", "For: the motion as drafted"])
def test_a_member_labelling_their_own_vote_is_counted(body: str) -> None:
    reading = read(body + "\n\n" + quoted("> "))
    assert (reading.kind, reading.vote) == (Kind.VOTE, "for"), reading.reason
