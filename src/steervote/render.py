"""Rich tables, JSON and CSV from result values. All terminal markup lives here.

Text that came from mail or from files the user did not type at the keyboard (motion,
committee, CSV) is hostile: it reaches the terminal only through `untrusted()`, which
strips control and bidi characters, and only as `rich.text.Text`, which never
interprets markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from steervote.core.ballot import deadline_in_words, rule_in_words
from steervote.core.motion import Motion
from steervote.core.records import BallotRecord, IgnoredMessage, NoticeRecord, Received
from steervote.core.result_line import result_line as result_line
from steervote.core.result_line import rule_needs as rule_needs
from steervote.core.result_line import state as _state
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


def notices(console: Console, records: Sequence[NoticeRecord]) -> None:
    """A notice command's result: one row per notice sent (or tried) in this run."""
    if not records:
        return
    t = Table(title=f"{records[0].kind.value.capitalize()}s")
    for col in ("member", "address", "status", "detail"):
        t.add_column(col)
    style = {"sent": "green", "failed": "red", "pending": "yellow", "sending": "yellow"}
    shown = list(records)
    if len(shown) > FULL_TABLE_LIMIT:
        shown = [n for n in shown if n.status.value != "sent" or n.detail][:FULL_TABLE_LIMIT]
        t.caption = f"{len(records)} notices; showing the {len(shown)} not plainly sent"
    for n in shown:
        t.add_row(
            safe(n.name),
            safe(n.address),
            Text(n.status.value, style=style[n.status.value]),
            safe(n.detail, 120),
        )
    console.print(t)


# --- tally -----------------------------------------------------------------------


# result_line (the sentence under the report, which exports carry word for word) and
# rule_needs are built in core.result_line: export may not import render.


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


_SENT_NOUNS = (
    ("ballot", "ballot", "ballots"),
    ("copy", "observer copy", "observer copies"),
    ("receipt", "receipt", "receipts"),
    ("ask", "request for one word", "requests for one word"),
    ("reminder", "reminder", "reminders"),
    ("announcement", "announcement", "announcements"),
)


def sent_line(motion_id: str, sent: dict[str, int]) -> str:
    """ "new-constitution: sent 12 ballots, 2 observer copies, 9 receipts, 1 request …"."""
    parts = [
        f"{sent[key]} {one if sent[key] == 1 else many}"
        for key, one, many in _SENT_NOUNS
        if sent.get(key)
    ]
    line = f"{motion_id}: sent " + (", ".join(parts) if parts else "nothing yet")
    unsure = sent.get("ballot:unconfirmed", 0)
    if unsure:
        line += f" ({unsure} of the ballots unconfirmed: see `steervote propose` for them)"
    missing = {k: sent.get(f"ballot:{k}", 0) for k in ("failed", "pending")}
    if any(missing.values()):
        n = sum(missing.values())
        how = " and ".join(f"{v} {k}" for k, v in missing.items() if v)
        line += (
            f". {n} {'member has' if n == 1 else 'members have'} no ballot ({how}): "
            "re-run `steervote propose` to send them"
        )
    return line


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


# --- show --------------------------------------------------------------------------

if TYPE_CHECKING:  # render imports no service at run time: `tally` need not load them
    from steervote.services.show import Event, History

OWN_WORDS_LIMIT = 3000  # characters of a member's own words printed by `show`

# How a receipt time is known (core.receipt), in words; the unproven ones say so.
_RECEIVED_FROM = {
    "internaldate": "IMAP INTERNALDATE",
    "maildir-name": "the Maildir file name",
    "received-header": "a trusted Received: header",
    "file-time": "the file's time",
    "from-line": "the mbox From line",
    "from-line-local": "an mbox From line without a time zone, not proven",
    "date-header": "the sender's Date header, not proven",
    "unknown": "unknown: when it was read, not proven",
}
_READING = {"vote": "", "needs_review": "needs review", "ignored": "ignored"}
_SENT = {
    "sent": "sent to",
    "failed": "NOT sent (the server refused it) to",
    "pending": "not sent yet to",
    "sending": "handed to the server, never confirmed, to",
}


def show(console: Console, h: History) -> None:
    """A member's history on a motion, oldest first, and where they stand now."""
    m, member = h.motion, h.member
    tz = m.committee.timezone
    _say(console, Text(untrusted(f"{member.name} ({member.id}) — {m.id}: {m.title}"), "bold"))
    aliases = f" (aliases: {', '.join(member.aliases)})" if member.aliases else ""
    _say(console, Text("address: ") + safe(member.email + aliases))
    _say(console, Text("now: ", style="bold") + _standing(h))
    for e in h.events:
        _event(console, e, h, tz)
    if h.messages:
        console.print()
        _say(console, Text(f"Each message as received: steervote show {m.id} {member.id} --raw N"))


