"""Read a CSV of members (name,email[,aliases][,id][,role]) for large electorates."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from steervote.core.fields import Problems, did_you_mean, invalid, show
from steervote.core.mail_text import header_problem
from steervote.core.member_entry import MemberEntry
from steervote.core.yaml_lines import utf8_text

if TYPE_CHECKING:
    from _csv import Reader

COLUMNS = ("name", "email", "aliases", "id", "role")
REQUIRED = ("name", "email")
_ALIAS_SPLIT = re.compile(r"[;,\s]+")


def read_members_csv(path: Path, found: Problems | None = None) -> list[MemberEntry]:
    """The member rows of a CSV file with a header row; MotionInvalid naming file, line and column.

    Aliases in one cell are separated by ";" (or spaces). Empty `id`, `role` or `aliases`
    cells mean none; blank lines are skipped. The problem of every bad row is reported:
    raised together, or, with `found`, added to it and the good rows returned.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise invalid(path, None, "", "no such file") from None
    except OSError as exc:
        raise invalid(path, None, "", f"cannot read: {exc.strerror or exc}") from None
    reader = csv.reader(io.StringIO(utf8_text(raw, path), newline=""))
    try:
        return _rows(reader, path, found)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise invalid(
                path,
                reader.line_num,
                "",
                f'a cell runs past {csv.field_size_limit()} characters: is a quote (") '
                "opened above and never closed?",
            ) from None
        raise invalid(path, reader.line_num, "", f"not a readable CSV file: {exc}") from None


def _rows(reader: Reader, path: Path, found: Problems | None) -> list[MemberEntry]:
    header = next(reader, None)
    if header is None:
        raise invalid(path, None, "", "the file is empty (expected a header row: name,email)")
    columns = [c.strip().lower() for c in header]
    separator = _other_separator(columns)
    if separator is not None:
        raise invalid(
            path,
            1,
            "header",
            f"the columns are separated by {separator}, not commas: save the file as "
            "comma-separated CSV (in the spreadsheet's Save As, choose the comma as the "
            "field separator)",
        )
    for column in columns:
        if column not in COLUMNS:
            what = f"unknown column {show(column)}{did_you_mean(column, COLUMNS)}"
            raise invalid(path, 1, "header", f"{what} (expected {','.join(COLUMNS)})")
        if columns.count(column) > 1:
            raise invalid(path, 1, "header", f"column {show(column)} is given twice")
    for column in REQUIRED:
        if column not in columns:
            raise invalid(
                path,
                1,
                "header",
                f"missing column {show(column)} (the header row must name name,email)",
            )
    index = {column: i for i, column in enumerate(columns)}
    width = len(columns)
    entries: list[MemberEntry] = []
    rows = Problems()
    end = reader.line_num
    for row in reader:
        # A quoted cell may span lines: a row is named by the line it starts on.
        line, end = end + 1, reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        entry = rows.check(_entry, path, line, row, width, index)
        if entry is not None:
            entries.append(entry)
    if found is None:
        rows.raise_any()
    else:
        found.found.extend(rows.found)
    return entries


def _entry(path: Path, line: int, row: list[str], width: int, index: dict[str, int]) -> MemberEntry:
    """One row as a member entry; MotionInvalid naming the row's line and column."""
    if len(row) > width:
        raise invalid(path, line, "", f"{len(row)} fields but the header names {width}")
    cells = [cell.strip() for cell in row] + [""] * (width - len(row))
    for column, at in index.items():
        problem = header_problem(cells[at])
        if problem is not None:
            raise invalid(path, line, column, problem)
    name, email = cells[index["name"]], cells[index["email"]]
    if not name:
        raise invalid(path, line, "name", "missing")
    if not email:
        raise invalid(path, line, "email", "missing")
    aliases_at, id_at, role_at = index.get("aliases"), index.get("id"), index.get("role")
    aliases = cells[aliases_at] if aliases_at is not None else ""
    return MemberEntry(
        name=name,
        email=email,
        path=path,
        line=line,
        aliases=tuple(a for a in _ALIAS_SPLIT.split(aliases) if a),
        role=(cells[role_at] or None) if role_at is not None else None,
        id=(cells[id_at] or None) if id_at is not None else None,
    )


def _other_separator(columns: list[str]) -> str | None:
    """'a semicolon' or 'tabs' when a one-column header is really several columns joined
    by that character (how spreadsheets in many European languages save "CSV")."""
    if len(columns) != 1:
        return None
    for char, name in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "bars (|)")):
        if char in columns[0] and any(c in COLUMNS for c in columns[0].split(char)):
            return name
    return None
