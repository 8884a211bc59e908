"""The result of a count in one sentence a chair can read aloud.

The terminal prints it under the report and the exports carry it word for word
(`result_text`), so it is built here, once, from the result value alone; the terminal
passes the time of the count as well, and the sentence then says how long voting is
still open.

The sentence never contradicts itself: it names the result once (never "PENDING …
pending"), says what a tie awaits and the exact command that records the chair's casting
vote, says "carried on the chair's casting vote" rather than a threshold the counts do
not meet, says whether the quorum is met, and gives the deadline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steervote.core.ballot import votes_needed
from steervote.core.deadline import parse_duration, timezone_named
from steervote.core.motion import CastingVote, Motion, Threshold
from steervote.core.rules import Counts, Result, decide
from steervote.core.tally import TallyResult
from steervote.core.vote import Vote

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def result_line(r: TallyResult, *, now: datetime | None = None) -> str:
    """The result in one sentence, e.g. 'CARRIED — 7 for, 1 against, 1 abstention of 12
    members; majority of members needs 7 of 12 for; quorum 7 met; decided before the
    deadline: the 3 members not yet counted cannot change it (1 awaiting review); voting
    closes Sun 6 Dec 2026 17:38 GMT'.

    now: the time of the count (aware); before the deadline the sentence then adds the
    time left after the deadline ('(6 days 22 hours left)'). Without it the sentence
    depends on the result alone (what `tally --json` and the audit folder keep).
    """
    c, m = r.counts, r.motion
    abst = "abstention" if c.abstain == 1 else "abstentions"
    if r.withdrawn is not None:
        w = r.withdrawn
        return (
            f"WITHDRAWN by {w.by} on {w.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {w.reason} — "
            f"no result ({c.for_:,} for, {c.against:,} against, {c.abstain:,} {abst} "
            "had been received)"
        )
    parts = [
        f"{_head(r)} — {c.for_:,} for, {c.against:,} against, {c.abstain:,} {abst} "
        f"of {m.electorate:,} members",
        _rule(r),
        _quorum(r),
        *_standing(r, now),
    ]
    if r.outcome.result is Result.TIED:
        parts.append(
            f"record the casting vote with: steervote rule {m.id} --casting for "
            '--reason "…" (or against)'
        )
    return "; ".join(parts)


def state(r: TallyResult) -> str:
    """'final' after the deadline, else 'decided' or 'pending'."""
    return "final" if r.closed else ("decided" if r.outcome.decided else "pending")


def rule_needs(motion: Motion) -> str:
    """The rule and what it needs, in a few words."""
    needed = votes_needed(motion)
    name = motion.threshold.value.replace("-", " ")
    if needed is not None:
        return f"{name} needs {needed:,} of {motion.electorate:,} for"
    if motion.threshold is Threshold.MAJORITY_OF_VOTES_CAST:
        return f"{name} needs more for than against"
    return f"{name} needs at least twice as many for as against"


def local_time(when: datetime, timezone: str) -> str:
    """An aware time in an IANA timezone: 'Tue 12 Jan 2027 18:00 GMT'. English names,
    whatever the locale; a zone with no abbreviation shows its offset ('UTC+05:30'), and a
    name that is no IANA zone (a hand-edited audit folder) gives UTC."""
    try:
        local = when.astimezone(timezone_named(timezone))
    except ValueError:
        local = when.astimezone(UTC)
    zone = local.tzname() or ""
    if not zone or zone[0] in "+-":
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        zone = f"UTC{sign}{hours:02d}:{mins:02d}"
    day = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"
    return f"{day} {local:%H:%M} {zone}"


def time_left(closes: datetime, now: datetime, *, units: int = 2) -> str:
    """The time from `now` to `closes` in words, rounded down, in at most `units` units:
    '2 days 4 hours', '3 hours 5 minutes', '45 minutes', 'less than a minute'."""
    minutes = int((closes - now).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    while parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts[:units] if n)


def _head(r: TallyResult) -> str:
    """The result in capitals, with what a tie came to where the counts are a final tie."""
    o = r.outcome
    word = o.result.value.upper().replace("_", " ")
    if o.result is Result.TIED:
        return f"{word} (awaiting the chair's casting vote)"
    if o.result not in (Result.CARRIED, Result.DEFEATED) or not _final_tie(r):
        return word
    if o.by_casting_vote and r.casting is not None:
        if r.casting.ruling.vote is Vote.ABSTAIN:
            return f"{word} (a tie; the chair declined to use the casting vote)"
        return f"{word} on the chair's casting vote"
    if r.motion.casting_vote is CastingVote.CHAIR:
        return f"{word} (a tie fails: the chair's casting vote cannot carry it under this rule)"
    return f"{word} (a tie fails)"


def _final_tie(r: TallyResult) -> bool:
    """The counts are a tie that nobody's vote can still change (closed, or all voted)."""
    outstanding = r.motion.electorate - r.counts.counted
    return r.outcome.tie and (r.closed or outstanding == 0)


