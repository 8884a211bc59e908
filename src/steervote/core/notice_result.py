"""The result announcement: its one-line summary and its body, with what a correction changed."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from enum import StrEnum

from steervote.core.announcement_parts import Announced, html_part, text_part, vote_bar
from steervote.core.ballot import rule_in_words
from steervote.core.notice_words import (
    LINE_LIMIT,
    NAME_LIMIT,
    REASON_LIMIT,
    Body,
    as_sentence,
    deadline_of,
    local_time,
    plain,
    zone_note,
)
from steervote.core.result_line import result_line, review_can_change, time_left
from steervote.core.rules import Result
from steervote.core.tally import MemberLine, Status, TallyResult

_SUMMARY = re.compile(
    r"(?P<result>[A-Z][A-Z ]*) — (?P<for>\d+) for, (?P<against>\d+) against, "
    r"(?P<abstain>\d+) abstain, (?P<not_voted>\d+) not voted, (?P<review>\d+) in review"
    r"(?:, (?P<late>\d+) late)?; (?P<state>final|decided|provisional)(?:; roll (?P<roll>\w+))?"
)
_COUNTED = ("for", "against", "abstain", "not_voted", "review", "late")
_COUNT_NAMES = {"not_voted": "not voted", "review": "in review"}


def result_summary(result: TallyResult, *, counts_only: bool) -> str:
    """The result as announced, in one line: 'CARRIED — 3 for, 1 against, 0 abstain,
    1 not voted, 0 in review; final; roll 1a2b3c4d5e6f' (', 2 late' after 'in review' when
    any). The state is `announced_state`'s: final, decided (early) or provisional. Unless
    `counts_only`, 'roll' ends it: a digest of every member's line as the announcement
    lists it, so a change that leaves the totals alone is still a different result.
    Equal lines mean the same announcement; the line is the `previous` of a correction."""
    c = result.counts
    line = (
        f"{result.outcome.result.value.upper().replace('_', ' ')} — {c.for_} for, "
        f"{c.against} against, {c.abstain} abstain, {result.not_voted} not voted, "
        f"{result.needs_review} in review"
    )
    if result.late:
        line += f", {result.late} late"
    line += f"; {announced_state(result)}"
    if not counts_only:
        rows = [[x.member.id, _standing(x)] for x in result.lines]
        digest = hashlib.sha256(json.dumps(rows).encode("ascii")).hexdigest()[:12]
        line += f"; roll {digest}"
    return line


class Awaited(StrEnum):
    """What a result still waits for before it may be called final (or decided early)."""

    CASTING_VOTE = "the chair's casting vote"
    REVIEW = "rulings on the replies in review"


def awaited(result: TallyResult) -> tuple[Awaited, ...]:
    """What the result waits for, besides the deadline, before nothing but a new vote can
    change it: the chair's casting vote on a tie (TIED, before or after the deadline), and
    after the deadline rulings on replies in review that could change it (before the
    deadline a member in review is one not yet counted, which `decided` already weighs)."""
    waits = []
    if result.outcome.result is Result.TIED:
        waits.append(Awaited.CASTING_VOTE)
    # result_line's own test, so that the announcement agrees with the secretary's sentence.
    if result.closed and result.needs_review and review_can_change(result):
        waits.append(Awaited.REVIEW)
    return tuple(waits)


def announced_state(result: TallyResult) -> str:
    """How an announcement may call the result: 'final' (closed, nothing awaited),
    'decided' (before the deadline, decided, nothing awaited) or 'provisional'."""
    if awaited(result):
        return "provisional"
    if result.closed:
        return "final"
    return "decided" if result.outcome.decided else "provisional"


def member_result_line(result: TallyResult) -> str:
    """The result sentence for members: core.result_line's result, counts, rule and quorum,
    without its standing (which the announcement states in words of its own, never "final"
    beside "not final") and without what it tells the secretary to do (a command such as
    'record the casting vote with: steervote rule …' is never mailed to members)."""
    parts = result_line(result).split("; ")
    quorum = next((i for i, p in enumerate(parts) if p.startswith("quorum ")), 2)
    return "; ".join(parts[: quorum + 1])


def _members(n: int) -> str:
    return f"{n:,} {'member' if n == 1 else 'members'}"


def _awaited_in_words(result: TallyResult) -> str:
    """What the result waits for, in words for members: 'the tie awaits the chair's
    casting vote, and the secretary has still to rule on the replies of 1 member, which
    could change it'."""
    said = []
    for wait in awaited(result):
        if wait is Awaited.CASTING_VOTE:
            said.append("the tie awaits the chair's casting vote")
        else:
            said.append(
                f"the secretary has still to rule on the replies of "
                f"{_members(result.needs_review)}, which could change it"
            )
    return ", and ".join(said)


