"""Collect: read new mail, match each message, read its vote, record it with a reason.

Streams the mailbox a batch at a time (one transaction per batch) and remembers,
per mailbox, UIDVALIDITY and the highest UID recorded, so a re-run reads only new
mail and an interrupted run loses nothing. Every message gets a disposition.

Reading a vote costs far more than fetching the mail, so a large mailbox is analysed
on every core (a process pool, fed the next batch while the store records the last)
and a small one in this process, where a pool would only add start-up time.

No message stops the count: each is analysed inside its own guard (core.inbound), and
one that cannot be read, or is too large to, is recorded with the reason, for review
when its headers tie it to a member. A rescan re-reads a mailbox from the start,
recording only what is not recorded yet, and what was too large to read before.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from steervote.adapters.source import Fetched, MailSource
from steervote.adapters.store import EarlierTime, NewMessage, SeenMessage, Store, Upgrade
from steervote.core.match import Directory, Matched
from steervote.core.receipt import is_proven
from steervote.core.records import Disposition
from steervote.core.strength import Strength
from steervote.core.vote import Vote

if TYPE_CHECKING:
    from steervote.core.inbound import Analysis

# Receipt times the mailbox itself proves; below them, a trusted Received: header.
_MAILBOX_TIMES = ("internaldate", "maildir-name")
POOL_THRESHOLD = 400  # messages in one batch before a process pool pays for itself


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
    not_read: tuple[str, ...] = ()  # entries passed over: "new/NAME: a symbolic link, ..."


def collect(
    source: MailSource,
    store: Store,
    *,
    now: Callable[[], datetime],
    max_size: int,
    batch_size: int = 1000,
    progress: Callable[[int], None] = lambda n: None,
    workers: int | None = None,
    rescan: bool = False,
    authserv_ids: Sequence[str] = (),
    received_by: Sequence[str] = (),
    times_as_given: bool = False,
) -> CollectReport:
    """Read every message the store has not seen from this source and record it.

    rescan: read the source from the start (after [tally] max_message_bytes was raised);
    messages recorded already are skipped, those recorded as too large are read again.
    authserv_ids: the receiving servers' Authentication-Results authserv-ids ([tally]
    trusted_authserv_ids; none: the topmost header, read for a failure only; a pass
    raises no match). received_by: host names whose
    Received: headers give a proven receipt time ([tally] trusted_received_by).
    The same bytes seen again with an earlier proven receipt time keep that time.
    times_as_given: the source's receipt times are final, recorded as they are (an audit
    folder's, which `verify` re-reads: the mail server's word, not in the message itself).
    """
    state = store.mailbox_state(source.key)
    uidvalidity = source.uidvalidity()
    rescanned = state is not None and state[0] != uidvalidity
    after = state[1] if state is not None and not rescanned and not rescan else 0
    read = recorded = already = votes = review = ignored = 0
    batches = source.batches(after_uid=after, batch_size=batch_size, max_size=max_size)
    known = _Known(store, source.key)
    if rescanned or rescan:
        # Reading the source again from the start: what this very mailbox gave before
        # (the same bytes) is recorded already, and not worth parsing and reading again.
        batches = known.unrecorded(batches)
    first = next(batches, None)
    if first is None:  # Nothing new: do not load the directory of every ballot.
        return CollectReport(
            source.key,
            rescanned,
            known.skipped,
            0,
            known.skipped,
            0,
            0,
            0,
            tuple(source.not_read()),
        )
    directory = replace(
        store.directory(),
        authserv_ids=tuple(a.lower() for a in authserv_ids),
        received_by=tuple(h.lower().rstrip(".") for h in received_by),
    )
    for batch, analyses in _analysed(first, batches, directory, workers):
        read += len(batch)
        decided = _decide_batch(
            batch,
            analyses,
            source.key,
            uidvalidity,
            store,
            now(),
            rescan=rescan,
            withdrawn=directory.withdrawn,
        )
        records = decided.records
        if times_as_given:
            given = {f.uid: f for f in batch}
            records = [
                replace(
                    r,
                    received_at=given[r.uid].received_at,
                    received_from=given[r.uid].received_from,
                )
                for r in records
            ]
        already += decided.skipped
        store.record_batch(
            source.key,
            uidvalidity,
            max(f.uid for f in batch),
            records,
            now(),
            superseded=decided.superseded,
            earlier=decided.earlier,
            upgraded=decided.upgraded,
        )
        recorded += len(records)
        for r in records:
            votes += r.disposition is Disposition.VOTE
            review += r.disposition is Disposition.NEEDS_REVIEW
            ignored += r.disposition is Disposition.IGNORED
        progress(len(batch))
    return CollectReport(
        source.key,
        rescanned,
        read + known.skipped,
        recorded,
        already + known.skipped,
        votes,
        review,
        ignored,
        tuple(source.not_read()),
    )


class _Known:
    """Filters out of a rescan the messages this mailbox gave before (by SHA-256)."""

    def __init__(self, store: Store, mailbox: str) -> None:
        self.store = store
        self.mailbox = mailbox
        self.skipped = 0

    def unrecorded(self, batches: Iterator[list[Fetched]]) -> Iterator[list[Fetched]]:
        for batch in batches:
            hashes = {f.uid: hashlib.sha256(f.raw).hexdigest() for f in batch if f.raw is not None}
            _, where = self.store.seen((), hashes.values())
            fresh = [
                f
                for f in batch
                if f.uid not in hashes
                or not any(mailbox == self.mailbox for mailbox, _ in where.get(hashes[f.uid], ()))
            ]
            self.skipped += len(batch) - len(fresh)
            if fresh:
                yield fresh


# --- analysis, here or on every core -------------------------------------------------

_directory: Directory | None = None  # a worker's copy, sent once when the pool starts


def _init_worker(directory: Directory) -> None:
    global _directory
    _directory = directory


_Item: TypeAlias = tuple[bytes | None, bytes | None, int, int]  # raw, head, uid, size


def _analyse_chunk(chunk: list[_Item]) -> list[Analysis]:
    assert _directory is not None
    return _analyse_items(chunk, _directory)


def _analyse_items(items: list[_Item], directory: Directory) -> list[Analysis]:
    from steervote.core.inbound import analyse_fetched

    return [analyse_fetched(raw, head, uid, size, directory) for raw, head, uid, size in items]


def _items(batch: list[Fetched]) -> list[_Item]:
    return [(f.raw, f.head, f.uid, f.size) for f in batch]


def _analysed(
    first: list[Fetched],
    rest: Iterator[list[Fetched]],
    directory: Directory,
    workers: int | None,
) -> Iterator[tuple[list[Fetched], list[Analysis]]]:
    # Reading votes compiles many patterns, which a run with no new mail should not pay
    # for: inbound is imported only once there is mail to analyse.
    cores = workers if workers is not None else (os.cpu_count() or 1)
    if cores <= 1 or len(first) < POOL_THRESHOLD:
        for batch in _chain(first, rest):
            yield batch, _analyse_items(_items(batch), directory)
        return
    # fork: workers start at once and inherit the code; they touch no socket or database.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(cores, context, _init_worker, (directory,)) as pool:
        pending: deque[tuple[list[Fetched], _Pending]] = deque()
        for batch in _chain(first, rest):
            # The bytes go to the workers; keep only what deciding needs while they work.
            pending.append((_stripped(batch), _submit(pool, batch, cores)))
            # At most two batches in flight: bounded memory, and the pool never waits.
            if len(pending) > 1:
                yield _result(pending.popleft(), directory)
        while pending:
            yield _result(pending.popleft(), directory)


_Pending: TypeAlias = "list[tuple[Future[list[Analysis]] | None, list[_Item]]]"


def _result(
    item: tuple[list[Fetched], _Pending], directory: Directory
) -> tuple[list[Fetched], list[Analysis]]:
    batch, chunks = item
    analyses: list[Analysis] = []
    for future, items in chunks:
        try:
            if future is None:
                raise BrokenProcessPool("not submitted")
            analyses.extend(future.result())
        except BrokenProcessPool:
            # A worker died (killed for its memory, say): analyse its share here, where
            # every message is guarded again, so the count goes on.
            analyses.extend(_analyse_items(items, directory))
    return batch, analyses


def _submit(pool: ProcessPoolExecutor, batch: list[Fetched], cores: int) -> _Pending:
    size = -(-len(batch) // cores)
    items = _items(batch)
    chunks: _Pending = []
    for i in range(0, len(items), size):
        chunk = items[i : i + size]
        try:
            chunks.append((pool.submit(_analyse_chunk, chunk), chunk))
        except BrokenProcessPool:
            chunks.append((None, chunk))
    return chunks


def _stripped(batch: list[Fetched]) -> list[Fetched]:
    return [Fetched(f.uid, None, f.size, f.received_at, f.received_from) for f in batch]


def _chain(first: list[Fetched], rest: Iterator[list[Fetched]]) -> Iterator[list[Fetched]]:
    yield first
    yield from rest


# --- decisions against what the store already holds ----------------------------------


@dataclass(frozen=True, slots=True)
class _Decided:
    records: list[NewMessage]
    skipped: int  # recorded before: the same bytes elsewhere, or (rescan) this very UID
    superseded: list[str]  # keys of records of messages too large then, read in full now
    earlier: list[EarlierTime]  # recorded bytes seen again with a proven receipt time
    upgraded: list[Upgrade]  # recorded messages a later copy of which matched more strongly


def _decide_batch(
    batch: list[Fetched],
    analyses: list[Analysis],
    mailbox: str,
    uidvalidity: int,
    store: Store,
    now: datetime,
    *,
    rescan: bool = False,
    withdrawn: Mapping[str, datetime] | None = None,
) -> _Decided:
    unread = {f"oversize:{a.head_key}": a for a in analyses if a.head_key and not a.problem}
    seen_ids, seen_hashes = store.seen(
        (a.message_id for a in analyses if a.message_id),
        [*(a.sha256 for a in analyses), *unread],
    )
    recorded = store.recorded_uids(mailbox, uidvalidity, (f.uid for f in batch)) if rescan else ()
    authors = store.authors(a.in_reply_to for a in analyses if a.in_reply_to)
    token_voters = store.token_voters(
        (a.tie.motion_id, a.tie.member_id)
        for a in analyses
        if isinstance(a.tie, Matched) and a.tie.failed_auth
    )
    out: list[NewMessage] = []
    superseded: list[str] = []
    earlier: list[EarlierTime] = []
    upgraded: list[Upgrade] = []
    skipped = 0
    for fetched, a in zip(batch, analyses, strict=True):
        # Read in full now, where only its headers could be read before (too large).
        was_oversize = f"oversize:{a.head_key}" if a.head_key and not a.problem else ""
        supersedes = bool(was_oversize) and was_oversize in seen_hashes
        where = seen_hashes.get(a.sha256)
        if fetched.uid in recorded and not supersedes:
            skipped += 1  # a rescan meets what it recorded before
            continue
        if where is not None and (mailbox, uidvalidity) not in where:
            # Recorded before from a rescan or another source: idempotence, not a new message;
            # but a proven receipt time from this copy may be earlier than the one recorded.
            skipped += 1
            at, how = _receipt(fetched, a, now)
            if is_proven(how):
                earlier.append(EarlierTime(a.sha256, at, how))
            continue
        same_id = seen_ids.get(a.message_id, []) if a.message_id else []
        if supersedes:
            superseded.append(was_oversize)
            same_id = [e for e in same_id if e.sha256 != was_oversize]
            del seen_hashes[was_oversize]
        record, upgrade = _decide(
            fetched, a, now, same_id, where is not None, authors, token_voters, withdrawn or {}
        )
        out.append(record)
        if a.message_id and record.member_id and record.motion_id:
            authors.setdefault(a.message_id, (record.motion_id, record.member_id))
        seen_hashes.setdefault(a.sha256, set()).add((mailbox, uidvalidity))
        if upgrade is not None:
            upgraded.append(upgrade)
            _note_upgrade(seen_ids.get(a.message_id, []), upgrade)
        if a.message_id and record.member_id and record.disposition is not Disposition.IGNORED:
            seen_ids.setdefault(a.message_id, []).append(
                SeenMessage(
                    a.sender,
                    a.subject,
                    record.own_text,
                    a.sha256,
                    record.motion_id or "",
                    record.member_id,
                    record.strength,
                    record.disposition.value,
                    record.vote.value if record.vote else None,
                )
            )
        by_token = Strength.of(record.strength).rank >= Strength.TOKEN.rank
        if record.disposition is Disposition.VOTE and record.motion_id and by_token:
            token_voters.add((record.motion_id, record.member_id or ""))
    return _Decided(out, skipped, superseded, earlier, upgraded)


def _note_upgrade(seen: list[SeenMessage], upgrade: Upgrade) -> None:
    """Within a batch, the upgraded record is as strong as its new match."""
    for i, e in enumerate(seen):
        if (e.sha256, e.motion_id, e.member_id) == (
            upgrade.sha256,
            upgrade.motion_id,
            upgrade.member_id,
        ):
            seen[i] = replace(e, strength=upgrade.strength)


def _receipt(f: Fetched, a: Analysis, now: datetime) -> tuple[datetime, str]:
    """(receipt time, how it is known), best evidence first (core.receipt).

    The mailbox's own time (INTERNALDATE, a Maildir delivery name), then a trusted
    receiving server's Received: header, then what the source had (file time, From
    line, Date header); where nothing at all is known, the time it was read.
    """
    if f.received_from in _MAILBOX_TIMES:
        return f.received_at, f.received_from
    if a.received_at is not None:
        return a.received_at, "received-header"
    if f.received_from == "unknown":
        return now, "unknown"
    return f.received_at, f.received_from


def _record(
    f: Fetched,
    a: Analysis,
    now: datetime,
    disposition: Disposition,
    reason: str,
    *,
    vote: Vote | None = None,
) -> NewMessage:
    from steervote.core.inbound import EVIDENCE_LIMIT, OWN_TEXT_LIMIT

    tie = a.tie
    matched = tie if isinstance(tie, Matched) else None
    reading = a.reading
    received_at, received_from = _receipt(f, a, now)
    return NewMessage(
        uid=f.uid,
        message_id=a.message_id,
        sha256=a.sha256,
        sender=a.sender,
        subject=a.subject,
        size=f.size,
        received_at=received_at,
        received_from=received_from,
        disposition=disposition,
        reason=reason,
        motion_id=tie.motion_id if tie is not None else None,
        member_id=matched.member_id if matched else None,
        how=matched.how.value if matched else "",
        vote=vote,
        evidence=reading.evidence[:EVIDENCE_LIMIT] if reading else "",
        own_text=reading.own_text[:OWN_TEXT_LIMIT] if reading else "",
        strength=matched.strength.value if matched else "",
        dated=a.dated,
        also=matched.also if matched and disposition is not Disposition.IGNORED else (),
        raw=a.kept,
    )


def _answers_another(a: Analysis, tie: Matched, authors: dict[str, tuple[str, str]]) -> str | None:
    """Why a reply whose In-Reply-To is another member's (or motion's) reply is in doubt."""
    author = authors.get(a.in_reply_to) if a.in_reply_to else None
    if author is None or author == (tie.motion_id, tie.member_id):
        return None
    motion_id, member_id = author
    whose = f"{member_id}'s reply" if motion_id == tie.motion_id else f"a reply on {motion_id}"
    return (
        f"in reply to {whose}, not to {tie.member_id}'s ballot (reply-all?): "
        "whose vote, on which motion?"
    )


def _decide(
    f: Fetched,
    a: Analysis,
    now: datetime,
    same_id: list[SeenMessage],
    same_bytes: bool,
    authors: dict[str, tuple[str, str]],
    token_voters: set[tuple[str, str]],
    withdrawn: Mapping[str, datetime],
) -> tuple[NewMessage, Upgrade | None]:
    """The record of one message, and the upgrade of an earlier copy's match, if any."""
    from steervote.core.inbound import OWN_TEXT_LIMIT
    from steervote.core.reply import Kind

    ignored = Disposition.IGNORED
    if a.tie is None:
        return _record(f, a, now, ignored, f"too large ({f.size} bytes); not read"), None
    off = withdrawn.get(a.tie.motion_id or "")
    if off is not None and _receipt(f, a, now)[0] > off.replace(microsecond=0):
        # Received after its motion was withdrawn: on record, never counted. Receipt times
        # are whole seconds (IMAP INTERNALDATE): one in the second of the withdrawal is
        # taken as before it, as `verify` will take it, whatever order the runs came in.
        why = f"motion {a.tie.motion_id} was withdrawn on {off:%Y-%m-%d %H:%M} UTC: not counted"
        return _record(f, a, now, ignored, why), None
    if same_bytes:
        return _record(f, a, now, ignored, "duplicate: same bytes as an earlier message"), None
    if a.problem:
        # Not read (too large, or unreadable): a person must look, if it is a member's.
        if isinstance(a.tie, Matched):
            why = a.problem + (f"; {a.tie.review}" if a.tie.review else "")
            return _record(f, a, now, Disposition.NEEDS_REVIEW, why), None
        return _record(f, a, now, ignored, f"{a.problem}; {a.tie.reason}"), None
    if not isinstance(a.tie, Matched):
        return _record(f, a, now, ignored, a.tie.reason), None
    tie = a.tie
    reading = a.reading
    assert reading is not None
    if reading.kind is Kind.NOT_A_VOTE:
        return _record(f, a, now, ignored, reading.reason), None
    if tie.failed_auth and (tie.motion_id, tie.member_id) in token_voters:
        # Anyone can forge mail that fails authentication: it must not hold up a vote the
        # member sent with their own token (a person still sees it, listed as ignored).
        why = f"failed authentication; the standing vote is stronger ({tie.failed_auth})"
        return _record(f, a, now, ignored, why), None
    # The same message delivered again (a list's copy, other transport headers): the same
    # member's own words. The subject is part of the words (a vote may be written there
    # alone), but a list may add its tag to it; the From is not (a list may rewrite it).
    own = reading.own_text[:OWN_TEXT_LIMIT]
    copies = [e for e in same_id if _same_words(e, tie, a.subject, own)]
    if copies:
        best = max(copies, key=lambda e: Strength.of(e.strength).rank)
        if Strength.of(best.strength).rank >= tie.strength.rank:
            why = "duplicate: same Message-ID, member and words"
            return _record(f, a, now, ignored, why), None
    same_id = [e for e in same_id if e not in copies]
    review = tie.review
    if same_id and review is None:
        # A forged Message-ID must not be able to suppress a real vote: keep it, ask.
        review = "Message-ID reused with different content: forged or re-sent?"
    conflict = _answers_another(a, tie, authors)
    if conflict is not None:
        review = conflict if review is None else f"{review}; {conflict}"
    # A receipt time that is not proven is judged by the tally (core.receipt), which
    # also sees a better time should the same bytes turn up again.
    if review is not None:
        said = f"; reads as {reading.vote.value.upper()}" if reading.vote else ""
        record = _record(f, a, now, Disposition.NEEDS_REVIEW, review + said)
    elif reading.kind is Kind.VOTE:
        record = _record(f, a, now, Disposition.VOTE, reading.reason, vote=reading.vote)
    else:
        record = _record(f, a, now, Disposition.NEEDS_REVIEW, reading.reason)
    if copies:
        return _upgraded(f, a, now, record, best)
    return record, None


