"""Match a message to its motion and member, or say why it cannot be matched.

Strongest evidence first (DESIGN.md, Matching): the ballot's personal token in a
recipient address or in In-Reply-To/References; then the motion tag in the
subject plus a sender that is the member's address or alias. A token used from
another member's or a stranger's address is never that member's vote: it is
matched for review ("ballot forwarded?"). A message with several sender addresses (one
From holding two, or two From headers) is never matched by its sender: a forged
address could ride on a member's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from enum import StrEnum

from steervote.core.address import mailbox_addresses, normalize_domain
from steervote.core.ballot import TOKEN_LENGTH
from steervote.core.mime import decode_words

TOKEN_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_TOKEN_IN_ADDRESS = re.compile(rf"\+([a-z2-7]{{{TOKEN_LENGTH}}})@", re.IGNORECASE)
_TOKEN_IN_MESSAGE_ID = re.compile(
    rf"<ballot\.[a-z0-9-]+\.([a-z2-7]{{{TOKEN_LENGTH}}})@[^>\s]+>", re.IGNORECASE
)
_SUBJECT_TAG = re.compile(r"\[([a-z0-9][a-z0-9-]{0,80})\]", re.IGNORECASE)
_AUTH_FAIL = re.compile(r"\b(dkim|dmarc)\s*=\s*(fail|permerror)\b[^;]*", re.IGNORECASE)
_HEADER_D = re.compile(r"header\.(?:d|i|from)\s*=\s*@?([^\s;]+)", re.IGNORECASE)


class How(StrEnum):
    """How a reply was tied to its ballot; the report shows it for every counted vote."""

    TOKEN = "token"  # noqa: S105 - a matching method, not a secret
    SUBJECT = "subject+sender"


@dataclass(frozen=True, slots=True)
class Directory:
    """Everything matching needs, loaded once per tally run."""

    tokens: dict[str, tuple[str, str]]  # token -> (motion id, member id)
    members: dict[str, dict[str, str]]  # motion id -> normalize_address(address) -> member id
    require_token: dict[str, bool] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # motion id -> title
    closes: dict[str, datetime] = field(default_factory=dict)  # motion id -> deadline
    ballots: dict[str, str] = field(default_factory=dict)  # motion id -> ballot text


@dataclass(frozen=True, slots=True)
class Matched:
    """Tied to a motion and member; `review` says why it must not be counted unasked."""

    motion_id: str
    member_id: str
    how: How
    review: str | None = None


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Not a reply to any ballot we know; recorded as ignored with the reason."""

    reason: str
    motion_id: str | None = None


def sender_addresses(msg: Message) -> list[str]:
    """Every distinct address in every From header, normalised (address.normalize_address)."""
    found: list[str] = []
    # Parse the raw text, before decoding: a decoded display name may hold commas or
    # angle brackets, and Message.get turns raw 8-bit (RFC 6531) text into U+FFFD.
    values = [str(v) for k, v in msg.raw_items() if k.lower() == "from"]
    for value in values[:20]:
        for address in mailbox_addresses(value):
            if address not in found:
                found.append(address)
    return found


def sender_address(msg: Message) -> str:
    """The one sender address, normalised ('' when there is none, or several)."""
    senders = sender_addresses(msg)
    return senders[0] if len(senders) == 1 else ""


def _several(senders: list[str]) -> str:
    shown = ", ".join(senders[:3]) + (", ..." if len(senders) > 3 else "")
    return f"several sender addresses ({shown})"


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else decode_words(str(value))


def tokens_in(msg: Message) -> set[str]:
    """Every ballot token the message carries in addresses or threading headers."""
    found: set[str] = set()
    # A plain search of the header text: a token is unguessable wherever it stands, and
    # parsing every address list cost more than the rest of matching together.
    for name in TOKEN_ADDRESS_HEADERS:
        for value in msg.get_all(name) or []:
            found.update(t.lower() for t in _TOKEN_IN_ADDRESS.findall(str(value)[:20_000]))
    for name in ("In-Reply-To", "References"):
        for value in msg.get_all(name) or []:
            found.update(t.lower() for t in _TOKEN_IN_MESSAGE_ID.findall(str(value)[:20_000]))
    return found