def _standing(line: MemberLine) -> str:
    """What the announcement lists for a member: 'FOR', 'AGAINST (by ruling)', 'in review'."""
    ruled = line.how == "ruling"
    if line.status is Status.COUNTED and line.vote is not None:
        return line.vote.value.upper() + (" (by ruling)" if ruled else "")
    if line.status is Status.NEEDS_REVIEW:
        return "in review"
    if line.status is Status.LATE:
        return "late, not counted"
    return "no vote (by ruling)" if ruled else "not voted"


def _changes(previous: str, now: str) -> tuple[str, str]:
    """The earlier summary as members read it (without its roll digest) and what changed."""
    was, new = _SUMMARY.fullmatch(previous), _SUMMARY.fullmatch(now)
    if was is None or new is None:
        return plain(previous, REASON_LIMIT), "see the result below"
    shown = plain(previous.partition("; roll ")[0], REASON_LIMIT)
    changed = []
    if was["result"] != new["result"]:
        changed.append(f"the result, {was['result']} → {new['result']}")
    for key in _COUNTED:
        before, after = was[key] or "0", new[key] or "0"
        if before != after:
            changed.append(f"{_COUNT_NAMES.get(key, key)} {before} → {after}")
    if was["state"] != new["state"]:
        changed.append(f"{was['state']} → {new['state']}")
    if not changed and was["roll"] != new["roll"]:
        changed.append("the votes of individual members (the totals are unchanged)")
    return shown, "; ".join(changed) or "see the result below"


def announcement_body(
    result: TallyResult,
    *,
    provisional: bool,
    counts_only: bool,
    previous: str | None,
    now: datetime,
) -> Body:
    """The result announcement for members and observers, as text and HTML.

    It has the result sentence (core.result_line), the counts, the rule, the quorum, the
    deadline, the authority, whether the result is final, decided early or provisional
    (`announced_state`: a tie awaiting the casting vote, or a closed result that rulings on
    replies in review could change, is provisional, and says what it waits for), and,
    unless `counts_only`, each member's vote. The result sentence is `member_result_line`:
    it never tells members the secretary's commands. previous: the `result_summary` of the
    announcement this one corrects (None for the first); the correction says so at the
    top with what changed. The HTML part says the same, every motion and member string
    escaped, with a bar of the votes drawn in inline CSS (no image, script or remote
    content). ValueError for a result that is neither final nor decided unless
    `provisional` (a final or decided result is announced as such whatever the flag).
    """
    o, motion = result.outcome, result.motion
    state = announced_state(result)
    if state == "provisional" and not provisional:
        raise ValueError("a result neither final nor decided is announced as provisional")
    deadline, tz = deadline_of(motion), motion.committee.timezone
    if state == "final":
        said = f"This result is final: voting closed on {deadline}."
    elif awaited(result):
        when = (
            f"voting closed on {deadline}"
            if result.closed
            else f"voting is open until {deadline} ({time_left(motion.closes, now)} left)"
        )
        said = (
            f"This result is provisional: {when}, but {_awaited_in_words(result)}. "
            "The result will be announced again once it is settled."
        )
    elif state == "decided":
        outstanding = motion.electorate - result.counts.counted
        why = (
            f"the {_members(outstanding)} yet to vote cannot change it"
            if outstanding
            else "every member has voted"
        )
        said = (
            f"This result was decided before the deadline: {why}. It stands unless a member "
            f"who has voted changes their vote before {deadline}."
        )
    else:
        said = (
            f"This is a provisional count: voting is open until {deadline} "
            f"({time_left(motion.closes, now)} left), and the result may still change."
        )
    c = result.counts
    counts = [
        ("For", c.for_),
        ("Against", c.against),
        ("Abstain", c.abstain),
        ("In review", result.needs_review),
        ("Not voted", result.not_voted),
    ]
    if result.late:
        counts.append(("Late, not counted", result.late))
    met = "met" if o.quorum_met else ("not met" if result.closed else "not yet met")
    facts = [
        ("Rule", as_sentence(rule_in_words(motion))),
        ("Quorum", f"{motion.quorum} counted votes needed; {c.counted} counted: {met}."),
        ("Voting closed" if result.closed else "Voting closes", deadline),
    ]
    if motion.authority:
        facts.append(("Authority", plain(motion.authority, REASON_LIMIT)))
    facts.append(("Counted", local_time(now, tz)))
    members = None
    if not counts_only:
        members = tuple((plain(x.member.name, NAME_LIMIT), _standing(x)) for x in result.lines)
    correction = None
    if previous is not None:
        correction = _changes(previous, result_summary(result, counts_only=counts_only))
    content = Announced(
        heading=f"Motion {plain(motion.id, LINE_LIMIT)}: {plain(motion.title, LINE_LIMIT)}",
        correction=correction,
        result=plain(member_result_line(result), REASON_LIMIT),
        state=said,
        counts=tuple(counts),
        facts=tuple(facts),
        members=members,
        footer=zone_note(motion),
    )
    if previous is not None:
        subject = "Correction to the result"
    else:
        subject = "Provisional result" if state == "provisional" else "Result"
    return Body(subject, text_part(content), html_part(content, vote_bar(result)))
