"""Recorded replies and rulings -> one line per member -> counts -> outcome.

Per member (DESIGN.md): the server's receipt time decides lateness; the latest
reply before the deadline stands and earlier ones stay in the audit trail; a later
reply that needs review puts the member in review with the earlier vote shown; a
secretary's ruling made after the latest reply decides that member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from steervote.core.motion import Member, Motion
from steervote.core.records import CASTING, Disposition, Received, Ruling
from steervote.core.rules import Counts, Outcome, decide
from steervote.core.vote import Vote


class Status(StrEnum):
    """A member's standing in the tally."""

    COUNTED = "counted"
    NEEDS_REVIEW = "needs_review"
    LATE = "late"
    NOT_VOTED = "not_voted"


@dataclass(frozen=True, slots=True)
class MemberLine:
    """One row of the report: what stands for this member and why."""

    member: Member
    status: Status
    vote: Vote | None
    received_at: datetime | None
    evidence: str | None
    message_id: str | None
    how: str | None  # token | subject+sender | ruling
    note: str  # why this status, in words a secretary can check
    replies: int  # replies recorded from this member (the audit trail)
    ref: int | None = None  # the recorded message this line stands on (Message-IDs repeat)


@dataclass(frozen=True, slots=True)
class TallyResult:
    """The whole count of one motion at one moment."""

    motion: Motion
    lines: tuple[MemberLine, ...]
    counts: Counts
    needs_review: int
    not_voted: int
    late: int
    outcome: Outcome
    closed: bool


def tally(
    motion: Motion,
    received: Sequence[Received],
    rulings: Sequence[Ruling],
    *,
    now: datetime,
) -> TallyResult:
    """Count one motion from its recorded replies and the secretary's rulings."""
    by_member: dict[str, list[Received]] = defaultdict(list)
    for r in received:
        by_member[r.member_id].append(r)
    latest_ruling: dict[str, Ruling] = {}
    for ruling in sorted(rulings, key=lambda r: r.ruled_at):
        latest_ruling[ruling.member_id] = ruling
    lines = tuple(
        _line(m, by_member.get(m.id, []), latest_ruling.get(m.id), motion.closes)
        for m in motion.committee.members
    )
    counted = [x.vote for x in lines if x.status is Status.COUNTED and x.vote is not None]
    counts = Counts(
        for_=counted.count(Vote.FOR),
        against=counted.count(Vote.AGAINST),
        abstain=counted.count(Vote.ABSTAIN),
    )
    closed = now >= motion.closes
    casting = latest_ruling.get(CASTING)
    outcome = decide(
        counts,
        electorate=motion.electorate,
        threshold=motion.threshold,
        quorum=motion.quorum,
        final=closed,
        casting_vote=motion.casting_vote,
        casting_ruling=casting.vote if casting else None,
    )
    return TallyResult(
        motion=motion,
        lines=lines,
        counts=counts,
        needs_review=sum(x.status is Status.NEEDS_REVIEW for x in lines),
        not_voted=sum(x.status is Status.NOT_VOTED for x in lines),
        late=sum(x.status is Status.LATE for x in lines),
        outcome=outcome,
        closed=closed,
    )


def _line(
    member: Member, replies: list[Received], ruling: Ruling | None, closes: datetime
) -> MemberLine:
    timely = sorted((r for r in replies if r.received_at <= closes), key=_order)
    late = sorted((r for r in replies if r.received_at > closes), key=_order)
    if ruling is not None and (not timely or ruling.ruled_at >= timely[-1].received_at):
        return _ruled(member, ruling, timely, len(replies))
    if not timely:
        if late:
            last = late[-1]
            return MemberLine(
                member,
                Status.LATE,
                None,
                last.received_at,
                last.evidence or None,
                last.message_id,
                last.how,
                "received after the deadline; not counted",
                len(replies),
                last.ref,
            )
        return MemberLine(member, Status.NOT_VOTED, None, None, None, None, None, "", 0)
    last = timely[-1]
    # Two different readings at the very same receipt time: which came last is unknowable.
    same_time = {(r.disposition, r.vote) for r in timely if r.received_at == last.received_at}
    if len(same_time) > 1:
        return _review(member, last, "several different replies received at the same time", replies)
    if last.disposition is Disposition.VOTE and last.vote is not None:
        note = "latest of several replies" if len(timely) > 1 else ""
        return MemberLine(
            member,
            Status.COUNTED,
            last.vote,
            last.received_at,
            last.evidence,
            last.message_id,
            last.how,
            note,
            len(replies),
            last.ref,
        )
    earlier = [r for r in timely[:-1] if r.disposition is Disposition.VOTE and r.vote]
    note = last.reason
    if earlier:
        prev = earlier[-1]
        assert prev.vote is not None
        note = f"{note}; earlier reply voted {prev.vote.value.upper()}: {prev.evidence!r}"
    return _review(member, last, note, replies)


def _order(r: Received) -> tuple[datetime, int]:
    return (r.received_at, r.ref)


def _review(member: Member, last: Received, note: str, replies: list[Received]) -> MemberLine:
    return MemberLine(
        member,
        Status.NEEDS_REVIEW,
        None,
        last.received_at,
        last.evidence or last.own_text[:200] or None,
        last.message_id,
        last.how,
        note,
        len(replies),
        last.ref,
    )


def _ruled(member: Member, ruling: Ruling, timely: list[Received], n: int) -> MemberLine:
    last = timely[-1] if timely else None
    note = f"ruled by {ruling.ruled_by}: {ruling.reason}"
    return MemberLine(
        member,
        Status.COUNTED if ruling.vote is not None else Status.NOT_VOTED,
        ruling.vote,
        last.received_at if last else None,
        last.evidence if last else None,
        last.message_id if last else None,
        "ruling",
        note,
        n,
        last.ref if last else None,
    )
