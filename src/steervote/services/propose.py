"""Propose a motion: validate, record it and its ballots, send each unsent ballot.

Idempotent and resumable: each ballot's status is committed as soon as it is
known, so a re-run sends only what was not sent; a motion whose text, papers,
electorate, rule or deadline changed after any ballot went out is refused.

A member never gets a ballot twice because of us. Each ballot is recorded as `sending`
before it is handed to the server; a ballot a run finds still `sending` was handed over
by a run that stopped before hearing the server's answer, so it may have been delivered:
like a connection lost after DATA, it is recorded as sent with its delivery unconfirmed,
never sent again unless the secretary asks for it by name (`resend`). This holds only
while one run at a time proposes a motion: plan and propose are called under
Store.propose_lock.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

from steervote.adapters.known_stores import KnownStore, still_there
from steervote.adapters.store import RecordedMotion, Store
from steervote.core.address import needs_smtputf8
from steervote.core.ballot import (
    Addressing,
    Attachment,
    ballot_message_id,
    fingerprint,
    motion_digest,
    new_token,
    papers_of,
)
from steervote.core.deadline import parse_duration
from steervote.core.motion import Member, Motion
from steervote.core.motion_file import DEFAULT_MAX_ATTACHMENT_BYTES
from steervote.core.press import BallotPress
from steervote.core.records import Amendment, BallotRecord, BallotStatus
from steervote.errors import (
    InvalidInput,
    MailServerError,
    MotionChanged,
    MotionInvalid,
    SendingPaused,
)


class SendOutcome(Protocol):
    """What a transport says about one message."""

    @property
    def ok(self) -> bool: ...
    @property
    def code(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def delivery_unknown(self) -> bool: ...


class Transport(Protocol):
    """SMTP or the local outbox."""

    def send(
        self, msg: EmailMessage | bytes, *, sender: str, recipients: Sequence[str]
    ) -> SendOutcome: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """What propose will do; shown before asking for confirmation."""

    motion: Motion
    fingerprint: str
    attachments: tuple[Attachment, ...]
    recorded: bool  # the motion is already in the store
    to_send: tuple[BallotRecord, ...]  # ballots and copies not yet sent (and those resent)
    already_sent: int
    digest: str
    # Left `sending` by a run that stopped: delivery unconfirmed, never sent again.
    interrupted: tuple[BallotRecord, ...] = ()
    # Recorded earlier as sent with their delivery unconfirmed (and not resent now).
    unconfirmed: tuple[BallotRecord, ...] = ()
    # The digest of the recorded motion this plan replaces (None: there is none).
    replaces: str | None = None
    # Members added after the ballots went out (`--add-member`), recorded before sending.
    amendment: Amendment | None = None


@dataclass(frozen=True, slots=True)
class ProposeResult:
    """Every ballot and copy of the motion, with its status after this run."""

    plan: Plan
    ballots: tuple[BallotRecord, ...]
    sent_now: int
    failed_now: int
    error: str | None  # the transport gave up part-way (ballots left pending)
    # Handed over, but the server's answer never came (the connection broke, or the run
    # sending it stopped): recorded as sent (so never sent twice) with a detail saying so;
    # someone should check the server's log.
    unconfirmed_now: int = 0


UNCONFIRMED = "delivery unconfirmed"
INTERRUPTED = (
    f"{UNCONFIRMED}: the propose sending it stopped after handing it to the server, "
    "before the server confirmed it"
)


_WENT_OUT = (BallotStatus.SENT, BallotStatus.SENDING)


def any_went_out(ballots: Sequence[BallotRecord]) -> bool:
    """Whether any of these ballots or copies was handed to the server (confirmed or not)."""
    return any(b.status in _WENT_OUT for b in ballots)


_ANY_DAY = datetime(2000, 1, 1, tzinfo=UTC)


def content_digest(motion: Motion, attachments: Sequence[Attachment]) -> str:
    """SHA-256 (hex) over what members vote on (as motion_digest) but not the motion's id,
    and with a relative deadline as written ("7d"), not the date it gave: the same motion
    file proposed under another id, or on another day, has the same one."""
    relative = bool(parse_duration(motion.closes_spec))
    fixed = replace(motion, id="", closes=_ANY_DAY if relative else motion.closes)
    spec = motion.closes_spec if relative else ""
    return hashlib.sha256(f"{motion_digest(fixed, attachments)}\x00{spec}".encode()).hexdigest()


def elsewhere(
    entries: Sequence[KnownStore], motion_id: str, content: str, here: str
) -> tuple[KnownStore, ...]:
    """The stores other than `here` (known_stores.store_name) that still exist and hold
    this motion: by its id, or by its content under another id (`content_digest`). Newest
    first, one entry a store."""
    found: dict[str, KnownStore] = {}
    for e in sorted(entries, key=lambda e: (e.motion_id != motion_id, -e.at.timestamp())):
        if e.store != here and (e.motion_id == motion_id or e.content == content):
            found.setdefault(e.store, e)
    return tuple(e for e in found.values() if still_there(e.store))


def unconfirmed(ballot: BallotRecord) -> bool:
    """Whether a ballot was handed to the server without the server confirming it."""
    return ballot.status is BallotStatus.SENDING or (
        ballot.status is BallotStatus.SENT and ballot.detail.startswith(UNCONFIRMED)
    )


def read_attachments(
    motion: Motion, max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> tuple[Attachment, ...]:
    """Load the motion's papers (validated when the motion was loaded); MotionInvalid if one
    cannot be read, is no longer a regular file, or they grew past max_bytes since.

    Never reads more than max_bytes + 1 bytes in all, nor blocks on a pipe put in a file's place.
    """
    out = []
    total = 0
    for path in motion.attachments:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise MotionInvalid(f"{path}: attachment cannot be read: {e.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise MotionInvalid(f"{path}: attachment is no longer a regular file")
            content = f.read(max_bytes - total + 1)
        total += len(content)
        if total > max_bytes:
            raise MotionInvalid(
                f"{path}: the attachments grew past {max_bytes} bytes "
                "([ballot] max_attachment_bytes) since they were checked"
            )
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        out.append(Attachment(path.name, content, maintype, subtype))
    return tuple(out)


def smtputf8_addresses(motion: Motion, addressing: Addressing) -> list[str]:
    """The addresses (sender, reply-to, recipients) only a server offering SMTPUTF8 carries."""
    addresses = [
        parseaddr(addressing.sender)[1],
        parseaddr(addressing.reply_to)[1],
        *(m.email for m in motion.committee.members),
        *(o.email for o in motion.committee.observers),
    ]
    return [a for a in addresses if needs_smtputf8(a)]


def check_server(
    motion: Motion,
    addressing: Addressing,
    attachments: Sequence[Attachment],
    *,
    extensions: Mapping[str, str] | None,
    server: str,
) -> None:
    """Refuse (InvalidInput) before anything is recorded what the server cannot take.

    `extensions` are the server's EHLO keywords (lower case) and their parameters, or None
    for the local outbox, which takes anything. RFC 6531: a message to or from a non-ASCII
    address needs SMTPUTF8; RFC 1870: SIZE is the largest message the server takes.
    """
    if extensions is None:
        return
    needing = smtputf8_addresses(motion, addressing)
    if needing and "smtputf8" not in extensions:
        more = f" and {len(needing) - 3} more" if len(needing) > 3 else ""
        raise InvalidInput(
            f"{server} does not offer SMTPUTF8, which mail to or from "
            f"{', '.join(repr(a) for a in needing[:3])}{more} needs: give them an ASCII address "
            "or use a server that offers it; nothing was recorded or sent"
        )
    limit = extensions.get("size", "")
    size = ballot_size(attachments)
    if limit.isdigit() and 0 < int(limit) < size:
        raise InvalidInput(
            f"{server} takes messages of at most {int(limit)} bytes, and a ballot with its "
            f"attachments is about {size}: send smaller papers or links; nothing was recorded "
            "or sent"
        )


def ballot_size(attachments: Sequence[Attachment]) -> int:
    """About how many bytes a ballot is on the wire: base64 attachments and the text."""
    return sum(len(a.content) * 4 // 3 * 78 // 76 + 400 for a in attachments) + 20_000


def plan(
    motion: Motion,
    store: Store | None,
    addressing: Addressing,
    *,
    now: datetime,
    attachments: tuple[Attachment, ...] | None = None,
    resend: Sequence[str] = (),
    amend: Amendment | None = None,
) -> Plan:
    """Check the motion against what was recorded; say what a run would send. Writes nothing.

    With no store (a dry run before any database exists) the motion is treated as new.
    `attachments` are the motion's papers if already read (read_attachments). `resend`
    names members (id or address; an observer by address) whose ballot was handed over
    unconfirmed, to be sent again: InvalidInput for any other. `amend` (its `added` ids,
    reason, by, at) admits members the motion file adds after the ballots went out, and
    nothing else changed: they get ballots, and the motion's digest changes, visibly.
    """
    if attachments is None:
        attachments = read_attachments(motion)
    recorded = store.recorded_motion(motion.id) if store is not None else None
    if recorded is not None and recorded.withdrawn is not None:
        w = recorded.withdrawn
        raise InvalidInput(
            f"motion {motion.id} was withdrawn on {w.at:%Y-%m-%d %H:%M} UTC ({w.reason}): "
            "no ballot is sent for it (propose it under a new id to vote again)"
        )
    spec = motion.closes_spec
    if (
        recorded is not None
        and parse_duration(spec)
        and spec == recorded.motion.closes_spec
        and store is not None
        and any(b.status in _WENT_OUT for b in store.ballots(motion.id))
    ):
        # "closes: 7d" means 7 days from when the first ballot went out, not from now; while
        # none has (the server was down), the clock has not started: it counts from now.
        motion = replace(motion, closes=recorded.motion.closes)
    digest = motion_digest(motion, attachments)
    fp = fingerprint(motion, attachments)
    if recorded is None or recorded.digest != digest:
        ballots = store.ballots(motion.id) if store is not None and recorded else []
        went_out = (BallotStatus.SENT, BallotStatus.SENDING)
        sent = [b for b in ballots if b.status in went_out]
        if recorded is not None and sent:
            if amend is not None:
                assert store is not None
                return _amended(motion, recorded, store, addressing, attachments, amend)
            raise MotionChanged(_changed(motion, recorded, len(sent)))
        if amend is not None:
            raise InvalidInput(
                f"--add-member: no ballot of motion {motion.id} went out yet; "
                "propose sends to every member the file lists"
            )
        if resend:
            raise InvalidInput(
                f"--resend: no ballot of motion {motion.id} was sent yet; propose sends them all"
            )
        fresh = tuple(_new_ballots(motion, addressing))
        return Plan(
            motion,
            fp,
            attachments,
            False,
            fresh,
            0,
            digest,
            replaces=recorded.digest if recorded else None,
        )
    assert store is not None
    if amend is not None:
        raise InvalidInput(
            f"--add-member {', '.join(amend.added)}: the motion file adds nobody new "
            f"to motion {motion.id} (already members, or not in the file)"
        )
    ballots = store.ballots(motion.id)
    again = _resent(motion.id, ballots, resend)
    todo = tuple(
        b for b in ballots if b.status in (BallotStatus.PENDING, BallotStatus.FAILED) or b in again
    )
    if todo and recorded.motion.closes <= now:
        # A relative deadline keeps the first run's date, which may have passed since:
        # a ballot sent now would ask for a vote that can no longer count.
        raise InvalidInput(
            f"motion {motion.id}: voting closed at "
            f"{recorded.motion.closes.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
            f"{_ballots(len(todo))} never sent will not be sent now "
            "(propose it under a new id to vote again)"
        )
    return Plan(
        recorded.motion if recorded else motion,
        fp,
        attachments,
        True,
        todo,
        len(ballots) - len(todo),
        digest,
        interrupted=tuple(
            b for b in ballots if b.status is BallotStatus.SENDING and b not in again
        ),
        unconfirmed=tuple(
            b
            for b in ballots
            if b.status is BallotStatus.SENT and unconfirmed(b) and b not in again
        ),
        replaces=recorded.digest,
    )


def _amended(
    motion: Motion,
    recorded: RecordedMotion,
    store: Store,
    addressing: Addressing,
    attachments: tuple[Attachment, ...],
    amend: Amendment,
) -> Plan:
    """The plan of an amendment: the file's motion is the recorded one plus the members
    named, and nothing else (the quorum may follow the larger electorate); MotionChanged or
    InvalidInput otherwise."""
    before = {m.id for m in recorded.motion.committee.members}
    now_ids = {m.id for m in motion.committee.members}
    added = set(amend.added)
    for member_id in amend.added:
        if member_id in before:
            raise InvalidInput(f"--add-member {member_id}: already a member of {motion.id}")
        if member_id not in now_ids:
            raise InvalidInput(
                f"--add-member {member_id}: not in the motion file's committee; add them "
                "there first"
            )
    unnamed = sorted(now_ids - before - added)
    if unnamed:
        raise InvalidInput(
            f"the motion file also adds {', '.join(unnamed)}: name each with --add-member"
        )
    gone = sorted(before - now_ids)
    if gone:
        raise MotionChanged(
            f"motion {motion.id}: the motion file drops {', '.join(gone)}, whose ballots went "
            "out; an electorate can be amended only by adding members"
        )
    kept = tuple(m for m in motion.committee.members if m.id not in added)
    without = replace(
        motion,
        committee=replace(motion.committee, members=kept),
        quorum=recorded.motion.quorum,
    )
    # Members keep the order the file gives them (the digest covers it), as recorded.
    if (
        motion_digest(without, attachments) != recorded.digest
        and motion_digest(
            replace(
                without,
                committee=replace(without.committee, members=_in_recorded_order(kept, recorded)),
            ),
            attachments,
        )
        != recorded.digest
    ):
        raise MotionChanged(
            _changed(motion, recorded, 1).replace(
                "changed after", "changed (besides the members added) after"
            )
        )
    digest = motion_digest(motion, attachments)
    new = tuple(b for b in _new_ballots(motion, addressing) if b.voting and b.recipient in added)
    ballots = store.ballots(motion.id)
    waiting = tuple(b for b in ballots if b.status in (BallotStatus.PENDING, BallotStatus.FAILED))
    return Plan(
        motion,
        fingerprint(motion, attachments),
        attachments,
        True,
        waiting + new,
        len(ballots) - len(waiting),
        digest,
        replaces=recorded.digest,
        amendment=replace(amend, old_digest=recorded.digest, new_digest=digest),
    )


def _in_recorded_order(members: Sequence[Member], recorded: RecordedMotion) -> tuple[Member, ...]:
    order = {m.id: i for i, m in enumerate(recorded.motion.committee.members)}
    return tuple(sorted(members, key=lambda m: order.get(m.id, len(order))))


def _resent(
    motion_id: str, ballots: Sequence[BallotRecord], names: Sequence[str]
) -> set[BallotRecord]:
    """The ballots named to be sent again; InvalidInput for a name that is not one of them."""
    by_name: dict[str, BallotRecord] = {}
    for b in ballots:
        by_name[b.recipient.lower()] = by_name[b.address.lower()] = b
    out = set()
    for name in names:
        found = by_name.get(name.strip().lower())
        if found is None:
            raise InvalidInput(f"--resend {name}: motion {motion_id} has no ballot for {name!r}")
        if found.status is BallotStatus.SENT and not unconfirmed(found):
            raise InvalidInput(
                f"--resend {name}: the ballot of {found.name} <{found.address}> was delivered "
                "(the server confirmed it); --resend sends again only a ballot whose delivery "
                "is unconfirmed"
            )
        out.add(found)
    return out


def _changed(motion: Motion, recorded: RecordedMotion, sent: int) -> str:
    old = recorded.motion
    what = [
        name
        for name, a, b in (
            ("title", old.title, motion.title),
            ("text", old.text, motion.text),
            ("electorate", old.committee.members, motion.committee.members),
            ("threshold", old.threshold, motion.threshold),
            ("quorum", old.quorum, motion.quorum),
            ("deadline", old.closes, motion.closes),
            ("authority", old.authority, motion.authority),
            ("casting_vote", old.casting_vote, motion.casting_vote),
            ("links", old.links, motion.links),
        )
        if a != b
    ] or ["attachments"]
    return (
        f"motion {motion.id}: {', '.join(what)} changed after {_ballots(sent)} went out; "
        "refusing to send a different motion under the same id (propose it under a new id"
        + (
            "; a member left off the roll is added with --add-member ID --reason TEXT)"
            if "electorate" in what
            else ")"
        )
    )


def _ballots(n: int) -> str:
    """'1 ballot', '2 ballots' (render.plural's wording; services sit below render)."""
    return f"{n:,} ballot{'' if n == 1 else 's'}"


def _new_ballots(motion: Motion, addressing: Addressing) -> list[BallotRecord]:
    domain = parseaddr(addressing.sender)[1].rpartition("@")[2] or "localhost"
    out = []
    for m in motion.committee.members:
        token = new_token()
        out.append(
            BallotRecord(
                motion.id,
                m.id,
                m.name,
                m.email,
                True,
                token,
                ballot_message_id(motion.id, token, addressing),
                BallotStatus.PENDING,
                "",
                None,
            )
        )
    for o in motion.committee.observers:
        out.append(
            BallotRecord(
                motion.id,
                o.email.lower(),
                o.name,
                o.email,
                False,
                None,
                f"<copy.{motion.id}.{secrets.token_hex(8)}@{domain}>",
                BallotStatus.PENDING,
                "",
                None,
            )
        )
    return out


def propose(
    the_plan: Plan,
    store: Store,
    transport: Transport,
    addressing: Addressing,
    *,
    now: Callable[[], datetime],
    progress: Callable[[BallotRecord], None] = lambda b: None,
) -> ProposeResult:
    """Record the motion if new, then send every unsent ballot, recording each result.

    Call it, and plan before it, under store.propose_lock(motion id). Ballots the plan found
    `sending` (their run stopped) are recorded as sent, delivery unconfirmed, and counted
    in unconfirmed_now with those whose connection broke after DATA in this run.
    """
    motion = the_plan.motion
    members = {m.id: m for m in motion.committee.members}
    observers = {o.email.lower(): o for o in motion.committee.observers}
    # Every message is made, or shown to be makeable, before anything is recorded: a
    # motion that validated must never stop half-way with its record written.
    press = BallotPress(motion, addressing, the_plan.attachments, now())
    for b in the_plan.to_send:
        recipient = members[b.recipient] if b.voting else observers[b.recipient]
        press.check(recipient, (b.token or "") if b.voting else b.message_id)
    if the_plan.amendment is not None:
        new = {b.recipient for b in the_plan.to_send if b.voting}
        store.amend_electorate(
            motion,
            amendment=the_plan.amendment,
            ballots=[
                b
                for b in the_plan.to_send
                if b.recipient in new and b.recipient in the_plan.amendment.added
            ],
        )
    if not the_plan.recorded:
        store.record_motion(
            motion,
            digest=the_plan.digest,
            ballots=the_plan.to_send,
            now=now(),
            replaces=the_plan.replaces,
            papers=papers_of(the_plan.attachments),
        )
    interrupted = [b.recipient for b in the_plan.interrupted]
    unsure = (
        len(store.settle_unconfirmed(motion.id, interrupted, INTERRUPTED)) if interrupted else 0
    )
    envelope_from = parseaddr(addressing.sender)[1]
    sent = failed = 0
    error = None
    wait_turn: Callable[[], None] = getattr(transport, "wait_turn", None) or (lambda: None)
    with store.ballot_marker(motion.id) as mark:
        for b in the_plan.to_send:
            msg: EmailMessage | bytes
            if b.voting:
                assert b.token is not None
                msg = press.ballot(members[b.recipient], b.token)
            else:
                msg = press.copy(observers[b.recipient], b.message_id)
            # Committed before the server can have it: a run killed from here on leaves it
            # `sending`, which the next run reports as unconfirmed instead of sending again.
            try:
                # A throttled run waits for its slot before the ballot counts as handed over:
                # stopped while it waits, the ballot is still pending and goes with a re-run.
                wait_turn()
            except MailServerError as e:
                error = str(e)
                break
            mark(b.recipient, BallotStatus.SENDING, b.detail, now())
            try:
                result = transport.send(msg, sender=envelope_from, recipients=[b.address])
            except MailServerError as e:
                # Raised only when the server cannot have taken it: as it was before
                # (with what the server said when it was over its sending quota).
                mark(b.recipient, b.status, paused_detail(e) or b.detail, b.sent_at)
                error = str(e)
                break
            if result.ok:
                again = "resent after an unconfirmed delivery" if unconfirmed(b) else ""
                mark(b.recipient, BallotStatus.SENT, again, now())
                sent += 1
            elif result.delivery_unknown:
                # The server may have taken it: a re-run must not send it again, since a member
                # must never get two ballots. Recorded as sent, with why it is in doubt.
                detail = f"{UNCONFIRMED}: {result.reason}"
                mark(b.recipient, BallotStatus.SENT, detail, now())
                unsure += 1
            else:
                detail = " ".join(x for x in (str(result.code or ""), result.reason) if x)
                mark(b.recipient, BallotStatus.FAILED, detail, None)
                failed += 1
            progress(b)
    return ProposeResult(the_plan, tuple(store.ballots(motion.id)), sent, failed, error, unsure)


def paused_detail(error: MailServerError) -> str | None:
    """What a sending limit stop records on the message it stopped at, if anything."""
    return error.detail if isinstance(error, SendingPaused) else None
