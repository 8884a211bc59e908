"""What each member-loop command sends, to whom, and what it says (issue 12).

acknowledge: a receipt to each member whose vote (from mail or a ruling) has not been
acknowledged as it now stands. ask: a request for one word to each member awaiting
review, once per reply asked about. remind: before the deadline, to members who have
not voted, never twice within an interval. announce: the result to every member and
observer, once per result; a changed result is announced again as a correction.
Each planner returns the drafts and how to write each; services.notify sends them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from steervote.adapters.store import Store
from steervote.core.ballot import Addressing
from steervote.core.member_lookup import find_member
from steervote.core.notice import compose_notice, draft
from steervote.core.notice_result import Awaited, announced_state, awaited
from steervote.core.notice_text import (
    Body,
    announcement_body,
    ask_body,
    receipt_body,
    reminder_body,
    result_summary,
)
from steervote.core.records import BallotRecord, BallotStatus, NoticeKind, NoticeRecord
from steervote.core.tally import Status, TallyResult
from steervote.errors import InvalidInput
from steervote.services.notify import Compose, NoticePlan, plan_notices
from steervote.services.review import report

LISTED_AT_MOST = 500  # members an announcement lists by name; a larger one gives counts only


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notice command's plan and how to write each of its messages."""

    plan: NoticePlan
    compose: Compose
    result: TallyResult


def _current(store: Store, motion_id: str, now: datetime) -> TallyResult:
    """The motion's count now; InvalidInput for a withdrawn motion (nothing to send)."""
    result = report(store, motion_id, now=now).result
    _not_withdrawn(result)
    return result


def _not_withdrawn(result: TallyResult) -> None:
    if result.withdrawn is not None:
        raise InvalidInput(
            f"motion {result.motion.id} was withdrawn "
            f"({result.withdrawn.reason}): no receipts, requests, reminders or result to send"
        )


def _ballots(store: Store, motion_id: str) -> dict[str, BallotRecord]:
    return {b.recipient: b for b in store.ballots(motion_id)}


def _writer(
    result: TallyResult,
    ballots: dict[str, BallotRecord],
    addressing: Addressing,
    bodies: dict[tuple[str, str], Body],
    now: datetime,
) -> Compose:
    """compose(notice): its message, from the body planned for (recipient, key), or, for
    an earlier unsent notice, the body of its recipient's current draft."""
    latest = {recipient: body for (recipient, _), body in bodies.items()}

    def compose(n: NoticeRecord) -> EmailMessage:
        body = bodies.get((n.recipient, n.key)) or latest[n.recipient]
        return compose_notice(
            result.motion,
            n,
            ballots[n.recipient],
            addressing,
            subject=body.subject,
            text=body.text,
            html=body.html,
            now=now,
        )

    return compose


def acknowledge(store: Store, motion_id: str, addressing: Addressing, *, now: datetime) -> Outgoing:
    """A receipt to each member whose current vote has no receipt as it now stands."""
    result = _current(store, motion_id, now)
    ballots = _ballots(store, motion_id)
    drafts: list[NoticeRecord] = []
    bodies: dict[tuple[str, str], Body] = {}
    earlier: dict[str, list[NoticeRecord]] = {}
    for notice in store.notices(motion_id, NoticeKind.RECEIPT):
        earlier.setdefault(notice.recipient, []).append(notice)
    for line in result.lines:
        ruling = line.ruling.ruling if line.ruling is not None and line.how == "ruling" else None
        if line.member.id not in ballots or (line.status is not Status.COUNTED and ruling is None):
            continue
        vote = line.vote.value if line.vote else "none"
        if ruling is not None:
            stands = f"ruling:{ruling.ruled_at.isoformat()}:{vote}"
            words = ""
        else:
            # The same vote read again from a later reply stands as it stood: no new receipt.
            stands = f"reply:{vote}"
            words = line.evidence or ""
        key = _receipt_key(stands, earlier.get(line.member.id, []))
        summary = f"{vote.upper()} " + (
            f"by the ruling of {ruling.ruled_at:%Y-%m-%d %H:%M} UTC"
            if ruling
            else f"from the reply received {_utc(line.received_at)}"
        )
        n = draft(
            result.motion,
            NoticeKind.RECEIPT,
            ballots[line.member.id],
            addressing,
            key=key,
            refers_to="" if ruling else (line.message_id or ""),
            summary=summary,
            now=now,
        )
        drafts.append(n)
        bodies[(n.recipient, key)] = receipt_body(
            result.motion,
            line.member,
            vote=line.vote,
            received_at=line.received_at,
            words=words,
            ruling=ruling,
            now=now,
        )
    plan = plan_notices(store, result.motion, NoticeKind.RECEIPT, drafts)
    return Outgoing(plan, _writer(result, ballots, addressing, bodies, now), result)


