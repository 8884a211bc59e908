"""The result of a count in one sentence a chair can read aloud.

The terminal prints it under the report and the exports carry it word for word
(`result_text`), so it is built here, once, from the result value alone.
"""

from __future__ import annotations

from steervote.core.ballot import votes_needed
from steervote.core.motion import Motion, Threshold
from steervote.core.rules import Result
from steervote.core.tally import TallyResult
from steervote.core.vote import Vote


def result_line(r: TallyResult) -> str:
    """'CARRIED — 8 for, 2 against, 1 abstention of 12 members; majority of members needs
    7 of 12 for; quorum 7; decided', with '; 2 awaiting review' when any are."""
    c, o, n = r.counts, r.outcome, r.motion.electorate
    abst = "abstention" if c.abstain == 1 else "abstentions"
    line = (
        f"{o.result.value.upper().replace('_', ' ')}{_tie(r)} — {c.for_} for, "
        f"{c.against} against, {c.abstain} {abst} of {n} members; {rule_needs(r.motion)}; "
        f"quorum {r.motion.quorum}; {state(r)}"
    )
    if r.needs_review:
        line += f"; {r.needs_review} awaiting review"
    return line


def state(r: TallyResult) -> str:
    """'final' after the deadline, else 'decided' or 'pending'."""
    return "final" if r.closed else ("decided" if r.outcome.decided else "pending")


def rule_needs(motion: Motion) -> str:
    """The rule and what it needs, in a few words."""
    needed = votes_needed(motion)
    name = motion.threshold.value.replace("-", " ")
    if needed is not None:
        return f"{name} needs {needed} of {motion.electorate} for"
    if motion.threshold is Threshold.MAJORITY_OF_VOTES_CAST:
        return f"{name} needs more for than against"
    return f"{name} needs at least twice as many for as against"


def _tie(r: TallyResult) -> str:
    """What the sentence says of a tie, naming the chair's casting vote where it counts."""
    o = r.outcome
    if o.result is Result.TIED:
        return " (a tie, awaiting the chair's casting vote)"
    if not o.tie:
        return ""
    if o.by_casting_vote and r.casting is not None:
        if r.casting.ruling.vote is Vote.ABSTAIN:
            return " (a tie; the chair declined to use the casting vote)"
        return " (a tie, broken by the chair's casting vote)"
    return " (a tie)"
