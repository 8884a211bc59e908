"""Rules: thresholds, quorum, ties, casting vote, and deciding before the deadline.

The reference below restates DESIGN.md's rules in the most literal form (fractions,
every completion of the outstanding votes) so that rules.py, which uses integer
arithmetic and two extreme completions, is checked against something independent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steervote.core.motion import CastingVote, Threshold
from steervote.core.rules import Counts, Outcome, Result, decide, default_quorum
from steervote.core.vote import Vote

MAJORITY_CAST = Threshold.MAJORITY_OF_VOTES_CAST
MAJORITY_MEMBERS = Threshold.MAJORITY_OF_MEMBERS
TWO_THIRDS_CAST = Threshold.TWO_THIRDS_OF_VOTES_CAST
TWO_THIRDS_MEMBERS = Threshold.TWO_THIRDS_OF_MEMBERS
UNANIMOUS = Threshold.UNANIMOUS

# Every casting setting a motion can be in: no casting vote, or a chair's casting vote
# with no ruling yet, or each possible ruling.
CASTING_SETTINGS: list[tuple[CastingVote, Vote | None]] = [
    (CastingVote.NONE, None),
    (CastingVote.CHAIR, None),
    (CastingVote.CHAIR, Vote.FOR),
    (CastingVote.CHAIR, Vote.AGAINST),
    (CastingVote.CHAIR, Vote.ABSTAIN),
]


# --- the reference: DESIGN.md "Rules", read literally ----------------------------------


def meets(threshold: Threshold, for_: int, against: int, electorate: int) -> bool:
    """Does this many for and against meet the threshold on its own?"""
    if threshold is MAJORITY_CAST:
        return for_ > against
    if threshold is MAJORITY_MEMBERS:
        return Fraction(for_) > Fraction(electorate, 2)
    if threshold is TWO_THIRDS_CAST:
        return for_ > 0 and Fraction(for_, for_ + against) >= Fraction(2, 3)
    if threshold is TWO_THIRDS_MEMBERS:
        return Fraction(for_, electorate) >= Fraction(2, 3)
    assert threshold is UNANIMOUS
    return for_ == electorate


@cache
def reference_result(
    for_: int,
    against: int,
    abstain: int,
    electorate: int,
    threshold: Threshold,
    quorum: int,
    casting: CastingVote,
    ruling: Vote | None,
) -> Result:
    """The result once the deadline has passed."""
    if for_ + against + abstain < quorum:
        return Result.NO_QUORUM
    if meets(threshold, for_, against, electorate):
        return Result.CARRIED
    votes_cast_rule = threshold in (MAJORITY_CAST, TWO_THIRDS_CAST)
    tie = for_ == against and for_ >= 1
    # The casting vote is one more vote for, and only breaks a tie it can decide.
    breakable = tie and votes_cast_rule and meets(threshold, for_ + 1, against, electorate)
    if casting is CastingVote.CHAIR and breakable:
        if ruling is None:
            return Result.TIED
        return Result.CARRIED if ruling is Vote.FOR else Result.DEFEATED
    return Result.DEFEATED


def completions(outstanding: int) -> list[tuple[int, int, int]]:
    """Every way the outstanding members can split into for, against, abstain (rest silent)."""
    return [
        (x, y, z)
        for x in range(outstanding + 1)
        for y in range(outstanding + 1 - x)
        for z in range(outstanding + 1 - x - y)
    ]


def brute_force(
    counts: Counts,
    electorate: int,
    threshold: Threshold,
    quorum: int,
    final: bool,
    casting: CastingVote,
    ruling: Vote | None,
) -> tuple[Result, bool]:
    """(result, decided) by trying every completion of the outstanding votes."""
    f, a, s = counts.for_, counts.against, counts.abstain
    if final:
        return reference_result(f, a, s, electorate, threshold, quorum, casting, ruling), True
    results = {
        reference_result(f + x, a + y, s + z, electorate, threshold, quorum, casting, ruling)
        for x, y, z in completions(electorate - counts.counted)
    }
    if len(results) == 1:
        return results.pop(), True
    return Result.PENDING, False


@cache
def reference_needed(threshold: Threshold, against: int, electorate: int) -> int:
    """The fewest for votes that meet the threshold with this many against."""
    return next(
        f for f in range(2 * against + electorate + 2) if meets(threshold, f, against, electorate)
    )


# --- unit tests: each rule on the motivating 12-member steering group ------------------


def final12(
    for_: int,
    against: int,
    abstain: int,
    threshold: Threshold,
    *,
    quorum: int = 7,
    casting: CastingVote = CastingVote.NONE,
    ruling: Vote | None = None,
) -> Outcome:
    return decide(
        Counts(for_, against, abstain),
        electorate=12,
        threshold=threshold,
        quorum=quorum,
        final=True,
        casting_vote=casting,
        casting_ruling=ruling,
    )


@pytest.mark.parametrize(
    ("threshold", "counts", "expected"),
    [
        # Majority of votes cast: abstentions do not count.
        (MAJORITY_CAST, (4, 3, 5), Result.CARRIED),
        (MAJORITY_CAST, (3, 4, 5), Result.DEFEATED),
        (MAJORITY_CAST, (1, 0, 11), Result.CARRIED),
        (MAJORITY_CAST, (0, 0, 12), Result.DEFEATED),
        # Majority of members: more than half of all 12, however many vote.
        (MAJORITY_MEMBERS, (7, 0, 0), Result.CARRIED),
        (MAJORITY_MEMBERS, (6, 0, 6), Result.DEFEATED),
        (MAJORITY_MEMBERS, (6, 1, 1), Result.DEFEATED),
        # Two-thirds of votes cast: for at least twice against, and some for.
        (TWO_THIRDS_CAST, (6, 3, 0), Result.CARRIED),
        (TWO_THIRDS_CAST, (5, 3, 4), Result.DEFEATED),
        (TWO_THIRDS_CAST, (0, 0, 12), Result.DEFEATED),
        (TWO_THIRDS_CAST, (1, 0, 11), Result.CARRIED),
        # Two-thirds of members: 8 of 12.
        (TWO_THIRDS_MEMBERS, (8, 4, 0), Result.CARRIED),
        (TWO_THIRDS_MEMBERS, (7, 0, 5), Result.DEFEATED),
        # Unanimous: every voting member votes for; an abstention or silence is not for.
        (UNANIMOUS, (12, 0, 0), Result.CARRIED),
        (UNANIMOUS, (11, 0, 1), Result.DEFEATED),
        (UNANIMOUS, (11, 0, 0), Result.DEFEATED),
    ],
)
def test_each_threshold(
    threshold: Threshold, counts: tuple[int, int, int], expected: Result
) -> None:
    outcome = final12(*counts, threshold, quorum=0)
    assert outcome.result is expected
    assert outcome.decided and outcome.final


@pytest.mark.parametrize(
    ("threshold", "against", "needed"),
    [
        (MAJORITY_CAST, 3, 4),
        (MAJORITY_CAST, 0, 1),
        (MAJORITY_MEMBERS, 5, 7),
        (TWO_THIRDS_CAST, 3, 6),
        (TWO_THIRDS_CAST, 0, 1),
        (TWO_THIRDS_MEMBERS, 0, 8),
        (UNANIMOUS, 0, 12),
    ],
)
def test_needed_is_the_for_votes_the_rule_requires(
    threshold: Threshold, against: int, needed: int
) -> None:
    assert final12(0, against, 0, threshold, quorum=0).needed == needed


def test_explanation_names_the_rule_in_plain_words() -> None:
    outcome = final12(7, 3, 2, MAJORITY_MEMBERS)
    assert "majority of members needs 7 of 12 for" in outcome.explanation
    assert outcome.explanation.startswith("carried: 7 for, 3 against, 2 abstained")


def test_default_quorum_is_a_majority_of_members() -> None:
    assert [default_quorum(n) for n in (1, 2, 3, 12, 13, 20_000)] == [1, 2, 2, 7, 7, 10_001]
    with pytest.raises(ValueError, match="at least 1"):
        default_quorum(0)


def test_below_quorum_at_the_deadline_is_no_quorum_whatever_the_votes() -> None:
    outcome = final12(6, 0, 0, MAJORITY_CAST, quorum=7)
    assert outcome.result is Result.NO_QUORUM
    assert "quorum 7 not reached" in outcome.explanation


def test_abstentions_count_towards_the_quorum() -> None:
    assert final12(2, 1, 4, MAJORITY_CAST, quorum=7).result is Result.CARRIED


def test_below_quorum_before_the_deadline_is_pending_even_with_a_majority() -> None:
    # 7 of 12 for is a majority of members, but if nobody else votes there is no quorum.
    outcome = decide(
        Counts(7, 0, 0), electorate=12, threshold=MAJORITY_MEMBERS, quorum=8, final=False
    )
    assert outcome.result is Result.PENDING and not outcome.decided
    assert "quorum 8 not yet reached" in outcome.explanation


def test_a_tie_fails_and_is_reported_as_a_tie() -> None:
    outcome = final12(5, 5, 2, MAJORITY_CAST)
    assert outcome.result is Result.DEFEATED
    assert outcome.tie
    assert "a tie fails" in outcome.explanation


def test_no_votes_either_way_is_not_a_tie() -> None:
    outcome = final12(0, 0, 12, MAJORITY_CAST, casting=CastingVote.CHAIR)
    assert outcome.result is Result.DEFEATED
    assert not outcome.tie


def test_a_tie_with_a_casting_vote_waits_for_the_ruling() -> None:
    outcome = final12(5, 5, 2, MAJORITY_CAST, casting=CastingVote.CHAIR)
    assert outcome.result is Result.TIED and outcome.tie
    assert "awaiting the chair's casting ruling" in outcome.explanation


@pytest.mark.parametrize(
    ("ruling", "expected"),
    [(Vote.FOR, Result.CARRIED), (Vote.AGAINST, Result.DEFEATED), (Vote.ABSTAIN, Result.DEFEATED)],
)
def test_the_casting_ruling_breaks_the_tie(ruling: Vote, expected: Result) -> None:
    outcome = final12(5, 5, 2, MAJORITY_CAST, casting=CastingVote.CHAIR, ruling=ruling)
    assert outcome.result is expected
    assert outcome.tie


def test_a_casting_ruling_without_a_tie_changes_nothing() -> None:
    outcome = final12(4, 5, 3, MAJORITY_CAST, casting=CastingVote.CHAIR, ruling=Vote.FOR)
    assert outcome.result is Result.DEFEATED and not outcome.tie


def test_a_casting_vote_breaks_a_two_thirds_tie_only_where_one_vote_decides_it() -> None:
    one_all = final12(1, 1, 10, TWO_THIRDS_CAST, casting=CastingVote.CHAIR)
    two_all = final12(2, 2, 8, TWO_THIRDS_CAST, casting=CastingVote.CHAIR)
    assert one_all.result is Result.TIED  # 2 to 1 is two-thirds
    assert two_all.result is Result.DEFEATED and two_all.tie  # 3 to 2 is not


@pytest.mark.parametrize("threshold", [MAJORITY_MEMBERS, TWO_THIRDS_MEMBERS, UNANIMOUS])
def test_a_casting_vote_does_not_add_a_member(threshold: Threshold) -> None:
    # 6 of 12 for is not more than half of the members; a second vote from the chair
    # does not make a seventh member vote for.
    outcome = final12(6, 6, 0, threshold, casting=CastingVote.CHAIR, ruling=Vote.FOR)
    assert outcome.result is Result.DEFEATED and outcome.tie
    two = decide(
        Counts(1, 1, 0),
        electorate=2,
        threshold=UNANIMOUS,
        quorum=0,
        final=True,
        casting_vote=CastingVote.CHAIR,
        casting_ruling=Vote.FOR,
    )
    assert two.result is Result.DEFEATED


def test_decided_early_when_the_outstanding_members_cannot_change_it() -> None:
    outcome = decide(
        Counts(7, 1, 0), electorate=12, threshold=MAJORITY_MEMBERS, quorum=7, final=False
    )
    assert outcome.result is Result.CARRIED and outcome.decided and not outcome.final
    # Honest about what "decided" rests on: members who voted may still change their vote.
    assert "4 members yet to vote cannot change it" in outcome.explanation
    assert "unless a member who has voted changes their vote" in outcome.explanation


def test_defeat_is_decided_early_when_the_rule_is_out_of_reach() -> None:
    outcome = decide(Counts(0, 1, 0), electorate=12, threshold=UNANIMOUS, quorum=1, final=False)
    assert outcome.result is Result.DEFEATED and outcome.decided


def test_a_lost_motion_stays_pending_until_the_quorum_is_met() -> None:
    # It can no longer carry, but "no quorum" and "defeated" are different results.
    outcome = decide(Counts(0, 1, 0), electorate=12, threshold=UNANIMOUS, quorum=7, final=False)
    assert outcome.result is Result.PENDING and not outcome.decided


def test_pending_while_the_outstanding_members_can_change_it() -> None:
    outcome = decide(
        Counts(6, 1, 0), electorate=12, threshold=MAJORITY_MEMBERS, quorum=7, final=False
    )
    assert outcome.result is Result.PENDING and not outcome.decided
    assert outcome.needed == 7


@pytest.mark.parametrize(
    ("counts", "electorate", "quorum", "message"),
    [
        (Counts(7, 6, 0), 12, 7, "13 votes counted"),
        (Counts(0, 0, 0), 12, -1, "quorum"),
        (Counts(0, 0, 0), 12, 13, "quorum"),
        (Counts(0, 0, 0), 0, 0, "at least 1"),
    ],
)
def test_invalid_input_is_refused(
    counts: Counts, electorate: int, quorum: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        decide(counts, electorate=electorate, threshold=MAJORITY_CAST, quorum=quorum, final=True)


@pytest.mark.parametrize("counts", [(-1, 0, 0), (0, -1, 0), (0, 0, -1)])
def test_negative_counts_are_refused(counts: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="negative"):
        Counts(*counts)


def test_a_casting_ruling_without_a_casting_vote_is_refused() -> None:
    with pytest.raises(ValueError, match="no casting vote"):
        final12(5, 5, 0, MAJORITY_CAST, casting=CastingVote.NONE, ruling=Vote.FOR)


def test_large_electorates_are_decided_by_arithmetic() -> None:
    # CPU time, with a bound no arithmetic misses and no enumeration of 10**9 meets.
    started = time.process_time()
    for threshold in Threshold:
        decide(
            Counts(300_000, 200_000, 1),
            electorate=10**9,
            threshold=threshold,
            quorum=default_quorum(10**9),
            final=False,
            casting_vote=CastingVote.CHAIR,
        )
    assert time.process_time() - started < 2


# --- exhaustive: every small case against the brute force ------------------------------


@pytest.mark.parametrize("threshold", list(Threshold))
@pytest.mark.parametrize("electorate", range(1, 8))
def test_exhaustive_against_brute_force(electorate: int, threshold: Threshold) -> None:
    checked = 0
    for quorum, final, (casting, ruling) in product(
        range(electorate + 1), (False, True), CASTING_SETTINGS
    ):
        for f, a, s in completions(electorate):
            counts = Counts(f, a, s)
            outcome = decide(
                counts,
                electorate=electorate,
                threshold=threshold,
                quorum=quorum,
                final=final,
                casting_vote=casting,
                casting_ruling=ruling,
            )
            expected = brute_force(counts, electorate, threshold, quorum, final, casting, ruling)
            case = (counts, electorate, threshold, quorum, final, casting, ruling)
            assert (outcome.result, outcome.decided) == expected, case
            assert outcome.final is final
            assert outcome.tie is (f == a >= 1), case
            assert outcome.needed == reference_needed(threshold, a, electorate), case
            checked += 1
    assert checked == (electorate + 1) * 2 * len(CASTING_SETTINGS) * len(completions(electorate))


# --- properties at the sizes of a real ballot ------------------------------------------


@dataclass(frozen=True)
class Case:
    """A motion part-way through its ballot."""

    counts: Counts
    electorate: int
    threshold: Threshold
    quorum: int
    casting: CastingVote
    ruling: Vote | None

    def decide(self, counts: Counts | None = None, *, final: bool) -> Outcome:
        return decide(
            self.counts if counts is None else counts,
            electorate=self.electorate,
            threshold=self.threshold,
            quorum=self.quorum,
            final=final,
            casting_vote=self.casting,
            casting_ruling=self.ruling,
        )

    @property
    def outstanding(self) -> int:
        return self.electorate - self.counts.counted


@st.composite
def cases(draw: st.DrawFn, max_electorate: int = 25_000) -> Case:
    electorate = draw(st.integers(1, max_electorate))
    f = draw(st.integers(0, electorate))
    a = draw(st.integers(0, electorate - f))
    s = draw(st.integers(0, electorate - f - a))
    casting, ruling = draw(st.sampled_from(CASTING_SETTINGS))
    return Case(
        counts=Counts(f, a, s),
        electorate=electorate,
        threshold=draw(st.sampled_from(list(Threshold))),
        quorum=draw(st.integers(0, electorate) | st.just(default_quorum(electorate))),
        casting=casting,
        ruling=ruling,
    )


def plus(counts: Counts, x: int, y: int, z: int) -> Counts:
    return Counts(counts.for_ + x, counts.against + y, counts.abstain + z)


@given(cases(), st.data())
def test_a_decided_outcome_survives_any_completion(case: Case, data: st.DataObject) -> None:
    outcome = case.decide(final=False)
    k = case.outstanding
    x = data.draw(st.integers(0, k) | st.sampled_from([0, k]))
    y = data.draw(st.integers(0, k - x) | st.sampled_from([0, k - x]))
    z = data.draw(st.integers(0, k - x - y))
    later = plus(case.counts, x, y, z)
    if outcome.decided:
        assert outcome.result is not Result.PENDING
        assert case.decide(later, final=True).result is outcome.result
        assert case.decide(later, final=False).result is outcome.result
    else:
        # Pending is honest: doing nothing, everyone for, everyone against, or everyone
        # abstaining already reach different results.
        assert outcome.result is Result.PENDING
        witnesses = [(0, 0, 0), (k, 0, 0), (0, k, 0), (0, 0, k)]
        results = {case.decide(plus(case.counts, *w), final=True).result for w in witnesses}
        assert len(results) > 1


@given(cases())
def test_final_outcomes_match_the_rules_as_written(case: Case) -> None:
    c = case.counts
    outcome = case.decide(final=True)
    expected = reference_result.__wrapped__(
        c.for_,
        c.against,
        c.abstain,
        case.electorate,
        case.threshold,
        case.quorum,
        case.casting,
        case.ruling,
    )
    assert outcome.result is expected
    assert outcome.decided and outcome.final
    assert outcome.tie is (c.for_ == c.against >= 1)


@given(cases(), st.sampled_from(["new voter", "from against", "from abstain"]), st.booleans())
def test_another_for_vote_never_turns_carried_into_defeated(
    case: Case, source: str, final: bool
) -> None:
    f, a, s = case.counts.for_, case.counts.against, case.counts.abstain
    if source == "new voter" and case.outstanding:
        more = Counts(f + 1, a, s)
    elif source == "from against" and a:
        more = Counts(f + 1, a - 1, s)
    elif source == "from abstain" and s:
        more = Counts(f + 1, a, s - 1)
    else:
        return
    if case.decide(final=final).result is Result.CARRIED:
        assert case.decide(more, final=final).result is Result.CARRIED


@given(cases())
def test_needed_is_exactly_enough(case: Case) -> None:
    needed, a = case.decide(final=True).needed, case.counts.against
    bare = replace(case, quorum=0, casting=CastingVote.NONE, ruling=None)
    if needed + a <= case.electorate:
        assert bare.decide(Counts(needed, a, 0), final=True).result is Result.CARRIED
    if needed >= 1 and needed - 1 + a <= case.electorate:
        assert bare.decide(Counts(needed - 1, a, 0), final=True).result is Result.DEFEATED
