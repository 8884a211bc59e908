"""Collect: read new mail, match each message, read its vote, record it with a reason.

Streams the mailbox a batch at a time (one transaction per batch) and remembers,
per mailbox, UIDVALIDITY and the highest UID recorded, so a re-run reads only new
mail and an interrupted run loses nothing. Every message gets a disposition.
"""

from __future__ import annotations

import email
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message

from steervote.adapters.source import Fetched, MailSource
from steervote.adapters.store import NewMessage, SeenMessage, Store
from steervote.core.ballot import subject_tag
from steervote.core.match import Directory, Matched, match
from steervote.core.records import Disposition
from steervote.core.reply import Kind, decoded_subject, read_reply
from steervote.core.vote import Vote

HEADER_LIMIT = 300  # characters of a sender or subject kept for the report


@dataclass(frozen=True, slots=True)
class CollectReport:
    """What one run read from one mailbox."""

    mailbox: str
    rescanned: bool  # UIDVALIDITY changed: the whole mailbox was read again
    read: int
    recorded: int
    already_recorded: int  # the same bytes were recorded before (a rescan, another source)
    votes: int
    needs_review: int
    ignored: int


def collect(
    source: MailSource,
    store: Store,
    *,
    now: Callable[[], datetime],
    max_size: int,
    batch_size: int = 1000,
    progress: Callable[[int], None] = lambda n: None,
) -> CollectReport:
    """Read every message the store has not seen from this source and record it."""
    state = store.mailbox_state(source.key)
    uidvalidity = source.uidvalidity()
    rescanned = state is not None and state[0] != uidvalidity
    after = state[1] if state is not None and not rescanned else 0
    directory = store.directory()
    read = recorded = already = votes = review = ignored = 0
    for batch in source.batches(after_uid=after, batch_size=batch_size, max_size=max_size):
        read += len(batch)
        records, skipped = _batch(batch, source.key, uidvalidity, store, directory, now())
        already += skipped
        store.record_batch(source.key, uidvalidity, max(f.uid for f in batch), records, now())
        recorded += len(records)
        for r in records:
            votes += r.disposition is Disposition.VOTE
            review += r.disposition is Disposition.NEEDS_REVIEW
            ignored += r.disposition is Disposition.IGNORED
        progress(len(batch))
    return CollectReport(source.key, rescanned, read, recorded, already, votes, review, ignored)


@dataclass(slots=True)
class _Parsed:
    fetched: Fetched
    sha256: str
    msg: Message | None
    message_id: str


def _batch(
    batch: list[Fetched],
    mailbox: str,
    uidvalidity: int,
    store: Store,
    directory: Directory,
    now: datetime,
) -> tuple[list[NewMessage], int]:
    parsed = [_parse(f) for f in batch]
    seen_ids, seen_hashes = store.seen(
        (p.message_id for p in parsed if p.message_id), (p.sha256 for p in parsed)
    )
    out: list[NewMessage] = []
    skipped = 0
    for p in parsed:
        where = seen_hashes.get(p.sha256)
        if where is not None and (mailbox, uidvalidity) not in where:
            # Recorded before from a rescan or another source: idempotence, not a new message.
            skipped += 1
            continue
        record = _classify(p, directory, now, seen_ids.get(p.message_id, []), where is not None)
        out.append(record)
        seen_hashes.setdefault(p.sha256, set()).add((mailbox, uidvalidity))
        if p.message_id:
            seen_ids.setdefault(p.message_id, []).append(
                SeenMessage(0, p.sha256, record.sender, record.own_text, None, None)
            )
    return out, skipped


def _parse(f: Fetched) -> _Parsed:
    if f.raw is None:
        return _Parsed(f, f"oversize:{f.uid}:{f.size}", None, "")
    # compat32 parsing is several times faster than policy.default and never raises.
    msg = email.message_from_bytes(f.raw)
    message_id = str(msg.get("Message-ID", "") or "").strip()[:HEADER_LIMIT]
    return _Parsed(f, hashlib.sha256(f.raw).hexdigest(), msg, message_id)


@dataclass(frozen=True, slots=True)
class _Tie:
    """The motion and member a message was matched to, and what its text said."""

    motion_id: str | None
    member_id: str | None = None
    how: str = ""
    evidence: str = ""
    own_text: str = ""


def _base(
    p: _Parsed,
    now: datetime,
    disposition: Disposition,
    reason: str,
    tie: _Tie = _Tie(None),
    vote: Vote | None = None,
) -> NewMessage:
    f = p.fetched
    sender = subject = ""
    if p.msg is not None:
        sender = _header_text(p.msg, "From")
        subject = decoded_subject(p.msg)[:HEADER_LIMIT]
    # Where the mailbox cannot say when it received a message, it was received by now.
    received_at = f.received_at if f.received_from != "unknown" else now
    return NewMessage(
        uid=f.uid,
        message_id=p.message_id,
        sha256=p.sha256,
        sender=sender,
        subject=subject,
        size=f.size,
        received_at=received_at,
        received_from=f.received_from,
        disposition=disposition,
        reason=reason,
        motion_id=tie.motion_id,
        member_id=tie.member_id,
        how=tie.how,
        vote=vote,
        evidence=tie.evidence,
        own_text=tie.own_text,
    )


def _header_text(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))[:HEADER_LIMIT]
    except (UnicodeError, LookupError, ValueError, TypeError):
        return str(value)[:HEADER_LIMIT]


def _classify(
    p: _Parsed,
    directory: Directory,
    now: datetime,
    same_id: list[SeenMessage],
    same_bytes: bool,
) -> NewMessage:
    ignored = Disposition.IGNORED
    if p.msg is None:
        return _base(p, now, ignored, f"too large ({p.fetched.size} bytes); not read")
    if same_bytes:
        return _base(p, now, ignored, "duplicate: same bytes as an earlier message")
    m = match(p.msg, directory)
    if not isinstance(m, Matched):
        return _base(p, now, ignored, m.reason, _Tie(m.motion_id))
    title = directory.titles.get(m.motion_id, "")
    reading = read_reply(
        p.msg, ballot_subject=f"{subject_tag(m.motion_id)} {title}", motion_title=title
    )
    tie = _Tie(
        m.motion_id, m.member_id, m.how.value, reading.evidence[:500], reading.own_text[:2000]
    )
    if reading.kind is Kind.NOT_A_VOTE:
        return _base(p, now, ignored, reading.reason, tie)
    sender = _header_text(p.msg, "From")
    if any(e.sender == sender and e.own_text == tie.own_text for e in same_id):
        return _base(p, now, ignored, "duplicate: same Message-ID, sender and text", tie)
    review = m.review
    if same_id and review is None:
        # A forged Message-ID must not be able to suppress a real vote: keep it, ask.
        review = "Message-ID reused with different content: forged or re-sent?"
    if review is None and p.fetched.received_from == "unknown":
        closes = directory.closes.get(m.motion_id)
        if closes is not None and now > closes:
            review = "receipt time unknown and the motion has closed: late?"
    if review is not None:
        said = f"; reads as {reading.vote.value.upper()}" if reading.vote else ""
        return _base(p, now, Disposition.NEEDS_REVIEW, review + said, tie)
    if reading.kind is Kind.VOTE:
        return _base(p, now, Disposition.VOTE, reading.reason, tie, reading.vote)
    return _base(p, now, Disposition.NEEDS_REVIEW, reading.reason, tie)
