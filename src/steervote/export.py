"""JSON and CSV from result values: no terminal, no rich (scripts pay no start-up for it)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from steervote.core.records import IgnoredMessage
from steervote.core.tally import MemberLine, TallyResult
from steervote.terminal import json_for_terminal


def tally_json(r: TallyResult, ignored: Sequence[IgnoredMessage]) -> dict[str, Any]:
    """The --json object (its shape is pinned by a contract test)."""
    m = r.motion
    return {
        "motion": {
            "id": m.id,
            "title": m.title,
            "threshold": m.threshold.value,
            "quorum": m.quorum,
            "closes": m.closes.isoformat(),
            "status": "closed" if r.closed else "open",
        },
        "electorate": m.electorate,
        "counts": {
            "for": r.counts.for_,
            "against": r.counts.against,
            "abstain": r.counts.abstain,
            "needs_review": r.needs_review,
            "not_voted": r.not_voted,
        },
        "result": r.outcome.result.value,
        "decided": r.outcome.decided,
        "members": [_member_json(line) for line in r.lines],
        "ignored": [
            {"message_id": i.message_id, "from": i.sender, "subject": i.subject, "reason": i.reason}
            for i in ignored
        ],
    }


def _member_json(line: MemberLine) -> dict[str, Any]:
    return {
        "id": line.member.id,
        "name": line.member.name,
        "email": line.member.email,
        "status": line.status.value,
        "vote": line.vote.value if line.vote else None,
        "received_at": line.received_at.isoformat() if line.received_at else None,
        "evidence": line.evidence,
        "message_id": line.message_id,
        "how": line.how,
        "reason": line.note,
        "strength": line.strength,
    }


def print_json(value: object, out: TextIO | None = None) -> None:
    """JSON on stdout, exactly, with no markup or wrapping."""
    out = sys.stdout if out is None else out
    # Indented for a person; compact for a program (and indenting makes json use its
    # pure-Python encoder: a second for a 20,000-member result).
    tty = out.isatty()
    text = json.dumps(value, indent=2 if tty else None, ensure_ascii=False)
    # On a terminal, mail text must not move the cursor or reorder the line (bidi, C1).
    out.write((json_for_terminal(text) if tty else text) + "\n")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula; a quote makes it text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def tally_csv(path: Path, r: TallyResult) -> None:
    """The members table as CSV, formula-leading cells neutralised."""
    fields = [
        *("id", "name", "email", "status", "vote", "received_at", "evidence", "message_id"),
        *("how", "reason", "strength"),
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for line in r.lines:
            row = _member_json(line)
            w.writerow([_csv_cell(row[k]) for k in fields])
