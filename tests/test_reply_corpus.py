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

from ballots import BALLOTS
from corpus_fill import fill
from steervote.core.reply import Kind, Reading, read_reply

CORPUS = Path(__file__).parent / "corpus"
LABELS = [
    (row["file"], row["expected"])
    for row in csv.DictReader(
        (CORPUS / "labels.tsv").read_text(encoding="utf-8").splitlines(), delimiter="\t"
    )
]


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