def _same_words(e: SeenMessage, tie: Matched, subject: str, own_text: str) -> bool:
    """Whether a recorded message is this member's same words: a copy of this message."""
    if (e.motion_id, e.member_id) != (tie.motion_id, tie.member_id) or e.own_text != own_text:
        return False
    return (
        e.subject == subject
        or (bool(e.subject) and e.subject in subject)
        or (bool(subject) and subject in e.subject)
    )


def _upgraded(
    f: Fetched, a: Analysis, now: datetime, record: NewMessage, copy: SeenMessage
) -> tuple[NewMessage, Upgrade | None]:
    """A stronger copy of a recorded message: its match is the recorded one's now.

    When it reads the same (same disposition and vote), the recorded message takes its
    match and this copy is ignored as a duplicate; otherwise this copy is recorded as a
    reply of its own, which the tally weighs against the earlier one.
    """
    same = (record.disposition.value, record.vote.value if record.vote else None) == (
        copy.disposition,
        copy.vote,
    )
    if not same:
        return record, None
    upgrade = Upgrade(copy.sha256, copy.motion_id, copy.member_id, record.strength, record.how)
    why = (
        "duplicate: same Message-ID, member and words; the earlier copy is now matched "
        f"as {record.strength} ({record.how})"
    )
    return _record(f, a, now, Disposition.IGNORED, why), upgrade
