"""The words of receipts, asks, reminders and the result announcement (core.notice_text)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.notice_text import (
    Body,
    announcement_body,
    ask_body,
    local_time,
    plain,
    reason_in_plain_words,
    receipt_body,
    reminder_body,
    result_summary,
    time_left,
)
from steervote.core.records import Disposition, Received, Ruling
from steervote.core.rules import Counts
from steervote.core.strength import Strength
from steervote.core.tally import TallyResult, tally
from steervote.core.vote import Vote

T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)  # a Sunday, GMT in London
CLOSES = datetime(2027, 1, 12, 18, 0, tzinfo=UTC)  # Tue 12 Jan 2027 18:00 GMT
MEMBERS = (
    Member("jon", "Jon Lansman", "jon@x.example", role="chair"),
    Member("sam", "Sam Tarry", "sam@x.example"),
    Member("ann", "Ann Other", "ann@x.example"),
    Member("bo", "Bo Berg", "bo@x.example"),
    Member("cy", "Cy Dee", "cy@x.example"),
)
MOTION = Motion(
    id="new-constitution",
    title="Adopt the new constitution",
    text="That the Steering Group adopts the constitution attached.",
    committee=Committee("sg", "Steering Group", "Europe/London", MEMBERS),
    proposer="jon",
    threshold=Threshold.MAJORITY_OF_MEMBERS,
    quorum=3,
    closes=CLOSES,
    authority="Standing Orders 7.3: the Steering Group may decide by email",
)
SAM = MEMBERS[1]
_ref = iter(range(1, 1_000_000))

# Bidi controls (Unicode Bidi_Control): none may reach a text part.
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def reply(
    member: str, vote: Vote | None, at: datetime = T0, reason: str = "", words: str = "For."
) -> Received:
    disposition = Disposition.VOTE if vote else Disposition.NEEDS_REVIEW
    return Received(
        next(_ref),
        MOTION.id,
        member,
        at,
        disposition,
        vote,
        words,
        words,
        reason or (f"reads as {vote.value}" if vote else "question"),
        "token",
        f"<{next(_ref)}@x.example>",
        f"{member}@x.example",
        Strength.TOKEN,
    )


def in_zone(motion: Motion, zone: str) -> Motion:
    return replace(motion, committee=replace(motion.committee, timezone=zone))


def no_controls(text: str) -> bool:
    return not any(
        (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t") or ch in BIDI for ch in text
    )


# --- Times -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "when", "shown"),
    [
        ("Europe/London", datetime(2027, 1, 12, 18, 0, tzinfo=UTC), "Tue 12 Jan 2027 18:00 GMT"),
        ("Europe/London", datetime(2027, 7, 6, 17, 30, tzinfo=UTC), "Tue 6 Jul 2027 18:30 BST"),
        ("America/New_York", datetime(2027, 1, 12, 18, 0, tzinfo=UTC), "Tue 12 Jan 2027 13:00 EST"),
        ("America/New_York", datetime(2027, 7, 6, 3, 0, tzinfo=UTC), "Mon 5 Jul 2027 23:00 EDT"),
        ("Asia/Dubai", datetime(2027, 1, 12, 18, 0, tzinfo=UTC), "Tue 12 Jan 2027 22:00 UTC+04:00"),
        ("UTC", datetime(2027, 1, 12, 18, 0, tzinfo=UTC), "Tue 12 Jan 2027 18:00 UTC"),
    ],
)
def test_local_time_in_the_committee_timezone(zone: str, when: datetime, shown: str) -> None:
    assert local_time(when, zone) == shown


def test_local_time_refuses_a_naive_time_and_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(datetime(2027, 1, 1, 12, 0), "Europe/London")
    with pytest.raises(ValueError, match="unknown timezone"):
        local_time(T0, "Mars/Olympus_Mons")


def test_deadline_in_a_summer_timezone_is_shown_in_summer_time() -> None:
    motion = in_zone(
        replace(MOTION, closes=datetime(2027, 7, 6, 17, 0, tzinfo=UTC)), "Europe/London"
    )
    body = reminder_body(motion, SAM, now=datetime(2027, 7, 5, 12, 0, tzinfo=UTC), in_review=False)
    assert "closes on Tue 6 Jul 2027 18:00 BST, 1 day 5 hours from now" in body.text
    assert "Times are in the committee's timezone (Europe/London)." in body.text
    ny = reminder_body(in_zone(MOTION, "America/New_York"), SAM, now=T0, in_review=False)
    assert "closes on Tue 12 Jan 2027 13:00 EST" in ny.text


@pytest.mark.parametrize(
    ("left", "words", "coarse"),
    [
        (timedelta(days=2, hours=4, minutes=10), "2 days 4 hours", "2 days"),
        (timedelta(days=1, minutes=5), "1 day", "1 day"),
        (timedelta(hours=3, minutes=5, seconds=59), "3 hours 5 minutes", "3 hours"),
        (timedelta(hours=1), "1 hour", "1 hour"),
        (timedelta(minutes=45, seconds=30), "45 minutes", "45 minutes"),
        (timedelta(minutes=1), "1 minute", "1 minute"),
        (timedelta(seconds=59), "less than a minute", "less than a minute"),
        (timedelta(seconds=-5), "less than a minute", "less than a minute"),
    ],
)
def test_time_left_in_words(left: timedelta, words: str, coarse: str) -> None:
    assert time_left(T0 + left, T0) == words
    assert time_left(T0 + left, T0, units=1) == coarse


# --- Receipt ---------------------------------------------------------------------------


def test_receipt_states_the_vote_as_read_with_the_words_and_the_deadline() -> None:
    body = receipt_body(
        MOTION,
        SAM,
        vote=Vote.FOR,
        received_at=T0,
        words="For.\nThanks, Sam",
        ruling=None,
        now=T0 + timedelta(hours=1),
    )
    assert body.subject == "Your vote is recorded" and body.html is None
    assert body.text.startswith("Dear Sam Tarry,\n\n")
    assert (
        "Your vote on “Adopt the new constitution” is recorded as FOR, read from your reply "
        "received Sun 10 Jan 2027 12:00 GMT — your words:\n\n> For.\n> Thanks, Sam\n"
    ) in body.text
    assert (
        "If this is not what you meant, reply to this message with FOR, AGAINST or ABSTAIN "
        "before Tue 12 Jan 2027 18:00 GMT."
    ) in body.text


def test_receipt_for_a_ruling_names_it_and_its_reason() -> None:
    ruling = Ruling(MOTION.id, "sam", Vote.AGAINST, "confirmed by phone", "Emma Rees", T0)
    body = receipt_body(
        MOTION,
        SAM,
        vote=Vote.AGAINST,
        received_at=T0 - timedelta(hours=2),
        words="Not sure.",
        ruling=ruling,
        now=T0,
    )
    assert (
        "is recorded as AGAINST by a ruling of the secretary (Emma Rees) on "
        "Sun 10 Jan 2027 12:00 GMT: confirmed by phone."
    ) in body.text
    assert "The ruling concerns your reply received Sun 10 Jan 2027 10:00 GMT" in body.text
    assert "> Not sure." in body.text
    assert "reply to this message with FOR, AGAINST or ABSTAIN before" in body.text


def test_receipt_for_a_ruling_of_no_vote_and_without_a_reply() -> None:
    ruling = Ruling(MOTION.id, "sam", None, "not the member's own reply.", "sec", T0)
    body = receipt_body(MOTION, SAM, vote=None, received_at=None, words="", ruling=ruling, now=T0)
    assert body.subject == "Ruling on your vote"
    assert "is recorded as no vote by a ruling of the secretary (sec)" in body.text
    assert "not the member's own reply.\n" in body.text  # no doubled full stop
    assert "concerns your reply" not in body.text
    # A ruling on a reply, its words left out: the reply's time alone.
    body = receipt_body(MOTION, SAM, vote=None, received_at=T0, words="", ruling=ruling, now=T0)
    assert "The ruling concerns your reply received Sun 10 Jan 2027 12:00 GMT.\n" in body.text
    assert "your words" not in body.text


def test_receipt_after_the_deadline_says_the_vote_is_final() -> None:
    body = receipt_body(
        MOTION, SAM, vote=Vote.ABSTAIN, received_at=T0, words="Abstain", ruling=None, now=CLOSES
    )
    assert "recorded as ABSTAIN" in body.text
    assert "Voting closed on Tue 12 Jan 2027 18:00 GMT: this vote is final." in body.text
    assert "reply to this message" not in body.text and "not what you meant" not in body.text


def test_receipt_refuses_a_vote_that_is_not_the_rulings_or_no_vote_without_one() -> None:
    ruling = Ruling(MOTION.id, "sam", Vote.FOR, "r", "sec", T0)
    with pytest.raises(ValueError, match="ruling's vote"):
        receipt_body(
            MOTION, SAM, vote=Vote.AGAINST, received_at=T0, words="", ruling=ruling, now=T0
        )
    with pytest.raises(ValueError, match="counted vote"):
        receipt_body(MOTION, SAM, vote=None, received_at=T0, words="", ruling=None, now=T0)


def test_receipt_bounds_and_cleans_the_members_words() -> None:
    words = "For.\x1b[2J\u202egnp.exe\r\n" + "x" * 5000
    body = receipt_body(
        MOTION, SAM, vote=Vote.FOR, received_at=T0, words=words, ruling=None, now=T0
    )
    assert no_controls(body.text)
    assert "> For.[2Jgnp.exe\n> xxx" in body.text
    quoted = [line for line in body.text.splitlines() if line.startswith(">")]
    assert sum(len(line) - 2 for line in quoted) <= 1000 and quoted[-1].endswith("…")


# --- Ask -------------------------------------------------------------------------------

CONDITION = "it sets a condition"
SEVERAL = "it names more than one option"
NEGATION = "a “not” or “no” near your vote"
HEDGE = "does not state your vote firmly"
QUESTION = "it asks a question"
ANSWERS = "answer a question quoted in your reply"
ACK = "reads as an acknowledgement"
LATER = "not decided yet or will vote later"
LANGUAGE = "a language we could not read with certainty"
CHANGE = "it changes the vote you sent earlier"
FROM_YOU = "we could not confirm that it came from you"
SAME_TIME = "more than one reply from you arrived at the same moment"
OTHER_MEMBER = "in reply to another member's message"
WHICH_MOTION = "we could not tell which motion"
ADDRESS = "did not come from your address"
LATE = "arrived before the deadline"
FALLBACK = "we could not read it with certainty"

REASONS = [
    ('conditional: "Yes, provided clause 9 is amended first."', CONDITION),
    ('a condition: "For, hvis § 4 ændres."', CONDITION),
    ('subject: conditional: "Yes if amended"', CONDITION),
    ("several options in one reply", SEVERAL),
    ('two alternatives offered: "For or against, whichever."', SEVERAL),
    ('mixed votes: for ("For.") and against ("Against.")', SEVERAL),
    ('mixed: a hedged against and for: "Maybe against."', SEVERAL),
    ('the subject says for ("YES") but the body says against ("Against.")', SEVERAL),
    ('mentions FOR in a remark: "I was going to vote for it."', SEVERAL),
    ('negated: "I am not for this."', NEGATION),
    ('says for and also not for: "For. Not for."', NEGATION),
    ('a negation: "Nej tak."', NEGATION),
    ('hedged, not a committed vote: "Probably for."', HEDGE),
    ('a hedge: "Vielleicht dafür."', HEDGE),
    ("question: what about clause 9?", QUESTION),
    ('a question: "Is this the final text?"', QUESTION),
    ('a vote word inside a question: "For?"', QUESTION),
    ('a question, no vote: "When do we meet?"', QUESTION),
    ('asks about the motion: "Does the motion cover clause 9?"', QUESTION),
    ('"Yes." answers the question quoted below it: "Could everyone confirm?"', ANSWERS),
    ("acknowledgement, not a vote", ACK),
    ('an acknowledgement, not a vote: "Noted, thanks."', ACK),
    ('a vote stated for later: "I will vote after the meeting."', LATER),
    ('not voted yet: "Still thinking."', LATER),
    ('a sentence not accounted for (unread language): "Ydw, diolch."', LANGUAGE),
    ('written in Welsh, which steervote does not read: "Ydw."', LANGUAGE),
    ('perhaps written in Welsh, which steervote does not read: "Ydw iawn."', LANGUAGE),
    ('"tak" is a vote in Polish but courtesy in Danish: "Tak."', LANGUAGE),
    ("a remark in a language steervote could not tell: xyz", LANGUAGE),
    ('sarcasm marker: "Oh great, exactly what we need."', "meant literally"),
    ('proxy or deputy: "My deputy votes for me."', "someone else's vote"),
    ("relays someone else's vote", "someone else's vote"),
    ('refers to someone else\'s view: "Same as Jon."', "someone else's view"),
    ('a vote on something else: "For the amended version."', "something other than"),
    ('a vote aimed at someone or something else: "For Jon."', "something other than"),
    ('asks the chair: "Could you resend the PDF?"', "it asks us for something"),
    ('vote withdrawn: "I withdraw my vote."', "withdraw your vote"),
    ('leaves the choice to the chair: "Up to you."', "leaves the choice"),
    ("no vote found", "we could not find a vote"),
    ("no vote found (no new text)", "we could not find a vote"),
    ("only emoji or symbols, no vote words", "symbols or emoji"),
    ("long reply (12000 characters): read it", "too long"),
    ("message too large to read whole: read it by hand", "too long"),
    (
        'looks automated (auto-reply: Auto-Submitted=auto-replied) but holds a vote: "FOR"',
        "an automatic message",
    ),
    (
        "earlier: FOR by token on 2027-01-10 12:00 UTC; now: AGAINST? by subject only on "
        "2027-01-10 13:00 UTC — confirm (matched by subject only, weaker than what it would "
        "replace)",
        CHANGE,
    ),
    ("earlier: FOR by token on …; now: AGAINST? … — confirm (...)", CHANGE),
    ('a change of vote: "Change my vote to against."', CHANGE),
    ("conditional: \"For if amended\"; earlier reply voted FOR: 'For.'", CONDITION),
    ("matched by subject and sender, weaker than what it would replace", FROM_YOU),
    (
        "its Date 2027-01-10 12:00 UTC is older than the reply it would replace "
        "(2027-01-10 13:00 UTC): replayed or delayed?",
        FROM_YOU,
    ),
    ("Message-ID reused with different content: forged or re-sent?", FROM_YOU),
    ("Message-ID reused with different content: forged or re-sent?; reads as FOR", FROM_YOU),
    ("several different replies received at the same time", SAME_TIME),
    (
        "in reply to ann's reply, not to sam's ballot (reply-all?): whose vote, on which motion?",
        OTHER_MEMBER,
    ),
    ("in reply to X's reply, not to Y's ballot (reply-all?)", OTHER_MEMBER),
    ("carries the ballot tokens of several members (ann, sam)", OTHER_MEMBER),
    (
        "sam's personal ballot answered with several sender addresses (a@x, b@x): whose vote?",
        ADDRESS,
    ),
    ("ballot forwarded? sam's personal ballot answered from x@y.example", ADDRESS),
    ("no personal ballot token of the sender's own, and this motion requires one", ADDRESS),
    ("carries ballot tokens for several motions (a, b): which vote is for which?", WHICH_MOTION),
    ("the subject names several motions (a, b): which vote is for which?", WHICH_MOTION),
    ("the subject names b, but the ballot token is a's: which motion?", WHICH_MOTION),
    ("receipt time only from the sender's Date header, and read after the deadline: late?", LATE),
    ("receipt time unknown, and read after the deadline: late?", LATE),
    ("unreadable: MultipartInvariantViolationDefect", "format or encoding"),
    ("something steervote has never said before", FALLBACK),
    ("", FALLBACK),
    ('"conditional question proxy" is a word steervote made up', FALLBACK),
]


@pytest.mark.parametrize(("reason", "expected"), REASONS)
def test_review_reason_in_plain_words(reason: str, expected: str) -> None:
    said = reason_in_plain_words(reason)
    assert expected in said
    for jargon in ("token", "strength", "message-id", "subject", "steervote", "review"):
        assert jargon not in said.casefold()


@given(st.text(max_size=300))
def test_plain_words_are_always_fixed_phrases(reason: str) -> None:
    known = {reason_in_plain_words(r) for r, _ in REASONS}
    assert reason_in_plain_words(reason) in known


def test_ask_says_why_in_plain_words_and_asks_for_one_word() -> None:
    body = ask_body(
        MOTION,
        SAM,
        received_at=T0,
        reason='conditional: "Yes, provided clause 9 is amended first."',
        words="Yes, provided clause 9 is amended first.",
        now=T0 + timedelta(hours=5),
    )
    assert body.subject == "Please confirm your vote" and body.html is None
    assert (
        "We could not count your reply of Sun 10 Jan 2027 12:00 GMT on “Adopt the new "
        "constitution” as a vote: it sets a condition, and a vote with a condition cannot "
        "be counted."
    ) in body.text
    assert "Your words:\n\n> Yes, provided clause 9 is amended first.\n" in body.text
    assert "Please reply to this message with one word: FOR, AGAINST or ABSTAIN." in body.text
    assert "Voting closes on Tue 12 Jan 2027 18:00 GMT, 2 days 1 hour from now" in body.text
    assert "conditional" not in body.text


def test_ask_uses_the_secretarys_own_reason_and_says_so_after_the_deadline() -> None:
    body = ask_body(
        MOTION,
        SAM,
        received_at=T0,
        reason="token mismatch",
        words="",
        now=CLOSES + timedelta(minutes=1),
        secretary_reason="your reply mentions two different motions",
    )
    assert "as a vote: your reply mentions two different motions." in body.text
    assert "token" not in body.text
    assert "Your words:\n\n(we found no text of your own in it, only quoted text)" in body.text
    assert "Voting closed on Tue 12 Jan 2027 18:00 GMT: your answer goes to the secretary" in (
        body.text
    )


# --- Reminder --------------------------------------------------------------------------


def test_reminder_has_the_motion_the_deadline_with_time_left_and_how_to_vote() -> None:
    now = CLOSES - timedelta(days=2, hours=4, minutes=20)
    body = reminder_body(MOTION, MEMBERS[3], now=now, in_review=False)
    assert body.subject == "Reminder: voting closes in 2 days" and body.html is None
    text = body.text
    assert text.startswith("Dear Bo Berg,\n\n")
    assert (
        "Voting on “Adopt the new constitution” closes on Tue 12 Jan 2027 18:00 GMT, "
        "2 days 4 hours from now, and we have no vote from you yet."
    ) in text
    assert "Reply to this email with one word: FOR, AGAINST or ABSTAIN." in text
    assert "That the Steering Group adopts the constitution attached." in text
    assert "Proposed by: Jon Lansman (chair)" in text
    assert "Authority: Standing Orders 7.3" in text
    assert "could not count" not in text


def test_reminder_to_a_member_in_review_asks_for_one_word() -> None:
    body = reminder_body(MOTION, SAM, now=CLOSES - timedelta(minutes=45), in_review=True)
    assert body.subject == "Reminder: voting closes in 45 minutes"
    assert (
        "We have a reply from you that we could not count as a vote: please reply to this "
        "message with one word, FOR, AGAINST or ABSTAIN."
    ) in body.text
    assert "You may add reasons" not in body.text


def test_no_reminder_after_the_deadline() -> None:
    with pytest.raises(ValueError, match="before the deadline"):
        reminder_body(MOTION, SAM, now=CLOSES, in_review=False)


# --- Announcement ----------------------------------------------------------------------


def provisional_result() -> TallyResult:
    replies = [reply("jon", Vote.FOR), reply("sam", Vote.FOR), reply("ann", Vote.AGAINST)]
    replies.append(reply("bo", None, reason="question: what about clause 9?"))
    return tally(MOTION, replies, [], now=T0 + timedelta(hours=2))


def final_result() -> TallyResult:
    replies = [reply("jon", Vote.FOR), reply("sam", Vote.FOR), reply("ann", Vote.AGAINST)]
    replies.append(reply("bo", None, reason="question"))
    ruling = Ruling(MOTION.id, "bo", Vote.FOR, "confirmed by phone", "Emma Rees", T0)
    return tally(MOTION, replies, [ruling], now=CLOSES)


def decided_result() -> TallyResult:
    replies = [reply(m, Vote.FOR) for m in ("jon", "sam", "ann")]
    return tally(MOTION, replies, [], now=T0 + timedelta(hours=2))


def test_final_announcement_has_result_counts_rule_quorum_deadline_authority_and_votes() -> None:
    result = final_result()
    body = announcement_body(
        result, provisional=False, counts_only=False, previous=None, now=CLOSES
    )
    assert body.subject == "Result"
    text = body.text
    assert "Result: CARRIED — 3 for, 1 against, 0 abstentions of 5 members" in text
    assert "This result is final: voting closed on Tue 12 Jan 2027 18:00 GMT." in text
    for line in ("  For:       3", "  Against:   1", "  Abstain:   0", "  In review: 0"):
        assert line + "\n" in text
    assert "  Not voted: 1\n" in text
    assert "Rule: carried when more than half of all 5 voting members vote for" in text
    assert "Quorum: 3 counted votes needed; 4 counted: met." in text
    assert "Voting closed: Tue 12 Jan 2027 18:00 GMT" in text
    assert "Authority: Standing Orders 7.3: the Steering Group may decide by email" in text
    assert "Votes\n  Jon Lansman: FOR\n  Sam Tarry: FOR\n  Ann Other: AGAINST\n" in text
    assert "  Bo Berg: FOR (by ruling)\n  Cy Dee: not voted\n" in text
    assert "corrects" not in text


def test_counts_only_announcement_lists_no_member() -> None:
    body = announcement_body(
        final_result(), provisional=False, counts_only=True, previous=None, now=CLOSES
    )
    assert "Votes" not in body.text and "Jon Lansman" not in body.text
    assert body.html is not None and "Jon Lansman" not in body.html and "<th" in body.html
    assert "  For:       3" in body.text


def test_decided_early_and_provisional_announcements() -> None:
    now = T0 + timedelta(hours=2)
    decided = announcement_body(
        decided_result(), provisional=False, counts_only=False, previous=None, now=now
    )
    assert decided.subject == "Result"
    assert (
        "This result was decided before the deadline: the 2 members yet to vote cannot "
        "change it. It stands unless a member who has voted changes their vote before "
        "Tue 12 Jan 2027 18:00 GMT."
    ) in decided.text
    assert "Voting closes: Tue 12 Jan 2027 18:00 GMT" in decided.text
    pending = provisional_result()
    with pytest.raises(ValueError, match="provisional"):
        announcement_body(pending, provisional=False, counts_only=False, previous=None, now=now)
    body = announcement_body(pending, provisional=True, counts_only=False, previous=None, now=now)
    assert body.subject == "Provisional result"
    assert (
        "This is a provisional count: voting is open until Tue 12 Jan 2027 18:00 GMT "
        "(2 days 4 hours left), and the result may still change."
    ) in body.text
    assert "  Bo Berg: in review\n" in body.text
    assert "Quorum: 3 counted votes needed; 3 counted: met." in body.text


def test_a_correction_says_so_at_the_top_and_what_changed() -> None:
    previous = result_summary(provisional_result(), counts_only=False)
    body = announcement_body(
        final_result(), provisional=False, counts_only=False, previous=previous, now=CLOSES
    )
    assert body.subject == "Correction to the result"
    assert body.text.startswith(
        "This corrects the result announced earlier: PENDING — 2 for, 1 against, 0 abstain, "
        "1 not voted, 1 in review; provisional\n"
        "What changed: the result, PENDING → CARRIED; for 2 → 3; in review 1 → 0; "
        "provisional → final.\n"
    )
    assert "roll" not in body.text
    assert body.html is not None and "This corrects the result announced earlier" in body.html


def test_a_correction_of_the_member_list_alone_and_of_an_unknown_summary() -> None:
    first = final_result()
    # Two members exchange their votes: the totals are the same, the list is not.
    a, b = first.lines[1], first.lines[2]
    exchanged = replace(
        first,
        lines=(first.lines[0], replace(a, vote=b.vote), replace(b, vote=a.vote), *first.lines[3:]),
    )
    previous = result_summary(first, counts_only=False)
    assert previous != result_summary(exchanged, counts_only=False)
    assert result_summary(first, counts_only=True) == result_summary(exchanged, counts_only=True)
    body = announcement_body(
        exchanged, provisional=False, counts_only=False, previous=previous, now=CLOSES
    )
    assert "What changed: the votes of individual members (the totals are unchanged)." in body.text
    other = announcement_body(
        first,
        provisional=False,
        counts_only=False,
        previous="an \x1b[31mold\u202e line",
        now=CLOSES,
    )
    assert other.text.startswith(
        "This corrects the result announced earlier: an [31mold line\n"
        "What changed: see the result below.\n"
    )


def test_result_summary_identifies_the_result_as_announced() -> None:
    final = final_result()
    summary = result_summary(final, counts_only=False)
    counts = "CARRIED — 3 for, 1 against, 0 abstain, 1 not voted, 0 in review"
    assert re.fullmatch(f"{counts}; final; roll [0-9a-f]{{12}}", summary)
    assert summary == result_summary(final_result(), counts_only=False)
    assert result_summary(final, counts_only=True) == (
        "CARRIED — 3 for, 1 against, 0 abstain, 1 not voted, 0 in review; final"
    )
    assert result_summary(decided_result(), counts_only=True).endswith("; decided")
    assert result_summary(provisional_result(), counts_only=True).endswith("; provisional")
    late = tally(MOTION, [reply("jon", Vote.FOR, CLOSES + timedelta(minutes=1))], [], now=CLOSES)
    assert "0 in review, 1 late; final" in result_summary(late, counts_only=True)


# --- HTML ------------------------------------------------------------------------------


class _Tags(HTMLParser):
    """Every start tag and attribute in a document, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.widths: list[float] = []
        self.values: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}
        self.values += [value or "" for _, value in attrs]
        style = dict(attrs).get("style") or ""
        if tag == "span" and "height:20px" in style:
            found = re.search(r"width:([\d.]+)%", style)
            assert found is not None
            self.widths.append(float(found.group(1)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


ALLOWED_TAGS = {"html", "head", "meta", "body", "p", "strong", "br", "h2", "div", "span"}
ALLOWED_TAGS |= {"table", "tr", "th", "td"}


def parsed(document: str) -> _Tags:
    tags = _Tags()
    tags.feed(document)
    tags.close()
    return tags


def hostile_motion() -> Motion:
    members = (
        Member("jon", "<script>alert(1)</script>", "jon@x.example"),
        Member("sam", '"><img src=x onerror=alert(1)>', "sam@x.example"),
        *MEMBERS[2:],
    )
    return replace(
        MOTION,
        title="<b>Adopt</b> & approve",
        committee=replace(MOTION.committee, members=members),
        authority="<style>body{background:url(x)}</style>",
    )


def test_html_has_no_script_image_or_remote_content() -> None:
    previous = result_summary(provisional_result(), counts_only=False)
    body = announcement_body(
        final_result(), provisional=False, counts_only=False, previous=previous, now=CLOSES
    )
    assert body.html is not None
    for forbidden in ("<script", "<img", "http://", "https://", "url(", "<style", "<link"):
        assert forbidden not in body.html.lower()
    assert set(parsed(body.html).tags) <= ALLOWED_TAGS


def test_html_is_safe_and_escapes_every_motion_and_member_string() -> None:
    motion = hostile_motion()
    result = tally(motion, [reply("jon", Vote.FOR), reply("sam", Vote.AGAINST)], [], now=CLOSES)
    body = announcement_body(
        result, provisional=False, counts_only=False, previous=None, now=CLOSES
    )
    assert body.html is not None
    document = body.html
    for forbidden in ("<script", "<img", "<style", "<b>"):
        assert forbidden not in document.lower()
    # The authority's "url(x)" is there as escaped text, never inside markup.
    assert "&lt;style&gt;body{background:url(x)}&lt;/style&gt;" in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in document
    assert "&lt;b&gt;Adopt&lt;/b&gt; &amp; approve" in document
    tags = parsed(document)
    assert set(tags.tags) <= ALLOWED_TAGS
    assert tags.attributes <= {"style", "title", "charset"}
    assert not any(re.search(r"url\(|https?:|expression", v, re.I) for v in tags.values)
    # The text part keeps the strings as plain text.
    assert "  <script>alert(1)</script>: FOR\n" in body.text


def test_bar_widths_sum_to_100_percent() -> None:
    for result in (final_result(), provisional_result(), decided_result()):
        body = announcement_body(
            result, provisional=True, counts_only=True, previous=None, now=T0 + timedelta(hours=2)
        )
        assert body.html is not None
        assert round(sum(parsed(body.html).widths), 6) == 100.0
    # Thirds do not divide evenly: the largest remainders take the last tenths.
    three = replace(MOTION, committee=replace(MOTION.committee, members=MEMBERS[:3]), quorum=1)
    result = tally(three, [reply("jon", Vote.FOR), reply("sam", Vote.AGAINST)], [], now=CLOSES)
    body = announcement_body(result, provisional=False, counts_only=True, previous=None, now=CLOSES)
    assert body.html is not None
    widths = parsed(body.html).widths
    assert round(sum(widths), 6) == 100.0 and sorted(widths) == [33.3, 33.3, 33.4]


def test_bar_is_empty_with_no_electorate() -> None:
    empty = replace(final_result(), lines=(), counts=Counts(0, 0, 0), needs_review=0, not_voted=0)
    body = announcement_body(empty, provisional=False, counts_only=False, previous=None, now=CLOSES)
    assert body.html is not None
    assert parsed(body.html).widths == []


# --- Any text, anywhere ----------------------------------------------------------------

_PIECES = [*"<>&\"'\x00\x1b\x85\u202e\u2066\u2028\r\n\t", "<script>", "<img src=x>", "-->"]
_ANY = st.lists(
    st.characters(codec="utf-8") | st.sampled_from(_PIECES) | st.text(max_size=5), max_size=20
).map("".join)


@given(name=_ANY, other=_ANY, title=_ANY, words=_ANY, text=_ANY, reason=_ANY)
def test_any_text_stays_plain_in_text_and_escaped_in_html(
    name: str, other: str, title: str, words: str, text: str, reason: str
) -> None:
    members = (Member("jon", name, "jon@x.example", role=other), *MEMBERS[1:])
    motion = replace(
        MOTION,
        title=title,
        text=text,
        authority=reason or None,
        committee=replace(MOTION.committee, members=members),
    )
    ruling = Ruling(motion.id, "jon", Vote.FOR, reason, other, T0)
    now = T0 + timedelta(hours=1)
    result = tally(motion, [reply("jon", Vote.FOR, words=words)], [ruling], now=CLOSES)
    bodies: list[Body] = [
        receipt_body(
            motion, members[0], vote=Vote.FOR, received_at=T0, words=words, ruling=ruling, now=now
        ),
        ask_body(motion, members[0], received_at=T0, reason=reason, words=words, now=now),
        reminder_body(motion, members[0], now=now, in_review=True),
        announcement_body(
            result, provisional=False, counts_only=False, previous=reason, now=CLOSES
        ),
    ]
    for body in bodies:
        assert no_controls(body.text) and no_controls(body.subject)
    document = bodies[-1].html
    assert document is not None
    tags = parsed(document)
    assert set(tags.tags) <= ALLOWED_TAGS
    assert tags.attributes <= {"style", "title", "charset"}
    assert not any(re.search(r"url\(|https?:|expression", v, re.I) for v in tags.values)
    # Every string is there, as text: the HTML's text holds what the text part shows.
    shown = plain(name, 100)
    assert f"  {shown}: FOR (by ruling)\n" in bodies[-1].text
    if shown:
        assert shown in "".join(tags.text)
