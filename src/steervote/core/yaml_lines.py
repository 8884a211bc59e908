"""Read a YAML file the user wrote, remembering the line of every mapping key and list item.

Errors name a line because a chair fixing a motion file needs to know where to look.
Timestamps are left as text (the motion reads `closes` itself, with the committee's
timezone) and a key given twice is an error rather than PyYAML's silent "last one wins".
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

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


class LineMap(dict[Any, Any]):
    """A YAML mapping that knows the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[Any, int]
    # Each plain value as written: YAML reads `yes` as true and `1e3` as a number, and an
    # error about such a value must quote what the user wrote.
    written: dict[Any, str]

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}
        self.written = {}

    def line_of(self, key: object) -> int:
        """The line the key is written on, or the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that knows the line of each of its items (1-based)."""

    line: int
    item_lines: list[int]

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines = []

    def line_of(self, index: int) -> int:
        """The line the item starts on, or the sequence's own line."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# Tags a file may write: none at all, or the three a person uses to say "this is text",
# "a mapping", "a list". Any other (`!!int abc`, `!!timestamp`, `!!binary`, `!!set`, `!foo`,
# `!!python/...`) would reach PyYAML's constructors, whose errors are Python's own.
_PLAIN_TAGS = frozenset(
    {None, "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
)


class LineLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings and sequences record their lines; no implicit timestamps,
    no tags but !!str, !!map and !!seq."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """As SafeLoader, but a node with a tag other than !!str, !!map or !!seq is an error."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _PLAIN_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise yaml.composer.ComposerError(
                None,
                None,
                f"a YAML tag ({shown}) is not read in steervote files: remove it and write "
                "the value alone (in quotes, if it is text)",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """As SafeLoader, but a value Python cannot convert (a number of more than 4,300
        digits) is a located error, not Python's ValueError."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError):
            digits = len(str(node.value)) if isinstance(node, yaml.ScalarNode) else 0
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a number of {digits} digits is too long to read: put it in quotes if it is text",
                node.start_mark,
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """As SafeLoader, but a key that appears twice is an error."""
        seen: dict[Any, int] = {}
        # Checked before merge keys (`<<: *defaults`) are flattened in: overriding a merged
        # key is what merging is for, not a duplicate.
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"{key!r} is given twice (first on line {seen[key]})",
                        key_node.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _construct_map(loader: LineLoader, node: yaml.MappingNode) -> Iterator[LineMap]:
    data = LineMap(node.start_mark.line + 1)
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool) or key is None:
            data.key_lines.setdefault(key, key_node.start_mark.line + 1)
            if isinstance(value_node, yaml.ScalarNode):
                data.written.setdefault(key, value_node.value)


def _construct_seq(loader: LineLoader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList(node.start_mark.line + 1)
    yield data
    data.extend(loader.construct_sequence(node))
    data.item_lines = [item.start_mark.line + 1 for item in node.value]


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# A subclass shares its parent's resolver table until it writes to it: copy, then drop
# timestamps so `closes: 2017-01-17 19:00` reaches the motion as the text the user wrote.
LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path, *, kind: str = "YAML file") -> object:
    """Parse one YAML document from the file; MotionInvalid (with the line) if it cannot be
    read. `kind` names the file in messages ("motion file")."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MotionInvalid(f"{path}: no such file") from None
    except OSError as exc:
        raise MotionInvalid(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = utf8_text(raw, path)
    refused = refused_characters(text, kind)
    if refused:
        raise TextProblems(path, refused)
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 (LineLoader is a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, what = plain_words(exc, text.splitlines())
        where = f"{path}:{line}" if line is not None else str(path)
        raise MotionInvalid(f"{where}: YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise MotionInvalid(f"{path}: YAML syntax error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise MotionInvalid(f"{path}: YAML syntax error: nested too deeply") from None


# --- bytes and characters a file cannot hold ---------------------------------------------
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


# --- YAML syntax errors in plain words ------------------------------------------------
# PyYAML names the parser's state ("expected <block end>, but found '<block mapping
# start>'"); a chair fixing a motion file needs the mistake people make, on the line
# where it was made. Each rule below reads the problem PyYAML reports and the lines
# around it; anything not recognised keeps PyYAML's own words.

_INDENT_PROBLEMS = (
    "expected <block end>",
    "did not find expected key",
    "did not find expected '-' indicator",
    "mapping values are not allowed here",
)
_QUOTE_OPENS = re.compile(r"""^\s*(?:-\s+)*(?:[^\s#'"-][^#]*?:\s+)?(["'])""")


def plain_words(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int | None, str]:
    """The line (1-based; None if unknown) and the plain words for a YAML syntax error."""
    problem = " ".join(str(exc.problem or exc.context or "cannot parse").split())
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None, problem
    n = mark.line  # 0-based, as PyYAML counts
    text = lines[n] if n < len(lines) else ""
    if "'\\t'" in problem or "tab character" in problem:
        if "\t" in text[: len(text) - len(text.lstrip())]:
            return n + 1, "tabs cannot indent YAML; use spaces"
        return n + 1, "a tab where YAML needs a space (after the colon); use spaces"
    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        return _unclosed(exc.context_mark.line, lines)
    if "found '<scalar>'" in problem:
        opened = _last_unclosed_quote(lines, n)
        if opened is not None:
            return _unclosed(opened, lines)
        if _QUOTE_OPENS.match(text):
            return n + 1, "text after the closing quote: put the quotes around the whole value"
    if exc.context in ("while parsing a flow sequence", "while parsing a flow mapping"):
        start = exc.context_mark.line if exc.context_mark is not None else n
        bracket = "[" if "sequence" in exc.context else "{"
        return start + 1, (
            f"a value that starts with {bracket} is read as a YAML "
            f"{'list' if bracket == '[' else 'mapping'} and this one is not closed: "
            "if it is text, put the whole value in quotes"
        )
    if problem == "could not find expected ':'" and exc.context_mark is not None:
        at = exc.context_mark.line + 1
        return at, (
            f"line {at} is not a 'field: value' line; if it goes on with the text above, "
            "write that text as a block (field: | with the text indented below it) or in quotes"
        )
    if problem.startswith(_INDENT_PROBLEMS):
        above = _line_above(lines, n)
        if above is not None:
            # A list item's fields start after its "- ": that is where a field below lines up.
            item = text.lstrip().startswith("- ")
            here, there = _indent(text), _indent(lines[above], after_dash=not item)
            more = here > there and problem.startswith("mapping values")
            if here < there or more:
                return n + 1, (
                    f"line {n + 1} is indented {'more' if more else 'less'} than the line "
                    f"above (it starts {_spaces(here)}, line {above + 1} {_spaces(there)}): "
                    "line it up with the fields it belongs with"
                )
        if problem.startswith("mapping values"):
            return n + 1, _colon_in_value(text)
    if problem.startswith("found undefined alias") or exc.context == "while scanning an alias":
        return n + 1, "a value that starts with * is read as a YAML alias: put it in quotes"
    cannot_start = re.match(
        r"(?:found character|expected the node content, but found) '(.)'", problem
    )
    if cannot_start:
        return n + 1, f"a value cannot start with {cannot_start[1]}: put it in quotes"
    return n + 1, _other_words(exc, problem)


def _other_words(exc: yaml.MarkedYAMLError, problem: str) -> str:
    """Plain words for the rarer mistakes PyYAML names in its parser's terms; its own words
    for anything else."""
    context = exc.context or ""
    escape = re.match(r"found unknown escape character '(.+)'", problem)
    if escape:
        return (
            f"\\{escape[1]} is not an escape YAML knows inside double quotes: write \\\\ for "
            "a backslash, or put the value in single quotes ('...')"
        )
    if context == "while scanning an anchor":
        return "a value that starts with & is read as a YAML anchor: put it in quotes"
    if context == "while scanning a block scalar":
        return (
            "after | or > only a comment may follow on the same line: write the text on the "
            "lines below, indented, or put the whole value in quotes"
        )
    anchor = re.match(r"found duplicate anchor '(.+)'", context)
    if anchor and exc.context_mark is not None:
        return (
            f"the anchor &{anchor[1]} is given twice (first on line "
            f"{exc.context_mark.line + 1}): give each anchor its own name"
        )
    if problem == "but found another document":
        return (
            "a second YAML document starts here (---): a steervote file holds one; "
            "remove this line or what follows it"
        )
    if problem == "found unhashable key":
        return (
            "a field name cannot be a list or a mapping (a line that starts with [, { or ? "
            "is read as one): put it in quotes"
        )
    if problem.startswith("expected a mapping or list of mappings for merging"):
        return (
            "<<: merges in the fields of an anchored mapping (<<: *name); to use << as a "
            "field name, put it in quotes"
        )
    if problem.startswith("found incompatible YAML document"):
        return "the %YAML line asks for a version of YAML steervote does not read: remove it"
    return problem


def _indent(line: str, *, after_dash: bool = False) -> int:
    """The spaces before the line's text (and, if `after_dash`, before a list item's)."""
    spaces = len(line) - len(line.lstrip(" "))
    if after_dash:
        item = re.match(r" *(?:- +)+", line)
        return item.end() if item and item.end() < len(line.rstrip()) else spaces
    return spaces


def _spaces(n: int) -> str:
    return "at the left margin" if n == 0 else "after 1 space" if n == 1 else f"after {n} spaces"


def _line_above(lines: list[str], n: int) -> int | None:
    """The index of the nearest line above `n` with something on it (not a comment)."""
    for i in range(min(n, len(lines)) - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i
    return None


def _closes(rest: str, quote: str) -> bool:
    """Whether a quoted value whose text after the opening quote is `rest` ends there."""
    if quote == "'":
        return "'" in rest.replace("''", "")
    return re.search(r'(?<!\\)(?:\\\\)*"', rest) is not None


def _last_unclosed_quote(lines: list[str], n: int) -> int | None:
    """The last line up to `n` whose value opens a quote that the line does not close."""
    found = None
    for i, line in enumerate(lines[: n + 1]):
        m = _QUOTE_OPENS.match(line)
        if m and not _closes(line[m.end() :], m[1]):
            found = i
    return found


def _unclosed(line: int, lines: list[str]) -> tuple[int, str]:
    text = lines[line] if line < len(lines) else ""
    m = _QUOTE_OPENS.match(text)
    quote = m[1] if m else '"'
    return line + 1, (
        f"the quote {quote} that opens the value on line {line + 1} is never closed: "
        f"end the value with {quote} on the same line"
    )


def _colon_in_value(text: str) -> str:
    """A ': ' inside a value: say so, with the line as it should be written."""
    key, _, value = text.strip().partition(": ")
    if not value or '"' in value:
        return "a ': ' inside a value makes it look like another field: put the value in quotes"
    return (
        "a ': ' inside a value makes it look like another field: put the value in quotes, "
        f'e.g. {key}: "{value}"'
    )
