"""What text can go into a mail header or body: the one rule validation and composing share.

Python's email library splits a header value wherever `str.splitlines()` would (CR, LF,
VT, FF, the file/group/record separators, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR) and
refuses the result ("header value appears to contain an embedded header"); a NUL or other
control character is refused by many servers and by PostgreSQL; a lone surrogate (which a
YAML "\\ud800" escape makes) cannot be encoded at all. So a value that becomes a header
holds none of them, and a body holds no control character but tab and newline.
"""

from __future__ import annotations

import re
import unicodedata

# A name goes into To and From unfolded, RFC 2047-encoded: 100 characters (at most 400
# bytes of UTF-8, 540 of base64) keep the line well under SMTP's 998 (RFC 5321 4.5.3.1.6).
NAME_LIMIT = 100
# A motion id goes into Message-IDs and a header of its own, which cannot be folded.
ID_LIMIT = 64
# Unicode categories no header may hold: controls (C0, DEL, C1), surrogates, and the
# line and paragraph separators.
_NOT_IN_HEADER = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BODY_CONTROLS_ALLOWED = frozenset("\t\n")
# An RFC 2047 encoded word, as the stdlib's header parser recognises one (any charset).
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")


_CONTROL_NAMES = {
    "\x00": "NUL",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\x0b": "VERTICAL TAB",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x85": "NEXT LINE",
}


def _describe(ch: str) -> str:
    if unicodedata.category(ch) == "Cs":
        return f"U+{ord(ch):04X}, half of a surrogate pair"
    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def header_problem(text: str) -> str | None:
    """Why text from a file cannot become one header value (a title, a name, an address), or
    None: an RFC 2047 encoded word in it (the mail library would decode it, a CR LF inside
    included), or what `line_problem` refuses."""
    if _ENCODED_WORD.search(text) is not None:
        # The mail library decodes "=?utf-8?q?...?=" written in a header value, so a CR LF
        # encoded in one becomes a real line break there: a header of the writer's choice.
        return "must not hold an RFC 2047 encoded word (=?charset?q?...?=): write the text itself"
    return line_problem(text)


def line_problem(text: str) -> str | None:
    """Why the text cannot stand on one header line, or None.

    Refused: every character `str.splitlines()` splits on, every control character
    (NUL and tab included) and lone surrogates. (Composed headers, whose encoded words
    steervote wrote itself, are checked with this alone.)
    """
    if text.isascii() and text.isprintable():
        return None  # The common case, in one step.
    for ch in text:
        if unicodedata.category(ch) in _NOT_IN_HEADER:
            what = "a line break" if len(f"a{ch}b".splitlines()) > 1 else "a control character"
            return f"must be one line without control characters: holds {what} ({_describe(ch)})"
    return None


def name_problem(name: str) -> str | None:
    """Why the text cannot be a person's name in a To or From header, or None."""
    problem = header_problem(name)
    if problem is None and len(name) > NAME_LIMIT:
        problem = f"is {len(name)} characters long; a name has at most {NAME_LIMIT}"
    return problem


def body_problem(text: str) -> str | None:
    """Why the text cannot be part of a mail body, or None: controls other than tab and
    newline (a carriage return included: YAML already turns CRLF into LF) and lone surrogates.
    """
    if text.isascii() and all(ch.isprintable() or ch in _BODY_CONTROLS_ALLOWED for ch in text):
        return None
    for ch in text:
        if ch in _BODY_CONTROLS_ALLOWED:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return f"holds a control character ({_describe(ch)}); remove it"
    return None
