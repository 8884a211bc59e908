"""The words of the notices that follow a ballot: receipts, asks, reminders, the result.

Issue #12's member loop: a receipt states a counted vote as it was read, an ask requests
a one-word answer to a reply that could not be counted, a reminder goes to those who have
not voted, and the announcement states the result with its arithmetic. This module makes
each notice's subject (what it is) and body; the caller adds the headers, prefixes the
subject with the motion's tag and appends the title, records and sends it.

Every string from a motion file, a committee file, a ruling or a member's mail may hold
anything: in the text part it stays plain text without control characters (C0 and C1, but
tab and newline) and bidi controls (CVE-2021-42574, "Trojan Source"), with a bounded
length; in the HTML part it is escaped as well. Times are shown in the committee's
timezone, e.g. "Tue 12 Jan 2027 18:00 GMT".
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import datetime

from steervote.core.ballot import rule_in_words
from steervote.core.deadline import timezone_named
from steervote.core.motion import Member, Motion
from steervote.core.records import Ruling
from steervote.core.result_line import local_time as line_time
from steervote.core.result_line import result_line
from steervote.core.result_line import time_left as time_left
from steervote.core.storable import valid_unicode
from steervote.core.tally import MemberLine, Status, TallyResult
from steervote.core.vote import Vote

WORDS_LIMIT = 1000  # a member's own words quoted back to them
NAME_LIMIT = 100  # core.mail_text.NAME_LIMIT: what a committee file may hold
LINE_LIMIT = 300  # a title, a ruling's author, a timezone name
REASON_LIMIT = 500  # a ruling's reason, the secretary's own reason for an ask, an authority
MOTION_TEXT_LIMIT = 20_000  # the motion text quoted in a reminder

ONE_WORD = "FOR, AGAINST or ABSTAIN"


@dataclass(frozen=True, slots=True)
class Body:
    """What a notice says: its subject (what it is, without the motion's tag or title),
    its text/plain part, and a text/html alternative (the announcement only)."""

    subject: str
    text: str
    html: str | None = None


# --- Untrusted text ------------------------------------------------------------------

# C0 controls but tab and newline, DEL, C1 controls, and every Unicode Bidi_Control
# character (PropList.txt): the set steervote.terminal replaces for a terminal.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNWANTED = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# Line breaks of other systems and of Unicode become newlines before controls go.
_LINE_BREAK = re.compile("\r\n?|[\x85\u2028\u2029]")


def plain(value: str | None, limit: int, *, oneline: bool = True) -> str:
    """Untrusted text as a notice shows it: lone surrogates as U+FFFD, CR LF and Unicode
    line separators as newlines, controls and bidi controls removed, at most `limit`
    characters (cut ones end in "…"). With `oneline`, every run of whitespace is one space;
    otherwise lines are kept, without trailing spaces or leading and trailing blank lines.
    """
    if not value:
        return ""
    text = _UNWANTED.sub("", _LINE_BREAK.sub("\n", valid_unicode(value)))
    if oneline:
        text = " ".join(text.split())
    else:
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _quoted(words: str) -> str:
    """A member's words as a '> ' block, so no line of theirs reads as the notice's own."""
    return "\n".join(f"> {line}" if line else ">" for line in words.split("\n"))


def _sentence(text: str) -> str:
    """The text ending with a full stop unless it already ends a sentence."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


# --- Times -----------------------------------------------------------------------------


def local_time(when: datetime, timezone: str) -> str:
    """An aware time in an IANA timezone: 'Tue 12 Jan 2027 18:00 GMT' (core.result_line's
    wording). ValueError for a naive time or an unknown timezone: a notice never guesses."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a notice's times must be timezone-aware")
    timezone_named(timezone)  # ValueError for a zone that is not one
    return line_time(when, timezone)


def _deadline(motion: Motion) -> str:
    return local_time(motion.closes, motion.committee.timezone)


def _zone_note(motion: Motion) -> str:
    zone = plain(motion.committee.timezone, LINE_LIMIT)
    return f"Times are in the committee's timezone ({zone})."


def _greeting(member: Member) -> str:
    name = plain(member.name, NAME_LIMIT)
    return f"Dear {name},\n\n" if name else ""


def _title(motion: Motion) -> str:
    return f"“{plain(motion.title, LINE_LIMIT)}”"


# --- Receipt ---------------------------------------------------------------------------


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
    quoted = f" — your words:\n\n{_quoted(shown)}" if shown else "."
    if ruling is not None:
        if ruling.vote != vote:
            raise ValueError("a receipt for a ruling records the ruling's vote")
        recorded = vote.value.upper() if vote is not None else "no vote"
        reason = _sentence(plain(ruling.reason, REASON_LIMIT) or "no reason given")
        paragraphs = [
            f"Your vote on {_title(motion)} is recorded as {recorded} by a ruling of the "
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
            f"Your vote on {_title(motion)} is recorded as {vote.value.upper()}, read from "
            f"your reply{when}{quoted}"
        ]
        subject = "Your vote is recorded"
    if now < motion.closes:
        paragraphs.append(
            f"If this is not what you meant, reply to this message with {ONE_WORD} before "
            f"{_deadline(motion)}. Your reply address is personal to you: please do not "
            "forward this message."
        )
    else:
        paragraphs.append(f"Voting closed on {_deadline(motion)}: this vote is final.")
    paragraphs.append(_zone_note(motion))
    return Body(subject, _greeting(member) + "\n\n".join(paragraphs) + "\n")


# --- Ask -------------------------------------------------------------------------------

# The kinds of review reason (core.reading, core.match, core.succession, core.tally,
# core.receipt, services.collect) in words a member understands; each pattern is matched,
# lower-cased, against a reason's label: a clause (split at "; ") with quoted excerpts
# removed, up to its first ": ". The member's own words are never matched as a kind.
_PLAIN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (
            r"^earlier\b|change of vote|change my vote",
            "it changes the vote you sent earlier, and we must confirm the change with you",
        ),
        (
            r"conditional|\bcondition\b",
            "it sets a condition, and a vote with a condition cannot be counted",
        ),
        (
            r"two alternatives|mixed votes|several options|^mixed\b|mentions \w+ in a remark"
            r"|the subject says .* but the body says",
            "it names more than one option",
        ),
        (
            r"^negated|a negation|^says \w+ and also not",
            "it has a “not” or “no” near your vote, so we could not tell which way you meant it",
        ),
        (
            r"^hedged|a hedge",
            "it does not state your vote firmly (for example “I think” or “probably”)",
        ),
        (
            r"answers the question quoted",
            "it seems to answer a question quoted in your reply, not the motion itself",
        ),
        (
            r"question|^asks about the motion",
            "it asks a question, so we could not be sure it is your vote",
        ),
        (
            r"acknowledg",
            "it reads as an acknowledgement (such as “received” or “noted”), not a vote",
        ),
        (
            r"for later|^not voted yet",
            "it says you have not decided yet or will vote later",
        ),
        (
            r"language|not accounted for|written in \w+|does not read"
            r"|is a vote in .* but courtesy in",
            "part of it is in words or a language we could not read with certainty",
        ),
        (r"sarcasm", "we could not be sure it was meant literally"),
        (
            r"proxy|deputy|relays someone else|on behalf",
            "it seems to pass on someone else's vote or to ask someone to vote for you, "
            "and each member votes for themselves",
        ),
        (
            r"someone else's view",
            "it refers to someone else's view instead of naming your own option",
        ),
        (
            r"vote on something else|aimed at someone or something else",
            "it seems to be about something other than this motion",
        ),
        (
            r"asks the chair",
            "it asks us for something (for example to explain or to resend the papers)",
        ),
        (r"withdrawn", "it seems to withdraw your vote"),
        (r"leaves the choice", "it leaves the choice to someone else"),
        (r"^no vote found", "we could not find a vote in it"),
        (r"emoji|symbols", "it holds only symbols or emoji, not words we can count"),
        (r"^long reply|too large", "it is too long for us to read with certainty"),
        (
            r"looks automated",
            "it looks like an automatic message (such as an out-of-office reply), so we "
            "could not be sure you wrote the vote yourself",
        ),
        (
            r"same time",
            "more than one reply from you arrived at the same moment, and we could not "
            "tell which is your latest",
        ),
        (
            r"reply-all|^in reply to|tokens of several members",
            "it was sent in reply to another member's message, so we could not be sure it "
            "is your own vote",
        ),
        (
            r"several motions|the subject names|quotes the ballot of|which motion",
            "we could not tell which motion it is about",
        ),
        (
            r"personal ballot answered|forwarded|several sender addresses|ballot token of",
            "it did not come from your address as a reply to your own ballot, so we must "
            "check that it is yours",
        ),
        (
            r"weaker than|message-id reused|authentication|is older than|replayed|forged",
            "we could not confirm that it came from you",
        ),
        (
            r"receipt time|late\?",
            "we could not confirm that it arrived before the deadline",
        ),
        (r"unreadable", "we could not read the message itself (its format or encoding)"),
    )
)
_FALLBACK = "we could not read it with certainty"
_EXCERPT = re.compile(r'"[^"]*"|“[^”]*”')


def reason_in_plain_words(reason: str) -> str:
    """A review reason (e.g. 'conditional: "Yes, provided clause 9 is amended first."')
    as words for the member ('it sets a condition, and ...'), with no sentence-final
    full stop. Only fixed phrases come out: never the reason's own words, which may hold
    the member's excerpt or internal terms; an unknown kind gives a general sentence."""
    for clause in _EXCERPT.sub("", reason.casefold()).split(";"):
        label = clause.strip()
        label = label.removeprefix("subject:").strip().partition(": ")[0]
        for pattern, words in _PLAIN_REASONS:
            if pattern.search(label):
                return words
    return _FALLBACK


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
    quoted = _quoted(shown) if shown else "(we found no text of your own in it, only quoted text)"
    paragraphs = [
        f"We could not count your reply of {local_time(received_at, tz)} on {_title(motion)} "
        f"as a vote: {_sentence(why)}",
        f"Your words:\n\n{quoted}",
        f"Please reply to this message with one word: {ONE_WORD}.",
    ]
    if now < motion.closes:
        paragraphs.append(
            f"Your answer replaces that reply. Voting closes on {_deadline(motion)}, "
            f"{time_left(motion.closes, now)} from now: please answer before then."
        )
    else:
        paragraphs.append(
            f"Voting closed on {_deadline(motion)}: your answer goes to the secretary, who "
            "decides how that reply is counted."
        )
    paragraphs.append(_zone_note(motion))
    return Body("Please confirm your vote", _greeting(member) + "\n\n".join(paragraphs) + "\n")


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
            f"Voting on {_title(motion)} closes on {_deadline(motion)}, {left} from now. We "
            "have a reply from you that we could not count as a vote: please reply to this "
            f"message with one word, {ONE_WORD}."
        )
        how = [
            "HOW TO VOTE",
            f"Reply to this email with one word: {ONE_WORD}.",
            "Your reply address is personal to you: please do not forward this message.",
        ]
    else:
        opening = (
            f"Voting on {_title(motion)} closes on {_deadline(motion)}, {left} from now, and "
            "we have no vote from you yet."
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
        f"Voting closes: {_deadline(motion)} ({left} left).",
    ]
    if motion.authority:
        lines.append(f"Authority: {plain(motion.authority, REASON_LIMIT)}")
    lines += ["", _zone_note(motion)]
    subject = f"Reminder: voting closes in {time_left(motion.closes, now, units=1)}"
    return Body(subject, _greeting(member) + "\n".join(lines) + "\n")


