"""A file a person wrote, as text: UTF-8 only, and no character YAML refuses or a person
cannot see. Each problem names its line and column and the code point, never the character.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from steervote.errors import MotionInvalid


class TextProblems(MotionInvalid):
    """Problems with a file's bytes or characters, each (line, what): one line each."""

    def __init__(self, path: Path, problems: list[tuple[int | None, str]]) -> None:
        self.path, self.problems = path, tuple(problems)
        lines = [f"{path}:{line}: {what}" if line else f"{path}: {what}" for line, what in problems]
        if len(lines) > 1:
            shown = lines[:_SHOWN] + (
                [f"... and {len(lines) - _SHOWN} more"] if len(lines) > _SHOWN else []
            )
            lines = [f"{path}: {len(lines)} problems:", *shown]
        super().__init__("\n".join(lines))


_SHOWN = 20  # as steervote.core.fields.SHOWN_PROBLEMS


# What YAML 1.1 refuses in a stream (PyYAML's Reader.NON_PRINTABLE: C0 controls but tab,
# line feed and carriage return; DEL; C1 controls; U+FFFE and U+FFFF), and what it reads but
# a person cannot see: NEXT LINE, LINE SEPARATOR and PARAGRAPH SEPARATOR, which YAML takes
# for line breaks (so every line number after one would differ from the editor's), and a
# byte order mark after the start of the file. PyYAML's own message names a character
# offset and quotes the character; these name the line and column, and the code point.
_REFUSED = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_INVISIBLE_BREAKS = {
    "\x85": "NEXT LINE",
    "\u2028": "LINE SEPARATOR",
    "\u2029": "PARAGRAPH SEPARATOR",
}
_OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def utf8_text(raw: bytes, path: Path) -> str:
    """The text of a file's bytes (UTF-8, an opening byte order mark dropped); TextProblems
    naming the line and column of the first byte that is not UTF-8, or the encoding the
    file was saved in instead (UTF-16 and UTF-32, with or without their byte order mark)."""
    for bom, name in _OTHER_ENCODINGS:
        if raw.startswith(bom):
            raise TextProblems(path, [(None, f"{_saved_as(name)}")])
    if raw.count(0) * 4 > len(raw) > 0 and (raw[0::2].count(0) or raw[1::2].count(0)):
        # Every other byte NUL: ASCII text in UTF-16 without a byte order mark.
        raise TextProblems(path, [(None, _saved_as("UTF-16"))])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8-sig", "surrogateescape")
    bad = [(line, column, ch) for line, column, ch in _located(text, re.compile("[\udc80-\udcff]"))]
    line, column, ch = bad[0]
    more = len(bad) - 1
    rest = f" ({more} more such {'byte' if more == 1 else 'bytes'}, the last on line {bad[-1][0]})"
    raise TextProblems(
        path,
        [
            (
                line,
                f"column {column}: byte 0x{ord(ch) - 0xDC00:02X} is not UTF-8 text"
                + (rest if more else "")
                + ": the file was saved in another encoding (such as Windows-1252 or "
                "Latin-1); save it as UTF-8",
            )
        ],
    )


def _saved_as(encoding: str) -> str:
    return (
        f"the file is saved as {encoding} text: save it as UTF-8 (a choice in the editor's Save As)"
    )


def refused_characters(text: str, kind: str) -> list[tuple[int | None, str]]:
    """(line, what) for each line holding a character YAML refuses or cannot show: the
    first such character of the line, its column (1-based, in characters) and code point,
    and how many more the line holds. Never the character itself."""
    by_line: dict[int, list[tuple[int, str]]] = {}
    for line, column, ch in _located(text, _REFUSED):
        by_line.setdefault(line, []).append((column, ch))
    problems: list[tuple[int | None, str]] = []
    for line, found in by_line.items():
        column, ch = found[0]
        more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
        problems.append(
            (line, f"column {column}: {_character(ch)} is not allowed in a {kind}; remove it{more}")
        )
    return problems


def _located(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int, str]]:
    """(line, column, character) of each match of `pattern`, lines as YAML counts them."""
    starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
    line = 0
    for match in pattern.finditer(text):
        while line + 1 < len(starts) and starts[line + 1] <= match.start():
            line += 1
        yield line + 1, match.start() - starts[line] + 1, match.group()


def _character(ch: str) -> str:
    """A refused character in words, with its code point."""
    code = f"U+{ord(ch):04X}"
    if ch in _INVISIBLE_BREAKS:
        return f"an invisible line break ({code} {_INVISIBLE_BREAKS[ch]})"
    if ch == "\ufeff":
        return f"a byte order mark ({code}, invisible; it belongs only at the start of a file)"
    if unicodedata.category(ch) == "Cc":
        return f"a control character ({code})"
    return f"a character that is not text ({code})"
