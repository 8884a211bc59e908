"""A sound syntactic check of an email address, as written in a member list."""

from __future__ import annotations

import re

# RFC 5322 dot-atom text, plus any non-ASCII character (RFC 6531 internationalised
# addresses); quoted local parts ("john smith"@…) are refused, as no member list needs them.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LOCAL_RE = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LETTER = r"[A-Za-z0-9\u0080-\U0010ffff]"
_LABEL_RE = re.compile(rf"{_LETTER}(?:[A-Za-z0-9\-\u0080-\U0010ffff]*{_LETTER})?")

# The common case, checked in one step (a 20,000-member list must load in well under a
# second): a plain ASCII address. Anything it does not accept gets the checks below.
_ASCII_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]"
_ASCII_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_ASCII_TLD = r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]"
_PLAIN_RE = re.compile(
    rf"{_ASCII_ATEXT}{{1,64}}(?:\.{_ASCII_ATEXT}+)*@{_ASCII_LABEL}(?:\.{_ASCII_LABEL})*\.{_ASCII_TLD}"
)


def address_problem(address: str) -> str | None:
    """Why the text is not a usable email address, or None if it is one."""
    if (
        len(address) <= 254
        and _PLAIN_RE.fullmatch(address) is not None
        and len(address.partition("@")[0]) <= 64
        and len(address.rpartition(".")[2]) <= 63
    ):
        return None
    return _problem(address)


def _problem(address: str) -> str | None:
    """The full check, and the reason; address_problem's fast path accepts a subset of it."""
    if not address:
        return "empty email address"
    if any(ch.isspace() or not ch.isprintable() for ch in address):
        return "an email address has no spaces or control characters"
    if any(ch in '<>()[]\\,;:"' for ch in address):
        return "an email address has no <>()[],;: quotes or backslashes (write just the address)"
    if address.count("@") != 1:
        return "an email address has exactly one @"
    local, domain = address.split("@")
    if not local:
        return "nothing before the @"
    if len(local) > 64:
        return "the part before the @ is longer than 64 characters"
    if _LOCAL_RE.fullmatch(local) is None:
        return "the part before the @ has a misplaced dot"
    labels = domain.split(".")
    if len(labels) < 2:
        return f"the domain {domain!r} has no dot"
    if len(address) > 254:
        return "longer than 254 characters"
    for label in labels:
        if len(label) > 63 or _LABEL_RE.fullmatch(label) is None:
            return f"the domain {domain!r} is not a valid host name"
    if labels[-1].isdigit():
        return f"the domain {domain!r} ends in a number"
    return None


def is_email_address(address: str) -> bool:
    """True if the text is a syntactically sound email address."""
    return address_problem(address) is None
