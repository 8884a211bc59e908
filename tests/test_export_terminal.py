"""JSON printed to a terminal carries no character the terminal would act on; piped, it is
exactly json.dumps (a program reads the same value either way)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.records import Disposition, Received
from steervote.core.strength import Strength
from steervote.core.tally import TallyResult, tally
from steervote.core.vote import Vote
from steervote.export import print_json, tally_csv

HOSTILE = {"evidence": "For\u202e\u2067\u061c\x85\x9b[2J\u2028end", "name": "Zoë"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_to_a_terminal_escapes_bidi_and_c1_controls() -> None:
    out = Terminal()
    print_json(HOSTILE, out)
    text = out.getvalue()
    assert json.loads(text) == HOSTILE
    for ch in "\u202e\u2067\u061c\x85\x9b\u2028":
        assert ch not in text
    assert "Zoë" in text  # ordinary letters stay readable


def test_json_to_a_pipe_is_plain_json() -> None:
    out = io.StringIO()
    print_json(HOSTILE, out)
    assert out.getvalue() == json.dumps(HOSTILE, ensure_ascii=False) + "\n"


def _hostile_result() -> TallyResult:
    at = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    members = tuple(Member(f"m{i}", f"Zoë {i}", f"m{i}@x.example") for i in range(3))
    motion = Motion(
        id="budget",
        title="Approve the budget",
        text="That the budget is approved.",
        committee=Committee("c", "Committee", "Europe/London", members),
        proposer="m0",
        threshold=Threshold.MAJORITY_OF_MEMBERS,
        quorum=2,
        closes=at + timedelta(days=2),
    )
    said = Received(
        1, "budget", "m1", at, Disposition.VOTE, Vote.FOR, HOSTILE["evidence"], "", "reads as for",
        "token", "<1@x>", "m1@x.example", Strength.TOKEN,
    )  # fmt: skip
    return tally(motion, [said], [], now=at)


def test_csv_to_a_terminal_replaces_controls_and_a_file_keeps_every_character() -> None:
    r = _hostile_result()
    shown = tally_csv([r], terminal=True)
    for ch in "\u202e\u2067\u061c\x85\x9b":
        assert ch not in shown
    assert "Zoë 1" in shown and shown.startswith("\ufeffmotion,id,")
    header, _, m1, _ = csv.reader(io.StringIO(tally_csv([r])[1:], newline=""))
    assert dict(zip(header, m1, strict=True))["evidence"] == HOSTILE["evidence"]
