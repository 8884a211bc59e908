"""Rich tables, JSON and CSV from result values. All terminal markup lives here.

Text that came from mail or from files the user did not type at the keyboard (motion,
committee, CSV) is hostile: it reaches the terminal only through `untrusted()`, which
strips control and bidi characters, and only as `rich.text.Text`, which never
interprets markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from steervote.core.ballot import deadline_in_words, rule_in_words, votes_needed
from steervote.core.motion import Motion, Threshold
from steervote.core.records import BallotRecord, IgnoredMessage, Received
from steervote.core.tally import MemberLine, Status, TallyResult

# The one escaping rule for text shown in a terminal, kept where JSON output (no rich) can
# use it too; `render.untrusted` is the same function.
from steervote.terminal import untrusted as untrusted

FULL_TABLE_LIMIT = 100  # larger electorates: only the rows that need attention


def safe(value: str | None, limit: int = 300, *, oneline: bool = True) -> Text:
    """Untrusted text as a rich Text (markup in it stays literal)."""
    return Text(untrusted(value, limit, oneline=oneline))


def _local(t: datetime | None, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z") if t else ""


# --- validate / propose ----------------------------------------------------------


def motion_summary(
    console: Console, motion: Motion, fingerprint: str, *, title: str = "Motion"
) -> None:
    """What a motion is, who votes, by which rule and until when (file text escaped)."""
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    t.add_row(title, safe(f"{motion.id}: {motion.title}"))
    t.add_row("Committee", safe(f"{motion.committee.name} ({motion.committee.id})"))
    t.add_row("Electorate", f"{motion.electorate} voting members")
    if motion.committee.observers:
        t.add_row("Observers", f"{len(motion.committee.observers)} (information copy, no vote)")
    t.add_row("Proposer", safe(motion.member(motion.proposer).name))
    t.add_row("Rule", Text(f"{motion.threshold.value}: {rule_in_words(motion)}"))
    t.add_row("Quorum", f"{motion.quorum} counted votes")
    t.add_row("Closes", Text(deadline_in_words(motion)))
    t.add_row("Ballots", "personal token required" if motion.require_token else "token or subject")
    if motion.authority:
        t.add_row("Authority", safe(motion.authority))
    if motion.attachments:
        t.add_row("Attachments", safe(", ".join(p.name for p in motion.attachments)))
    t.add_row("Fingerprint", fingerprint)
    console.print(t)


def ballots(console: Console, records: Sequence[BallotRecord]) -> None:
    """The propose result: one row per ballot or copy."""
    t = Table(title="Ballots")
    for col in ("member", "address", "kind", "status", "detail"):
        t.add_column(col)
    style = {"sent": "green", "failed": "red", "pending": "yellow", "sending": "yellow"}
    shown = list(records)
    if len(shown) > FULL_TABLE_LIMIT:
        # A large electorate: the ballots that need attention; the counts say the rest.
        shown = [b for b in shown if b.status.value != "sent" or b.detail][:FULL_TABLE_LIMIT]
        t.caption = f"{len(records)} ballots and copies; showing the {len(shown)} not plainly sent"
    for b in shown:
        t.add_row(
            safe(b.name),
            safe(b.address),
            "ballot" if b.voting else "copy",
            Text(b.status.value, style=style[b.status.value]),
            safe(b.detail, 120),
        )
    console.print(t)


# --- tally -----------------------------------------------------------------------


def result_line(r: TallyResult) -> str:
    """The outcome in one line a chair can read aloud."""
    c, o, n = r.counts, r.outcome, r.motion.electorate
    abst = "abstention" if c.abstain == 1 else "abstentions"
    state = _state(r)
    tie = " (a tie)" if o.tie else ""
    line = (
        f"{o.result.value.upper().replace('_', ' ')}{tie} — {c.for_} for, {c.against} against, "
        f"{c.abstain} {abst} of {n} members; {rule_needs(r.motion)}; "
        f"quorum {r.motion.quorum}; {state}"
    )
    if r.needs_review:
        line += f"; {r.needs_review} awaiting review"
    return line


def _state(r: TallyResult) -> str:
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


_STATUS_STYLE = {
    Status.COUNTED: "green",
    Status.NEEDS_REVIEW: "yellow",
    Status.LATE: "magenta",
    Status.NOT_VOTED: "dim",
}


def tally(console: Console, r: TallyResult, ignored: Sequence[IgnoredMessage]) -> None:
    """The report: members, counts, rule, quorum and the result line."""
    tz = r.motion.committee.timezone
    lines: Sequence[MemberLine] = r.lines
    if len(lines) > FULL_TABLE_LIMIT:
        attention = (Status.NEEDS_REVIEW, Status.LATE)
        lines = [x for x in lines if x.status in attention][:FULL_TABLE_LIMIT]
    t = Table(title=safe(f"{r.motion.id}: {r.motion.title}"), show_lines=False)
    for col in ("member", "vote", "received", "status", "how", "strength", "evidence / note"):
        t.add_column(col, overflow="fold")
    for line in lines:
        evidence = untrusted(line.evidence, 80)
        note = untrusted(line.note, 160)
        shown = f"“{evidence}”" if evidence else ""
        if note:
            shown = f"{shown} ({note})" if shown else note
        t.add_row(
            safe(line.member.name),
            line.vote.value.upper() if line.vote else "",
            _local(line.received_at, tz),
            Text(line.status.value, style=_STATUS_STYLE[line.status]),
            line.how or "",
            line.strength or "",
            Text(shown),
        )
    console.print(t)
    if len(lines) < len(r.lines):
        console.print(
            f"{len(r.lines)} members: showing {len(lines)} awaiting review or late; "
            f"{r.counts.counted} counted, {r.not_voted} not voted. "
            "Every member: --json or --csv FILE."
        )
    if ignored:
        console.print(f"{len(ignored)} message(s) ignored (see --json for all):")
        for m in ignored[:10]:
            console.print(
                Text(f"  {untrusted(m.sender, 60)} — {untrusted(m.subject, 60)}: ")
                + safe(m.reason, 120)
            )
    console.print(Text(result_line(r), style="bold"), soft_wrap=True)


# --- review / status ---------------------------------------------------------------


def review(console: Console, r: TallyResult, replies: Sequence[Received]) -> None:
    """Every member awaiting review, with their own words."""
    waiting = [line for line in r.lines if line.status is Status.NEEDS_REVIEW]
    if not waiting:
        console.print(f"Nothing awaits review on {r.motion.id}.")
        return
    tz = r.motion.committee.timezone
    # By the store's own reference: a Message-ID may be missing or repeated.
    by_ref = {x.ref: x for x in replies}
    for line in waiting:
        console.rule(safe(f"{line.member.name} ({line.member.id})"))
        reply = by_ref.get(line.ref) if line.ref is not None else None
        strength = f" (strength {line.strength})" if line.strength else ""
        console.print(Text(f"received {_local(line.received_at, tz)} via {line.how}{strength}"))
        console.print(Text("why: ") + safe(line.note, 400))
        if reply is not None:
            console.print(Text("from: ") + safe(reply.sender, 200))
            console.print(Text("their words:"))
            console.print(safe(reply.own_text or "(no text of their own)", 2000, oneline=False))
    console.print(
        f"\n{len(waiting)} awaiting review. Record a ruling with: steervote rule "
        f"{r.motion.id} MEMBER_ID for|against|abstain|none --reason TEXT"
    )


def status(console: Console, results: Sequence[TallyResult]) -> None:
    """One row per recorded motion."""
    if not results:
        console.print("No motions recorded yet. Start with: steervote propose MOTION.yaml")
        return
    t = Table(title="Motions", expand=True)
    for col in ("motion", "closes", "for", "against", "abstain", "review", "not voted", "result"):
        t.add_column(col)
    for r in results:
        c = r.counts
        state = _state(r)
        t.add_row(
            Text(r.motion.id),
            _local(r.motion.closes, r.motion.committee.timezone),
            str(c.for_),
            str(c.against),
            str(c.abstain),
            str(r.needs_review),
            str(r.not_voted),
            f"{r.outcome.result.value} ({state})",
        )
    console.print(t)
