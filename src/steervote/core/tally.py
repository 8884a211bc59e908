"""Recorded replies and rulings -> one line per member -> counts -> outcome.

Per member (DESIGN.md): the server's receipt time decides lateness, and a time that is
not proven, read after the deadline, is for a person to judge; the latest reply before
the deadline stands and earlier ones stay in the audit trail; a later reply that needs
review puts the member in review with the earlier vote shown; a secretary's ruling
decides the replies received before it. A reply replaces what stands (a vote, a reply in
review or a ruling) only when it is at least as strong (core.strength) and not dated
before it; otherwise, unless it says the same, the member is in review with both shown
(core.succession replays a member's replies and rulings and keeps what each replaced).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from steervote.core.motion import Member, Motion
from steervote.core.receipt import doubtful_receipt
from steervote.core.records import CASTING, Disposition, Received, Ruling
from steervote.core.rules import Counts, Outcome, decide
from steervote.core.succession import Replaced, Walk, described, walk
from steervote.core.vote import Vote
from steervote.core.withdrawal import Withdrawal


class Status(StrEnum):
    """A member's standing in the tally."""

    COUNTED = "counted"
    NEEDS_REVIEW = "needs_review"
    LATE = "late"
    NOT_VOTED = "not_voted"


@dataclass(frozen=True, slots=True)
class StandingRuling:
    """A ruling in force and what stood just before it (a reply or an earlier ruling)."""

    ruling: Ruling
    replaces: Received | Ruling | None


@dataclass(frozen=True, slots=True)
class MemberLine:
    """One row of the report: what stands for this member and why.

    note: the report's short word on the line (empty for a plainly counted reply; `reason`
    is the full one). reading: the reading's reason for the reply a counted line stands on
    ("reads as for"). ruling: the member's ruling while no later reply has replaced it (in
    review too, when a later reply questions it). superseded: each earlier reply or
    ruling that a later one replaced, in time order.
    """

    member: Member
    status: Status
    vote: Vote | None
    received_at: datetime | None
    evidence: str | None
    message_id: str | None
    how: str | None  # token | subject+sender | thread+sender | ruling
    note: str  # why this status, in words a secretary can check
    replies: int  # replies recorded from this member (the audit trail)
    ref: int | None = None  # the recorded message this line stands on (Message-IDs repeat)
    strength: str | None = None  # core.strength.Strength of that message, or "ruling"
    ruling: StandingRuling | None = None
    superseded: tuple[Replaced, ...] = ()
    reading: str = ""
    late_replies: int = 0  # replies received after the deadline: none of them counts

    @property
    def standing(self) -> str:
        """Where the member stands, in two words or three: "counted FOR", "ruled AGAINST",
        "ruled no vote", "in review", "late", "not voted"."""
        said = self.vote.value.upper() if self.vote else "no vote"
        if self.how == "ruling" and self.status in (Status.COUNTED, Status.NOT_VOTED):
            return f"ruled {said}"
        return {
            Status.COUNTED: f"counted {said}",
            Status.NEEDS_REVIEW: "in review",
            Status.LATE: "late",
            Status.NOT_VOTED: "not voted",
        }[self.status]

    @property
    def reason(self) -> str:
        """Why this status, never empty for a member counted, in review, late or ruled on:
        the reading's reason ("reads as for"), the review reason, "received after the
        deadline; not counted", "ruled by …"."""
        if self.reading and self.status is Status.COUNTED and self.how != "ruling":
            return f"{self.reading}; {self.note}" if self.note else self.reading
        return self.note


@dataclass(frozen=True, slots=True)
class TallyResult:
    """The whole count of one motion at one moment.

    casting: the chair's casting ruling in force (the latest; it replaces the one before).
    """

    motion: Motion
    lines: tuple[MemberLine, ...]
    counts: Counts
    needs_review: int
    not_voted: int
    late: int
    outcome: Outcome
    closed: bool
    casting: StandingRuling | None = None
    withdrawn: Withdrawal | None = None  # the motion was withdrawn: no result stands
    # False while a relative deadline ("closes: 7d") waits for the first ballot to go out:
    # motion.closes is then only the first try's guess, and voting cannot have closed.
    clock_started: bool = True