def _proposer(motion: Motion) -> str:
    try:
        proposer = motion.member(motion.proposer)
    except KeyError:
        return plain(motion.proposer, NAME_LIMIT)
    role = f" ({plain(proposer.role, NAME_LIMIT)})" if proposer.role else ""
    return plain(proposer.name, NAME_LIMIT) + role


# --- Result ----------------------------------------------------------------------------

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
    any). The state is final (after the deadline), decided (early) or provisional. Unless
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
    line += f"; {_state(result)}"
    if not counts_only:
        rows = [[x.member.id, _standing(x)] for x in result.lines]
        digest = hashlib.sha256(json.dumps(rows).encode("ascii")).hexdigest()[:12]
        line += f"; roll {digest}"
    return line


def _state(result: TallyResult) -> str:
    if result.closed:
        return "final"
    return "decided" if result.outcome.decided else "provisional"


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


def _bar(result: TallyResult) -> list[tuple[str, str, int, int]]:
    """(label, colour, members, width in tenths of a percent) for each part of the bar;
    the widths sum to 1000 (largest remainders), or 0 with no electorate."""
    c = result.counts
    n = len(result.lines)
    parts = [
        ("For", "#2e7d32", c.for_),
        ("Against", "#c62828", c.against),
        ("Abstain", "#757575", c.abstain),
        ("In review", "#f9a825", result.needs_review),
        (
            "Not voted or late" if result.late else "Not voted",
            "#d0d0d0",
            n - c.counted - result.needs_review,
        ),
    ]
    if n == 0:
        return [(label, colour, count, 0) for label, colour, count in parts]
    widths = [count * 1000 // n for _, _, count in parts]
    order = sorted(range(len(parts)), key=lambda i: -(parts[i][2] * 1000 % n))
    for i in order[: 1000 - sum(widths)]:
        widths[i] += 1
    return [
        (label, colour, count, w) for (label, colour, count), w in zip(parts, widths, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class _Announced:
    """The announcement's content, shared by its text and HTML parts (all plain text)."""

    heading: str
    correction: tuple[str, str] | None
    result: str
    state: str
    counts: tuple[tuple[str, int], ...]
    facts: tuple[tuple[str, str], ...]
    members: tuple[tuple[str, str], ...] | None
    footer: str


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
    deadline, the authority, whether the result is final, decided early or provisional,
    and, unless `counts_only`, each member's vote. previous: the `result_summary` of the
    announcement this one corrects (None for the first); the correction says so at the
    top with what changed. The HTML part says the same, every motion and member string
    escaped, with a bar of the votes drawn in inline CSS (no image, script or remote
    content). ValueError for a result that is neither final nor decided unless
    `provisional` (a closed or decided result is announced as such whatever the flag).
    """
    o, motion = result.outcome, result.motion
    state = _state(result)
    if state == "provisional" and not provisional:
        raise ValueError("before the deadline an undecided result is announced as provisional")
    deadline, tz = _deadline(motion), motion.committee.timezone
    if state == "final":
        said = f"This result is final: voting closed on {deadline}."
    elif state == "decided":
        outstanding = motion.electorate - result.counts.counted
        why = (
            f"the {outstanding} members yet to vote cannot change it"
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
    met = "met" if o.quorum_met else ("not met" if state == "final" else "not yet met")
    facts = [
        ("Rule", _sentence(rule_in_words(motion))),
        ("Quorum", f"{motion.quorum} counted votes needed; {c.counted} counted: {met}."),
        ("Voting closes" if state != "final" else "Voting closed", deadline),
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
    content = _Announced(
        heading=f"Motion {plain(motion.id, LINE_LIMIT)}: {plain(motion.title, LINE_LIMIT)}",
        correction=correction,
        result=plain(result_line(result), REASON_LIMIT),
        state=said,
        counts=tuple(counts),
        facts=tuple(facts),
        members=members,
        footer=_zone_note(motion),
    )
    if previous is not None:
        subject = "Correction to the result"
    else:
        subject = "Provisional result" if state == "provisional" else "Result"
    return Body(subject, _announcement_text(content), _announcement_html(content, _bar(result)))


def _announcement_text(a: _Announced) -> str:
    lines: list[str] = []
    if a.correction is not None:
        was, changed = a.correction
        lines += [
            f"This corrects the result announced earlier: {was}",
            f"What changed: {changed}.",
            "",
        ]
    lines += [a.heading, "", f"Result: {a.result}", "", a.state, "", "Counts"]
    width = max(len(label) for label, _ in a.counts) + 1
    lines += [f"  {label + ':':<{width}} {n}" for label, n in a.counts]
    lines += ["", *(f"{label}: {value}" for label, value in a.facts)]
    if a.members is not None:
        lines += ["", "Votes", *(f"  {name}: {vote}" for name, vote in a.members)]
    lines += ["", a.footer]
    return "\n".join(lines) + "\n"


def _announcement_html(a: _Announced, bar: list[tuple[str, str, int, int]]) -> str:
    def e(text: str) -> str:
        return html.escape(text, quote=True)

    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"></head>',
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#222222">',
    ]
    if a.correction is not None:
        was, changed = a.correction
        out += [
            '<p style="border-left:4px solid #c62828;padding-left:8px">'
            f"<strong>This corrects the result announced earlier:</strong> {e(was)}<br>",
            f"What changed: {e(changed)}.</p>",
        ]
    out += [
        f'<h2 style="font-size:18px">{e(a.heading)}</h2>',
        f"<p><strong>Result:</strong> {e(a.result)}</p>",
        f"<p>{e(a.state)}</p>",
    ]
    spans = "".join(
        f'<span title="{e(label)}: {count}" style="display:inline-block;height:20px;'
        f'width:{w // 10}.{w % 10}%;background-color:{colour}"></span>'
        for label, colour, count, w in bar
        if w
    )
    out.append(
        '<div style="width:100%;max-width:600px;height:20px;background-color:#f0f0f0;'
        f'font-size:0;line-height:0;white-space:nowrap">{spans}</div>'
    )
    legend = " &nbsp; ".join(
        f'<span style="display:inline-block;width:10px;height:10px;background-color:{colour}">'
        f"</span> {e(label)} {count}"
        for label, colour, count, _ in bar
    )
    out.append(f'<p style="font-size:13px">{legend}</p>')
    cell = 'style="text-align:left;padding:2px 12px 2px 0"'
    out.append('<table style="border-collapse:collapse">')
    out += [f"<tr><th {cell}>{e(label)}</th><td {cell}>{n}</td></tr>" for label, n in a.counts]
    out.append("</table>")
    out += [f"<p><strong>{e(label)}:</strong> {e(value)}</p>" for label, value in a.facts]
    if a.members is not None:
        out += [
            '<table style="border-collapse:collapse">',
            f"<tr><th {cell}>Member</th><th {cell}>Vote</th></tr>",
            *(f"<tr><td {cell}>{e(name)}</td><td {cell}>{e(v)}</td></tr>" for name, v in a.members),
            "</table>",
        ]
    out += [f'<p style="font-size:13px">{e(a.footer)}</p>', "</body></html>"]
    return "\n".join(out) + "\n"
