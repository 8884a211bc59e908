"""Typed reading of the fields of a YAML mapping, every error naming file, line and field.

The message format is the one contract here, one line, for the CLI to print as is:

    <file>:<line>: <field>: <what is wrong>

`<line>` is left out where no line is known. `<field>` is a path such as
`members[3].email` (list positions count from 1, as a person counts members).

Problems that do not depend on each other (two missing fields, a bad timezone and a bad
member address) are gathered by `Problems` and reported together, one line each, so that
a chair fixes a file in one go rather than one error per run.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

from steervote.core.mail_text import body_problem, header_problem
from steervote.core.yaml_lines import LineList, LineMap, TextProblems
from steervote.errors import MotionInvalid

P = ParamSpec("P")
T = TypeVar("T")
# At most this many problems are listed; the rest are counted ("and 40 more").
SHOWN_PROBLEMS = 20


class FieldProblem(MotionInvalid):
    """One located problem: the one-line message, and its file, line and field."""

    def __init__(self, message: str, path: Path | None, line: int | None, field: str) -> None:
        super().__init__(message)
        self.path, self.line, self.field = path, line, field
        # Fields this problem accounts for (a misspelt field, the one it was meant to be):
        # their own problems are not listed beside it.
        self.covers: tuple[str, ...] = ()


class FileProblems(MotionInvalid):
    """Several independent problems, one line each, in the order of the files' lines."""

    def __init__(self, problems: tuple[FieldProblem, ...]) -> None:
        files = list(dict.fromkeys(p.path for p in problems if p.path is not None))
        head = f"{files[0]}: " if len(files) == 1 else ""
        shown = [str(p) for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(f"... and {len(problems) - SHOWN_PROBLEMS} more")
        if len(problems) == 1:
            super().__init__(shown[0])
        else:
            super().__init__(f"{head}{len(problems)} problems:\n" + "\n".join(shown))
        self.problems = problems


class Problems:
    """The independent problems of a file, gathered to be reported at once.

    `check(f, *args)` runs one check: f's result, or None with its problem kept (None is
    also what an optional field gives: read the results only after `raise_any()`).
    A field's first problem is kept, later ones of the same field and line dropped (a
    missing field would otherwise be reported by each check that reads it).
    """

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def check(self, f: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        try:
            return f(*args, **kwargs)
        except MotionInvalid as e:
            self.add(e)
        return None

    def add(self, e: MotionInvalid) -> None:
        """Keep a problem raised elsewhere (each of several, for FileProblems)."""
        if isinstance(e, FileProblems):
            self.found.extend(e.problems)
        elif isinstance(e, FieldProblem):
            self.found.append(e)
        elif isinstance(e, TextProblems):  # the file's bytes: located, no field
            self.found.extend(invalid(e.path, line, "", what) for line, what in e.problems)
        else:  # a whole-file problem: no field to name
            self.found.append(FieldProblem(str(e), None, None, ""))

    def raise_any(self) -> None:
        """Raise nothing, the one problem as it is, or FileProblems listing each."""
        kept = self.kept()
        if len(kept) == 1:
            raise kept[0]
        if kept:
            raise FileProblems(kept)

    def kept(self) -> tuple[FieldProblem, ...]:
        """The problems to report, in the order of the files' lines: a field's first problem
        only, and none of a field another problem accounts for (FieldProblem.covers)."""
        covered = {(p.path, f) for p in self.found if p.path is not None for f in p.covers}
        seen: set[tuple[Path, int | None, str]] = set()
        kept: list[FieldProblem] = []
        for p in self.found:
            if p.path is not None and p.field:
                # A CSV names a column, not a row: the line tells two rows' problems apart.
                if (p.path, p.field) in covered or (p.path, p.line, p.field) in seen:
                    continue
                seen.add((p.path, p.line, p.field))
            kept.append(p)
        files = {path: n for n, path in enumerate(dict.fromkeys(p.path for p in kept))}
        order = {id(p): n for n, p in enumerate(kept)}
        kept.sort(key=lambda p: (files[p.path], p.line or 0, order[id(p)]))
        return tuple(kept)


def invalid(path: Path, line: int | None, field: str, what: str) -> FieldProblem:
    """The one-line MotionInvalid for a field of a file (line None where unknown)."""
    where = f"{path}:{line}" if line is not None else str(path)
    message = f"{where}: {field}: {what}" if field else f"{where}: {what}"
    return FieldProblem(" ".join(message.splitlines()), path, line, field)


def show(value: object, limit: int = 60) -> str:
    """A user's value quoted for a one-line message: escaped, and cut short if long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "..." + text[-1]


def kind(value: object) -> str:
    """What a YAML value is, in words a person writing YAML knows."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float) and not math.isfinite(value):
        return "the number .nan" if math.isnan(value) else "an infinite number"
    if isinstance(value, int | float):
        digits = str(value)
        return f"the number {digits}" if len(digits) <= 24 else f"a number of {len(digits)} digits"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value)"
    return "a value of another kind"


def closest(word: str, choices: Collection[str]) -> list[str]:
    """The choice closest to `word` (difflib, similarity at least 0.6), or none."""
    return difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    close = closest(word, choices)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Fields:
    """One YAML mapping of a file, read field by field with located errors."""

    def __init__(self, data: LineMap, path: Path, prefix: str = "") -> None:
        self.data = data
        self.path = path
        self.prefix = prefix

    @classmethod
    def of(cls, value: object, path: Path, field: str, line: int | None) -> Fields:
        """The fields of a value that must be a mapping."""
        if not isinstance(value, LineMap):
            raise invalid(path, line, field, f"expected a mapping (key: value), got {kind(value)}")
        return cls(value, path, f"{field}." if field else "")

    def line(self, key: str) -> int:
        """The line of the key (or of the mapping, for a key it lacks)."""
        return self.data.line_of(key)

    def fail(self, key: str, what: str) -> NoReturn:
        """Raise the located MotionInvalid for this field."""
        raise invalid(self.path, self.line(key), self.prefix + key, what)

    def check_keys(self, allowed: Collection[str], required: Collection[str]) -> None:
        """Refuse unknown fields (suggesting the closest known one) and missing ones, all
        of them at once."""
        found = Problems()
        for key in self.data:
            if not isinstance(key, str):
                found.check(
                    _raise,
                    invalid(
                        self.path,
                        self.data.line_of(key),
                        self.prefix + str(key),
                        "a field name must be text",
                    ),
                )
            elif key not in allowed:
                problem = invalid(
                    self.path,
                    self.line(key),
                    self.prefix + key,
                    "unknown field" + did_you_mean(key, allowed),
                )
                # A misspelt field is one problem: "titel: unknown field (did you mean
                # 'title'?)" is said, "title: missing required field" is not.
                close = [c for c in closest(key, allowed) if c not in self.data]
                problem.covers = tuple(self.prefix + c for c in close)
                found.check(_raise, problem)
        for key in required:
            if self.data.get(key) is None:
                what = "missing required field" if key not in self.data else "must not be empty"
                found.check(_raise, invalid(self.path, self.line(key), self.prefix + key, what))
        found.raise_any()

    def get(self, key: str) -> object:
        """The raw value, None if absent."""
        return self.data.get(key)

    def text(self, key: str, *, one_line: bool = False) -> str:
        """A required, non-blank text field, stripped."""
        value = self.optional_text(key, one_line=one_line)
        if value is None:
            self.fail(key, "missing required field")
        return value

    def optional_text(self, key: str, *, one_line: bool = False) -> str | None:
        """A text field, stripped; None if absent.

        A one-line field may become a mail header: it is held to the header rule
        (steervote.core.mail_text); any other text to the body rule.
        """
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(key, f"expected text, got {kind(value)} (put it in quotes)")
        value = value.strip()
        if not value:
            self.fail(key, "must not be blank")
        problem = header_problem(value) if one_line else body_problem(value)
        if problem is not None:
            self.fail(key, problem)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """A true/false field."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {kind(value)}")
        return value

    def integer(self, key: str) -> int | None:
        """A whole-number field; None if absent."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {kind(value)}")
        return value

    def text_list(self, key: str) -> list[tuple[str, int]]:
        """A list of text items, each with its line; a single text counts as a list of one."""
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            problem = header_problem(value.strip())
            if problem is not None:
                self.fail(key, problem)
            return [(value.strip(), self.line(key))]
        if not isinstance(value, LineList):
            self.fail(key, f"expected a list, got {kind(value)}")
        items: list[tuple[str, int]] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                what = f"expected text, got {kind(item)}" if item else "must not be blank"
                raise invalid(
                    self.path, value.line_of(index), f"{self.prefix}{key}[{index + 1}]", what
                )
            problem = header_problem(item.strip())
            if problem is not None:
                raise invalid(
                    self.path, value.line_of(index), f"{self.prefix}{key}[{index + 1}]", problem
                )
            items.append((item.strip(), value.line_of(index)))
        return items


def _raise(problem: MotionInvalid) -> NoReturn:
    raise problem
