"""Recorded replies and rulings -> one line per member -> counts -> outcome.

Per member (DESIGN.md): the server's receipt time decides lateness, and a time that is
not proven, read after the deadline, is for a person to judge; the latest reply before
the deadline stands and earlier ones stay in the audit trail; a later reply that needs
review puts the member in review with the earlier vote shown; a secretary's ruling
decides the replies received before it. A reply replaces what stands (a vote, a reply in
review or a ruling) only when it is at least as strong (core.strength) and not dated
before it; otherwise, unless it says the same, the member is in review with both shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from steervote.core.motion import Member, Motion
from steervote.core.receipt import doubtful_receipt
from steervote.core.records import CASTING, Disposition, Received, Ruling
from steervote.core.rules import Counts, Outcome, decide
from steervote.core.strength import RULING_STRENGTH, in_words
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
    how: str | None  # token | subject+sender | thread+sender | ruling
    note: str  # why this status, in words a secretary can check
    replies: int  # replies recorded from this member (the audit trail)
    ref: int | None = None  # the recorded message this line stands on (Message-IDs repeat)
    strength: str | None = None  # core.strength.Strength of that message, or "ruling"


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
    if not timely and ruling is None:
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
    walk = _walk(timely, ruling)
    if walk.doubt is not None:
        r, why = walk.doubt
        assert walk.standing is not None
        note = f"earlier: {_described(walk.standing)}; now: {_described(r)} — confirm ({why})"
        return _review(member, r, note, replies)
    standing = walk.standing
    if isinstance(standing, Ruling):
        return _ruled(member, standing, timely, len(replies))
    assert standing is not None
    # Two different readings at the very same receipt time: which came last is unknowable.
    same_time = {
        (r.disposition, r.vote)
        for r in timely
        if r.received_at == standing.received_at and r.strength.rank >= standing.strength.rank
    }
    if len(same_time) > 1:
        note = "several different replies received at the same time"
        return _review(member, standing, note, replies)
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
            len(replies),
            standing.ref,
            standing.strength.value,
        )
    note = standing.reason
    counted = walk.counted
    if isinstance(counted, Ruling):
        note = f"{note}; earlier: {_described(counted)}"
    elif counted is not None:
        assert counted.vote is not None
        note = f"{note}; earlier reply voted {counted.vote.value.upper()}: {counted.evidence!r}"
    return _review(member, standing, note, replies)


@dataclass(frozen=True, slots=True)
class _Walk:
    """Where a member's replies and ruling leave them.

    standing: the last reply or ruling allowed to stand; counted: the last vote or ruling
    among those (what a later reply needing review displaced); doubt: a later reply not
    allowed to replace what stood, and why.
    """

    standing: Received | Ruling | None
    counted: Received | Ruling | None
    doubt: tuple[Received, str] | None


def _walk(timely: list[Received], ruling: Ruling | None) -> _Walk:
    """Replay the member's timely replies in receipt order, the ruling in its place.

    A reply replaces what stands only when it is at least as strong (a ruling counts as
    RULING_STRENGTH) and not dated before it; otherwise, unless it says the same, the
    member is in doubt until a reply strong enough, or a ruling, settles it.
    """
    events: list[Received | Ruling] = list(timely)
    if ruling is not None:
        # A ruling settles every reply received before it was made.
        at = sum(r.received_at <= ruling.ruled_at for r in timely)
        events.insert(at, ruling)
    standing: Received | Ruling | None = None
    counted: Received | Ruling | None = None
    doubt: tuple[Received, str] | None = None
    for event in events:
        if isinstance(event, Ruling):
            standing, counted, doubt = event, event, None
            continue
        why = None if standing is None else _cannot_replace(event, standing)
        if why is None:
            if isinstance(standing, Ruling) or (
                standing is not None and standing.disposition is Disposition.VOTE
            ):
                counted = standing
            standing, doubt = event, None
            if event.disposition is Disposition.VOTE:
                counted = event
        elif _agrees(event, standing):
            continue  # weaker, but it says what stands: nothing new to confirm
        else:
            doubt = (event, why)
    if isinstance(standing, Received) and standing.disposition is Disposition.VOTE:
        counted = None
    return _Walk(standing, counted, doubt)


def _cannot_replace(r: Received, standing: Received | Ruling) -> str | None:
    """Why r may not replace what stands, or None when it may."""
    was = RULING_STRENGTH if isinstance(standing, Ruling) else standing.strength
    if r.strength.rank < was.rank:
        return f"matched {in_words(r.strength, r.how)}, weaker than what it would replace"
    if isinstance(standing, Received) and r.dated and standing.dated and r.dated < standing.dated:
        return (
            f"its Date {_when(r.dated)} is older than the reply it would replace "
            f"({_when(standing.dated)}): replayed or delayed?"
        )
    if isinstance(standing, Ruling) and r.dated and r.dated < standing.ruled_at:
        # Written before the secretary ruled: the ruling may already have weighed it.
        return (
            f"its Date {_when(r.dated)} is older than the ruling it would replace "
            f"({_when(standing.ruled_at)}): replayed or delayed?"
        )
    return None


def _agrees(r: Received, standing: Received | Ruling | None) -> bool:
    if standing is None or r.disposition is not Disposition.VOTE:
        return False
    if isinstance(standing, Ruling):
        return r.vote is not None and r.vote == standing.vote
    return standing.disposition is Disposition.VOTE and r.vote == standing.vote


def _described(x: Received | Ruling) -> str:
    """'FOR by token on 2027-01-04 10:00 UTC', 'ruled AGAINST by sec on …: reason'."""
    if isinstance(x, Ruling):
        vote = x.vote.value.upper() if x.vote else "no vote"
        return f"ruled {vote} by {x.ruled_by} on {_when(x.ruled_at)}: {x.reason}"
    if x.disposition is Disposition.VOTE and x.vote is not None:
        said = x.vote.value.upper()
    elif x.vote is not None:
        said = f"{x.vote.value.upper()}?"
    else:
        said = "unclear"
    return f"{said} {in_words(x.strength, x.how)} on {_when(x.received_at)}"


def _when(t: datetime) -> str:
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


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
        last.strength.value,
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
        "ruling",
    )
