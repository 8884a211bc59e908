"""YAML syntax errors in plain words.

PyYAML names the parser's state ("expected <block end>, but found '<block mapping
start>'"); a chair fixing a motion file needs the mistake people make, on the line
where it was made. Each rule below reads the problem PyYAML reports and the lines
around it; anything not recognised keeps PyYAML's own words.
"""

from __future__ import annotations

import re

import yaml

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
