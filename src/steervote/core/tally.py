"""Recorded replies and rulings -> one line per member -> counts -> outcome.

Per member (DESIGN.md): the server's receipt time decides lateness, and a time that is
not proven, read after the deadline, is for a person to judge; the latest reply before
the deadline stands and earlier ones stay in the audit trail; a later reply that needs
review puts the member in review with the earlier vote shown; a secretary's ruling
decides the replies received before it. A reply replaces what stands (a vote, a reply in
review or a ruling) only when it is at least as strong (core.strength) and not dated
before it; otherwise, unless it says the same, the member is in review with both shown
(core.succession replays a member's replies and rulings and keeps what each replaced).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from steervote.core.motion import Member, Motion
from steervote.core.receipt import doubtful_receipt
from steervote.core.records import CASTING, Disposition, Received, Ruling
from steervote.core.rules import Counts, Outcome, decide
from steervote.core.succession import Replaced, Walk, described, walk
from steervote.core.vote import Vote


class Status(StrEnum):
    """A member's standing in the tally."""

    COUNTED = "counted"
    NEEDS_REVIEW = "needs_review"
    LATE = "late"
    NOT_VOTED = "not_voted"


@dataclass(frozen=True, slots=True)
class StandingRuling:
    """A ruling in force and what stood just before it (a reply or an earlier ruling)."""

    ruling: Ruling
    replaces: Received | Ruling | None


@dataclass(frozen=True, slots=True)
class MemberLine:
    """One row of the report: what stands for this member and why.

    note: the report's short word on the line (empty for a plainly counted reply; `reason`
    is the full one). reading: the reading's reason for the reply a counted line stands on
    ("reads as for"). ruling: the member's ruling while no later reply has replaced it (in
    review too, when a later reply questions it). superseded: each earlier reply or
    ruling that a later one replaced, in time order.
    """

    member: Member
    status: Status
    vote: Vote | None
    received_at: datetime | None
    evidence: str | None
    message_id: str | None
    how: str | None  # token | subject+sender | thread+sender | ruling
    note: str  # why this status, in words a secretary can check
    replies: int  # replies recorded from this member (the audit trail)
    ref: int | None = None  # the recorded message this line stands on (Message-IDs repeat)
    strength: str | None = None  # core.strength.Strength of that message, or "ruling"
    ruling: StandingRuling | None = None
    superseded: tuple[Replaced, ...] = ()
    reading: str = ""

    @property
    def reason(self) -> str:
        """Why this status, never empty for a member counted, in review, late or ruled on:
        the reading's reason ("reads as for"), the review reason, "received after the
        deadline; not counted", "ruled by …"."""
        if self.reading and self.status is Status.COUNTED and self.how != "ruling":
            return f"{self.reading}; {self.note}" if self.note else self.reading
        return self.note


@dataclass(frozen=True, slots=True)
class TallyResult:
    """The whole count of one motion at one moment.

    casting: the chair's casting ruling in force (the latest; it replaces the one before).
    """

    motion: Motion
    lines: tuple[MemberLine, ...]
    counts: Counts
    needs_review: int
    not_voted: int
    late: int
    outcome: Outcome
    closed: bool
    casting: StandingRuling | None = None


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
    by_member_ruled: dict[str, list[Ruling]] = defaultdict(list)
    for ruling in sorted(rulings, key=lambda r: r.ruled_at):
        by_member_ruled[ruling.member_id].append(ruling)
    lines = tuple(
        _line(m, by_member.get(m.id, []), by_member_ruled.get(m.id, []), motion.closes)
        for m in motion.committee.members
    )
    counted = [x.vote for x in lines if x.status is Status.COUNTED and x.vote is not None]
    counts = Counts(
        for_=counted.count(Vote.FOR),
        against=counted.count(Vote.AGAINST),
        abstain=counted.count(Vote.ABSTAIN),
    )
    closed = now >= motion.closes
    casting = _standing_ruling(walk((), by_member_ruled.get(CASTING, [])))
    outcome = decide(
        counts,
        electorate=motion.electorate,
        threshold=motion.threshold,
        quorum=motion.quorum,
        final=closed,
        casting_vote=motion.casting_vote,
        casting_ruling=casting.ruling.vote if casting else None,
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
        casting=casting,
    )


