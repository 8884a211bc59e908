"""Compose ballot and information-copy emails; personal tokens and the motion fingerprint."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from zoneinfo import ZoneInfo

from steervote.core.address import ascii_address
from steervote.core.motion import CastingVote, Member, Motion, Observer, Threshold

TOKEN_BYTES = 15  # 120 bits, base32: 24 lowercase characters, safe in a local part
TOKEN_LENGTH = 24
MOTION_HEADER = "X-Steervote-Motion"


@dataclass(frozen=True, slots=True)
class Addressing:
    """Where ballots come from and where replies go."""

    sender: str
    reply_to: str
    plus_tokens: bool


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with every ballot."""

    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"


def new_token(randbytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """An unguessable per-(motion, member) token: 120 random bits, lowercase base32."""
    return base64.b32encode(randbytes(TOKEN_BYTES)).decode("ascii").lower()


def subject_tag(motion_id: str) -> str:
    """The tag every ballot subject starts with; replies keep it."""
    return f"[{motion_id}]"


def ballot_subject(motion: Motion) -> str:
    """The ballot's Subject line."""
    return f"{subject_tag(motion.id)} {motion.title}"


def _domain(address: str) -> str:
    """The ASCII domain of an address (IDNA A-labels), for Message-IDs; "localhost" if none."""
    domain = parseaddr(address)[1].rpartition("@")[2]
    plain = ascii_address(f"x@{domain}") if domain else None
    return plain.partition("@")[2] if plain else "localhost"


def mailbox_header(name: str, address: str) -> str:
    """`Name <address>` for a From, To or Reply-To header, as the mail library writes it.

    The name is quoted or RFC 2047-encoded as needed; the address is ASCII where it can be
    (an internationalised domain as A-labels), else left in UTF-8 (RFC 6532: a message to
    such an address goes only through a server that offers SMTPUTF8).
    """
    plain = ascii_address(address)
    if plain is not None:
        return formataddr((name, plain), charset="utf-8")
    if not name:
        return address
    shown = formataddr((name, "x@x"), charset="utf-8")
    return f"{shown[: -len('<x@x>')]}<{address}>"


def reply_address(addressing: Addressing, token: str | None) -> str:
    """The Reply-To address: votes+TOKEN@domain where plus-addressing is on."""
    name, addr = parseaddr(addressing.reply_to)
    if token and addressing.plus_tokens:
        local, _, domain = addr.rpartition("@")
        addr = f"{local}+{token}@{domain}"
    return mailbox_header(name, addr)


def ballot_message_id(motion_id: str, token: str, addressing: Addressing) -> str:
    """The ballot's Message-ID; replies carry it in In-Reply-To/References."""
    return f"<ballot.{motion_id}.{token}@{_domain(addressing.sender)}>"


def fingerprint(motion: Motion, attachments: Sequence[Attachment] = ()) -> str:
    """Short hash of text, papers, electorate, rule and deadline: proves what was voted on."""
    return format_fingerprint(motion_digest(motion, attachments))


def format_fingerprint(digest: str) -> str:
    """The short form of a motion digest printed on ballots (`3f9a-c2d1-77b0`)."""
    return "-".join(digest[i : i + 4] for i in range(0, 12, 4))


def papers_of(attachments: Sequence[Attachment]) -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256 hex of its bytes) of each paper sent with the ballots."""
    return tuple((a.filename, hashlib.sha256(a.content).hexdigest()) for a in attachments)


def motion_digest(
    motion: Motion,
    attachments: Sequence[Attachment] = (),
    *,
    papers: Sequence[tuple[str, str]] | None = None,
) -> str:
    """Full SHA-256 (hex) over everything a member votes on; a change after sending is
    refused. papers: the attachments as (file name, SHA-256) pairs, instead of their bytes
    (an audit folder keeps the motion's papers only as hashes)."""
    h = hashlib.sha256()
    parts = [
        motion.id,
        motion.title,
        motion.text,
        motion.threshold.value,
        str(motion.quorum),
        motion.closes.isoformat(),
        motion.casting_vote.value,
        motion.authority or "",
    ]
    parts += [f"{m.id}\t{m.email.lower()}" for m in motion.committee.members]
    pairs = papers_of(attachments) if papers is None else papers
    parts += [f"{name}\t{sha}" for name, sha in pairs]
    parts += list(motion.links)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


_RULE_WORDS = {
    Threshold.MAJORITY_OF_VOTES_CAST: "carried when more votes are cast for than against "
    "(majority of votes cast; abstentions do not count)",
    Threshold.MAJORITY_OF_MEMBERS: "carried when more than half of all {n} voting members "
    "vote for (majority of members: {k} needed)",
    Threshold.TWO_THIRDS_OF_VOTES_CAST: "carried when at least two thirds of the votes cast "
    "for or against are for (two-thirds of votes cast; abstentions do not count)",
    Threshold.TWO_THIRDS_OF_MEMBERS: "carried when at least two thirds of all {n} voting "
    "members vote for (two-thirds of members: {k} needed)",
    Threshold.UNANIMOUS: "carried only when all {n} voting members vote for (unanimous)",
}


def votes_needed(motion: Motion) -> int | None:
    """FOR votes needed under a members-based rule, else None."""
    n = motion.electorate
    if motion.threshold is Threshold.MAJORITY_OF_MEMBERS:
        return n // 2 + 1
    if motion.threshold is Threshold.TWO_THIRDS_OF_MEMBERS:
        return -(-2 * n // 3)
    if motion.threshold is Threshold.UNANIMOUS:
        return n
    return None


def rule_in_words(motion: Motion) -> str:
    """The rule and its numbers, as printed on ballot and result."""
    return _RULE_WORDS[motion.threshold].format(n=motion.electorate, k=votes_needed(motion))


def casting_in_words(motion: Motion) -> str:
    """How a tie (as many for as against) is settled, as printed on ballot and by validate
    (core.rules: the chair's casting vote breaks a tie only where one more vote for would
    carry the motion under its rule)."""
    if motion.casting_vote is CastingVote.NONE:
        return "none; a tie (as many votes for as against) fails"
    if motion.threshold is Threshold.MAJORITY_OF_VOTES_CAST:
        return "the chair's; a tie (as many votes for as against) is decided by the chair"
    if motion.threshold is Threshold.TWO_THIRDS_OF_VOTES_CAST:
        return (
            "the chair's, for a tie of 1 for to 1 against only (one more vote for is two "
            "thirds); any other tie fails"
        )
    return "none under this rule (the chair's casting vote adds no member voting for); a tie fails"


def deadline_in_words(motion: Motion) -> str:
    """The deadline in the committee's timezone with its UTC equivalent."""
    tz = ZoneInfo(motion.committee.timezone)
    local = motion.closes.astimezone(tz)
    utc = motion.closes.astimezone(ZoneInfo("UTC"))
    return (
        f"{local:%A %d %B %Y, %H:%M} {local.tzname()} ({motion.committee.timezone})"
        f" = {utc:%Y-%m-%d %H:%M} UTC"
    )


def ballot_text(
    motion: Motion,
    attachments: Sequence[Attachment] = (),
    *,
    voting: bool = True,
    fingerprint_: str | None = None,
) -> str:
    """The plain-text body of a ballot (voting) or an information copy."""
    proposer = motion.member(motion.proposer)
    role = f" ({proposer.role})" if proposer.role else ""
    lines = [
        f"Motion {motion.id}: {motion.title}",
        "",
        motion.text.strip(),
        "",
        f"Proposed by: {proposer.name}{role}",
        f"Committee: {motion.committee.name} ({motion.electorate} voting members)",
        "",
    ]
    if voting:
        lines += [
            "HOW TO VOTE",
            "Reply to this email with one word: FOR, AGAINST or ABSTAIN.",
            "You may add reasons below your vote. Your reply address is personal to you:",
            "please do not forward this ballot.",
        ]
    else:
        lines += [
            "FOR INFORMATION ONLY",
            "You receive this copy as an observer; you do not have a vote on this motion.",
        ]
    lines += [
        "",
        f"Rule: {rule_in_words(motion)}.",
        f"Casting vote: {casting_in_words(motion)}.",
        f"Quorum: {motion.quorum} counted votes (for, against or abstain).",
        f"Voting closes: {deadline_in_words(motion)}.",
    ]
    if motion.authority:
        lines.append(f"Authority: {motion.authority}")
    fp = fingerprint_ if fingerprint_ is not None else fingerprint(motion, attachments)
    lines.append(f"Fingerprint: {fp}")
    if motion.attachments:
        lines += ["", "Attachments: " + ", ".join(p.name for p in motion.attachments)]
    if motion.links:
        lines += ["", "Links:", *(f"  {link}" for link in motion.links)]
    return "\n".join(lines) + "\n"


def _html(text: str) -> str:
    paragraphs = text.strip().split("\n\n")
    body = "".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>\n"
        for p in paragraphs
    )
    return f"<!DOCTYPE html>\n<html><body>\n{body}</body></html>\n"


def compose(
    motion: Motion,
    to: str,
    text: str,
    addressing: Addressing,
    attachments: Sequence[Attachment],
    now: datetime,
) -> EmailMessage:
    """The ballot (or copy) message for one recipient, without Reply-To and Message-ID."""
    msg = EmailMessage()
    msg["From"] = addressing.sender
    msg["To"] = to
    msg["Subject"] = ballot_subject(motion)
    msg["Date"] = format_datetime(now)
    msg[MOTION_HEADER] = motion.id
    # RFC 3834: out-of-office responders must not answer a ballot.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(_html(text), subtype="html")
    for a in attachments:
        msg.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename)
    return msg


def compose_ballot(
    motion: Motion,
    member: Member,
    token: str,
    addressing: Addressing,
    attachments: Sequence[Attachment],
    now: datetime,
) -> EmailMessage:
    """A member's personal ballot: their token in Reply-To and Message-ID."""
    msg = compose(
        motion,
        mailbox_header(member.name, member.email),
        ballot_text(motion, attachments),
        addressing,
        attachments,
        now,
    )
    msg["Reply-To"] = reply_address(addressing, token)
    msg["Message-ID"] = ballot_message_id(motion.id, token, addressing)
    return msg


def compose_copy(
    motion: Motion,
    observer: Observer,
    addressing: Addressing,
    attachments: Sequence[Attachment],
    now: datetime,
    message_id: str,
) -> EmailMessage:
    """An observer's information copy: no token, no vote."""
    msg = compose(
        motion,
        mailbox_header(observer.name, observer.email),
        ballot_text(motion, attachments, voting=False),
        addressing,
        attachments,
        now,
    )
    msg["Reply-To"] = reply_address(addressing, None)
    msg["Message-ID"] = message_id
    return msg
