"""One inbound message, analysed: parsed once, hashed, matched to a ballot, its vote read.

Pure and picklable, so a tally can run it on every core: the result carries no parsed
message, only the values the store and the tally need.

Nothing here raises: each message is analysed inside its own guard, and one that cannot
be read (nested too deep, or any failure at all) is still tied to its member from its
headers alone, so it goes to review instead of stopping the count.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from steervote.core.ballot import subject_tag
from steervote.core.match import Directory, Matched, Unmatched, match
from steervote.core.mime import decode_words
from steervote.core.parse import head_of, header_key, parse_message
from steervote.core.receipt import trusted_received_time
from steervote.core.reply import Reading, decoded_subject, read_reply
from steervote.core.storable import storable

HEADER_LIMIT = 300  # characters of a sender, subject or Message-ID kept
EVIDENCE_LIMIT = 500
OWN_TEXT_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one message is, before it is checked against what the store already holds."""

    sha256: str
    message_id: str
    sender: str
    subject: str
    tie: Matched | Unmatched | None  # None: not read (too large) and no headers either
    reading: Reading | None  # None: not matched, or not readable, so not read
    problem: str = ""  # why it was not read ("unreadable: …", "too large to read: …"), or ""
    head_key: str = ""  # parse.header_key of its headers: ties a read message to an oversize one
    dated: datetime | None = None  # its Date header (RFC 5322 origination date), aware UTC
    in_reply_to: str = ""  # the first msg-id of In-Reply-To, "<...>", or ""
    received_at: datetime | None = None  # a trusted receiving server's Received: time, UTC
    kept: bytes = b""  # the raw bytes, zlib-compressed, of a message tied to a motion (evidence)


def header_text(msg: Message, name: str) -> str:
    """A header decoded from RFC 2047 (as it stands when it cannot be decoded), bounded.

    Every instance of the header, joined by "; " (a second From must be seen).
    """
    values = msg.get_all(name) or []
    text = "; ".join(decode_words(str(v)) for v in values[:5])
    return _no_nul(text[:HEADER_LIMIT])


_MSG_ID = re.compile(r"<[^<>\s]{1,250}>")


def _with_facts(a: Analysis, msg: Message, directory: Directory) -> Analysis:
    """The analysis with the Date header, first In-Reply-To and trusted Received: time."""
    return replace(
        a,
        dated=origination_date(msg),
        in_reply_to=_first_id(msg.get("In-Reply-To")),
        received_at=trusted_received_time(msg, directory.received_by),
    )


def _first_id(value: object) -> str:
    found = _MSG_ID.search(str(value)[:2000]) if value is not None else None
    return _no_nul(found.group(0)) if found else ""


def origination_date(msg: Message) -> datetime | None:
    """The Date header (RFC 5322 section 3.6.1) as aware UTC; None when absent or unreadable.

    A date without a zone ("-0000", or none) is read as UTC.
    """
    value = msg.get("Date")
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(str(value)[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _no_nul(text: str) -> str:
    # NUL cannot be stored (PostgreSQL) and must not split one key into two; a lone
    # surrogate (UTF-7, the escape codecs) cannot be encoded by the store or a terminal.
    return storable(text)


def analyse_fetched(
    raw: bytes | None, head: bytes | None, uid: int, size: int, directory: Directory
) -> Analysis:
    """A fetched message analysed: in full when it was read, else from its headers."""
    if raw is None and head is not None:
        return analyse_head(head, uid, size, directory)
    return analyse(raw, uid, size, directory)


def analyse(raw: bytes | None, uid: int, size: int, directory: Directory) -> Analysis:
    """Parse, hash, match and read one message; never raises, whatever the input.

    raw None: too large, not read (and no headers known). A message that cannot be read
    has `problem` "unreadable: …" with the kind of failure, and is matched from its
    headers alone where they can be read.
    """
    if raw is None:
        return Analysis(f"oversize:{uid}:{size}", "", "", "", None, None)
    try:
        found = _analyse(raw, directory)
    except Exception as exc:  # the guard: one message never stops a count
        found = _from_headers(
            raw, hashlib.sha256(raw).hexdigest(), f"unreadable: {_kind(exc)}", directory
        )
    return kept(found, raw)


def kept(a: Analysis, raw: bytes) -> Analysis:
    """The analysis carrying its raw bytes compressed when it is tied to a motion.

    The store keeps them as evidence (`show --raw`, `audit`); a message tied to no motion
    is kept as its SHA-256 only. Compressed here, where the work runs on every core.
    """
    if a.tie is None or a.tie.motion_id is None:
        return a
    return replace(a, kept=zlib.compress(raw, 6))


def analyse_head(head: bytes, uid: int, size: int, directory: Directory) -> Analysis:
    """A message too large to read, matched from its header block alone (never raises)."""
    key = header_key(head)
    problem = (
        f"too large to read: {_megabytes(size)}; "
        "raise [tally] max_message_bytes and run `tally --rescan`"
    )
    return _from_headers(head, f"oversize:{key}", problem, directory)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


def _kind(exc: Exception) -> str:
    return f"{type(exc).__name__} while reading it"


def _from_headers(raw: bytes, sha: str, problem: str, directory: Directory) -> Analysis:
    """What the header block alone says: who sent it, and to which ballot."""
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(head_of(raw))
        message_id = header_text(msg, "Message-ID")
        sender = header_text(msg, "From")
        subject = _no_nul(decoded_subject(msg)[:HEADER_LIMIT])
        tie: Matched | Unmatched = match(msg, directory)
        key = header_key(raw)
        found = Analysis(sha, message_id, sender, subject, tie, None, problem, key)
        return _with_facts(found, msg, directory)
    except Exception as exc:  # not even the headers: listed, with the reason
        unread = Unmatched(f"headers unreadable ({_kind(exc)})")
        return Analysis(sha, "", "", "", unread, None, problem)


def _analyse(raw: bytes, directory: Directory) -> Analysis:
    # compat32 parsing is several times faster than policy.default; parse_message never
    # lets it recurse deeper than a bounded nesting.
    parsed = parse_message(raw)
    msg = parsed.message
    sha = hashlib.sha256(raw).hexdigest()
    key = header_key(raw)
    message_id = header_text(msg, "Message-ID")
    sender = header_text(msg, "From")
    subject = _no_nul(decoded_subject(msg)[:HEADER_LIMIT])
    tie = match(msg, directory)
    if parsed.problem:
        problem = f"unreadable: {parsed.problem}"
        found = Analysis(sha, message_id, sender, subject, tie, None, problem, key)
        return _with_facts(found, msg, directory)
    if not isinstance(tie, Matched):
        found = Analysis(sha, message_id, sender, subject, tie, None, head_key=key)
        return _with_facts(found, msg, directory)
    title = directory.titles.get(tie.motion_id, "")
    reading = read_reply(
        msg,
        ballot_subject=f"{subject_tag(tie.motion_id)} {title}",
        motion_title=title,
        ballot_text=directory.ballots.get(tie.motion_id),
        strict_answer=tie.answers_ask,
        replying_to=tie.replying_to,
    )
    read = (reading.own_text, reading.evidence, reading.reason)
    own_text, evidence, reason = (_no_nul(t) for t in read)
    if (own_text, evidence, reason) != read:
        reading = replace(reading, own_text=own_text, evidence=evidence, reason=reason)
    found = Analysis(sha, message_id, sender, subject, tie, reading, head_key=key)
    return _with_facts(found, msg, directory)