def tally(
    motion: Motion,
    received: Sequence[Received],
    rulings: Sequence[Ruling],
    *,
    now: datetime,
    withdrawn: Withdrawal | None = None,
    clock_started: bool = True,
    ballots_sent: Mapping[str, datetime | None] | None = None,
) -> TallyResult:
    """Count one motion from its recorded replies and the secretary's rulings.

    withdrawn: the motion's withdrawal, if any: the count is made as before (what was
    received stays on record) and the result carries it, so that no result is reported.
    clock_started: False for a relative deadline no ballot has started yet (none went
    out): voting has not closed and no reply is late, whatever motion.closes says.
    ballots_sent: when each member's ballot was handed to the server (None: it never
    was), by member id. A reply received before the member's ballot went out (a message
    tagged with the motion's id in a discussion before it was proposed, a reply to a ballot
    that bounced) answers no ballot: it goes to review, never counted. None: not checked.
    """
    by_member: dict[str, list[Received]] = defaultdict(list)
    for r in received:
        by_member[r.member_id].append(r)
    by_member_ruled: dict[str, list[Ruling]] = defaultdict(list)
    for ruling in sorted(rulings, key=lambda r: r.ruled_at):
        # An undone ruling stays in the audit trail; the count passes over it as if it had
        # never been made, so what it had replaced stands again.
        if ruling.undone is None:
            by_member_ruled[ruling.member_id].append(ruling)
    tz = motion.committee.timezone
    closes = motion.closes if clock_started else datetime.max.replace(tzinfo=UTC)
    lines = tuple(
        _line(
            m,
            _answering(by_member.get(m.id, []), ballots_sent, m.id, tz),
            by_member_ruled.get(m.id, []),
            closes,
            tz,
        )
        for m in motion.committee.members
    )
    counted = [x.vote for x in lines if x.status is Status.COUNTED and x.vote is not None]
    counts = Counts(
        for_=counted.count(Vote.FOR),
        against=counted.count(Vote.AGAINST),
        abstain=counted.count(Vote.ABSTAIN),
    )
    closed = clock_started and now >= motion.closes
    casting = _standing_ruling(walk((), by_member_ruled.get(CASTING, [])))
    outcome = decide(
        counts,
        electorate=motion.electorate,
        threshold=motion.threshold,
        quorum=motion.quorum,
        final=closed,
        casting_vote=motion.casting_vote,
        casting_ruling=casting.ruling.vote if casting else None,
    )
    return TallyResult(
        motion=motion,
        lines=lines,
        counts=counts,
        needs_review=sum(x.status is Status.NEEDS_REVIEW for x in lines),
        not_voted=sum(x.status is Status.NOT_VOTED for x in lines),
        late=sum(x.status is Status.LATE for x in lines),
        outcome=outcome,
        closed=closed,
        casting=casting,
        withdrawn=withdrawn,
        clock_started=clock_started,
    )


_HOLDS_THE_BALLOT = ("token", "thread+sender")


def _answering(
    replies: list[Received],
    ballots_sent: Mapping[str, datetime | None] | None,
    member_id: str,
    tz: str,
) -> list[Received]:
    """The member's replies, each that cannot have answered their ballot turned to review
    with the reason: received before it went out (in its own second too: receipt times are
    whole seconds, so which came first is unknown), or while none had gone out. A reply
    matched by the ballot's token or its thread (the Message-ID holds the token) has the
    ballot in hand, whatever the clocks say: a ballot sent again (--resend) moves the
    recorded send time past replies to the first copy."""
    if ballots_sent is None or member_id not in ballots_sent:
        return replies
    sent = ballots_sent[member_id]
    out = []
    for r in replies:
        if r.how in _HOLDS_THE_BALLOT:
            out.append(r)
            continue
        if sent is None:
            why = "received while no ballot of this member had gone out (it failed or is pending)"
        elif r.received_at.replace(microsecond=0) <= sent.replace(microsecond=0):
            why = (
                f"received {day_and_time(r.received_at, tz)}, not after this member's ballot "
                f"went out ({day_and_time(sent, tz)}), with nothing of the ballot in it: it "
                "answers no ballot"
            )
        else:
            out.append(r)
            continue
        said = f"; reads as {r.vote.value.upper()}" if r.vote else ""
        out.append(replace(r, disposition=Disposition.NEEDS_REVIEW, reason=why + said))
    return out


def _line(
    member: Member, replies: list[Received], rulings: list[Ruling], closes: datetime, tz: str
) -> MemberLine:
    timely: list[Received] = []
    late: list[Received] = []
    for r in replies:
        doubt = doubtful_receipt(r.received_from, r.received_at, r.read_at, closes)
        if doubt is not None:
            # Not known to be late, nor in time: a person must judge it, never "late".
            said = f"; reads as {r.vote.value.upper()}" if r.vote else ""
            timely.append(replace(r, disposition=Disposition.NEEDS_REVIEW, reason=doubt + said))
        elif r.received_at.replace(microsecond=0) <= closes.replace(microsecond=0):
            # Receipt times are whole seconds (IMAP INTERNALDATE): a reply in the deadline's
            # own second is in time, whatever fraction a Maildir name or the deadline holds.
            timely.append(r)
        else:
            late.append(r)
    timely.sort(key=_order)
    late.sort(key=_order)
    if not timely and not rulings:
        if late:
            last = late[-1]
            return MemberLine(
                member,
                Status.LATE,
                None,
                last.received_at,
                last.evidence or None,
                last.message_id,
                last.how,
                "received after the deadline; not counted",
                len(replies),
                last.ref,
                last.strength.value,
                late_replies=len(late),
            )
        return MemberLine(member, Status.NOT_VOTED, None, None, None, None, None, "", 0)
    line = _standing_line(member, timely, walk(timely, rulings), len(replies), tz)
    # A change of mind after the deadline changes nothing, but must not go unsaid.
    return replace(line, late_replies=len(late)) if late else line