def _rule(r: TallyResult) -> str:
    """The rule; under it, what the counts still need, or how a tie is settled."""
    motion, o = r.motion, r.outcome
    words = rule_needs(motion)
    if o.result is Result.TIED or o.by_casting_vote:
        # Not what the counts fail to meet: what settles them.
        name = motion.threshold.value.replace("-", " ")
        if r.casting is not None and r.casting.ruling.vote is Vote.ABSTAIN:
            return f"{name}: a tie fails"
        return f"{name}: the chair's casting vote breaks a tie"
    needed = votes_needed(motion)
    if o.result is Result.PENDING and needed is not None and needed > r.counts.for_:
        return f"{words}: {needed - r.counts.for_:,} more"
    return words


def _quorum(r: TallyResult) -> str:
    q, counted = r.motion.quorum, r.counts.counted
    if r.outcome.quorum_met:
        return f"quorum {q:,} met"
    return f"quorum {q:,} {'not met' if r.closed else 'not yet met'} ({counted:,} counted)"


def _standing(r: TallyResult, now: datetime | None) -> list[str]:
    """Whether the result can still change, and the deadline (with the time left)."""
    m, o = r.motion, r.outcome
    deadline = local_time(m.closes, m.committee.timezone)
    review = r.needs_review
    if r.closed:
        closed = f"voting closed {deadline}"
        if review and review_can_change(r):
            return [closed, f"not final: a ruling on the {_awaiting(review)} can change it"]
        cannot = [f"the {_awaiting(review)} cannot change it"] if review else []
        return [f"final: {closed}", *cannot]
    left = f" ({time_left(m.closes, now)} left)" if now is not None and now < m.closes else ""
    closes = f"voting closes {deadline}{left}" if r.clock_started else _not_started(m)
    outstanding = m.electorate - r.counts.counted
    in_review = f" ({review:,} awaiting review)" if review else ""
    if not outstanding:
        return ["every member has voted", closes]
    who = f"{outstanding:,} {'member' if outstanding == 1 else 'members'} not yet counted"
    if o.decided:
        return [f"decided before the deadline: the {who} cannot change it{in_review}", closes]
    return [f"{who}{in_review}", closes]


def _not_started(m: Motion) -> str:
    """'voting closes 7 days after the first ballot goes out, and none has yet'."""
    duration = parse_duration(m.closes_spec) or timedelta()
    start = datetime(2000, 1, 1, tzinfo=UTC)
    after = time_left(start + duration, start, units=3)
    return f"voting closes {after} after the first ballot goes out, and none has yet"


def _awaiting(n: int) -> str:
    return f"{n:,} awaiting review"


def review_can_change(r: TallyResult) -> bool:
    """After the deadline: could rulings on the members in review change the result?

    Their rulings may each count FOR, AGAINST, ABSTAIN or no vote. Carrying is monotone in
    FOR and AGAINST, and the quorum in the votes counted, so the completions to compare
    are none of them counted, all FOR and all AGAINST (core.rules reasons the same way;
    a tie between them is one of these ends, see its docstring).
    """
    c, m, k = r.counts, r.motion, r.needs_review
    ruling = r.casting.ruling.vote if r.casting is not None else None
    ends = {
        decide(
            counts,
            electorate=m.electorate,
            threshold=m.threshold,
            quorum=m.quorum,
            final=True,
            casting_vote=m.casting_vote,
            casting_ruling=ruling,
        ).result
        for counts in (
            c,
            Counts(c.for_ + k, c.against, c.abstain),
            Counts(c.for_, c.against + k, c.abstain),
        )
    }
    return len(ends) > 1
