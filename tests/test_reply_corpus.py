"""Every labelled corpus reply, filled with a real ballot's text, reads as its label.

Two different ballots are used, the second written to be hostile (its quoted text is full of
vote words, attributions, header lines and a signature marker): what the member quoted must
never decide what the member said.
"""

from __future__ import annotations

import csv
import email
from pathlib import Path

import pytest

from corpus_fill import fill
from steervote.core.reply import Kind, Reading, read_reply

CORPUS = Path(__file__).parent / "corpus"
LABELS = [
    (row["file"], row["expected"])
    for row in csv.DictReader(
        (CORPUS / "labels.tsv").read_text(encoding="utf-8").splitlines(), delimiter="\t"
    )
]

CONSTITUTION = """\
Motion new-constitution: Adopt the new constitution

That the National Steering Group adopts the constitution attached, and
puts it to the members for their individual consent.

Proposed by: Jon Lansman (chair)
Committee: National Steering Group (12 voting members)

HOW TO VOTE
Reply to this email with one word: FOR, AGAINST or ABSTAIN.
You may add reasons below your vote. Your reply address is personal to you:
please do not forward this ballot.

Rule: carried when more than half of all 12 voting members vote for (majority of members: 7 needed).
Quorum: 7 counted votes (for, against or abstain).
Voting closes: Thursday 12 January 2017, 19:39 GMT (Europe/London) = 2017-01-12 19:39 UTC.
Authority: Standing Orders 7.3: the Steering Group may decide by email
Fingerprint: 3f9a-c2d1-77b0

Attachments: momentum-constitution.pdf
"""

BUDGET = """\
Motion budget-2017: Approve the 2017 budget

That the committee approves the budget for 2017 as attached. Yes, this
includes the new office; no, it does not include staff pay, which is
against the standing orders to decide by email. Members in favour say
AYE; those against say NAY; anyone who abstains may say so.

HOW TO VOTE
Reply with YES (for), NO (against) or ABSTAIN. I vote for it myself.
--
Sent on behalf of the chair. On Monday 2 Jan 2017 the chair wrote:
From: treasurer@example.org
Sent: Monday
To: all
Voting closes: 2017-01-12. Für/Dafür, Dagegen, Enthaltung. Pour, contre.
"""

BALLOTS = {
    "constitution": ("[new-constitution] Adopt the new constitution", CONSTITUTION),
    "budget": ("[budget-2017] Approve the 2017 budget", BUDGET),
}


def read_corpus_file(name: str, ballot: str) -> Reading:
    subject, text = BALLOTS[ballot]
    raw = fill(
        (CORPUS / name).read_bytes(),
        from_="Sam Tarry <sam.tarry@momentum.example>",
        to="votes+k3J9x2@steering-group.example.org",
        subject=subject,
        message_id="reply-1@momentum.example",
        in_reply_to="<ballot-1@steering-group.example.org>",
        references="<ballot-1@steering-group.example.org>",
        date="Thu, 05 Jan 2017 09:12:44 +0000",
        ballot_text=text,
    )
    title = subject.split("] ", 1)[1]
    return read_reply(
        email.message_from_bytes(raw), ballot_subject=subject, motion_title=title, ballot_text=text
    )


@pytest.mark.parametrize("ballot", sorted(BALLOTS))
@pytest.mark.parametrize(("name", "expected"), LABELS, ids=[name for name, _ in LABELS])
def test_corpus_reply_reads_as_labelled(name: str, expected: str, ballot: str) -> None:
    reading = read_corpus_file(name, ballot)
    if expected in ("for", "against", "abstain"):
        assert (reading.kind, reading.vote) == (Kind.VOTE, expected), reading.reason
        assert reading.evidence.strip(), "a counted vote must show the words that decided it"
    else:
        assert reading.kind == expected, reading.reason
        assert reading.vote is None
    assert reading.reason
    assert len(reading.own_text) <= 2000


def test_corpus_covers_every_label() -> None:
    assert {expected for _, expected in LABELS} == {
        "for",
        "against",
        "abstain",
        "needs_review",
        "not_a_vote",
    }


@pytest.mark.parametrize("ballot", sorted(BALLOTS))
def test_quoted_ballot_never_leaks_into_own_text(ballot: str) -> None:
    """No line of the ballot appears in what the member is taken to have written."""
    _, text = BALLOTS[ballot]
    distinctive = [line for line in text.splitlines() if len(line) > 30]
    for name, _ in LABELS:
        own = read_corpus_file(name, ballot).own_text
        assert not [line for line in distinctive if line in own], name
