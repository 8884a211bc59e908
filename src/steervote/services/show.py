"""One member's whole history on a motion, from the store: what was sent to them, every
message received from or for them, every ruling, and which one stands now.

`show` settles "I said AGAINST!": the secretary sees each reply as it was read, in the
order it arrived, and can print the bytes as received. Read-only; nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steervote.adapters.store import Store
from steervote.core.address import mailbox_addresses
from steervote.core.member_lookup import find_member
from steervote.core.motion import Member, Motion
from steervote.core.receipt import is_proven
from steervote.core.records import CASTING, BallotRecord, NoticeRecord, RecordedMessage, Ruling
from steervote.core.tally import MemberLine, Status, TallyResult
from steervote.errors import ExitCode, InvalidInput, SteervoteError, UnknownMotion
from steervote.services.review import report_of

_EARLIEST = datetime.min.replace(tzinfo=UTC)  # where a ballot never sent sorts


class NotKept(SteervoteError):
    """The raw bytes of a message were not kept: there is nothing to print."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True, slots=True)
class Sent:
    """A ballot or notice sent to the member; its Message-ID holds a token of theirs."""

    kind: str  # "ballot", or a core.records.NoticeKind value ("receipt", "ask", ...)
    at: datetime | None  # aware UTC; None while not sent
    address: str
    status: str  # core.records.BallotStatus value
    message_id: str
    detail: str
    about: str = ""  # a notice's summary: what it said (the vote receipted, the reply asked about)


@dataclass(frozen=True, slots=True)
class Message:
    """A message received from or for the member, numbered 1..N in receipt order.

    late: received after the deadline; proven: its receipt time was set by the receiving
    side (core.receipt); stands: the member's current standing rests on it.
    """

    number: int
    record: RecordedMessage
    late: bool
    proven: bool
    stands: bool


@dataclass(frozen=True, slots=True)
class RulingEvent:
    """A ruling on the member's vote (casting: the chair's casting vote), numbered 1..K."""

    number: int
    ruling: Ruling
    casting: bool
    stands: bool


@dataclass(frozen=True, slots=True)
class Deadline:
    """The motion closes: a reply received after this is late."""

    at: datetime


Event = Sent | Message | RulingEvent | Deadline


@dataclass(frozen=True, slots=True)
class History:
    """A member's history on a motion: events in time order and where they stand now."""

    motion: Motion
    member: Member
    line: MemberLine  # the member's line in today's tally
    events: tuple[Event, ...]

    @property
    def messages(self) -> tuple[Message, ...]:
        """The messages received, in their numbered order."""
        return tuple(e for e in self.events if isinstance(e, Message))

    @property
    def stands_on(self) -> str | None:
        """What the member's standing rests on: "message 2", "ruling 1", or None."""
        for e in self.events:
            if isinstance(e, Message) and e.stands:
                return f"message {e.number}"
            if isinstance(e, RulingEvent) and e.stands:
                return f"ruling {e.number}"
        return None


def member_history(store: Store, motion_id: str, who: str, *, now: datetime) -> History:
    """The history of the member `who` (id, address or alias, or whole name) on a motion.

    Raises UnknownMotion for a motion not recorded, InvalidInput for a member not found
    (naming the nearest matches) or a name several members share (naming their ids).
    """
    recorded = store.recorded_motion(motion_id)
    if recorded is None:
        raise UnknownMotion.among(motion_id, store.motion_ids())
    motion = recorded.motion
    member = find_member(motion, who)
    result = report_of(store, recorded, now=now).result
    line = next(x for x in result.lines if x.member == member)
    standing_ruling = line.how == "ruling"
    events: list[Event] = [_sent(b) for b in store.ballots(motion_id) if b.recipient == member.id]
    events += [_notice(n) for n in store.notices(motion_id) if n.recipient == member.id]
    # Messages tied to no motion are searched too: a member's vote sent without the ballot's
    # token or subject tag is ignored, and is what "I did vote!" is about.
    messages = [*store.messages(motion_id), *store.messages(None)]
    events += _messages(messages, member, result, line, standing_ruling)
    events += _rulings(store.rulings(motion_id), member, standing_ruling)
    if result.clock_started:  # else no ballot went out: "closes: 7d" has not started
        events.append(Deadline(motion.closes))
    return History(motion, member, line, tuple(sorted(events, key=_when)))


def raw_message(store: Store, history: History, number: int) -> tuple[Message, bytes]:
    """The N-th message of a history (1-based) and its bytes as received.

    Raises InvalidInput when there is no such message, NotKept when its bytes were not kept.
    """
    messages = history.messages
    who = f"{history.member.id} on {history.motion.id}"
    if not messages:
        raise InvalidInput(f"--raw {number}: no message received from {who}")
    if not 1 <= number <= len(messages):
        n = len(messages)
        raise InvalidInput(
            f"--raw {number}: {n} message{'s' if n > 1 else ''} received from {who}: "
            f"give N from 1 to {n}"
        )
    message = messages[number - 1]
    data = store.raw_message(message.record.sha256) if message.record.kept else None
    if data is None:
        raise NotKept(
            f"message {number} of {who} was not kept as received (tied to no motion, not read "
            f"in full, or recorded before the store kept raw bytes); its SHA-256 is "
            f"{message.record.sha256}"
        )
    return message, data


