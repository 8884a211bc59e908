"""Send notices (receipts, asks, reminders, announcements) as ballots are sent.

The same rules as propose (services.propose): each notice is recorded before it is sent,
`sending` before it is handed to the server and `sent` or `failed` after; a notice left
`sending` by a run that stopped may have been delivered, so it is recorded as sent with
its delivery unconfirmed and never sent again; a re-run sends what is pending or failed.
One notice per (motion, kind, recipient, key): a member never gets the same one twice.
Run under Store.propose_lock(motion id), like propose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

from steervote.adapters.store import Store
from steervote.core.ballot import Addressing
from steervote.core.motion import Motion
from steervote.core.records import BallotStatus, NoticeKind, NoticeRecord
from steervote.errors import MailServerError
from steervote.services.propose import UNCONFIRMED, Transport, paused_detail

INTERRUPTED = (
    f"{UNCONFIRMED}: the run sending it stopped after handing it to the server, "
    "before the server confirmed it"
)

Compose = Callable[[NoticeRecord], EmailMessage]


@dataclass(frozen=True, slots=True)
class NoticePlan:
    """What a notice command will send; shown before asking for confirmation.

    new: notices planned now, not yet recorded; to_send: those and the earlier ones of the
    same keys still pending or refused; interrupted: left `sending` by a run that stopped
    (settled as sent, delivery unconfirmed); already_sent: planned ones sent before;
    skipped: (recipient, why) left out on purpose (reminded recently, no reply to ask).
    """

    motion: Motion
    kind: NoticeKind
    new: tuple[NoticeRecord, ...]
    to_send: tuple[NoticeRecord, ...]
    interrupted: tuple[NoticeRecord, ...]
    already_sent: int
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NoticeResult:
    """Every notice of this kind on the motion after the run, and what this run did."""

    plan: NoticePlan
    notices: tuple[NoticeRecord, ...]
    sent_now: int
    failed_now: int
    unconfirmed_now: int
    error: str | None  # the transport gave up part-way (the rest left pending)


def plan_notices(
    store: Store,
    motion: Motion,
    kind: NoticeKind,
    drafts: Sequence[NoticeRecord],
    *,
    skipped: Sequence[tuple[str, str]] = (),
) -> NoticePlan:
    """Set the drafts against what is recorded: new ones, earlier unsent ones, and those
    sent already (by recipient and key). Writes nothing."""
    existing = {(n.recipient, n.key): n for n in store.notices(motion.id, kind)}
    new: list[NoticeRecord] = []
    again: list[NoticeRecord] = []
    sent = 0
    for d in drafts:
        earlier = existing.get((d.recipient, d.key))
        if earlier is None:
            new.append(d)
        elif earlier.status in (BallotStatus.PENDING, BallotStatus.FAILED):
            again.append(earlier)
        else:
            sent += 1
    interrupted = tuple(n for n in existing.values() if n.status is BallotStatus.SENDING)
    return NoticePlan(
        motion, kind, tuple(new), tuple(again + new), interrupted, sent, tuple(skipped)
    )


def send_notices(
    plan: NoticePlan,
    store: Store,
    transport: Transport,
    addressing: Addressing,
    compose: Compose,
    *,
    now: Callable[[], datetime],
    progress: Callable[[NoticeRecord], None] = lambda n: None,
) -> NoticeResult:
    """Record the new notices, settle interrupted ones, then send each, recording its
    status at once. A message that cannot be composed stops the run before any record."""
    for n in plan.to_send:
        compose(n)  # Every message is shown to be makeable before anything is recorded.
    store.add_notices(plan.new)
    motion_id = plan.motion.id
    envelope_from = parseaddr(addressing.sender)[1]
    sent = failed = unsure = 0
    error = None
    wait_turn: Callable[[], None] = getattr(transport, "wait_turn", None) or (lambda: None)
    with store.notice_marker(motion_id) as mark:
        for n in plan.interrupted:
            mark(n, BallotStatus.SENT, INTERRUPTED, n.sent_at)
            unsure += 1
        for n in plan.to_send:
            msg = compose(n)
            try:
                wait_turn()  # before `sending`: stopped while waiting, it stays pending
            except MailServerError as e:
                error = str(e)
                break
            mark(n, BallotStatus.SENDING, n.detail, now())
            try:
                result = transport.send(msg, sender=envelope_from, recipients=[n.address])
            except MailServerError as e:
                # The server cannot have it (a quota stop records what the server said).
                mark(n, n.status, paused_detail(e) or n.detail, n.sent_at)
                error = str(e)
                break
            if result.ok:
                mark(n, BallotStatus.SENT, "", now())
                sent += 1
            elif result.delivery_unknown:
                mark(n, BallotStatus.SENT, f"{UNCONFIRMED}: {result.reason}", now())
                unsure += 1
            else:
                detail = " ".join(x for x in (str(result.code or ""), result.reason) if x)
                mark(n, BallotStatus.FAILED, detail, None)
                failed += 1
            progress(n)
    notices = tuple(store.notices(motion_id, plan.kind))
    return NoticeResult(plan, notices, sent, failed, unsure, error)