def _standing(h: History) -> Text:
    """'counted FOR (ruling 1) — ruled by sec: …': the status, what it rests on, and why."""
    on = f" ({h.stands_on})" if h.stands_on else ""
    note = Text(" — ") + safe(h.line.note, 400) if h.line.note else Text("")
    return _status_words(h, on) + note


def _status_words(h: History, suffix: str = "") -> Text:
    line = h.line
    words = {
        Status.COUNTED: f"counted {line.vote.value.upper() if line.vote else ''}".strip(),
        Status.NEEDS_REVIEW: "awaiting review",
        Status.LATE: "late: not counted",
        Status.NOT_VOTED: "not voted",
    }[line.status]
    return Text(words + suffix, style=_STATUS_STYLE[line.status])


def _event(console: Console, e: Event, h: History, tz: str) -> None:
    from steervote.core.strength import Strength, in_words
    from steervote.services.show import Message, RulingEvent, Sent

    console.print()
    if isinstance(e, Sent):
        verb = _SENT.get(e.status, e.status)
        _say(console, Text(f"{_at(e.at, tz)}  {e.kind} {verb} ") + safe(e.address))
        _say(console, Text("    Message-ID: ") + safe(e.message_id))
        if e.about:
            _say(console, Text("    about: ") + safe(e.about, 300))
        if e.detail:
            _say(console, Text("    ") + safe(e.detail, 300))
    elif isinstance(e, Message):
        r = e.record
        late = Text("  LATE: after the deadline", style="magenta") if e.late else Text("")
        head = f"{_at(r.received_at, tz)}  message {e.number} received"
        source = _RECEIVED_FROM.get(r.received_from, r.received_from)
        _say(console, Text(head, style="bold") + Text(" ") + safe(f"(time from {source})") + late)
        _say(console, Text("    from: ") + safe(r.sender))
        _say(console, Text("    subject: ") + safe(r.subject))
        dated = f"; Date: {_at(r.dated, tz)}" if r.dated else "; no Date header"
        _say(console, Text("    Message-ID: ") + safe(r.message_id) + Text(dated))
        if r.motion_id is None:
            matched = "tied to no motion"
        elif r.member_id is None:
            matched = "tied to no member"
        else:
            how = f"how {r.how}, strength {r.strength}"
            matched = f"{in_words(Strength.of(r.strength), r.how)} ({how})"
        _say(console, Text(f"    matched: {matched}"))
        said = r.vote.value.upper() if r.vote else ""
        reading = " ".join(x for x in (_READING[r.disposition.value], said) if x) or "no vote"
        _say(console, Text(f"    read: {reading} — ") + safe(r.reason, 400))
        console.print(Text("    their words:"))
        words = untrusted(r.own_text or "(none of their own)", OWN_WORDS_LIMIT, oneline=False)
        console.print(Text("\n".join("      " + x for x in words.splitlines())), soft_wrap=True)
    elif isinstance(e, RulingEvent):
        x = e.ruling
        vote = x.vote.value.upper() if x.vote else "no vote"
        kind = "casting-vote ruling" if e.casting else "ruling"
        _say(
            console,
            Text(f"{_at(x.ruled_at, tz)}  {kind} {e.number}: {vote}, by ") + safe(x.ruled_by),
        )
        _say(console, Text("    reason: ") + safe(x.reason, 400))
    else:
        console.print(Text(f"{_at(e.at, tz)}  voting closes", style="bold"), soft_wrap=True)
    if getattr(e, "stands", False):
        after = h.line.status is Status.LATE
        mark = "    ▶ the latest reply, after the deadline: " if after else "    ▶ stands now: "
        console.print(Text(mark, style="bold") + _status_words(h))


def _say(console: Console, text: Text) -> None:
    console.print(text, soft_wrap=True)


def _at(t: datetime | None, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z") if t else "(not sent)"


# Every character a terminal acts on (terminal.untrusted's set, and the line and paragraph
# separators), shown as a Python escape instead of U+FFFD: the raw message shows what it
# holds. Tab and newline stay; CR LF, mail's line ending, is a newline.
_RAW_CONTROL = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def visible(data: bytes) -> str:
    """Raw message bytes as text safe to print: bytes that are not UTF-8 as \\xNN, control
    and bidi characters as \\xNN or \\uNNNN, newlines kept."""
    text = data.decode("utf-8", errors="backslashreplace").replace("\r\n", "\n")

    def escape(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _RAW_CONTROL.sub(escape, text)


def raw_message(console: Console, data: bytes) -> None:
    """A message as received, escaped (never interpreted, never rendered as HTML)."""
    text = visible(data)
    # Written as is: rich would expand tabs and take seconds over a large message.
    console.file.write(text if text.endswith("\n") else text + "\n")
