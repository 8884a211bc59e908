"""How strongly a message is tied to its member, and what the receiving server said of it.

Strength orders the evidence that a message is the member's own (DESIGN.md, Matching):
the personal ballot token from the member's own address with the sender's domain
authenticated by a trusted receiving server, above the token from the member's address
with authentication unknown (or not reported), above the subject tag (or the thread)
with the member's address, above anything weaker. A message may replace a member's
standing vote or a ruling only when it is at least as strong (core.tally).

The receiving server's verdict comes from Authentication-Results (RFC 8601). Only a
header the receiving server added can be believed. Where `[tally] trusted_authserv_ids`
names the receiving servers' authserv-ids, every header with one of those ids and no
other (RFC 8601 section 5), as Discourse does: its pass authenticates, its failure sends
the message to review. Without them the topmost header (each server prepends its own,
but a server that adds none leaves the sender's on top) is read only for a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from steervote.core.address import normalize_domain


class Strength(StrEnum):
    """The strength of a message's tie to its member, strongest first."""

    TOKEN_AUTHENTICATED = "token+sender+auth"  # noqa: S105 - a strength, not a secret
    TOKEN = "token+sender"  # noqa: S105
    SUBJECT = "subject+sender"
    WEAK = "weak"

    @property
    def rank(self) -> int:
        """3 for the strongest down to 0: compare strengths by rank."""
        return _RANK[self]

    @classmethod
    def of(cls, text: str) -> Strength:
        """The strength recorded as text; WEAK for anything unknown (an empty old record)."""
        try:
            return cls(text)
        except ValueError:
            return cls.WEAK


_RANK = {
    Strength.TOKEN_AUTHENTICATED: 3,
    Strength.TOKEN: 2,
    Strength.SUBJECT: 1,
    Strength.WEAK: 0,
}

# A secretary's ruling stands as firmly as a vote by token from the member's address: the
# member's own later reply by token replaces it, a weaker one goes to review.
RULING_STRENGTH = Strength.TOKEN


class Verdict(StrEnum):
    """What the receiving server reported about the From domain."""

    PASS = "pass"  # noqa: S105 - a verdict, not a secret. DKIM aligned with the From domain, or DMARC, passed
    FAIL = "fail"  # DKIM for the From domain, or DMARC, failed
    UNKNOWN = "unknown"  # a trusted header, but no verdict either way (none, neutral)
    ABSENT = "absent"  # no trusted Authentication-Results header at all


@dataclass(frozen=True, slots=True)
class Authentication:
    """The receiving server's verdict and, for a failure, its words for the report."""

    verdict: Verdict
    detail: str = ""


_RESULT = re.compile(r"\s*(dkim|dmarc)\s*(?:/\s*\d+\s*)?=\s*([a-z]+)", re.IGNORECASE)
_HEADER_D = re.compile(r"\bheader\.(?:d|i|from)\s*=\s*@?([^\s;]+)", re.IGNORECASE)
_HEADER_LIMIT = 4000  # characters of one Authentication-Results header read
_HEADERS_READ = 20


def authentication(msg: Message, sender: str, authserv_ids: tuple[str, ...] = ()) -> Authentication:
    """The receiving server's DKIM/DMARC verdict on the From domain (RFC 8601, RFC 7489).

    msg: the message; sender: its one normalised From address ('' when there is none);
    authserv_ids: the receiving servers' authserv-ids, lowercase. Any DMARC failure, or a
    DKIM failure for the From domain (or for no stated domain), is FAIL; else a DMARC
    pass or a DKIM pass for the From domain or a parent of it is PASS. Only a header
    with one of authserv_ids can say PASS: a sender can write a header of their own.
    Without authserv_ids the topmost header (the receiving server prepends its own) is
    read only for a failure, which is always worth a person's look; its pass is UNKNOWN.
    """
    found = (msg.get_all("Authentication-Results") or [])[: _HEADERS_READ if authserv_ids else 1]
    headers = [_uncommented(str(v)[:_HEADER_LIMIT]) for v in found]
    # Without trusted ids, the topmost header (the receiving server's own) alone.
    trusted = [h for h in headers if _authserv_id(h) in authserv_ids] if authserv_ids else headers
    if not trusted:
        return Authentication(Verdict.ABSENT)
    domain = sender.rpartition("@")[2]
    passed = False
    for text in trusted:
        for resinfo in text.split(";")[1:]:
            m = _RESULT.match(resinfo)
            if m is None:
                continue
            method, result = m.group(1).lower(), m.group(2).lower()
            d = _HEADER_D.search(resinfo[m.end() :])
            named = normalize_domain(d.group(1)) if d else ""
            if result in ("fail", "permerror"):
                if method == "dmarc":
                    return Authentication(Verdict.FAIL, f"DMARC {result} for the sender's domain")
                if not named or named == domain:
                    where = domain or "the sender"
                    return Authentication(Verdict.FAIL, f"DKIM {result} for {where}")
            elif result == "pass" and domain and _aligned(method, named, domain):
                passed = True
    if passed and not authserv_ids:
        return Authentication(Verdict.UNKNOWN, "a pass by no trusted authserv-id")
    return Authentication(Verdict.PASS if passed else Verdict.UNKNOWN)


def _uncommented(header: str) -> str:
    """The header without its comments, and its quoted strings emptied (RFC 8601 section
    2.2 allows CFWS between any two tokens: `dmarc=(p=reject) fail`).

    Comments nest and take quoted pairs (RFC 5322 section 3.2.2); each becomes a space.
    A quoted string (a `reason="..."`) becomes `""`, so nothing inside it is read as a
    result or a separator. An unclosed comment or string runs to the end.
    """
    if "(" not in header and '"' not in header:
        return header  # nothing to remove: the common header, read without a walk
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in header:
        if escaped:
            escaped = False
            continue
        if ch == "\\" and (depth or quoted):
            escaped = True
            continue
        if quoted:
            if ch == '"':
                quoted = False
                out.append('"')
            continue
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if not depth:
                out.append(" ")
        elif depth:
            continue
        elif ch == '"':
            quoted = True
            out.append('"')
        else:
            out.append(ch)
    return "".join(out)


def _aligned(method: str, named: str, domain: str) -> bool:
    """A pass that speaks for the From domain: DMARC's, or DKIM's for it or a parent."""
    return method == "dmarc" or (bool(named) and (named == domain or domain.endswith("." + named)))


def _authserv_id(header: str) -> str:
    """The authserv-id: the first word of the header (comments removed), before any
    version or ';'."""
    head = header.split(";", 1)[0].split()
    return head[0].lower() if head else ""


def token_strength(verdict: Verdict) -> Strength:
    """The strength of a token from its own member's address, given the server's verdict:
    authenticated only on a trusted pass; no verdict at all proves nothing either way."""
    if verdict is Verdict.FAIL:
        return Strength.WEAK
    if verdict is Verdict.PASS:
        return Strength.TOKEN_AUTHENTICATED
    return Strength.TOKEN


def in_words(strength: Strength, how: str = "") -> str:
    """'by token', 'by subject only' ... for a review note."""
    if strength is Strength.TOKEN_AUTHENTICATED:
        return "by token, sender authenticated"
    if strength is Strength.TOKEN:
        return "by token"
    if strength is Strength.SUBJECT:
        return "by sender address only" if how == "thread+sender" else "by subject only"
    return "weakly matched"
