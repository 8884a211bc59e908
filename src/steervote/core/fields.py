"""Typed reading of the fields of a YAML mapping, every error naming file, line and field.

The message format is the one contract here, one line, for the CLI to print as is:

    <file>:<line>: <field>: <what is wrong>

`<line>` is left out where no line is known. `<field>` is a path such as
`members[3].email` (list positions count from 1, as a person counts members).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path
from typing import NoReturn

from steervote.core.mail_text import body_problem, header_problem
from steervote.core.yaml_lines import LineList, LineMap
from steervote.errors import MotionInvalid


def invalid(path: Path, line: int | None, field: str, what: str) -> MotionInvalid:
    """The one-line MotionInvalid for a field of a file (line None where unknown)."""
    where = f"{path}:{line}" if line is not None else str(path)
    message = f"{where}: {field}: {what}" if field else f"{where}: {what}"
    return MotionInvalid(" ".join(message.splitlines()))


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
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value)"
    return type(value).__name__


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
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
        """Refuse unknown fields (suggesting the closest known one), then missing ones."""
        for key in self.data:
            if not isinstance(key, str):
                raise invalid(
                    self.path,
                    self.data.line_of(key),
                    self.prefix + str(key),
                    "a field name must be text",
                )
            if key not in allowed:
                self.fail(key, "unknown field" + did_you_mean(key, allowed))
        for key in required:
            if self.data.get(key) is None:
                what = "missing required field" if key not in self.data else "must not be empty"
                raise invalid(self.path, self.line(key), self.prefix + key, what)

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