def ask(
    store: Store,
    motion_id: str,
    addressing: Addressing,
    *,
    now: datetime,
    members: Sequence[str] = (),
    reason: str | None = None,
) -> Outgoing:
    """A request for one word to each member awaiting review (or each named member),
    once per reply asked about. InvalidInput after the deadline or for an unknown member."""
    r = report(store, motion_id, now=now)
    _not_withdrawn(r.result)
    result = r.result
    if result.closed:
        raise InvalidInput(f"motion {motion_id}: voting has closed; an answer could not count")
    ballots = _ballots(store, motion_id)
    chosen = {find_member(result.motion, m).id for m in members}
    drafts: list[NoticeRecord] = []
    bodies: dict[tuple[str, str], Body] = {}
    skipped: list[tuple[str, str]] = []
    words = {x.ref: x.own_text for x in r.replies}
    for line in result.lines:
        if chosen and line.member.id not in chosen:
            continue
        if line.status is not Status.NEEDS_REVIEW and not chosen:
            continue
        if line.ref is None or line.received_at is None or line.how == "ruling":
            skipped.append((line.member.id, "no reply to ask about"))
            continue
        if line.status is Status.COUNTED:
            skipped.append((line.member.id, f"counted {line.vote}: nothing to ask"))
            continue
        if line.strength == "weak":
            # Matched only weakly (another address, a failed signature): the words may not be
            # the member's, and must never be sent to the member as theirs.
            skipped.append((line.member.id, "the reply is not surely theirs: rule on it"))
            continue
        key = f"reply:{line.ref}"
        n = draft(
            result.motion,
            NoticeKind.ASK,
            ballots[line.member.id],
            addressing,
            key=key,
            refers_to=line.message_id or "",
            summary=f"the reply received {_utc(line.received_at)}",
            now=now,
        )
        drafts.append(n)
        bodies[(n.recipient, key)] = ask_body(
            result.motion,
            line.member,
            received_at=line.received_at,
            reason=line.reason,
            secretary_reason=reason,
            words=words.get(line.ref, "") or line.evidence or "",
            now=now,
        )
    plan = plan_notices(store, result.motion, NoticeKind.ASK, drafts, skipped=skipped)
    return Outgoing(plan, _writer(result, ballots, addressing, bodies, now), result)


def remind(
    store: Store,
    motion_id: str,
    addressing: Addressing,
    *,
    now: datetime,
    include_review: bool = False,
    min_interval: timedelta = timedelta(hours=24),
) -> Outgoing:
    """A reminder to each member who has not voted (and, with include_review, each in
    review), before the deadline only, never to one reminded within min_interval."""
    result = _current(store, motion_id, now)
    if result.closed:
        raise InvalidInput(f"motion {motion_id}: voting has closed; nobody can vote now")
    ballots = _ballots(store, motion_id)
    earlier: dict[str, list[NoticeRecord]] = {}
    for n in store.notices(motion_id, NoticeKind.REMINDER):
        earlier.setdefault(n.recipient, []).append(n)
    try:
        cutoff = now - min_interval
    except OverflowError:  # An interval reaching before year 1: nobody is reminded again.
        cutoff = datetime.min.replace(tzinfo=UTC)
    wanted = {Status.NOT_VOTED} | ({Status.NEEDS_REVIEW} if include_review else set())
    drafts: list[NoticeRecord] = []
    bodies: dict[tuple[str, str], Body] = {}
    skipped: list[tuple[str, str]] = []
    for line in result.lines:
        if line.status not in wanted or line.member.id not in ballots:
            continue
        if line.status is Status.NOT_VOTED and line.how == "ruling":
            continue  # ruled as no vote: settled, not forgotten
        mine = earlier.get(line.member.id, [])
        unsent = [n for n in mine if n.status in (BallotStatus.PENDING, BallotStatus.FAILED)]
        recent = [n for n in mine if (n.sent_at or n.created_at) > cutoff]
        if recent and not unsent:
            skipped.append((line.member.id, "reminded within the interval"))
            continue
        key = unsent[-1].key if unsent else f"at:{now.isoformat()}"
        n = draft(
            result.motion,
            NoticeKind.REMINDER,
            ballots[line.member.id],
            addressing,
            key=key,
            now=now,
        )
        drafts.append(n)
        bodies[(n.recipient, key)] = reminder_body(
            result.motion, line.member, now=now, in_review=line.status is Status.NEEDS_REVIEW
        )
    plan = plan_notices(store, result.motion, NoticeKind.REMINDER, drafts, skipped=skipped)
    return Outgoing(plan, _writer(result, ballots, addressing, bodies, now), result)


