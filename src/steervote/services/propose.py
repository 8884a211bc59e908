"""Propose a motion: validate, record it and its ballots, send each unsent ballot.

Idempotent and resumable: each ballot's status is committed as soon as it is
known, so a re-run sends only what was not sent; a motion whose text, papers,
electorate, rule or deadline changed after any ballot went out is refused.
"""

from __future__ import annotations

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

from steervote.adapters.store import RecordedMotion, Store
from steervote.core.address import needs_smtputf8
from steervote.core.ballot import (
    Addressing,
    Attachment,
    ballot_message_id,
    fingerprint,
    motion_digest,
    new_token,
)
from steervote.core.deadline import parse_duration
from steervote.core.motion import Motion
from steervote.core.motion_file import DEFAULT_MAX_ATTACHMENT_BYTES
from steervote.core.press import BallotPress
from steervote.core.records import BallotRecord, BallotStatus
from steervote.errors import InvalidInput, MailServerError, MotionChanged, MotionInvalid


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
    to_send: tuple[BallotRecord, ...]  # ballots and copies not yet sent
    already_sent: int
    digest: str


@dataclass(frozen=True, slots=True)
class ProposeResult:
    """Every ballot and copy of the motion, with its status after this run."""

    plan: Plan
    ballots: tuple[BallotRecord, ...]
    sent_now: int
    failed_now: int
    error: str | None  # the transport gave up part-way (ballots left pending)
    # Sent, but the connection broke before the server confirmed it: recorded as sent (so
    # never sent twice) with a detail saying so; someone should check the server's log.
    unconfirmed_now: int = 0


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
) -> Plan:
    """Check the motion against what was recorded; say what a run would send. Writes nothing.

    With no store (a dry run before any database exists) the motion is treated as new.
    `attachments` are the motion's papers if already read (read_attachments).
    """
    if attachments is None:
        attachments = read_attachments(motion)
    recorded = store.recorded_motion(motion.id) if store is not None else None
    spec = motion.closes_spec
    if recorded is not None and parse_duration(spec) and spec == recorded.motion.closes_spec:
        # "closes: 7d" means 7 days from when the motion was first proposed, not from now.
        motion = replace(motion, closes=recorded.motion.closes)
    digest = motion_digest(motion, attachments)
    fp = fingerprint(motion, attachments)
    if recorded is None or recorded.digest != digest:
        ballots = store.ballots(motion.id) if store is not None and recorded else []
        sent = [b for b in ballots if b.status is BallotStatus.SENT]
        if recorded is not None and sent:
            raise MotionChanged(_changed(motion, recorded, len(sent)))
        fresh = tuple(_new_ballots(motion, addressing))
        return Plan(motion, fp, attachments, False, fresh, 0, digest)
    assert store is not None
    ballots = store.ballots(motion.id)
    todo = tuple(b for b in ballots if b.status is not BallotStatus.SENT)
    if todo and recorded.motion.closes <= now:
        # A relative deadline keeps the first run's date, which may have passed since:
        # a ballot sent now would ask for a vote that can no longer count.
        raise InvalidInput(
            f"motion {motion.id}: voting closed at "
            f"{recorded.motion.closes.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
            f"{len(todo)} ballot(s) never sent will not be sent now "
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
    )


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
        f"motion {motion.id}: {', '.join(what)} changed after {sent} ballot(s) went out; "
        "refusing to send a different motion under the same id (propose it under a new id)"
    )


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
    """Record the motion if new, then send every unsent ballot, recording each result."""
    motion = the_plan.motion
    members = {m.id: m for m in motion.committee.members}
    observers = {o.email.lower(): o for o in motion.committee.observers}
    # Every message is made, or shown to be makeable, before anything is recorded: a
    # motion that validated must never stop half-way with its record written.
    press = BallotPress(motion, addressing, the_plan.attachments, now())
    for b in the_plan.to_send:
        recipient = members[b.recipient] if b.voting else observers[b.recipient]
        press.check(recipient, (b.token or "") if b.voting else b.message_id)
    if not the_plan.recorded:
        store.record_motion(
            motion,
            digest=the_plan.digest,
            ballots=the_plan.to_send,
            now=now(),
        )
    envelope_from = parseaddr(addressing.sender)[1]
    sent = failed = unconfirmed = 0
    error = None
    with store.ballot_marker(motion.id) as mark:
        for b in the_plan.to_send:
            msg: EmailMessage | bytes
            if b.voting:
                assert b.token is not None
                msg = press.ballot(members[b.recipient], b.token)
            else:
                msg = press.copy(observers[b.recipient], b.message_id)
            try:
                result = transport.send(msg, sender=envelope_from, recipients=[b.address])
            except MailServerError as e:
                error = str(e)
                break
            if result.ok:
                mark(b.recipient, BallotStatus.SENT, "", now())
                sent += 1
            elif result.delivery_unknown:
                # The server may have taken it: a re-run must not send it again, since a member
                # must never get two ballots. Recorded as sent, with why it is in doubt.
                detail = f"delivery unconfirmed: {result.reason}"
                mark(b.recipient, BallotStatus.SENT, detail, now())
                unconfirmed += 1
            else:
                detail = " ".join(x for x in (str(result.code or ""), result.reason) if x)
                mark(b.recipient, BallotStatus.FAILED, detail, now())
                failed += 1
            progress(b)
    return ProposeResult(
        the_plan, tuple(store.ballots(motion.id)), sent, failed, error, unconfirmed
    )
