"""Per-member lines and the outcome from recorded replies and rulings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from steervote.core.motion import CastingVote, Committee, Member, Motion, Threshold
from steervote.core.records import CASTING, Disposition, Received, Ruling
from steervote.core.result_line import result_line
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


def test_a_replaced_reply_is_kept_with_what_replaced_it() -> None:
    first, second = reply("m1", Vote.FOR, T0), reply("m1", Vote.AGAINST, T0 + timedelta(hours=1))
    line = tally(MOTION, [first, second], [], now=T0 + timedelta(hours=2)).lines[1]
    assert line.reason == "reads as against; latest of several replies"
    [was] = line.superseded
    assert (was.item, was.by) == (first, second) and was.why
    assert line.ruling is None


def test_a_ruling_says_what_it_replaced_and_a_later_ruling_replaces_it() -> None:
    review = reply("m1", None, T0, "question")
    one = Ruling("budget", "m1", Vote.FOR, "phoned", "sec", T0 + timedelta(hours=1))
    two = Ruling("budget", "m1", Vote.AGAINST, "phoned again", "sec", T0 + timedelta(hours=2))
    line = tally(MOTION, [review], [one], now=T0 + timedelta(hours=3)).lines[1]
    assert line.ruling is not None and line.ruling.ruling == one
    assert line.ruling.replaces == review and line.reason == "ruled by sec: phoned"
    line = tally(MOTION, [review], [one, two], now=T0 + timedelta(hours=3)).lines[1]
    assert line.vote is Vote.AGAINST
    assert line.ruling is not None and (line.ruling.ruling, line.ruling.replaces) == (two, one)
    assert [(x.item, x.by) for x in line.superseded] == [(review, one), (one, two)]
    assert line.superseded[1].why == "ruled by sec: phoned again"


def test_a_reply_after_a_ruling_replaces_it_and_the_ruling_is_kept() -> None:
    ruling = Ruling("budget", "m1", Vote.FOR, "phoned", "sec", T0)
    newer = reply("m1", Vote.AGAINST, T0 + timedelta(hours=1))
    line = tally(MOTION, [newer], [ruling], now=T0 + timedelta(hours=2)).lines[1]
    assert line.vote is Vote.AGAINST and line.ruling is None
    assert [(x.item, x.by) for x in line.superseded] == [(ruling, newer)]


def test_a_weaker_reply_questions_a_ruling_that_still_stands() -> None:
    ruling = Ruling("budget", "m1", Vote.FOR, "phoned", "sec", T0)
    weak = replace(reply("m1", Vote.AGAINST, T0 + timedelta(hours=1)), strength=Strength.SUBJECT)
    line = tally(MOTION, [weak], [ruling], now=T0 + timedelta(hours=2)).lines[1]
    assert line.status is Status.NEEDS_REVIEW and line.reason.startswith("earlier: ruled FOR")
    assert line.ruling is not None and line.ruling.ruling == ruling and line.superseded == ()


def test_earlier_rulings_change_no_count() -> None:
    replies = [reply("m1", None, T0, "question"), reply("m2", Vote.FOR, T0)]
    later = Ruling("budget", "m1", Vote.AGAINST, "b", "sec", T0 + timedelta(hours=2))
    earlier = [
        Ruling("budget", "m1", Vote.FOR, "a", "sec", T0 + timedelta(hours=1)),
        Ruling("budget", "m2", None, "c", "sec", T0 - timedelta(hours=1)),
    ]
    now = T0 + timedelta(hours=3)
    alone, all_ = (
        tally(MOTION, replies, [later], now=now),
        tally(MOTION, replies, [*earlier, later], now=now),
    )
    assert [(x.status, x.vote) for x in alone.lines] == [(x.status, x.vote) for x in all_.lines]
    assert alone.counts == all_.counts and alone.outcome == all_.outcome


def tie_motion() -> Motion:
    chair = replace(MEMBERS[0], role="chair")
    committee = replace(MOTION.committee, members=(chair, *MEMBERS[1:]))
    return replace(
        MOTION,
        committee=committee,
        threshold=Threshold.MAJORITY_OF_VOTES_CAST,
        quorum=4,
        casting_vote=CastingVote.CHAIR,
    )


def test_the_casting_ruling_and_what_it_replaced_and_the_sentence() -> None:
    votes = [Vote.FOR, Vote.FOR, Vote.AGAINST, Vote.AGAINST]
    replies = [reply(f"m{i}", v, T0) for i, v in enumerate(votes)]
    first = Ruling("budget", CASTING, Vote.AGAINST, "first", "chair", CLOSES)
    second = Ruling("budget", CASTING, Vote.FOR, "casting", "chair", CLOSES + timedelta(hours=1))
    r = tally(tie_motion(), replies, [], now=CLOSES)
    assert r.outcome.result is Result.TIED and r.casting is None and r.outcome.quorum_met
    assert result_line(r).startswith("TIED (awaiting the chair's casting vote) — 2 for")
    assert result_line(r).endswith(
        'record the casting vote with: steervote rule budget --casting for --reason "…" (or '
        "against)"
    )
    r = tally(tie_motion(), replies, [first, second], now=CLOSES + timedelta(hours=2))
    assert r.outcome.result is Result.CARRIED and r.outcome.by_casting_vote
    assert r.casting is not None and (r.casting.ruling, r.casting.replaces) == (second, first)
    assert result_line(r).startswith("CARRIED on the chair's casting vote — 2 for, 2 against")
    assert "majority of votes cast: the chair's casting vote breaks a tie;" in result_line(r)
    assert "needs more for than against" not in result_line(r)
    declined = replace(second, vote=Vote.ABSTAIN)
    r = tally(tie_motion(), replies, [declined], now=CLOSES + timedelta(hours=2))
    assert result_line(r).startswith("DEFEATED (a tie; the chair declined to use the casting")
    assert "majority of votes cast: a tie fails; quorum 4 met; final: voting closed" in (
        result_line(r)
    )


def test_quorum_met_counts_counted_votes_only() -> None:
    r = tally(MOTION, [reply("m0", Vote.FOR, T0), reply("m1", None, T0)], [], now=CLOSES)
    assert not r.outcome.quorum_met and r.outcome.result is Result.NO_QUORUM
    three = [reply(f"m{i}", Vote.AGAINST, T0) for i in range(3)]
    assert tally(MOTION, three, [], now=CLOSES).outcome.quorum_met