def announce(
    store: Store,
    motion_id: str,
    addressing: Addressing,
    *,
    now: datetime,
    provisional: bool = False,
    counts_only: bool = False,
) -> Outgoing:
    """The result to every member and observer, once per result; a result that differs
    from the one announced last goes out as a correction saying what changed (even one
    announced before that). Neither --counts-only nor a result decided early becoming
    final at the deadline makes another result. InvalidInput before the deadline unless
    the outcome is decided or provisional, and at any time while a tie awaits the casting
    vote or, after the deadline, rulings on replies in review could change the result
    (notice_result.announced_state): the message says what to do."""
    result = report(store, motion_id, now=now).result
    if result.withdrawn is not None:
        raise InvalidInput(
            f"motion {motion_id} was withdrawn ({result.withdrawn.reason}): there is no "
            "result to announce, not even a provisional one. steervote does not mail word "
            "of a withdrawal: tell the members yourself (their addresses: steervote members "
            f"{motion_id})"
        )
    settled = announced_state(result) != "provisional"
    if not settled and not provisional:
        raise InvalidInput(_not_settled(result))
    provisional = provisional and not settled
    # Which result is announced does not depend on what the message lists: keyed on the
    # whole result (each member's line included), the same result announced with and
    # without --counts-only is one announcement, never a "correction" of itself.
    summary = result_summary(result, counts_only=False)
    # A result decided early and unchanged at the deadline is the same result: it is not
    # announced again only to say that it is now final.
    same = summary.replace("; decided", "; final", 1)
    digest = hashlib.sha256(same.encode("utf-8")).hexdigest()[:32]
    recorded = store.notices(motion_id, NoticeKind.ANNOUNCEMENT)
    rounds = list(dict.fromkeys(n.key for n in recorded))  # each result announced, oldest first
    if rounds and rounds[-1].partition(".")[0] == digest:
        key = rounds[-1]  # The latest result again: sent already, or the rest of a stopped run.
    else:
        # A result other than the latest; numbered, so that a result which changes back to
        # one announced before is announced again (the members last read the other).
        key = f"{digest}.{len(rounds) + 1}"
    sent = [n for n in recorded if n.status is BallotStatus.SENT]
    # What this announcement corrects: the last other result sent before this one was
    # first sent (none: it is the first announcement).
    first = min((_when(n) for n in sent if n.key == key), default=None)
    before = [n for n in sent if n.key != key and (first is None or _when(n) < first)]
    previous = max(before, key=_when).summary if before else None
    ballots = _ballots(store, motion_id)
    body = announcement_body(
        result,
        provisional=provisional,
        # A list of every member in every message grows as the square of the electorate
        # (2,000 members: 660 MB sent): past LISTED_AT_MOST, the counts only.
        counts_only=counts_only or result.motion.electorate > LISTED_AT_MOST,
        previous=previous,
        now=now,
    )
    drafts = [
        draft(
            result.motion, NoticeKind.ANNOUNCEMENT, b, addressing, key=key, summary=summary, now=now
        )
        for b in ballots.values()
    ]
    bodies = {(n.recipient, key): body for n in drafts}
    plan = plan_notices(store, result.motion, NoticeKind.ANNOUNCEMENT, drafts)
    return Outgoing(plan, _writer(result, ballots, addressing, bodies, now), result)


def _not_settled(result: TallyResult) -> str:
    """Why the result cannot be announced as final or decided, and what the secretary can
    do: rule on the replies in review, record the casting vote, or pass --provisional."""
    m = result.motion.id
    waits = awaited(result)
    if not waits:
        return (
            f"motion {m}: the result is still pending before the deadline; "
            "announce it after the deadline, once decided, or with --provisional"
        )
    said = []
    if Awaited.CASTING_VOTE in waits:
        said.append(
            "the tie awaits the chair's casting vote: record it with "
            f'steervote rule {m} --casting for --reason "…" (or against)'
        )
    if Awaited.REVIEW in waits:
        n = result.needs_review
        who = f"{n:,} {'member' if n == 1 else 'members'}"
        said.append(
            f"rulings on the replies of the {who} in review can change it: see "
            f"steervote review {m}, then rule with steervote rule {m} MEMBER VOTE --reason TEXT"
        )
    settled = "final" if result.closed else "decided"
    return (
        f"motion {m}: the result cannot be announced as {settled}: "
        + "; ".join(said)
        + "; then announce it, or announce it now, marked provisional, with --provisional"
    )


def _receipt_key(stands: str, earlier: Sequence[NoticeRecord]) -> str:
    """The key of a receipt of what `stands`: the latest receipt's key when that receipted
    the same (nothing new, or it is still to send), else a key of its own, also when the
    vote comes back to what an older receipt said (after `rule --undo`, say)."""
    if earlier and earlier[-1].key.split("#")[0] == stands:
        return earlier[-1].key
    used = {n.key for n in earlier}
    return stands if stands not in used else f"{stands}#{len(earlier)}"


def _utc(t: datetime | None) -> str:
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if t is not None else "(unknown time)"


def _when(n: NoticeRecord) -> datetime:
    return n.sent_at or n.created_at
