"""Report a motion from the store; list what awaits review; record the secretary's rulings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from steervote.adapters.store import Store
from steervote.core.delivery import BallotCounts, count_ballots
from steervote.core.records import CASTING, IgnoredMessage, Received, Ruling
from steervote.core.tally import TallyResult, tally
from steervote.core.vote import Vote
from steervote.errors import InvalidInput, UnknownMotion


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
    """Count one recorded motion as it stands now (with its ballot counts if `ballots`)."""
    recorded = store.recorded_motion(motion_id)
    if recorded is None:
        known = ", ".join(store.motion_ids()) or "none yet"
        raise UnknownMotion(f"no motion {motion_id!r} in the store (recorded: {known})")
    replies = tuple(store.received(motion_id))
    result = tally(recorded.motion, replies, store.rulings(motion_id), now=now)
    counted = count_ballots(store.ballots(motion_id)) if ballots else None
    sent = store.sent_counts(motion_id)
    return Report(result, replies, tuple(store.ignored(motion_id)), counted, sent)


def all_reports(store: Store, *, now: datetime, ballots: bool = False) -> list[Report]:
    """Every recorded motion, oldest first."""
    return [report(store, m, now=now, ballots=ballots) for m in store.motion_ids()]


def rule(
    store: Store,
    motion_id: str,
    target: str,
    vote: Vote | None,
    *,
    reason: str,
    ruled_by: str,
    now: datetime,
) -> Report:
    """Record a ruling on a member's vote (or, target 'casting', the chair's casting vote)."""
    recorded = store.recorded_motion(motion_id)
    if recorded is None:
        raise UnknownMotion(f"no motion {motion_id!r} in the store")
    if not reason.strip():
        raise InvalidInput("--reason: say why (it is kept in the audit trail)")
    motion = recorded.motion
    if target == "casting":
        if motion.casting_vote.value != "chair":
            raise InvalidInput(
                f"motion {motion_id} has casting_vote: none; there is no casting vote"
            )
        member_id = CASTING
    else:
        try:
            member_id = motion.member(target).id
        except KeyError:
            raise InvalidInput(f"{target!r} is not a member id of motion {motion_id}") from None
    store.record_ruling(Ruling(motion_id, member_id, vote, reason.strip(), ruled_by, now))
    return report(store, motion_id, now=now)