def _line(
    member: Member, replies: list[Received], rulings: list[Ruling], closes: datetime
) -> MemberLine:
    timely: list[Received] = []
    late: list[Received] = []
    for r in replies:
        doubt = doubtful_receipt(r.received_from, r.received_at, r.read_at, closes)
        if doubt is not None:
            # Not known to be late, nor in time: a person must judge it, never "late".
            said = f"; reads as {r.vote.value.upper()}" if r.vote else ""
            timely.append(replace(r, disposition=Disposition.NEEDS_REVIEW, reason=doubt + said))
        elif r.received_at <= closes:
            timely.append(r)
        else:
            late.append(r)
    timely.sort(key=_order)
    late.sort(key=_order)
    if not timely and not rulings:
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
                last.strength.value,
            )
        return MemberLine(member, Status.NOT_VOTED, None, None, None, None, None, "", 0)
    return _standing_line(member, timely, walk(timely, rulings), len(replies))


def _standing_line(member: Member, timely: list[Received], w: Walk, n: int) -> MemberLine:
    """The line for what stands after the walk, with its ruling and what was replaced."""
    if w.doubt is not None:
        r, why = w.doubt
        assert w.standing is not None
        note = f"earlier: {described(w.standing)}; now: {described(r)} — confirm ({why})"
        return _review(member, r, note, n, w)
    standing = w.standing
    if isinstance(standing, Ruling):
        return _ruled(member, standing, timely, n, w)
    assert standing is not None
    # Two different readings at the very same receipt time: which came last is unknowable.
    same_time = {
        (r.disposition, r.vote)
        for r in timely
        if r.received_at == standing.received_at and r.strength.rank >= standing.strength.rank
    }
    if len(same_time) > 1:
        note = "several different replies received at the same time"
        return _review(member, standing, note, n, w)
    if standing.disposition is Disposition.VOTE and standing.vote is not None:
        note = "latest of several replies" if len(timely) > 1 else ""
        return MemberLine(
            member,
            Status.COUNTED,
            standing.vote,
            standing.received_at,
            standing.evidence,
            standing.message_id,
            standing.how,
            note,
            n,
            standing.ref,
            standing.strength.value,
            superseded=w.superseded,
            # The reading's own reason; "reads as for" for a record that kept none.
            reading=standing.reason or f"reads as {standing.vote.value}",
        )
    note = standing.reason
    counted = w.counted
    if isinstance(counted, Ruling):
        note = f"{note}; earlier: {described(counted)}"
    elif counted is not None:
        assert counted.vote is not None
        note = f"{note}; earlier reply voted {counted.vote.value.upper()}: {counted.evidence!r}"
    return _review(member, standing, note, n, w)


def _standing_ruling(w: Walk) -> StandingRuling | None:
    """The ruling that stands (or stands in question) after the walk, or None."""
    if isinstance(w.standing, Ruling):
        return StandingRuling(w.standing, w.replaced)
    return None


def _order(r: Received) -> tuple[datetime, int]:
    return (r.received_at, r.ref)


def _review(member: Member, last: Received, note: str, n: int, w: Walk) -> MemberLine:
    return MemberLine(
        member,
        Status.NEEDS_REVIEW,
        None,
        last.received_at,
        last.evidence or last.own_text[:200] or None,
        last.message_id,
        last.how,
        note,
        n,
        last.ref,
        last.strength.value,
        ruling=_standing_ruling(w),
        superseded=w.superseded,
    )


def _ruled(member: Member, ruling: Ruling, timely: list[Received], n: int, w: Walk) -> MemberLine:
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
        "ruling",
        ruling=StandingRuling(ruling, w.replaced),
        superseded=w.superseded,
    )
