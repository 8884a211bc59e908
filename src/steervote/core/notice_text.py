"""The words of the notices that follow a ballot: receipts, asks, reminders, the result.

Issue #12's member loop: a receipt states a counted vote as it was read, an ask requests
a one-word answer to a reply that could not be counted, a reminder goes to those who have
not voted, and the announcement states the result with its arithmetic. This module makes
each notice's subject (what it is) and body; the caller adds the headers, prefixes the
subject with the motion's tag and appends the title, records and sends it.

What every notice shares (plain text, times) is core.notice_words'; a review reason in
words is core.reason_words'; the announcement is core.notice_result's. Their public names
are importable from here too.
"""

from __future__ import annotations

from datetime import datetime

from steervote.core.ballot import rule_in_words
from steervote.core.motion import Member, Motion
from steervote.core.notice_result import announcement_body, result_summary
from steervote.core.notice_words import (
    LINE_LIMIT,
    MOTION_TEXT_LIMIT,
    NAME_LIMIT,
    ONE_WORD,
    REASON_LIMIT,
    WORDS_LIMIT,
    Body,
    as_sentence,
    deadline_of,
    greeting,
    local_time,
    plain,
    quote_block,
    quoted_title,
    zone_note,
)
from steervote.core.reason_words import reason_in_plain_words
from steervote.core.records import Ruling
from steervote.core.result_line import time_left
from steervote.core.vote import Vote

# Each notice's words, and the names the other notice modules give, from one place.
__all__ = [
    "LINE_LIMIT",
    "MOTION_TEXT_LIMIT",
    "NAME_LIMIT",
    "ONE_WORD",
    "REASON_LIMIT",
    "WORDS_LIMIT",
    "Body",
    "announcement_body",
    "ask_body",
    "local_time",
    "plain",
    "reason_in_plain_words",
    "receipt_body",
    "reminder_body",
    "result_summary",
    "time_left",
]


def receipt_body(
    motion: Motion,
    member: Member,
    *,
    vote: Vote | None,
    received_at: datetime | None,
    words: str,
    ruling: Ruling | None,
    now: datetime,
) -> Body:
    """The receipt for a member's vote as it now stands.

    vote: the recorded vote; None only with a ruling of no vote, and with a ruling it must
    be the ruling's. received_at (aware): the reply the vote was read from, None when a
    ruling stands on no reply; words: the member's own words in it, quoted back to them
    ('' shows none: a ruling's receipt may leave them out). ruling:
    the secretary's ruling the vote stands on, or None for a vote read from a reply.
    Before the deadline (`now` < motion.closes) the member is invited to reply to correct
    it; after it, the vote is final. ValueError for a vote that disagrees with its ruling,
    or no vote without a ruling. `member`, the addressee, is greeted by name.
    """
    tz = motion.committee.timezone
    shown = plain(words, WORDS_LIMIT, oneline=False)
    quoted = f" — your words:\n\n{quote_block(shown)}" if shown else "."
    if ruling is not None:
        if ruling.vote != vote:
            raise ValueError("a receipt for a ruling records the ruling's vote")
        recorded = vote.value.upper() if vote is not None else "no vote"
        reason = as_sentence(plain(ruling.reason, REASON_LIMIT) or "no reason given")
        paragraphs = [
            f"Your vote on {quoted_title(motion)} is recorded as {recorded} by a ruling of the "
            f"secretary ({plain(ruling.ruled_by, NAME_LIMIT)}) on "
            f"{local_time(ruling.ruled_at, tz)}: {reason}"
        ]
        if received_at is not None:
            paragraphs.append(
                f"The ruling concerns your reply received {local_time(received_at, tz)}{quoted}"
            )
        subject = "Your vote is recorded" if vote is not None else "Ruling on your vote"
    else:
        if vote is None:
            raise ValueError("a receipt without a ruling is for a counted vote")
        when = f" received {local_time(received_at, tz)}" if received_at is not None else ""
        paragraphs = [
            f"Your vote on {quoted_title(motion)} is recorded as {vote.value.upper()}, read from "
            f"your reply{when}{quoted}"
        ]
        subject = "Your vote is recorded"
    if now < motion.closes:
        paragraphs.append(
            f"If this is not what you meant, reply to this message with {ONE_WORD} before "
            f"{deadline_of(motion)}. Your reply address is personal to you: please do not "
            "forward this message."
        )
    else:
        paragraphs.append(f"Voting closed on {deadline_of(motion)}: this vote is final.")
    paragraphs.append(zone_note(motion))
    return Body(subject, greeting(member) + "\n\n".join(paragraphs) + "\n")


