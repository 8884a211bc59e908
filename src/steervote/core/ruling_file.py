"""Read a CSV file of rulings (member, vote, reason[, by]) for `rule --from-csv`.

The file is untrusted and may come from a spreadsheet: UTF-8 with or without a byte-order
mark, separated by commas, or by semicolons as spreadsheets write CSV where the comma is
the decimal mark (the header row says which: it must name the columns). Every row is
checked and every problem reported, each with its line, so a file is fixed in one pass;
the rows are only the text as written (who the member is, is for the motion to say).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steervote.core.fields import did_you_mean, show
from steervote.core.mail_text import line_problem
from steervote.core.vote import Vote
from steervote.errors import InvalidInput

if TYPE_CHECKING:
    from _csv import Reader

COLUMNS = ("member", "vote", "reason", "by")
REQUIRED = ("member", "vote", "reason")
MAX_BYTES = 2_000_000  # a ruling a row: ample for a 20,000-member electorate
MAX_CELL = 2000  # characters of one cell
VOTES: dict[str, Vote | None] = {
    "for": Vote.FOR,
    "against": Vote.AGAINST,
    "abstain": Vote.ABSTAIN,
    "none": None,
}


@dataclass(frozen=True, slots=True)
class RulingLine:
    """One row of a rulings file: who as written, the vote (None: count no vote), why,
    and who rules ("" when the row does not say); line: where the row starts (from 1)."""

    line: int
    member: str
    vote: Vote | None
    reason: str
    by: str


Problem = tuple[int, str]  # (line, "FILE:LINE: column: what")


def read_ruling_lines(data: bytes, path: Path) -> tuple[list[RulingLine], list[Problem]]:
    """The rows of a rulings file, and a located problem for each row that cannot be a
    ruling, as (line, "FILE:LINE: column: what").

    Raises InvalidInput (exit 2) for a file that cannot be read as a whole: too large, not
    UTF-8, not CSV, no header row naming the columns, or no rows.
    """
    if len(data) > MAX_BYTES:
        raise invalid(path, None, "", f"larger than {MAX_BYTES:,} bytes: split it into files")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise invalid(
            path, None, "", f"not UTF-8 text (byte {e.start}); save it as CSV UTF-8"
        ) from None
    first = text.split("\n", 1)[0].rstrip("\r")
    separator = _separator(first, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        next(reader)
        return _rows(reader, [c.strip().lower() for c in _split(first, separator)], path)
    except csv.Error as e:
        raise invalid(path, reader.line_num or None, "", f"not a readable CSV file: {e}") from None


def _split(line: str, separator: str) -> list[str]:
    return next(csv.reader([line], delimiter=separator), [])


def _separator(first: str, path: Path) -> str:
    """',' or ';': the one the header row names every required column with."""
    if not first.strip():
        raise invalid(path, 1, "", "no header row (expected: member,vote,reason and maybe by)")
    for separator in (",", ";"):
        columns = [c.strip().lower() for c in _split(first, separator)]
        if all(c in columns for c in REQUIRED):
            _check_header(columns, path)
            return separator
    columns = [c.strip().lower() for c in _split(first, ";" if ";" in first else ",")]
    if "\t" in first:
        what = "separated by tabs: save it as CSV, separated by commas or semicolons"
    else:
        unknown = [c for c in columns if c not in COLUMNS]
        missing = ", ".join(c for c in REQUIRED if c not in columns)
        what = f"missing column {missing}" + (
            f"; unknown column {show(unknown[0])}{did_you_mean(unknown[0], COLUMNS)}"
            if unknown
            else ""
        )
    raise invalid(path, 1, "header", f"{what} (expected member,vote,reason and maybe by)")


def _check_header(columns: list[str], path: Path) -> None:
    for column in columns:
        if column not in COLUMNS:
            what = f"unknown column {show(column)}{did_you_mean(column, COLUMNS)}"
            raise invalid(path, 1, "header", f"{what} (expected member,vote,reason and maybe by)")
        if columns.count(column) > 1:
            raise invalid(path, 1, "header", f"column {show(column)} is given twice")


def _rows(reader: Reader, columns: list[str], path: Path) -> tuple[list[RulingLine], list[Problem]]:
    index = {column: i for i, column in enumerate(columns)}
    width = len(columns)
    separator = reader.dialect.delimiter
    rows: list[RulingLine] = []
    problems: list[Problem] = []
    end = reader.line_num
    for row in reader:
        # A quoted cell may span lines: a row is named by the line it starts on.
        line, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > width:
            what = (
                f"{len(row)} fields but the header names {width} (text holding "
                f"{separator!r} must be in double quotes)"
            )
            problems.append((line, _at(path, line, "", what)))
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}
        found = [_at(path, line, c, p) for c, v in cells.items() if (p := _cell_problem(v))]
        member, vote, reason = cells["member"], cells["vote"].lower(), cells["reason"]
        if not member:
            found.append(_at(path, line, "member", "empty: give a member id, address or name"))
        if vote not in VOTES:
            said = f"{show(cells['vote'])} is not" if vote else "empty: give"
            found.append(_at(path, line, "vote", f"{said} one of for, against, abstain, none"))
        if not reason:
            found.append(_at(path, line, "reason", "empty: say why (kept in the audit trail)"))
        if found:
            problems += [(line, x) for x in found]
            continue
        rows.append(RulingLine(line, member, VOTES[vote], reason, cells.get("by", "")))
    if not rows and not problems:
        raise invalid(path, None, "", "no rulings: the file has a header row and nothing else")
    return rows, problems


def _cell_problem(value: str) -> str | None:
    if len(value) > MAX_CELL:
        return f"longer than {MAX_CELL} characters"
    return line_problem(value)


def invalid(path: Path, line: int | None, column: str, what: str) -> InvalidInput:
    """The one-line error "FILE:LINE: column: what" (LINE left out where none is known)."""
    return InvalidInput(_at(path, line, column, what))


def _at(path: Path, line: int | None, column: str, what: str) -> str:
    where = f"{path}:{line}" if line is not None else str(path)
    return " ".join((f"{where}: {column}: {what}" if column else f"{where}: {what}").split())
