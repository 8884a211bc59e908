"""489 replies written to break the reader, by a tester who had not seen its code.

Complete messages (not templates), each with what a careful secretary would record
(`corpus_adversarial/labels.tsv`; "for|review" means either is right). Any vote counted
that is not in the label is a miscount and fails. The clear votes and machine mail the reader
sends to review today are listed in LESSER_FAULTS (a review is the lesser fault): each must
still go to review, never be counted or ignored, and leaves the list when the reader learns it.
"""

from __future__ import annotations

import csv
import email
from pathlib import Path

import pytest

from ballots import CONSTITUTION
from steervote.core.reply import Kind, read_reply

FOLDER = Path(__file__).parent / "corpus_adversarial"
CASES = [
    (row["file"], frozenset(row["expected"].split("|")))
    for row in csv.DictReader(
        (FOLDER / "labels.tsv").read_text(encoding="utf-8").splitlines(), delimiter="\t"
    )
]
# Languages steervote does not read (Catalan, Welsh, Serbian, Vietnamese, Indonesian), a
# negated support in Hungarian, and machine mail in wording the data does not hold yet.
LESSER_FAULTS = frozenset(
    {
        "k4-hu-nem-tamogatom.eml",
        "k4-ca-mabstinc.eml",
        "k4-cy-o-blaid.eml",
        "k4-cy-yn-erbyn.eml",
        "k4-cy-ymatal.eml",
        "k4-sr-uzdrzan.eml",
        "k4-vi-tan-thanh.eml",
        "k4-vi-phan-doi.eml",
        "k4-id-setuju.eml",
        "k4-id-tidak-setuju.eml",
        "k5-challenge-english-reply-yes-to-confirm.eml",
    }
)


def outcome(name: str) -> str:
    msg = email.message_from_bytes((FOLDER / name).read_bytes())
    reading = read_reply(
        msg,
        ballot_subject="[m1] Adopt the new constitution",
        motion_title="Adopt the new constitution",
        ballot_text=CONSTITUTION,
    )
    if reading.kind is Kind.VOTE:
        assert reading.vote is not None
        return reading.vote.value
    return "review" if reading.kind is Kind.NEEDS_REVIEW else "nav"


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[name for name, _ in CASES])
def test_adversarial_reply_reads_as_a_careful_secretary_would(
    name: str, expected: frozenset[str]
) -> None:
    got = outcome(name)
    if name in LESSER_FAULTS:
        assert got == "review", f"{name}: {got}"
    else:
        assert got in expected, f"{name}: expected {sorted(expected)}, got {got}"
