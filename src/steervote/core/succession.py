"""Which of a member's replies and rulings stands, and what each one replaced.

A member's timely replies and the secretary's rulings are replayed in time order
(DESIGN.md, Matching): a reply replaces what stands (a vote, a reply in review or a
ruling) only when it is at least as strong (core.strength; a ruling stands as
RULING_STRENGTH) and not dated before it; otherwise, unless it says the same, it is in
doubt until a reply strong enough, or a ruling, settles it. A ruling settles every reply
received before it was made, and a later ruling replaces an earlier one.

Every step that replaces something is kept (`Replaced`), so that an export can say of
each earlier reply or ruling when it came, what it said and what replaced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from steervote.core.records import Disposition, Received, Ruling
from steervote.core.strength import RULING_STRENGTH, in_words

Step = Received | Ruling  # one event in a member's history


@dataclass(frozen=True, slots=True)
class Replaced:
    """An earlier reply or ruling that a later one replaced, and why, in words."""

    item: Step
    by: Step
    why: str


@dataclass(frozen=True, slots=True)
class Walk:
    """Where a member's replies and rulings leave them.

    standing: the last reply or ruling allowed to stand; replaced: what stood just before
    it (what it overrode), or None; counted: the last vote or ruling among those (what a
    later reply needing review displaced); doubt: a later reply not allowed to replace
    what stands, and why; superseded: every reply or ruling replaced, in time order.
    """

    standing: Step | None
    replaced: Step | None
    counted: Step | None
    doubt: tuple[Received, str] | None
    superseded: tuple[Replaced, ...]


def walk(timely: Sequence[Received], rulings: Sequence[Ruling]) -> Walk:
    """Replay timely replies (in receipt order) with the rulings (oldest first) in place.

    A ruling comes after every reply received at or before the time it was made. Only the
    latest ruling can decide the outcome (each ruling resets the member's standing), but
    the earlier ones are replayed too so that what each replaced is known.
    """
    events = _in_time_order(timely, rulings)
    standing: Step | None = None
    replaced: Step | None = None
    counted: Step | None = None
    doubt: tuple[Received, str] | None = None
    superseded: list[Replaced] = []
    for event in events:
        if isinstance(event, Ruling):
            why = f"ruled by {event.ruled_by}: {event.reason}"
            superseded += [Replaced(x, event, why) for x in _settled(standing, doubt)]
            standing, replaced, counted, doubt = event, standing, event, None
            continue
        cannot = None if standing is None else cannot_replace(event, standing)
        if cannot is None:
            if isinstance(standing, Ruling) or (
                standing is not None and standing.disposition is Disposition.VOTE
            ):
                counted = standing
            if standing is not None:
                superseded.append(Replaced(standing, event, "a later reply replaced it"))
            if doubt is not None:
                why = "in doubt, then a later reply strong enough to stand replaced it"
                superseded.append(Replaced(doubt[0], event, why))
            standing, replaced, doubt = event, standing, None
            if event.disposition is Disposition.VOTE:
                counted = event
        elif agrees(event, standing):
            continue  # weaker, but it says what stands: nothing new to confirm
        else:
            if doubt is not None:
                why = "in doubt, then a later reply in doubt took its place"
                superseded.append(Replaced(doubt[0], event, why))
            doubt = (event, cannot)
    if isinstance(standing, Received) and standing.disposition is Disposition.VOTE:
        counted = None
    if len(superseded) > 1:
        superseded.sort(key=lambda x: _time(x.item))
    return Walk(standing, replaced, counted, doubt, tuple(superseded))


def _in_time_order(timely: Sequence[Received], rulings: Sequence[Ruling]) -> list[Step]:
    if not rulings:
        return list(timely)  # the common case, kept cheap for a 20,000-member tally
    # Stable: replies keep their receipt order, and a reply received at the very moment of
    # a ruling comes before it (the ruling settles it).
    keyed: list[tuple[datetime, int, int, Step]] = [
        (r.received_at, 0, i, r) for i, r in enumerate(timely)
    ]
    keyed += [(r.ruled_at, 1, i, r) for i, r in enumerate(rulings)]
    return [event for *_, event in sorted(keyed, key=lambda k: k[:3])]


def _settled(standing: Step | None, doubt: tuple[Received, str] | None) -> list[Step]:
    return [x for x in (standing, doubt[0] if doubt else None) if x is not None]


def cannot_replace(r: Received, standing: Step) -> str | None:
    """Why r may not replace what stands, or None when it may."""
    was = RULING_STRENGTH if isinstance(standing, Ruling) else standing.strength
    if r.strength.rank < was.rank:
        return f"matched {in_words(r.strength, r.how)}, weaker than what it would replace"
    if isinstance(standing, Received) and r.dated and standing.dated and r.dated < standing.dated:
        return (
            f"its Date {when(r.dated)} is older than the reply it would replace "
            f"({when(standing.dated)}): replayed or delayed?"
        )
    if isinstance(standing, Ruling) and r.dated and r.dated < standing.ruled_at:
        # Written before the secretary ruled: the ruling may already have weighed it.
        return (
            f"its Date {when(r.dated)} is older than the ruling it would replace "
            f"({when(standing.ruled_at)}): replayed or delayed?"
        )
    return None


def agrees(r: Received, standing: Step | None) -> bool:
    """Whether r is a vote saying what stands (a vote or a ruling)."""
    if standing is None or r.disposition is not Disposition.VOTE:
        return False
    if isinstance(standing, Ruling):
        return r.vote is not None and r.vote == standing.vote
    return standing.disposition is Disposition.VOTE and r.vote == standing.vote


def described(x: Step) -> str:
    """'FOR by token on 2027-01-04 10:00 UTC', 'ruled AGAINST by sec on …: reason'."""
    if isinstance(x, Ruling):
        vote = x.vote.value.upper() if x.vote else "no vote"
        return f"ruled {vote} by {x.ruled_by} on {when(x.ruled_at)}: {x.reason}"
    if x.disposition is Disposition.VOTE and x.vote is not None:
        said = x.vote.value.upper()
    elif x.vote is not None:
        said = f"{x.vote.value.upper()}?"
    else:
        said = "unclear"
    return f"{said} {in_words(x.strength, x.how)} on {when(x.received_at)}"


def when(t: datetime) -> str:
    """A time to the minute in UTC, as notes show it: '2027-01-04 10:00 UTC'."""
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _time(x: Step) -> datetime:
    return x.ruled_at if isinstance(x, Ruling) else x.received_at
