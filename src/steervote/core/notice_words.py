"""What every notice shares: the Body it is made of, untrusted text made plain, times in
the committee's timezone, the greeting and the motion's title.

Every string from a motion file, a committee file, a ruling or a member's mail may hold
anything: in the text part it stays plain text without control characters (C0 and C1, but
tab and newline) and bidi controls (CVE-2021-42574, "Trojan Source"), with a bounded
length; in the HTML part it is escaped as well. Times are shown in the committee's
timezone, e.g. "Tue 12 Jan 2027 18:00 GMT".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from steervote.core.deadline import timezone_named
from steervote.core.motion import Member, Motion
from steervote.core.result_line import local_time as line_time
from steervote.core.storable import valid_unicode

WORDS_LIMIT = 1000  # a member's own words quoted back to them
NAME_LIMIT = 100  # core.mail_text.NAME_LIMIT: what a committee file may hold
LINE_LIMIT = 300  # a title, a ruling's author, a timezone name
REASON_LIMIT = 500  # a ruling's reason, the secretary's own reason for an ask, an authority
MOTION_TEXT_LIMIT = 20_000  # the motion text quoted in a reminder

ONE_WORD = "FOR, AGAINST or ABSTAIN"


@dataclass(frozen=True, slots=True)
class Body:
    """What a notice says: its subject (what it is, without the motion's tag or title),
    its text/plain part, and a text/html alternative (the announcement only)."""

    subject: str
    text: str
    html: str | None = None


# --- Untrusted text ------------------------------------------------------------------

# C0 controls but tab and newline, DEL, C1 controls, and every Unicode Bidi_Control
# character (PropList.txt): the set steervote.terminal replaces for a terminal.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNWANTED = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# Line breaks of other systems and of Unicode become newlines before controls go.
_LINE_BREAK = re.compile("\r\n?|[\x85\u2028\u2029]")


def plain(value: str | None, limit: int, *, oneline: bool = True) -> str:
    """Untrusted text as a notice shows it: lone surrogates as U+FFFD, CR LF and Unicode
    line separators as newlines, controls and bidi controls removed, at most `limit`
    characters (cut ones end in "…"). With `oneline`, every run of whitespace is one space;
    otherwise lines are kept, without trailing spaces or leading and trailing blank lines.
    """
    if not value:
        return ""
    text = _UNWANTED.sub("", _LINE_BREAK.sub("\n", valid_unicode(value)))
    if oneline:
        text = " ".join(text.split())
    else:
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def quote_block(words: str) -> str:
    """A member's words as a '> ' block, so no line of theirs reads as the notice's own."""
    return "\n".join(f"> {line}" if line else ">" for line in words.split("\n"))


def as_sentence(text: str) -> str:
    """The text ending with a full stop unless it already ends a sentence."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


# --- Times -----------------------------------------------------------------------------


def local_time(when: datetime, timezone: str) -> str:
    """An aware time in an IANA timezone: 'Tue 12 Jan 2027 18:00 GMT' (core.result_line's
    wording). ValueError for a naive time or an unknown timezone: a notice never guesses."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a notice's times must be timezone-aware")
    timezone_named(timezone)  # ValueError for a zone that is not one
    return line_time(when, timezone)


def deadline_of(motion: Motion) -> str:
    """When voting on the motion closes, in the committee's timezone."""
    return local_time(motion.closes, motion.committee.timezone)


def zone_note(motion: Motion) -> str:
    """The closing line that names the timezone every time in the notice is in."""
    zone = plain(motion.committee.timezone, LINE_LIMIT)
    return f"Times are in the committee's timezone ({zone})."


def greeting(member: Member) -> str:
    """'Dear <name>,' and a blank line; nothing for a member without a name."""
    name = plain(member.name, NAME_LIMIT)
    return f"Dear {name},\n\n" if name else ""


def quoted_title(motion: Motion) -> str:
    """The motion's title, made plain, in curly quotes."""
    return f"“{plain(motion.title, LINE_LIMIT)}”"
