"""Report a motion from the store and list what awaits review (services.ruling records
the secretary's rulings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steervote.adapters.store import RecordedMotion, Store
from steervote.core.address import mailbox_addresses
from steervote.core.deadline import parse_duration
from steervote.core.delivery import BallotCounts, count_ballots
from steervote.core.motion import Member
from steervote.core.records import IgnoredMessage, Received
from steervote.core.tally import MemberLine, Status, TallyResult, tally
from steervote.errors import UnknownMotion


@dataclass(frozen=True, slots=True)
class Report:
    """A motion's tally with the replies behind it and the messages ignored.

    ballots: how its ballots stand (None unless asked for: reading every ballot record
    costs a 20,000-member tally time that only an export needs).
    """

    result: TallyResult
    replies: tuple[Received, ...]
    ignored: tuple[IgnoredMessage, ...]
    ballots: BallotCounts | None = None
    sent: dict[str, int] | None = None  # Store.sent_counts: ballots, copies, each notice kind


def report(store: Store, motion_id: str, *, now: datetime, ballots: bool = False) -> Report:
    """Count one recorded motion as it stands now (with its ballot counts if `ballots`).
    Raises UnknownMotion naming the recorded motions when none has this id."""
    return report_of(store, recorded_or_unknown(store, motion_id), now=now, ballots=ballots)


def report_of(
    store: Store, recorded: RecordedMotion, *, now: datetime, ballots: bool = False
) -> Report:
    """Count a motion already loaded from the store (loading one costs O(electorate): a
    caller that needs the motion too loads it once, with recorded_or_unknown)."""
    motion = recorded.motion
    replies = tuple(store.received(motion.id))
    sent = store.sent_counts(motion.id)
    # "closes: 7d" counts from the first ballot or copy that goes out (services.propose):
    # until one has, the recorded deadline is only the first try's, and no clock runs.
    started = not parse_duration(motion.closes_spec) or bool(sent.get("ballot") or sent.get("copy"))
    result = tally(
        motion,
        replies,
        store.rulings(motion.id),
        now=now,
        withdrawn=recorded.withdrawn,
        clock_started=started,
        ballots_sent=store.ballots_sent_at(motion.id),
    )
    counted = count_ballots(store.ballots(motion.id)) if ballots else None
    return Report(result, replies, tuple(store.ignored(motion.id)), counted, sent)


def all_reports(store: Store, *, now: datetime, ballots: bool = False) -> list[Report]:
    """Every recorded motion, oldest first."""
    return [report(store, m, now=now, ballots=ballots) for m in store.motion_ids()]


def recorded_or_unknown(store: Store, motion_id: str) -> RecordedMotion:
    """The motion recorded under this id, with its withdrawal; UnknownMotion naming the
    recorded motions when there is none."""
    recorded = store.recorded_motion(motion_id)
    if recorded is None:
        known = ", ".join(store.motion_ids()) or "none yet"
        raise UnknownMotion(f"no motion {motion_id!r} in the store (recorded: {known})")
    return recorded


# --- awaiting review ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Awaiting:
    """A member awaiting review: their line, the reply it rests on (None when its record
    is gone), and that reply's number among the member's messages as `show` numbers them
    (so `steervote show MOTION MEMBER --raw N` prints it)."""

    line: MemberLine
    reply: Received | None
    number: int | None


def awaiting_review(
    store: Store, motion_id: str, *, now: datetime
) -> tuple[Report, list[Awaiting]]:
    """The motion's report and every member awaiting review, in the committee's order."""
    r = report(store, motion_id, now=now)
    waiting = [x for x in r.result.lines if x.status is Status.NEEDS_REVIEW]
    if not waiting:
        return r, []
    by_ref = {x.ref: x for x in r.replies}
    numbers = _message_numbers(store, motion_id, [x.member for x in waiting])
    return r, [
        Awaiting(x, by_ref.get(x.ref), numbers.get(x.ref))
        if x.ref is not None
        else Awaiting(x, None, None)
        for x in waiting
    ]


def _message_numbers(store: Store, motion_id: str, members: Sequence[Member]) -> dict[int, int]:
    """{message ref: its number among its member's messages}, numbered as services.show
    numbers a member's history: the messages matched to them on this motion, and those tied
    to no member sent from one of their addresses, each once, in receipt order, from 1."""
    ids = {m.id for m in members}
    by_address: dict[str, list[str]] = defaultdict(list)
    for m in members:
        for a in m.addresses():
            by_address[a].append(m.id)
    mine: dict[str, dict[int, tuple[datetime, int]]] = defaultdict(dict)
    for r in [*store.messages(motion_id), *store.messages(None)]:
        owners = {r.member_id} & ids if r.member_id is not None else set()
        if r.member_id is None:
            owners = {o for a in mailbox_addresses(r.sender) for o in by_address.get(a, ())}
        for owner in owners:
            mine[owner].setdefault(r.ref, (r.received_at, r.ref))
    numbers: dict[int, int] = {}
    for refs in mine.values():
        for i, (_, ref) in enumerate(sorted(refs.values()), start=1):
            numbers[ref] = i
    return numbers


def review_data(r: Report, waiting: Sequence[Awaiting]) -> dict[str, Any]:
    """The `review --json` object: plain JSON types, times ISO 8601 UTC; its keys are pinned
    by tests/test_first_week_review.py. Mail text is as recorded: escape it for a terminal."""
    m = r.result.motion
    return {
        "schema": 1,
        "motion": {"id": m.id, "title": m.title, "closes": _iso(m.closes)},
        "awaiting_review": [
            {
                "id": a.line.member.id,
                "name": a.line.member.name,
                "email": a.line.member.email,
                "received_at": _iso(a.line.received_at),
                "reason": a.line.note,
                "words": a.reply.own_text if a.reply is not None else a.line.evidence,
                "message": a.number,
                "from": a.reply.sender if a.reply is not None else None,
            }
            for a in waiting
        ],
    }


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t else None
