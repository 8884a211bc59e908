"""A config file's TOML, with why it cannot be read said in plain words and its line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from steervote.errors import ConfigInvalid


def read_toml(path: Path, named_by: str = "") -> dict[str, Any]:
    """The TOML of a config file; ConfigInvalid saying in plain words why it cannot be read.

    `named_by` says where the file's name came from ("named by $STEERVOTE_CONFIG"): a
    file that is missing or cannot be read is reported with it, as the user may not know.
    """
    origin = f" ({named_by})" if named_by else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigInvalid(f"{path}: config file not found{origin}") from None
    except OSError as e:  # a folder, a file that cannot be read
        raise ConfigInvalid(f"{path}: cannot be read{origin}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")  # Notepad's byte order mark is no problem
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigInvalid(
            f"{path}:{line}: byte 0x{raw[e.start]:02X} is not UTF-8 text: save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigInvalid(_toml_problem(path, str(e), text)) from None


# tomllib's message, "<what> (at line L, column C)" or "(at end of document)".
_TOML_AT = re.compile(
    r"(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)"
)


def _toml_problem(path: Path, message: str, text: str) -> str:
    """A TOML syntax error in plain words, with its line: `<file>:<line>: not valid TOML: ...`."""
    m = _TOML_AT.fullmatch(message)
    if m is None:
        return f"{path}: not valid TOML: {message}"
    what, line = m["what"], int(m["line"] or text.count("\n") + 1)
    column = int(m["column"] or 1)
    source = (text.splitlines() or [""])[min(line, len(text.splitlines() or [""])) - 1]
    said = _toml_words(what, source, column)
    return f"{path}:{line}: not valid TOML: {said}"


def _toml_words(what: str, source: str, column: int) -> str:
    """Plain words for tomllib's problem `what` at `column` of the line `source`."""
    rest = source[column - 1 :].strip()
    illegal = re.fullmatch(r"Illegal character '(.+)'", what)
    if what == "Invalid value" and rest.lower() in ("true", "false"):
        return f"write true and false in lowercase (column {column})"
    if what == "Invalid value" and rest and rest[0] not in "[{\"'0123456789+-":
        key = source[: column - 1].strip().rstrip("=").strip()
        return f'text must be in quotes: {key} = "{rest.split(" #")[0].strip()}"'
    if illegal and illegal[1] in ("\\n", "\\r"):
        return "the quote that opens the value is never closed: end it on the same line"
    if illegal:
        code = ord(illegal[1].encode().decode("unicode_escape"))
        return f"column {column}: a control character (U+{code:04X}) is not allowed; remove it"
    if what == "Cannot overwrite a value":
        return "a setting is given twice: keep one"
    declared = re.fullmatch(r"Cannot declare \((.*)\) twice", what)
    if declared:
        names = ".".join(n.strip(" '\"") for n in declared[1].split(",") if n.strip())
        return f"[{names}] is given twice: keep one and put all its settings there"
    if what == "Unescaped '\\' in a string":
        return (
            "a backslash inside double quotes starts an escape: write \\\\ for a backslash, "
            "or use single quotes ('...')"
        )
    return f"{what[:1].lower()}{what[1:]} (column {column})"
