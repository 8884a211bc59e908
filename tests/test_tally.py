"""Per-member lines and the outcome from recorded replies and rulings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.records import Disposition, Received, Ruling
from steervote.core.rules import Result
from steervote.core.strength import Strength
from steervote.core.tally import Status, tally
from steervote.core.vote import Vote

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CLOSES = T0 + timedelta(days=2)
MEMBERS = tuple(Member(f"m{i}", f"Member {i}", f"m{i}@x.example") for i in range(5))
MOTION = Motion(
    id="budget",
    title="Approve the budget",
    text="That the budget is approved.",
    committee=Committee("c", "Committee", "Europe/London", MEMBERS),
    proposer="m0",
    threshold=Threshold.MAJORITY_OF_MEMBERS,
    quorum=3,
    closes=CLOSES,
)
_ref = iter(range(1, 10_000))


def reply(member: str, vote: Vote | None, at: datetime, reason: str = "") -> Received:
    disposition = Disposition.VOTE if vote else Disposition.NEEDS_REVIEW
    return Received(
        next(_ref),
        "budget",
        member,
        at,
        disposition,
        vote,
        str(vote),
        "",
        reason,
        "token",
        f"<{next(_ref)}@x>",
        f"{member}@x.example",
        Strength.TOKEN,
    )


def test_latest_timely_reply_stands() -> None:
    r = tally(
        MOTION,
        [reply("m1", Vote.FOR, T0), reply("m1", Vote.AGAINST, T0 + timedelta(hours=1))],
        [],
        now=T0 + timedelta(hours=2),
    )
    line = r.lines[1]
    assert line.status is Status.COUNTED and line.vote is Vote.AGAINST and line.replies == 2
    assert r.counts.against == 1 and r.counts.for_ == 0


def test_late_reply_is_not_counted_and_does_not_replace_a_timely_vote() -> None:
    late = CLOSES + timedelta(seconds=1)
    r = tally(
        MOTION,
        [reply("m1", Vote.FOR, T0), reply("m1", Vote.AGAINST, late), reply("m2", Vote.FOR, late)],
        [],
        now=late,
    )
    assert r.lines[1].vote is Vote.FOR and r.lines[1].status is Status.COUNTED
    assert r.lines[2].status is Status.LATE and r.lines[2].vote is None
    assert r.counts.for_ == 1 and r.late == 1 and r.closed


def test_reply_exactly_at_the_deadline_counts() -> None:
    r = tally(MOTION, [reply("m1", Vote.FOR, CLOSES)], [], now=CLOSES)
    assert r.lines[1].status is Status.COUNTED


def test_later_review_reply_puts_member_in_review_with_the_earlier_vote_shown() -> None:
    r = tally(
        MOTION,
        [reply("m1", Vote.FOR, T0), reply("m1", None, T0 + timedelta(hours=1), "conditional")],
        [],
        now=T0 + timedelta(hours=2),
    )
    line = r.lines[1]
    assert line.status is Status.NEEDS_REVIEW and line.vote is None
    assert "FOR" in line.note and "conditional" in line.note
    assert r.counts.for_ == 0 and r.needs_review == 1


def test_same_time_different_votes_needs_review() -> None:
    r = tally(MOTION, [reply("m1", Vote.FOR, T0), reply("m1", Vote.AGAINST, T0)], [], now=T0)
    assert r.lines[1].status is Status.NEEDS_REVIEW


def test_ruling_after_the_reply_decides_and_a_newer_reply_overrides_the_ruling() -> None:
    review = reply("m1", None, T0, "question")
    ruling = Ruling("budget", "m1", Vote.FOR, "confirmed by phone", "sec", T0 + timedelta(hours=1))
    r = tally(MOTION, [review], [ruling], now=T0 + timedelta(hours=2))
    assert r.lines[1].status is Status.COUNTED and r.lines[1].vote is Vote.FOR
    assert r.lines[1].how == "ruling"
    newer = reply("m1", Vote.AGAINST, T0 + timedelta(hours=3))
    r = tally(MOTION, [review, newer], [ruling], now=T0 + timedelta(hours=4))
    assert r.lines[1].vote is Vote.AGAINST and r.lines[1].how == "token"


def test_ruling_none_counts_no_vote() -> None:
    ruling = Ruling("budget", "m1", None, "not a vote", "sec", T0 + timedelta(hours=1))
    r = tally(MOTION, [reply("m1", None, T0)], [ruling], now=T0 + timedelta(hours=2))
    assert r.lines[1].status is Status.NOT_VOTED and r.needs_review == 0


def test_outcome_carried_and_decided_early() -> None:
    replies = [reply(f"m{i}", Vote.FOR, T0) for i in range(3)]
    r = tally(MOTION, replies, [], now=T0 + timedelta(hours=1))
    assert r.outcome.result is Result.CARRIED and r.outcome.decided and not r.closed


def test_reviews_keep_the_outcome_pending_when_they_could_change_it() -> None:
    replies = [reply("m0", Vote.FOR, T0), reply("m1", Vote.FOR, T0), reply("m2", None, T0)]
    replies += [reply("m3", Vote.AGAINST, T0)]
    r = tally(MOTION, replies, [], now=T0 + timedelta(hours=1))
    assert r.outcome.result is Result.PENDING and not r.outcome.decided
    r = tally(MOTION, replies, [], now=CLOSES)
    assert r.outcome.result is Result.DEFEATED and r.closed
