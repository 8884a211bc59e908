"""JSON and CSV from result values: no terminal, no rich (scripts pay no start-up for it).

Both explain every member's line (README, "JSON output"): how the reply was matched and
how strongly, why the member has this status, the ruling in force and what it replaced,
and each earlier reply or ruling that a later one replaced. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, TextIO

from steervote.core.delivery import BallotCounts
from steervote.core.records import IgnoredMessage, Received, Ruling
from steervote.core.result_line import result_line
from steervote.core.succession import Replaced, described
from steervote.core.tally import MemberLine, StandingRuling, TallyResult
from steervote.errors import InvalidInput, SteervoteError
from steervote.terminal import json_for_terminal, untrusted

SCHEMA = 2  # the version of the --json shape; README "JSON output" says what each adds


def tally_json(
    r: TallyResult, ignored: Sequence[IgnoredMessage], ballots: BallotCounts | None = None
) -> dict[str, Any]:
    """The --json object of one motion (its shape is pinned by a contract test).

    ballots: the motion's ballot counts (services.review.report(..., ballots=True));
    `tally --json` always gives them, and the key is null only for a caller that did not.
    """
    m = r.motion
    return {
        "schema": SCHEMA,
        "motion": {
            "id": m.id,
            "title": m.title,
            "threshold": m.threshold.value,
            "quorum": m.quorum,
            # To the second: receipt times are whole seconds (IMAP INTERNALDATE), and a
            # reply at or before this second is in time.
            # null while a relative deadline waits for the first ballot ("not started").
            "closes": _iso(m.closes.replace(microsecond=0)) if r.clock_started else None,
            "status": "closed" if r.closed else "open" if r.clock_started else "not started",
        },
        "electorate": m.electorate,
        "counts": {
            "for": r.counts.for_,
            "against": r.counts.against,
            "abstain": r.counts.abstain,
            "needs_review": r.needs_review,
            "not_voted": r.not_voted,
            "late": r.late,
        },
        "result": "withdrawn" if r.withdrawn else r.outcome.result.value,
        "withdrawn": None
        if r.withdrawn is None
        else {
            "by": r.withdrawn.by,
            "reason": r.withdrawn.reason,
            "at": r.withdrawn.at.astimezone(UTC).isoformat(),
        },
        "result_text": result_line(r),
        "decided": r.outcome.decided,
        "quorum_met": r.outcome.quorum_met,
        "casting_vote": _ruling_json(r.casting),
        "ballots": _ballots_json(ballots),
        "members": [_member_json(line) for line in r.lines],
        "ignored": [
            {"message_id": i.message_id, "from": i.sender, "subject": i.subject, "reason": i.reason}
            for i in ignored
        ],
    }


def _ballots_json(b: BallotCounts | None) -> dict[str, int] | None:
    if b is None:
        return None
    return {
        "sent": b.sent,
        "failed": b.failed,
        "unconfirmed": b.unconfirmed,
        "pending": b.pending,
        "copies": b.copies,
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
        "reason": line.reason,
        "strength": line.strength,
        "replies": line.replies,
        "late_replies": line.late_replies,
        "ruling": _ruling_json(line.ruling),
        "superseded": [_superseded_json(x) for x in line.superseded],
    }


def _ruling_json(standing: StandingRuling | None) -> dict[str, Any] | None:
    """{"vote", "reason", "by", "at", "replaces"}: replaces is what stood before it."""
    if standing is None:
        return None
    r = standing.ruling
    return {
        "vote": r.vote.value if r.vote else None,
        "reason": r.reason,
        "by": r.ruled_by,
        "at": _iso(r.ruled_at),
        "replaces": _step_json(standing.replaces) if standing.replaces is not None else None,
    }


def _step_json(x: Received | Ruling) -> dict[str, Any]:
    """A reply or a ruling in a member's history, as a small object with its `kind`."""
    if isinstance(x, Ruling):
        return {
            "kind": "ruling",
            "at": _iso(x.ruled_at),
            "vote": x.vote.value if x.vote else None,
            "by": x.ruled_by,
            "reason": x.reason,
        }
    return {
        "kind": "reply",
        "at": _iso(x.received_at),
        "vote": x.vote.value if x.vote else None,
        "reading": x.disposition.value,  # vote | needs_review: whether it was counted
        "evidence": x.evidence or x.own_text[:200] or None,
        "reason": x.reason,
        "how": x.how,
        "strength": x.strength.value,
        "message_id": x.message_id,
    }


def _superseded_json(x: Replaced) -> dict[str, Any]:
    return {**_step_json(x.item), "replaced_by": _step_json(x.by), "why": x.why}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def print_json(value: object, out: TextIO | None = None) -> None:
    """JSON on stdout, exactly, with no markup or wrapping."""
    out = sys.stdout if out is None else out
    # Indented for a person; compact for a program (and indenting makes json use its
    # pure-Python encoder: a second for a 20,000-member result).
    tty = out.isatty()
    text = json.dumps(value, indent=2 if tty else None, ensure_ascii=False)
    # On a terminal, mail text must not move the cursor or reorder the line (bidi, C1).
    out.write((json_for_terminal(text) if tty else text) + "\n")


# --- CSV -------------------------------------------------------------------------