def ask_body(
    motion: Motion,
    member: Member,
    *,
    received_at: datetime,
    reason: str,
    words: str,
    now: datetime,
    secretary_reason: str | None = None,
) -> Body:
    """The request for a one-word answer to a reply that could not be counted.

    received_at (aware): when the reply asked about was received; reason: its review
    reason as recorded (turned into plain words by `reason_in_plain_words`, never quoted);
    words: the member's own words in it. secretary_reason: the secretary's own words for
    why (`ask --reason`), shown instead of the plain words for `reason`. Before the
    deadline the answer is asked for by the deadline; after it, the member is told the
    secretary decides with their answer. ValueError for a naive time.
    """
    tz = motion.committee.timezone
    why = plain(secretary_reason, REASON_LIMIT) or reason_in_plain_words(reason)
    shown = plain(words, WORDS_LIMIT, oneline=False)
    quoted = (
        quote_block(shown) if shown else "(we found no text of your own in it, only quoted text)"
    )
    paragraphs = [
        f"We could not count your reply of {local_time(received_at, tz)} on {quoted_title(motion)} "
        f"as a vote: {as_sentence(why)}",
        f"Your words:\n\n{quoted}",
        f"Please reply to this message with one word: {ONE_WORD}.",
    ]
    if now < motion.closes:
        paragraphs.append(
            f"Your answer replaces that reply. Voting closes on {deadline_of(motion)}, "
            f"{time_left(motion.closes, now)} from now: please answer before then."
        )
    else:
        paragraphs.append(
            f"Voting closed on {deadline_of(motion)}: your answer goes to the secretary, who "
            "decides how that reply is counted."
        )
    paragraphs.append(zone_note(motion))
    return Body("Please confirm your vote", greeting(member) + "\n\n".join(paragraphs) + "\n")


# --- Reminder --------------------------------------------------------------------------


def reminder_body(motion: Motion, member: Member, *, now: datetime, in_review: bool) -> Body:
    """The reminder to a member with no counted vote, before the deadline.

    in_review: the member has a reply that could not be counted, so the reminder asks
    for one word. The body has the motion (title, text, proposer, rule), the deadline with
    the time left, and how to vote; its "HOW TO VOTE" lines are the ballot's, which the
    reader knows as quoted text (core.reading.quotes.known). ValueError when `now` is at
    or after the deadline: a reminder is sent before it only.
    """
    if now >= motion.closes:
        raise ValueError("a reminder is sent before the deadline only")
    left = time_left(motion.closes, now)
    if in_review:
        opening = (
            f"Voting on {quoted_title(motion)} closes on {deadline_of(motion)}, {left} from now. "
            "We have a reply from you that we could not count as a vote: please reply to this "
            f"message with one word, {ONE_WORD}."
        )
        how = [
            "HOW TO VOTE",
            f"Reply to this email with one word: {ONE_WORD}.",
            "Your reply address is personal to you: please do not forward this message.",
        ]
    else:
        opening = (
            f"Voting on {quoted_title(motion)} closes on {deadline_of(motion)}, {left} from now, "
            "and we have no vote from you yet."
        )
        how = [
            "HOW TO VOTE",
            f"Reply to this email with one word: {ONE_WORD}.",
            "You may add reasons below your vote. Your reply address is personal to you:",
            "please do not forward this message.",
        ]
    lines = [
        opening,
        "",
        *how,
        "",
        "THE MOTION",
        f"Motion {plain(motion.id, LINE_LIMIT)}: {plain(motion.title, LINE_LIMIT)}",
        "",
        plain(motion.text, MOTION_TEXT_LIMIT, oneline=False),
        "",
        f"Proposed by: {_proposer(motion)}",
        f"Rule: {rule_in_words(motion)}.",
        f"Voting closes: {deadline_of(motion)} ({left} left).",
    ]
    if motion.authority:
        lines.append(f"Authority: {plain(motion.authority, REASON_LIMIT)}")
    lines += ["", zone_note(motion)]
    subject = f"Reminder: voting closes in {time_left(motion.closes, now, units=1)}"
    return Body(subject, greeting(member) + "\n".join(lines) + "\n")


def _proposer(motion: Motion) -> str:
    try:
        proposer = motion.member(motion.proposer)
    except KeyError:
        return plain(motion.proposer, NAME_LIMIT)
    role = f" ({plain(proposer.role, NAME_LIMIT)})" if proposer.role else ""
    return plain(proposer.name, NAME_LIMIT) + role
