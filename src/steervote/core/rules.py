"""Thresholds, quorum, ties and the casting vote: counts in, an outcome out.

The rules are those of DESIGN.md ("Rules"); this docstring records the exact
definitions chosen where the design leaves room.

Final result (the deadline has passed), checked in this order:

1. Fewer counted votes (for + against + abstain) than the quorum: ``NO_QUORUM``.
   A casting ruling never counts towards the quorum.
2. The threshold is met: ``CARRIED``. With ``n`` voting members (the electorate):
   majority-of-votes-cast ``for > against``; majority-of-members ``2*for > n``;
   two-thirds-of-votes-cast ``for >= 2*against and for > 0``; two-thirds-of-members
   ``3*for >= 2*n``; unanimous ``for == n``. Integer arithmetic only, no rounding.
3. A tie that the chair's casting vote can break (below): ``TIED`` until the ruling is
   given, then ``CARRIED`` on a ruling FOR and ``DEFEATED`` on AGAINST or ABSTAIN.
4. Otherwise ``DEFEATED``.

A *tie* is ``for == against >= 1``: both sides have at least one vote and they are
equal. Nothing for and nothing against (only abstentions, or no votes) is not a tie:
there is no side to break it for, and a casting vote must never carry a motion that
no member voted for. A tie never meets any threshold on its own, so without a casting
vote it fails: ``DEFEATED`` with ``tie=True``.

The casting vote is one extra vote, given by the chair only to break a tie. The tie is
``TIED`` (waiting for the ruling) only when that one vote decides it: the threshold
counts votes cast (not members), and ``for + 1`` against ``against`` would carry.
So under majority-of-votes-cast every tie waits for the ruling; under
two-thirds-of-votes-cast only 1-1 does (2-1 is two-thirds; 3-2 is not); under the
member thresholds and unanimous a second vote from the chair does not add a member
who voted for, so a tie simply fails. A ruling of ABSTAIN means the chair declines to
use the casting vote: the tie stands, and a tie fails (``DEFEATED``). The ruling is
part of the input, so a ruling given before the deadline applies to whatever tie the
final count holds; a ruling given when there is no tie changes nothing.

Before the deadline, ``outstanding = electorate - counted`` members may each still vote
for, against or abstain, or not vote at all. If every such completion gives the same
final result, that result is reported with ``decided=True``; otherwise ``PENDING``.
The carrying condition is monotone (more for or fewer against never hurts), so it is
enough to look at the two extreme completions, every outstanding member for and every
outstanding member against, which makes this O(1) for any electorate. While the
quorum is not met the outcome is always pending: if nobody else votes it is
``NO_QUORUM``, if everybody does it is not.

"Decided" means decided by the votes *not yet cast*, as DESIGN.md says ("no possible
set of the remaining votes can change it"); it assumes the votes already counted stand.
A member's latest reply before the deadline stands, so a member who has voted may
change their vote, and the next tally may then be pending again or even reversed.
Treating every counted vote as changeable would make nothing decided before the
deadline, which helps nobody; instead the explanation of an early decision says
plainly that it holds unless a member changes their vote. ``final`` is the only
guarantee that nothing can change it.

``needed`` is the total number of FOR votes the threshold requires, given the AGAINST
votes counted so far: ``against + 1`` (majority-of-votes-cast), ``max(2*against, 1)``
(two-thirds-of-votes-cast), ``n // 2 + 1`` (majority-of-members), ``ceil(2n/3)``
(two-thirds-of-members), ``n`` (unanimous). It is the smallest ``for`` that meets the
threshold with the current ``against``; it ignores the quorum and the casting vote,
and under the votes-cast rules each further AGAINST vote raises it. It may exceed what
is still reachable; that motion is then decided ``DEFEATED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from steervote.core.motion import CastingVote, Threshold
from steervote.core.vote import Vote

_VOTES_CAST_THRESHOLDS = frozenset(
    {Threshold.MAJORITY_OF_VOTES_CAST, Threshold.TWO_THIRDS_OF_VOTES_CAST}
)


@dataclass(frozen=True, slots=True)
class Counts:
    """Counted votes on one motion; members who have not voted are not in here."""

    for_: int
    against: int
    abstain: int

    def __post_init__(self) -> None:
        if self.for_ < 0 or self.against < 0 or self.abstain < 0:
            raise ValueError(
                f"vote counts cannot be negative: for={self.for_}, "
                f"against={self.against}, abstain={self.abstain}"
            )

    @property
    def counted(self) -> int:
        """Every counted vote, abstentions included (what the quorum counts)."""
        return self.for_ + self.against + self.abstain

    @property
    def tie(self) -> bool:
        """For and against are equal, with at least one vote on each side."""
        return self.for_ == self.against >= 1


class Result(StrEnum):
    """What a motion's count comes to."""

    CARRIED = "carried"
    DEFEATED = "defeated"
    TIED = "tied"  # a tie waiting for the chair's casting ruling
    NO_QUORUM = "no_quorum"
    PENDING = "pending"  # before the deadline, when the outstanding votes can change it


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a count and why; see the module docstring for exact definitions."""

    result: Result
    decided: bool  # no completion of the outstanding votes can change it (True when final)
    final: bool  # the deadline has passed
    tie: bool  # the counts are a tie: for == against >= 1
    needed: int  # FOR votes the threshold requires, given the AGAINST votes so far
    explanation: str  # plain words, e.g. "majority of members needs 7 of 12 for"
    quorum_met: bool = False  # counted votes reach the quorum (a casting ruling never counts)
    # The final counts are a tie that the chair's casting ruling settled: FOR carried it,
    # AGAINST defeated it, ABSTAIN declined to use it (and a tie fails).
    by_casting_vote: bool = False


def default_quorum(electorate: int) -> int:
    """A majority of the voting members (Robert's Rules' default quorum)."""
    if electorate < 1:
        raise ValueError(f"the electorate must have at least 1 voting member, got {electorate}")
    return electorate // 2 + 1


def decide(
    counts: Counts,
    *,
    electorate: int,
    threshold: Threshold,
    quorum: int,
    final: bool,
    casting_vote: CastingVote = CastingVote.NONE,
    casting_ruling: Vote | None = None,
) -> Outcome:
    """The outcome of a motion from its counts: final, decided early, or pending."""
    _check(counts, electorate, quorum, casting_vote, casting_ruling)
    outstanding = electorate - counts.counted

    def result_of(for_: int, against: int, abstain: int, ruling: Vote | None) -> Result:
        if for_ + against + abstain < quorum:
            return Result.NO_QUORUM
        if _carries(threshold, for_, against, electorate):
            return Result.CARRIED
        if casting_vote is CastingVote.CHAIR and _casting_breaks(
            threshold, for_, against, electorate
        ):
            if ruling is None:
                return Result.TIED
            return Result.CARRIED if ruling is Vote.FOR else Result.DEFEATED
        return Result.DEFEATED

    f, a, s = counts.for_, counts.against, counts.abstain
    if final or outstanding == 0:
        result, decided = result_of(f, a, s, casting_ruling), True
    elif counts.counted < quorum:
        result, decided = Result.PENDING, False
    else:
        # With no ruling yet, a completion is TIED exactly where the FOR and AGAINST
        # rulings disagree, so the outcome is decided when all four ends agree.
        rulings: tuple[Vote | None, ...] = (casting_ruling,)
        if casting_vote is CastingVote.CHAIR and casting_ruling is None:
            rulings = (Vote.FOR, Vote.AGAINST)
        ends = {result_of(f + outstanding, a, s, r) for r in rulings}
        ends |= {result_of(f, a + outstanding, s, r) for r in rulings}
        decided = len(ends) == 1
        result = ends.pop() if decided else Result.PENDING

    needed = _needed(threshold, a, electorate)
    by_casting_vote = (
        (final or outstanding == 0)
        and result is not Result.NO_QUORUM
        and casting_vote is CastingVote.CHAIR
        and casting_ruling is not None
        and _casting_breaks(threshold, f, a, electorate)
    )
    return Outcome(
        result=result,
        decided=decided,
        final=final,
        tie=counts.tie,
        needed=needed,
        quorum_met=counts.counted >= quorum,
        by_casting_vote=by_casting_vote,
        explanation=_explain(
            result,
            counts,
            electorate=electorate,
            threshold=threshold,
            quorum=quorum,
            final=final,
            needed=needed,
            casting_vote=casting_vote,
            casting_ruling=casting_ruling,
        ),
    )


def _check(
    counts: Counts,
    electorate: int,
    quorum: int,
    casting_vote: CastingVote,
    casting_ruling: Vote | None,
) -> None:
    if electorate < 1:
        raise ValueError(f"the electorate must have at least 1 voting member, got {electorate}")
    if counts.counted > electorate:
        raise ValueError(
            f"{counts.counted} votes counted but the electorate has only {electorate} members"
        )
    if not 0 <= quorum <= electorate:
        raise ValueError(
            f"the quorum must be between 0 and {electorate} (the electorate), got {quorum}"
        )
    if casting_ruling is not None and casting_vote is not CastingVote.CHAIR:
        raise ValueError("a casting ruling was given but the motion has no casting vote")


def _carries(threshold: Threshold, for_: int, against: int, electorate: int) -> bool:
    match threshold:
        case Threshold.MAJORITY_OF_VOTES_CAST:
            return for_ > against
        case Threshold.MAJORITY_OF_MEMBERS:
            return 2 * for_ > electorate
        case Threshold.TWO_THIRDS_OF_VOTES_CAST:
            return for_ >= 2 * against and for_ > 0
        case Threshold.TWO_THIRDS_OF_MEMBERS:
            return 3 * for_ >= 2 * electorate
        case Threshold.UNANIMOUS:
            return for_ == electorate
        case _:
            assert_never(threshold)


def _casting_breaks(threshold: Threshold, for_: int, against: int, electorate: int) -> bool:
    # The casting vote is one extra vote cast; it cannot add a member who voted for.
    return (
        threshold in _VOTES_CAST_THRESHOLDS
        and for_ == against >= 1
        and _carries(threshold, for_ + 1, against, electorate)
    )


def _needed(threshold: Threshold, against: int, electorate: int) -> int:
    match threshold:
        case Threshold.MAJORITY_OF_VOTES_CAST:
            return against + 1
        case Threshold.MAJORITY_OF_MEMBERS:
            return electorate // 2 + 1
        case Threshold.TWO_THIRDS_OF_VOTES_CAST:
            return max(2 * against, 1)
        case Threshold.TWO_THIRDS_OF_MEMBERS:
            return -(-2 * electorate // 3)
        case Threshold.UNANIMOUS:
            return electorate
        case _:
            assert_never(threshold)


def _rule_words(threshold: Threshold, against: int, electorate: int, needed: int) -> str:
    match threshold:
        case Threshold.MAJORITY_OF_VOTES_CAST:
            return (
                f"majority of votes cast needs more for than against, abstentions not "
                f"counted: {needed} for to {against} against"
            )
        case Threshold.MAJORITY_OF_MEMBERS:
            return f"majority of members needs {needed} of {electorate} for"
        case Threshold.TWO_THIRDS_OF_VOTES_CAST:
            return (
                f"two-thirds of votes cast needs at least twice as many for as against, "
                f"abstentions not counted: {needed} for to {against} against"
            )
        case Threshold.TWO_THIRDS_OF_MEMBERS:
            return f"two-thirds of members needs {needed} of {electorate} for"
        case Threshold.UNANIMOUS:
            return f"unanimous needs all {electorate} of {electorate} for"
        case _:
            assert_never(threshold)


def _explain(
    result: Result,
    counts: Counts,
    *,
    electorate: int,
    threshold: Threshold,
    quorum: int,
    final: bool,
    needed: int,
    casting_vote: CastingVote,
    casting_ruling: Vote | None,
) -> str:
    outstanding = electorate - counts.counted
    tally = f"{counts.for_} for, {counts.against} against, {counts.abstain} abstained"
    if outstanding:
        tally += f", {outstanding} of {electorate} {'did not vote' if final else 'yet to vote'}"
    rule = _rule_words(threshold, counts.against, electorate, needed)
    parts = [f"{result.value.replace('_', ' ')}: {tally}", rule]
    if counts.counted < quorum:
        parts.append(f"quorum {quorum} not {'reached' if final else 'yet reached'}")
    counts_are_final = final or outstanding == 0
    if counts.tie and counts_are_final and result is not Result.NO_QUORUM:
        parts.append(_tie_words(threshold, counts, electorate, casting_vote, casting_ruling))
    if not final and result is not Result.PENDING:
        if outstanding:
            why = f"the {outstanding} members yet to vote cannot change it"
        else:
            why = "every member has voted"
        parts.append(
            f"decided before the deadline ({why}); it stands unless a member who has voted "
            f"changes their vote before the deadline"
        )
    return "; ".join(parts)


def _tie_words(
    threshold: Threshold,
    counts: Counts,
    electorate: int,
    casting_vote: CastingVote,
    casting_ruling: Vote | None,
) -> str:
    if casting_vote is CastingVote.NONE:
        return "for and against are tied, and a tie fails"
    if not _casting_breaks(threshold, counts.for_, counts.against, electorate):
        return (
            "for and against are tied, and a tie fails: "
            "the chair's casting vote cannot carry it under this rule"
        )
    if casting_ruling is None:
        return "for and against are tied: awaiting the chair's casting ruling"
    if casting_ruling is Vote.ABSTAIN:
        return (
            "for and against are tied and the chair declined to use the casting vote: a tie fails"
        )
    outcome = "carried" if casting_ruling is Vote.FOR else "defeated"
    return f"for and against are tied; {outcome} on the chair's casting vote"
