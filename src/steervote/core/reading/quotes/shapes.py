"""Quote starts recognised by their shape, in any language or script.

Mail clients mark the start of a quoted message in a few shapes whatever their language:
a quote prefix on every line ("> ", "> > ", The Bat!'s initials "HM> ", "| "); an attribution
of one to three lines holding a date or time and a name or address, ending in a colon or
running straight into the quoted text ("On 4 Jan 2017, Helen <h@x> wrote: Motion ..."); a
block of three or more "Label: value" lines where a value holds an address, a date or a
motion tag (Outlook's "From:/Sent:/To:/Subject:" in every locale); a rule of dashes or
underscores with a short label ("-----Original Message-----", "--- 原始邮件 ---"). The words
clients use (the labels, "wrote" in each language) are data (`lexicon`); these shapes catch
the languages and clients the data does not name yet.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from steervote.core.reading.languages.lexicon import languages, normalize, phrase_pattern

# Every Unicode bidirectional control (LRM, RLM, ALM, embeddings, overrides, isolates).
_BIDI = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
)
# "> ", "> > ", ">>", The Bat!'s and other Windows clients' initials ("HM> ", "JK>"), and the
# rarer markers some clients and gateways use: "| ", "» ", "] ", ": ".
_QUOTE_PREFIX = re.compile(r"^[ \t]*(?:(?:[^\W\d_]{1,3})?>|[|»\]:](?=\s|$)|»)")
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+|<[^<>\s]+@[^<>\s]+>")
_DATE = re.compile(
    r"\b\d{1,2}[:.]\d{2}\b"  # 10:15, 10.15
    r"|\b(?:19|20)\d{2}\b"  # a year
    r"|\d{1,4}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{1,4}"  # 4.1.2017, 2017-01-04, 04/01/17
    r"|\d{1,4}\s*[年月日]"  # 2017年1月4日
)
_LABEL_LINE = re.compile(r"^[*_\s]*([^\W\d][^:：\n]{0,29}?)[*_\s]*[:：][*_\s]*(\S.*)?$")
# A colon ending an attribution: not one inside a time ("13:15:41").
_ATTRIBUTION_COLON = re.compile(r"(?<!\d)[:：]|[:：](?!\d)")
_TAG = re.compile(r"\[[\w.-]{1,64}\]")
_RULE = re.compile(r"^[-_=—–─━*~]{3,}\s*([^-_=—–─━*~]{0,60}?)\s*[-_=—–─━*~]{3,}$")
_UNDERLINE = re.compile(r"^(?:_{10,}|[-—–─━]{20,})$")


def without_bidi(text: str) -> str:
    """`text` without bidirectional controls (RLM/LRM marks around attributions, isolates)."""
    return text.translate(_BIDI)


def quote_prefix(line: str) -> bool:
    """Does the line carry a quote prefix ("> ", "HM> ", "| ")?"""
    return _QUOTE_PREFIX.match(line) is not None


def unprefixed(line: str) -> str:
    """The line without its quote prefixes (all levels)."""
    text = line
    for _ in range(32):
        found = _QUOTE_PREFIX.match(text)
        if found is None:
            break
        text = text[found.end() :]
    return text.strip()


def has_address_or_date(text: str) -> bool:
    """Does the text hold an e-mail address or a date or time?"""
    return _ADDRESS.search(text) is not None or _DATE.search(text) is not None


@functools.cache
def _wrote() -> re.Pattern[str]:
    verbs = {v for language in languages().values() for v in language.wrote}
    body = "|".join(re.escape(v) for v in sorted(verbs, key=len, reverse=True))
    return re.compile(f"(?:^| )(?:{body})(?: |$)")


def attribution_verb(text: str) -> bool:
    """Does the text hold a known attribution verb ("wrote", "napisał", "写道") of any language?"""
    return _wrote().search(normalize(text)) is not None


def inline_attribution(line: str) -> int:
    """Where the quoted text starts on a line that begins with an attribution, or -1.

    "On Wed, 4 Jan 2017 at 10:15, Helen Marsh <h@x> wrote: For." gives the index of "For.":
    an attribution verb or an address, then a colon, with a date or an address before it.
    """
    for colon in _ATTRIBUTION_COLON.finditer(line):
        head = line[: colon.start()]
        if len(head) > 300 or not line[colon.end() :].strip():
            continue
        if _DATE.search(head) is None and _ADDRESS.search(head) is None:
            continue
        if attribution_verb(head[-40:]) or _address_then_verb(head):
            return colon.end()
    return -1


def _address_then_verb(head: str) -> bool:
    """An address followed by at most three words (the verb in any language) before a colon."""
    addresses = list(_ADDRESS.finditer(head))
    return bool(addresses) and len(head[addresses[-1].end() :].split()) <= 3


def attribution_shape(text: str) -> int:
    """2: an attribution by shape alone (ends in a colon, holds a date and an address);
    1: only if a quote follows (a date or an address); 0: not one."""
    stripped = text.rstrip()
    if not stripped.endswith((":", "：")) or len(stripped.split()) > 40:
        return 0
    address = _ADDRESS.search(stripped) is not None
    date = _DATE.search(stripped) is not None
    return 2 if address and date else 1 if address or date else 0


@functools.cache
def _labels() -> frozenset[str]:
    found = {"from", "sent", "to", "cc", "subject", "date"}
    for language in languages().values():
        for labels in language.header_labels.values():
            found |= labels
    return frozenset(found)


@functools.cache
def _from_labels() -> frozenset[str]:
    return frozenset(
        {"from"} | {label for lang in languages().values() for label in lang.header_labels["from"]}
    )


def header_block(lines: Sequence[str], i: int) -> bool:
    """Does a quoted header block ("From: ... / Sent: ... / To: ... / Subject: ...") start here?

    Known labels in any language (two more within eight lines after a From label), or by
    shape: three or more "Label: value" lines in a row, one of whose values holds an address,
    a date or a motion tag.
    """
    first = _label(lines[i])
    if first is None:
        return False
    labels = _labels()
    if first[0] in _from_labels() and first[1]:
        others = 0
        for following in lines[i + 1 : i + 9]:
            found = _label(following)
            if found is not None and found[0] in labels:
                others += 1
                if others >= 2:
                    return True
    run = [first]
    for following in lines[i + 1 : i + 8]:
        found = _label(following)
        if found is None:
            break
        run.append(found)
    if len(run) < 3:
        return False
    return any(has_address_or_date(value) or _TAG.search(value) is not None for _, value in run[:6])


def label_line(line: str) -> bool:
    """Is the line a "Label: value" header line (a quoted From:, Sent:, 主题:)?"""
    return _label(line) is not None


def _label(line: str) -> tuple[str, str] | None:
    found = _LABEL_LINE.match(line.strip())
    if found is None or len(found.group(1).split()) > 4:
        return None
    return normalize(found.group(1)), found.group(2) or ""


@functools.cache
def _original() -> re.Pattern[str]:
    found = (o for language in languages().values() for o in language.original)
    return phrase_pattern(found, start=True)


def separator(line: str) -> bool:
    """A rule that starts a quoted or forwarded message ("-----Original Message-----")."""
    text = line.strip()
    if _UNDERLINE.match(text):
        return True
    ruled = _RULE.match(text)
    if ruled is not None:
        label = ruled.group(1)
        return bool(label) and any(ch.isalpha() for ch in label) and len(label.split()) <= 6
    return len(text) < 80 and _original().search(text.casefold()) is not None


@functools.cache
def _footers() -> re.Pattern[str]:
    found = (f for language in languages().values() for f in language.footers)
    return phrase_pattern(found, start=True)


def is_footer(line: str) -> bool:
    """A mobile or app footer ("Sent from my iPhone", "Hent Outlook for iOS")."""
    return len(line) <= 160 and _footers().search(line.casefold()) is not None
