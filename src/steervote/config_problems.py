"""The problems of a config, gathered to be said at once, and how a message quotes a value."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from typing import Any, ParamSpec, TypeVar

from steervote.errors import ConfigInvalid
from steervote.terminal import json_for_terminal

P = ParamSpec("P")
T = TypeVar("T")


class SettingProblems:
    """The independent problems of a config, gathered to be reported at once. A
    ConfigInvalid's message holds one problem a line, each `<file>: [section] key: what`."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def check(self, f: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """f's result, or None with its problems kept."""
        try:
            return f(*args, **kwargs)
        except ConfigInvalid as e:
            self.lines.extend(str(e).splitlines())
        return None

    def add(self, message: str) -> None:
        """Keep one problem."""
        self.lines.append(message)

    def raise_lines(self) -> None:
        """Raise ConfigInvalid with every problem, one a line (for a caller to gather)."""
        if self.lines:
            raise ConfigInvalid("\n".join(self.lines))

    def raise_any(self, where: str, covered: Collection[tuple[str, str]] = ()) -> None:
        """Raise nothing, the one problem, or "<file>: N problems:" and each on its line.
        A problem of a setting in `covered` (the one a misspelt setting was meant to be)
        is not listed beside the misspelling."""
        lines = [line for line in self.lines if _setting_of(line) not in covered]
        if len(lines) == 1:
            raise ConfigInvalid(lines[0])
        if lines:
            raise ConfigInvalid(f"{where}: {len(lines)} problems:\n" + "\n".join(lines))


_SETTING = re.compile(r"\[(\w+)\] (\w+):")


def _setting_of(line: str) -> tuple[str, str] | None:
    m = _SETTING.search(line)
    return (m[1], m[2]) if m else None


def shown(value: object) -> str:
    """A config value as a message quotes it: text in TOML's double quotes (escaped, cut
    short if long), true/false and numbers as written, anything else by its kind."""
    if isinstance(value, str):
        # Every character a terminal acts on, or that breaks a line, as a \\uXXXX escape.
        cut = value if len(value) <= 58 else value[:54] + "..."
        return json_for_terminal(json.dumps(cut, ensure_ascii=False))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date"  # TOML's only other values: dates and times


def text(body: dict[str, Any], key: str, section: str, where: str) -> str | None:
    """A text setting, None if absent; ConfigInvalid naming what was written instead."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigInvalid(
            f"{where}: [{section}] {key}: expected text in quotes, got {shown(value)}"
        )
    return value