# --- assembling the history --------------------------------------------------------


def _sent(b: BallotRecord) -> Sent:
    return Sent("ballot", b.sent_at, b.address, b.status.value, b.message_id, b.detail)


def _notice(n: NoticeRecord) -> Sent:
    return Sent(
        n.kind.value,
        n.sent_at or n.created_at,
        n.address,
        n.status.value,
        n.message_id,
        n.detail,
        n.summary,
    )


def _messages(
    recorded: Sequence[RecordedMessage],
    member: Member,
    result: TallyResult,
    line: MemberLine,
    standing_ruling: bool,
) -> list[Message]:
    """The member's messages: matched to them, or tied to no member and sent from one of
    their addresses; each once, in receipt order."""
    mine: dict[int, RecordedMessage] = {}
    addresses = set(member.addresses())
    for r in recorded:
        if r.member_id == member.id or (
            r.member_id is None and addresses & set(mailbox_addresses(r.sender))
        ):
            mine.setdefault(r.ref, r)
    ordered = sorted(mine.values(), key=lambda r: (r.received_at, r.ref))
    stands_on = None if standing_ruling or line.status is Status.NOT_VOTED else line.ref
    return [
        Message(
            number=i,
            record=r,
            late=result.clock_started and r.received_at > result.motion.closes,
            proven=is_proven(r.received_from),
            stands=r.ref == stands_on,
        )
        for i, r in enumerate(ordered, start=1)
    ]


def _rulings(rulings: Sequence[Ruling], member: Member, standing_ruling: bool) -> list[RulingEvent]:
    """The member's rulings, oldest first (the store's order, which the tally follows), and
    for the chair the casting-vote rulings; the last ruling on their vote may stand."""
    casting = member.role == "chair"
    mine = [r for r in rulings if r.member_id == member.id or (casting and r.member_id == CASTING)]
    own = [r for r in mine if r.member_id == member.id and r.undone is None]
    last = own[-1] if own and standing_ruling else None
    return [
        RulingEvent(i, r, r.member_id == CASTING, r is last) for i, r in enumerate(mine, start=1)
    ]


def _when(e: Event) -> datetime:
    if isinstance(e, Sent):
        # Receipt times are often whole seconds (IMAP INTERNALDATE): a reply in the second
        # its ballot went out sorts after it, as it came (ballots are listed first).
        return e.at.replace(microsecond=0) if e.at else _EARLIEST
    if isinstance(e, Message):
        return e.record.received_at
    if isinstance(e, RulingEvent):
        return e.ruling.ruled_at
    return e.at


# --- as data -----------------------------------------------------------------------


def history_data(h: History) -> dict[str, Any]:
    """The `show --json` object: plain JSON types, times ISO 8601 UTC (its keys are pinned
    by tests/test_cli_show.py). Mail text is as recorded: escape it before a terminal."""
    m, member, line = h.motion, h.member, h.line
    # null while no ballot has started a relative deadline (then no Deadline event either)
    closes = next((e.at.isoformat() for e in h.events if isinstance(e, Deadline)), None)
    return {
        "schema": 1,
        "motion": {"id": m.id, "title": m.title, "closes": closes},
        "member": {
            "id": member.id,
            "name": member.name,
            "email": member.email,
            "aliases": list(member.aliases),
            "role": member.role,
        },
        "standing": {
            "status": line.status.value,
            "vote": line.vote.value if line.vote else None,
            "how": line.how,
            "strength": line.strength,
            "reason": line.note,
            "on": h.stands_on,
        },
        "history": [_event_data(e) for e in h.events],
    }


def _event_data(e: Event) -> dict[str, Any]:
    if isinstance(e, Sent):
        return {
            "kind": e.kind,
            "at": _iso(e.at),
            "to": e.address,
            "status": e.status,
            "message_id": e.message_id,
            "detail": e.detail,
            "about": e.about,
        }
    if isinstance(e, Message):
        r = e.record
        return {
            "kind": "message",
            "number": e.number,
            "at": _iso(r.received_at),
            "time_from": r.received_from,
            "time_proven": e.proven,
            "late": e.late,
            "from": r.sender,
            "subject": r.subject,
            "message_id": r.message_id,
            "dated": _iso(r.dated),
            "motion": r.motion_id,
            "how": r.how or None,
            "strength": r.strength or None,
            "reading": r.disposition.value,
            "vote": r.vote.value if r.vote else None,
            "reason": r.reason,
            "evidence": r.evidence,
            "own_text": r.own_text,
            "sha256": r.sha256,
            "size": r.size,
            "kept": r.kept,
            "stands": e.stands,
        }
    if isinstance(e, RulingEvent):
        x = e.ruling
        return {
            "kind": "ruling",
            "number": e.number,
            "at": _iso(x.ruled_at),
            "casting": e.casting,
            "vote": x.vote.value if x.vote else None,
            "reason": x.reason,
            "by": x.ruled_by,
            "undone": None
            if x.undone is None
            else {
                "reason": x.undone.reason,
                "by": x.undone.undone_by,
                "at": _iso(x.undone.undone_at),
            },
            "stands": e.stands,
        }
    return {"kind": "closes", "at": _iso(e.at)}


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t else None