CSV_FIELDS = (
    *("motion", "id", "name", "email", "status", "vote", "received_at", "evidence"),
    *("message_id", "how", "reason", "strength", "replies"),
    *("ruling_vote", "ruling_reason", "ruling_by", "ruling_at", "ruling_replaces"),
    "superseded",
)
# Spreadsheet programs read a CSV file as UTF-8 (accents and all) only when it starts
# with the UTF-8 byte-order mark; without it Excel guesses the legacy code page.
_BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula; a quote makes it text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def tally_csv(results: Sequence[TallyResult], *, terminal: bool = False) -> str:
    """Every member of every motion as CSV text (BOM first), formula-leading cells
    neutralised; for a terminal, controls and bidi controls in cells are replaced too."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_FIELDS)
    for r in results:
        for line in r.lines:
            row = _csv_row(r.motion.id, line)
            cells = (_csv_cell(row[k]) for k in CSV_FIELDS)
            w.writerow(
                [untrusted(c, sys.maxsize, oneline=False) for c in cells] if terminal else cells
            )
    return _BOM + out.getvalue()


def _csv_row(motion_id: str, line: MemberLine) -> dict[str, Any]:
    row = _member_json(line)
    ruling = line.ruling.ruling if line.ruling else None
    replaces = line.ruling.replaces if line.ruling else None
    return {
        **row,
        "motion": motion_id,
        # "none": a ruling that counts no vote; empty: no ruling.
        "ruling_vote": (ruling.vote.value if ruling.vote else "none") if ruling else None,
        "ruling_reason": ruling.reason if ruling else None,
        "ruling_by": ruling.ruled_by if ruling else None,
        "ruling_at": _iso(ruling.ruled_at) if ruling else None,
        "ruling_replaces": described(replaces) if replaces is not None else None,
        "superseded": "; ".join(f"{described(x.item)} — {x.why}" for x in line.superseded),
    }


class CsvOutput:
    """Where `tally --csv` writes: a file, or standard output for "-".

    Entering opens the file (creating it if needed) before any mail is read, so that a
    path that cannot be written is InvalidInput (exit 2) with nothing read or recorded.
    An existing file keeps its content until `write`; a file this run created is removed
    again if the run fails before writing it.
    """

    def __init__(self, path: str) -> None:
        # As typed: "-" is standard output, "./-" a file named "-" (a Path would fold them).
        self.spec = path
        self.path = Path(path)
        self._file: BinaryIO | None = None
        self._created = False
        self._written = False

    @property
    def to_stdout(self) -> bool:
        """Whether the CSV goes to standard output (`--csv -`, exactly)."""
        return self.spec == "-"

    def refuse_over(self, precious: Sequence[Path]) -> None:
        """InvalidInput if the file is one of these (the store, the config): a CSV written
        over the database would destroy every vote recorded."""
        if self._file is None:
            return
        mine = os.fstat(self._file.fileno())
        for other in precious:
            try:
                theirs = other.stat()
            except OSError:
                continue
            if (theirs.st_dev, theirs.st_ino) == (mine.st_dev, mine.st_ino):
                raise InvalidInput(
                    f"--csv {self.spec}: that is {other}, which steervote needs; "
                    "choose another file (nothing was written)"
                )

    def __enter__(self) -> CsvOutput:
        if self.to_stdout:
            return self
        existed = os.path.lexists(self.path)
        try:
            # Append mode: opening checks the path without truncating what is there.
            self._file = self.path.open("ab")
        except OSError as e:
            why = e.strerror or str(e)
            raise InvalidInput(
                f"--csv {self.spec}: cannot write this file ({why}); no mail was read"
            ) from None
        self._created = not existed
        return self

    def write(self, results: Sequence[TallyResult]) -> None:
        """Write the CSV of these results (the whole file, replacing what was there)."""
        if self._file is None:
            self._write_stdout(results)
            return
        data = tally_csv(results).encode("utf-8")
        try:
            if stat.S_ISREG(os.fstat(self._file.fileno()).st_mode):
                self._file.seek(0)
                self._file.truncate()
            self._file.write(data)
            self._file.flush()
        except OSError as e:
            raise SteervoteError(
                f"--csv {self.spec}: {e.strerror or e} (the mail read was recorded; "
                "run tally --offline --csv to write it again)"
            ) from None
        self._written = True

    def _write_stdout(self, results: Sequence[TallyResult]) -> None:
        out = sys.stdout
        text = tally_csv(results, terminal=out.isatty())
        out.flush()
        binary = getattr(out, "buffer", None)
        if binary is None:
            out.write(text)
        else:
            # Bytes, so that the encoding is UTF-8 whatever the locale says of stdout.
            binary.write(text.encode("utf-8"))
            binary.flush()
        self._written = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        failed = None
        if self._file is not None:
            try:
                self._file.close()
            except OSError as e:  # the last of the buffer (a full disk): already said
                failed = e
                self._written = False
        if (kind is not None or failed is not None) and self._created and not self._written:
            # Leave no stray empty file behind a run that failed.
            self.path.unlink(missing_ok=True)
        if failed is not None and kind is None:
            raise SteervoteError(f"--csv {self.spec}: {failed.strerror or failed}")