def _dmarc_failure(msg: Message, sender: str) -> str | None:
    """The receiving server's verdict that the From domain failed DKIM/DMARC, if it says so."""
    # Only the topmost Authentication-Results is our own server's; later ones could be forged.
    results = msg.get("Authentication-Results")
    if results is None:
        return None
    text = str(results)[:4000]
    domain = sender.rpartition("@")[2]
    for m in _AUTH_FAIL.finditer(text):
        method, verdict = m.group(1).lower(), m.group(2).lower()
        if method == "dmarc":
            return f"DMARC {verdict} for the sender's domain"
        d = _HEADER_D.search(m.group(0))
        if d is None or normalize_domain(d.group(1)) == domain:
            return f"DKIM {verdict} for {domain}"
    return None


def match(msg: Message, directory: Directory) -> Matched | Unmatched:
    """Tie a message to (motion, member), strongest evidence first."""
    senders = sender_addresses(msg)
    sender = senders[0] if len(senders) == 1 else ""
    tokens = {t for t in tokens_in(msg) if t in directory.tokens}
    if len(tokens) > 1:
        owners = sorted({directory.tokens[t] for t in tokens})
        if len(owners) > 1:
            motions = {m for m, _ in owners}
            if len(motions) == 1:
                (motion_id,) = motions
                member_id = _member_by_address(directory, motion_id, sender)
                if member_id is not None:
                    return Matched(
                        motion_id,
                        member_id,
                        How.TOKEN,
                        review="carries the ballot tokens of several members",
                    )
            return Unmatched("carries the ballot tokens of several members", owners[0][0])
    if tokens:
        motion_id, member_id = directory.tokens[tokens.pop()]
        if len(senders) > 1:
            return Matched(
                motion_id,
                member_id,
                How.TOKEN,
                review=f"{member_id}'s personal ballot answered with {_several(senders)}: "
                "whose vote?",
            )
        if _member_by_address(directory, motion_id, sender) == member_id:
            return Matched(motion_id, member_id, How.TOKEN)
        return Matched(
            motion_id,
            member_id,
            How.TOKEN,
            review=f"ballot forwarded? {member_id}'s personal ballot answered from "
            f"{sender or 'no address'}",
        )
    return _match_subject(msg, directory, senders)


def _member_by_address(directory: Directory, motion_id: str, sender: str) -> str | None:
    return directory.members.get(motion_id, {}).get(sender) if sender else None


def _match_subject(msg: Message, directory: Directory, senders: list[str]) -> Matched | Unmatched:
    subject = _header(msg, "Subject")[:1000]
    tags = {t.lower() for t in _SUBJECT_TAG.findall(subject)}
    known = sorted(t for t in tags if t in directory.members)
    if not known:
        if tags:
            return Unmatched(f"unknown motion {sorted(tags)[0]!r} in the subject")
        return Unmatched("no ballot token and no motion tag in the subject")
    if len(known) > 1:
        return Unmatched(f"names several motions: {', '.join(known)}", known[0])
    motion_id = known[0]
    if len(senders) > 1:
        return Unmatched(f"{_several(senders)}: not matched by sender", motion_id)
    sender = senders[0] if senders else ""
    member_id = _member_by_address(directory, motion_id, sender)
    if member_id is None:
        return Unmatched(f"sender {sender or '(none)'} is not a member of {motion_id}", motion_id)
    if directory.require_token.get(motion_id, False):
        return Matched(
            motion_id,
            member_id,
            How.SUBJECT,
            review="no personal ballot token, and this motion requires one",
        )
    failure = _dmarc_failure(msg, sender)
    if failure is not None:
        return Matched(
            motion_id, member_id, How.SUBJECT, review=f"no ballot token and {failure}: spoofed?"
        )
    return Matched(motion_id, member_id, How.SUBJECT)
