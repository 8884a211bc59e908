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
# Characters that show nothing yet change how text reads or compares, so a name or a title
# can be disguised (CVE-2021-42574, "Trojan Source"; Unicode UTS #39, Default_Ignorable):
# every format character (category Cf: the Bidi_Control set, zero-width space, word joiner,
# byte order mark, soft hyphen, invisible operators, tags) and the letters and marks that
# are drawn as nothing (combining grapheme joiner, Hangul fillers, Khmer inherent vowels).
_INVISIBLE_OTHERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
# ZERO WIDTH NON-JOINER and JOINER are how Persian, the Indic scripts and emoji sequences
# are written (Unicode 15, 23.2): kept between letters, marks or symbols of those scripts
# (from U+0370 on), refused next to Latin text or a space, where they only hide.
_JOINERS = frozenset("\u200c\u200d")
_JOINED = frozenset({"Lo", "Lm", "Ll", "Lu", "Lt", "Mn", "Mc", "So"})
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
    return line_problem(text) or invisible_problem(text)


def invisible_problem(text: str) -> str | None:
    """Why the text would not read as what it holds (an invisible character in it), or None.

    Refused: every format character (Unicode category Cf, every Bidi_Control among them)
    and the few letters and marks drawn as nothing, but a zero-width joiner or non-joiner
    between two letters, marks or symbols of a script that needs it (Persian, Devanagari,
    emoji sequences: anything from U+0370 on).
    """
    if text.isascii():
        return None
    for at, ch in enumerate(text):
        if ch in _JOINERS and _joins(text, at):
            continue
        if ch in _INVISIBLE_OTHERS or unicodedata.category(ch) == "Cf":
            return (
                f"must not hold an invisible character ({_describe(ch)}), which can disguise "
                "the text: remove it"
            )
    return None


def _joins(text: str, at: int) -> bool:
    """True when the joiner at `at` stands between two characters of a script that uses it."""
    if at == 0 or at == len(text) - 1:
        return False
    return all(
        ord(ch) >= 0x370 and unicodedata.category(ch) in _JOINED
        for ch in (text[at - 1], text[at + 1])
    )


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