def _standing_line(member: Member, timely: list[Received], w: Walk, n: int, tz: str) -> MemberLine:
    """The line for what stands after the walk, with its ruling and what was replaced."""
    if w.doubt is not None:
        r, why = w.doubt
        assert w.standing is not None
        note = f"earlier: {described(w.standing)}; now: {described(r)} — confirm ({why})"
        return _review(member, r, note, n, w)
    standing = w.standing
    if isinstance(standing, Ruling):
        return _ruled(member, standing, timely, n, w)
    assert standing is not None
    # Two different readings at the very same receipt time: which came last is unknowable.
    same_time = {
        (r.disposition, r.vote)
        for r in timely
        if r.received_at == standing.received_at and r.strength.rank >= standing.strength.rank
    }
    if len(same_time) > 1:
        note = "several different replies received at the same time"
        return _review(member, standing, note, n, w)
    if standing.disposition is Disposition.VOTE and standing.vote is not None:
        # A ruling a later reply replaced must not vanish from the report unsaid: said first,
        # where a narrow table cuts the note short.
        notes = [_ruling_replaced(x.item, tz) for x in w.superseded if _replied_over(x)]
        notes += ["latest of several replies"] if len(timely) > 1 else []
        note = "; ".join(notes)
        return MemberLine(
            member,
            Status.COUNTED,
            standing.vote,
            standing.received_at,
            standing.evidence,
            standing.message_id,
            standing.how,
            note,
            n,
            standing.ref,
            standing.strength.value,
            superseded=w.superseded,
            # The reading's own reason; "reads as for" for a record that kept none.
            reading=standing.reason or f"reads as {standing.vote.value}",
        )
    note = standing.reason
    counted = w.counted
    if isinstance(counted, Ruling):
        note = f"{note}; earlier: {described(counted)}"
    elif counted is not None:
        assert counted.vote is not None
        note = f"{note}; earlier reply voted {counted.vote.value.upper()}: {counted.evidence!r}"
    return _review(member, standing, note, n, w)


def _replied_over(x: Replaced) -> bool:
    """Whether this step is a ruling that a later reply replaced."""
    return isinstance(x.item, Ruling) and isinstance(x.by, Received)


def _ruling_replaced(ruling: Received | Ruling, tz: str) -> str:
    """'ruling of 12 Jan 10:02 (FOR) replaced by a later reply' (in the committee's zone)."""
    assert isinstance(ruling, Ruling)
    vote = ruling.vote.value.upper() if ruling.vote else "no vote"
    return f"ruling of {day_and_time(ruling.ruled_at, tz)} ({vote}) replaced by a later reply"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_and_time(t: datetime, tz: str) -> str:
    """'12 Jan 10:02': a time as a report line shows it, in the committee's time zone (named
    by IANA; a name not known, as in a hand-edited audit folder, gives UTC and says so)."""
    try:
        local, zone = t.astimezone(ZoneInfo(tz)), ""
    except (ZoneInfoNotFoundError, ValueError):
        local, zone = t.astimezone(UTC), " UTC"
    return f"{local.day} {_MONTHS[local.month - 1]} {local:%H:%M}{zone}"


def _standing_ruling(w: Walk) -> StandingRuling | None:
    """The ruling that stands (or stands in question) after the walk, or None."""
    if isinstance(w.standing, Ruling):
        return StandingRuling(w.standing, w.replaced)
    return None


def _order(r: Received) -> tuple[datetime, int]:
    return (r.received_at, r.ref)


def _review(member: Member, last: Received, note: str, n: int, w: Walk) -> MemberLine:
    return MemberLine(
        member,
        Status.NEEDS_REVIEW,
        None,
        last.received_at,
        last.evidence or last.own_text[:200] or None,
        last.message_id,
        last.how,
        note,
        n,
        last.ref,
        last.strength.value,
        ruling=_standing_ruling(w),
        superseded=w.superseded,
    )


def _ruled(member: Member, ruling: Ruling, timely: list[Received], n: int, w: Walk) -> MemberLine:
    last = timely[-1] if timely else None
    note = f"ruled by {ruling.ruled_by}: {ruling.reason}"
    return MemberLine(
        member,
        Status.COUNTED if ruling.vote is not None else Status.NOT_VOTED,
        ruling.vote,
        last.received_at if last else None,
        last.evidence if last else None,
        last.message_id if last else None,
        "ruling",
        note,
        n,
        last.ref if last else None,
        "ruling",
        ruling=StandingRuling(ruling, w.replaced),
        superseded=w.superseded,
    )
