"""Rich tables, JSON and CSV from result values. All terminal markup lives here.

Text that came from mail or from files the user did not type at the keyboard (motion,
committee, CSV) is hostile: it reaches the terminal only through `untrusted()`, which
strips control and bidi characters, and only as `rich.text.Text`, which never
interprets markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from steervote.core.ballot import casting_in_words, deadline_in_words, rule_in_words
from steervote.core.motion import Motion
from steervote.core.records import BallotRecord, IgnoredMessage, NoticeRecord, Received
from steervote.core.result_line import result_line as result_line
from steervote.core.result_line import rule_needs as rule_needs
from steervote.core.result_line import state as _state
from steervote.core.rules import Result
from steervote.core.tally import MemberLine, Status, TallyResult

# The one escaping rule for text shown in a terminal, kept where JSON output (no rich) can
# use it too; `render.untrusted` is the same function.
from steervote.terminal import this_program
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
    t.add_row("Casting vote", Text(casting_in_words(motion)))
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
# The status of a line as one short word (the JSON keeps the enum's value).
_STATUS_WORD = {
    Status.COUNTED: "counted",
    Status.NEEDS_REVIEW: "review",
    Status.LATE: "late",
    Status.NOT_VOTED: "not voted",
}
_GAP = 2  # spaces between two columns of a report table
WIDE = 120  # from this width the tally table adds how, strength and replies


def _report_table(title: str | None = None) -> Table:
    """A table in the house style: a rule under the header, no frame, two spaces between
    columns, nothing padded at either edge (column widths are set by the caller)."""
    return Table(
        title=safe(title) if title else None,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, _GAP - 1, 0, 0),
    )


def _fit(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells: whole if it fits, else cut at the end of
    a word where one ends in its second half, and marked with "…"."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = ""
    for ch in text:
        if cell_len(cut + ch) > width - 1:
            break
        cut += ch
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:—-") + "…"


def _day_time(t: datetime | None, tz: str) -> str:
    """'29 Nov 12:31' in the committee's timezone (English month names whatever the
    locale; a name that is no IANA zone, as in a hand-edited audit folder: UTC), or ''."""
    if t is None:
        return ""
    try:
        local = t.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        local = t.astimezone(UTC)
    return f"{local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _said(line: MemberLine) -> str:
    """What a line rests on, once: the member's words, the ruling, or why it is in review
    (a review note that already quotes the words is not preceded by them again)."""
    evidence = untrusted(line.evidence, 300)
    note = untrusted(line.note, 600)
    quoted = f"“{evidence}”" if evidence else ""
    if line.how == "ruling" or line.status is Status.NEEDS_REVIEW:
        if not note or (evidence and evidence in note):
            return note or quoted
        return f"{quoted} — {note}" if quoted and line.how != "ruling" else note
    if line.status is Status.LATE or not note:
        return quoted
    return f"{quoted} ({note})" if quoted else note


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 message', '2 messages', '1,000 replies' (`many` where not one + "s")."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def tally(
    console: Console,
    r: TallyResult,
    ignored: Sequence[IgnoredMessage],
    *,
    now: datetime | None = None,
) -> None:
    """The report: one line per member (a large electorate: those awaiting review or late),
    the messages ignored, and the result sentence with the time left (`now`: the time of
    the count; default the clock).

    Fits the console's width: name, vote, receipt time (`29 Nov 12:31`, committee's
    timezone), status in a word and the evidence cut to the space left; from WIDE columns
    also how the reply was matched, how strongly, and how many replies there were.
    """
    tz = r.motion.committee.timezone
    lines: Sequence[MemberLine] = r.lines
    if len(lines) > FULL_TABLE_LIMIT:
        attention = (Status.NEEDS_REVIEW, Status.LATE)
        lines = [x for x in lines if x.status in attention][:FULL_TABLE_LIMIT]
    width = console.width
    wide = width >= WIDE
    names = _told_apart(lines)
    status = [_status_word(x) for x in lines]
    votes = [x.vote.value.upper() if x.vote else "" for x in lines]
    times = [_day_time(x.received_at, tz) for x in lines]
    fixed = {
        "vote": _widest("vote", votes),
        "received": _widest("received", times),
        "status": _widest("status", status),
    }
    if wide:
        fixed["how"] = _widest("how", [x.how or "" for x in lines])
        fixed["strength"] = _widest("strength", [x.strength or "" for x in lines])
        fixed["replies"] = _widest("replies", [f"{x.replies:,}" for x in lines])
    name_width = min(_widest("member", names), max(16, width * 3 // 10))
    gaps = _GAP * (len(fixed) + 1)
    said = [_said(x) for x in lines]
    space = max(12, width - name_width - sum(fixed.values()) - gaps)
    said_width = min(space, _widest("evidence", said))
    _heading(console, r.motion)
    t = _report_table()
    t.add_column("member", width=name_width, no_wrap=True, overflow="ellipsis")
    for name, w in fixed.items():
        t.add_column(
            name,
            width=w,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if name == "replies" else "left",
        )
    t.add_column("evidence", width=said_width, no_wrap=True, overflow="ellipsis")
    for i, line in enumerate(lines):
        row: list[str | Text] = [
            Text(_fit(names[i], name_width)),
            votes[i],
            times[i],
            Text(status[i], style=_STATUS_STYLE[line.status]),
        ]
        if wide:
            row += [line.how or "", line.strength or "", f"{line.replies:,}"]
        row.append(Text(_fit(said[i], said_width)))
        t.add_row(*row)
    console.print(t)
    if len(lines) < len(r.lines):
        console.print(
            f"{plural(len(r.lines), 'member')}: showing {len(lines):,} awaiting review or "
            f"late; {r.counts.counted:,} counted, {r.not_voted:,} not voted. "
            "Every member: --json or --csv FILE."
        )
    _late_after_a_vote(console, r)
    if r.needs_review:
        motion_id = untrusted(r.motion.id)
        console.print(
            Text(f"Their words in full: {this_program()} review {motion_id}"), soft_wrap=True
        )
    if ignored:
        console.print(f"{plural(len(ignored), 'message')} ignored (see --json for all):")
        for m in ignored[:10]:
            head = f"  {untrusted(m.sender, 60)} — {untrusted(m.subject, 60)}: "
            console.print(Text(_fit(head + untrusted(m.reason, 120), width)))
    at = now if now is not None else datetime.now(UTC)
    # One line when piped (a script greps it whole); wrapped between words on a terminal.
    console.print(Text(result_line(r, now=at), style="bold"), soft_wrap=not console.is_terminal)


def _told_apart(lines: Sequence[MemberLine]) -> list[str]:
    """Each member's name, with the id after a name two members share ('Dev Patel
    (dev-patel-2)'): a report must never show two lines no one can tell apart."""
    from collections import Counter

    names = [untrusted(x.member.name, 100) for x in lines]
    seen = Counter(n.casefold() for n in names)
    return [
        f"{n} ({x.member.id})" if seen[n.casefold()] > 1 else n
        for n, x in zip(names, lines, strict=True)
    ]


def _late_after_a_vote(console: Console, r: TallyResult) -> None:
    """'Received after the deadline, not counted: 1 reply from Alice Able (alice-able)': a
    change of mind too late changes nothing, but a report must not hide it. (A member with
    nothing but late replies is already a LATE line.)"""
    late = [x for x in r.lines if x.late_replies and x.status is not Status.LATE]
    if not late:
        return
    shown = ", ".join(
        f"{plural(x.late_replies, 'reply', 'replies')} from {untrusted(x.member.name, 100)} "
        f"({x.member.id})"
        for x in late[:10]
    )
    more = f" and {len(late) - 10:,} more members (see --json)" if len(late) > 10 else ""
    console.print(Text(f"Received after the deadline, not counted: {shown}{more}."))


def _heading(console: Console, motion: Motion) -> None:
    """'new-constitution: Adopt the new constitution' on one line when it fits; else the
    id on a line of its own, whole (an id is never broken: it is typed back), and the
    title, wrapped between words, below it."""
    motion_id, title = untrusted(motion.id), untrusted(motion.title, 300)
    if cell_len(motion_id) + 2 + cell_len(title) <= console.width:
        console.print(Text(f"{motion_id}: {title}", style="bold"), soft_wrap=True)
        return
    console.print(Text(f"{motion_id}:", style="bold"), soft_wrap=True)
    console.print(Text(title, style="bold"))


def _status_word(line: MemberLine) -> str:
    return "ruled" if line.how == "ruling" else _STATUS_WORD[line.status]


def _widest(header: str, cells: Sequence[str]) -> int:
    """The width of a column: its header or its widest cell."""
    return max([cell_len(header), *(cell_len(c) for c in cells)])


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
        f"\n{len(waiting)} awaiting review. Record a ruling with: {this_program()} rule "
        f"{r.motion.id} MEMBER for|against|abstain|none --reason TEXT",
        soft_wrap=True,
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
        them = "it is" if unsure == 1 and sent.get("ballot") == 1 else f"{unsure:,} of them"
        line += (
            f" ({them} unconfirmed: handed to the server, which never confirmed; "
            f"`{this_program()} propose MOTION.yaml` names them)"
        )
    missing = {k: sent.get(f"ballot:{k}", 0) for k in ("failed", "pending")}
    if any(missing.values()):
        n = sum(missing.values())
        how = " and ".join(f"{v} {k}" for k, v in missing.items() if v)
        line += (
            f". {n} {'member has' if n == 1 else 'members have'} no ballot ({how}): "
            f"re-run `{this_program()} propose MOTION.yaml` (the motion's file) to send them"
        )
    return line


def status(console: Console, results: Sequence[TallyResult]) -> None:
    """One row per recorded motion: id, deadline, counts (right-aligned) and result.

    The id and the result are always whole; where the console is too narrow for every
    column, the deadline goes first, then the counts least needed to read the result.
    """
    if not results:
        start = f"{this_program()} propose MOTION.yaml"
        console.print(f"No motions recorded yet. Start with: {start}", soft_wrap=True)
        return
    cells: dict[str, list[str]] = {
        "motion": [untrusted(r.motion.id) for r in results],
        "closes": [_closes_cell(r) for r in results],
        "for": [f"{r.counts.for_:,}" for r in results],
        "against": [f"{r.counts.against:,}" for r in results],
        "abstain": [f"{r.counts.abstain:,}" for r in results],
        "review": [f"{r.needs_review:,}" for r in results],
        "not voted": [f"{r.not_voted:,}" for r in results],
        "result": [_status_result(r) for r in results],
    }
    widths = {name: _widest(name, column) for name, column in cells.items()}
    for dropped in ("closes", "not voted", "abstain", "review"):
        if _table_width(widths) <= console.width:
            break
        del widths[dropped]
    if _table_width(widths) > console.width:  # a long id: each motion in two lines
        _status_stacked(console, cells)
        return
    t = _report_table("Motions")
    numbers = {"for", "against", "abstain", "review", "not voted"}
    for name, w in widths.items():
        t.add_column(
            name, min_width=w, no_wrap=True, justify="right" if name in numbers else "left"
        )
    for i in range(len(results)):
        t.add_row(*(Text(cells[name][i]) for name in widths))
    console.print(t)


def _closes_cell(r: TallyResult) -> str:
    """'6 Dec 20:12', or 'not started' while no ballot has started a relative deadline."""
    if not r.clock_started:
        return "not started"
    return _day_time(r.motion.closes, r.motion.committee.timezone)


def _table_width(widths: dict[str, int]) -> int:
    return sum(widths.values()) + _GAP * (len(widths) - 1)


def _status_stacked(console: Console, cells: dict[str, list[str]]) -> None:
    """The status of motions whose ids leave no room for the counts: the id whole on a
    line of its own (never cut or broken), then its result and deadline, then its counts."""
    console.print(Text("Motions", style="bold"))
    for i, motion_id in enumerate(cells["motion"]):
        console.print(Text(motion_id), soft_wrap=True)
        counts = ", ".join(
            f"{cells[name][i]} {name}"
            for name in ("for", "against", "abstain", "review", "not voted")
        )
        closes = f" (closes {cells['closes'][i]})" if cells["closes"][i] else ""
        console.print(Text(f"  {cells['result'][i]}{closes}"))
        console.print(Text(f"  {counts}"))


def _status_result(r: TallyResult) -> str:
    """'carried (decided)', 'pending', 'tied: casting vote awaited', 'defeated (final)'."""
    o = r.outcome
    if r.withdrawn is not None:
        return "withdrawn"
    if o.result is Result.PENDING:
        return "pending"
    if o.result is Result.TIED:
        return "tied: casting vote awaited"
    word = o.result.value.replace("_", " ")
    if o.by_casting_vote:
        word += " on casting vote"
    return f"{word} ({_state(r)})"


# --- show --------------------------------------------------------------------------

if TYPE_CHECKING:  # render imports no service at run time: `tally` need not load them
    from steervote.services.show import Event, History

OWN_WORDS_LIMIT = 3000  # characters of a member's own words printed by `show`
OWN_TEXT_KEPT = 2000  # characters of own words the store keeps (core.inbound.OWN_TEXT_LIMIT)

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
        raw = f"{this_program()} show {m.id} {member.id} --raw N"
        _say(console, Text(f"Each message as received: {raw}"))


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
        if len(r.own_text) >= min(OWN_WORDS_LIMIT, OWN_TEXT_KEPT):
            _say(
                console,
                Text(
                    f"      … (their words are cut here; the whole message: "
                    f"{this_program()} show {h.motion.id} {h.member.id} --raw {e.number})",
                    style="magenta",
                ),
            )
    elif isinstance(e, RulingEvent):
        x = e.ruling
        vote = x.vote.value.upper() if x.vote else "no vote"
        kind = "casting-vote ruling" if e.casting else "ruling"
        _say(
            console,
            Text(f"{_at(x.ruled_at, tz)}  {kind} {e.number}: {vote}, by ") + safe(x.ruled_by),
        )
        _say(console, Text("    reason: ") + safe(x.reason, 400))
        if x.undone is not None:
            u = x.undone
            _say(
                console,
                Text(f"    undone {_at(u.undone_at, tz)} by ", style="magenta")
                + safe(u.undone_by)
                + Text(": ")
                + safe(u.reason, 400),
            )
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
    "[\\\\\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
    "\udc80-\udcff]"
)


def visible(data: bytes) -> str:
    """Raw message bytes as text safe to print: bytes that are not UTF-8 as \\xNN, control
    and bidi characters as \\xNN or \\uNNNN, newlines kept."""
    # A backslash in the message is shown doubled, so that "\\x1b" typed by a member can
    # never be taken for an escape character shown as \x1b.
    text = data.decode("utf-8", errors="surrogateescape").replace("\r\n", "\n")

    def escape(m: re.Match[str]) -> str:
        c = ord(m.group())
        if m.group() == "\\":
            return "\\\\"
        if 0xDC80 <= c <= 0xDCFF:  # a byte that is not UTF-8
            return f"\\x{c - 0xDC00:02x}"
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _RAW_CONTROL.sub(escape, text)


def raw_message(console: Console, data: bytes) -> None:
    """A message as received, escaped (never interpreted, never rendered as HTML)."""
    text = visible(data)
    # Written as is: rich would expand tabs and take seconds over a large message. Past the
    # console's own stream (cli.Consoles strips the spaces rich pads lines with when piped):
    # a line's trailing spaces are part of the message (format=flowed, RFC 3676).
    out = getattr(console.file, "underlying", console.file)
    out.write(text if text.endswith("\n") else text + "\n")


# --- members, review one by one, rulings (issue 13) ----------------------------------

if TYPE_CHECKING:
    from steervote.core.succession import Step
    from steervote.services.review import Awaiting, Report
    from steervote.services.ruling import FinalChange, Ruled, Rulings, Undone

RULED_LISTED = 50  # rulings of one file listed one by one; the rest counted


def _how_many(n: int, one: str) -> str:
    """'1 ruling', '2 rulings', '1,200 members'."""
    return f"{n:,} {one}{'' if n == 1 else 's'}"


def _plain(console: Console, text: str | Text) -> None:
    """One line (or paragraph) as is: no markup, no highlighting, wrapped between words."""
    console.print(text, markup=False, highlight=False, emoji=False)


def step_in_words(x: Step, tz: str) -> str:
    """A reply or a ruling as a ruling's message names it: 'AGAINST from the reply of
    12 Jan 10:02', 'the reply of 12 Jan 10:02 in review', 'the ruling of 12 Jan 10:02 (FOR,
    by sec)'. Times in the committee's timezone."""
    from steervote.core.records import Disposition, Ruling
    from steervote.core.tally import day_and_time

    if isinstance(x, Ruling):
        vote = x.vote.value.upper() if x.vote else "no vote"
        return f"the ruling of {day_and_time(x.ruled_at, tz)} ({vote}, by {x.ruled_by})"
    at = day_and_time(x.received_at, tz)
    if x.disposition is Disposition.VOTE and x.vote is not None:
        return f"{x.vote.value.upper()} from the reply of {at}"
    return f"the reply of {at} in review"


def replaces_in_words(ruled: Ruled, tz: str) -> str:
    """'replaces AGAINST from the reply of 12 Jan 10:02', '… and the reply of 12 Jan 11:00
    in review', 'replaces the ruling of …', or 'no vote stood before'."""
    if not ruled.replaces:
        return "no casting vote stood before" if ruled.member is None else "no vote stood before"
    return "replaces " + " and ".join(step_in_words(x, tz) for x in ruled.replaces)


def standing_in_words(line: MemberLine, tz: str) -> str:
    """Where a member stands, with what it rests on: 'counted AGAINST from the reply of
    12 Jan 10:02', 'ruled FOR: the ruling of … stands', 'in review: why', 'not voted'."""
    from steervote.core.tally import day_and_time

    if line.how == "ruling" and line.ruling is not None:
        return f"{line.standing}: {step_in_words(line.ruling.ruling, tz)} stands"
    at = day_and_time(line.received_at, tz) if line.received_at else ""
    if line.status is Status.COUNTED:
        return f"{line.standing} from the reply of {at}"
    if line.status is Status.NEEDS_REVIEW:
        return f"in review: {line.note}"
    if line.status is Status.LATE:
        return f"late: the reply of {at} came after the deadline; not counted"
    return "not voted: no reply counts and no ruling holds"


def result_sentence(console: Console, r: TallyResult) -> None:
    """The result sentence, bold, as the tally ends with it."""
    _plain(console, Text(result_line(r), style="bold"))


def ruled(
    console: Console, r: Rulings, source: str | None = None, *, sentence: bool = True
) -> None:
    """What a `rule` run recorded (dry run or held: would record): each ruling and what it
    replaces, each asked for that already stands, a count of both for a file, how a final
    result changes, and (with `sentence`) the result sentence after it."""
    m = r.report.result.motion
    tz = m.committee.timezone
    verb = "Recorded" if not (r.dry_run or r.held) else "Would record"
    if source is None and len(r.ruled) + len(r.already) == 1:
        for x in r.ruled:
            say_quoted(console, f"{verb} {_ruling_head(x)} on {m.id}; {_after(x, tz)}")
        for x in r.already:
            stands = _already_standing(x, tz)
            say_quoted(
                console, f"{_ruling_head(x)} already stands on {m.id}: {stands}; nothing recorded."
            )
    else:
        where = f" from {source}" if source else ""
        if r.ruled or not r.already:
            say_quoted(console, f"{verb} {plural(len(r.ruled), 'ruling')} on {m.id}{where}:")
            _listed(console, [f"{_ruling_head(x)}: {_after(x, tz)}" for x in r.ruled])
        if r.already:
            say_quoted(console, f"Already recorded on {m.id}, not recorded again:")
            _listed(console, [f"{_ruling_head(x)}: {_already_standing(x, tz)}" for x in r.already])
        done = "would be recorded" if r.dry_run or r.held else "recorded"
        say_quoted(console, f"{len(r.ruled):,} {done}, {len(r.already):,} already recorded.")
    _say_change(console, r.change, r.report.result, would=r.dry_run or r.held)
    if r.dry_run:
        overturns = r.change is not None and not r.change.settles
        say_quoted(
            console,
            "Dry run: nothing recorded"
            + (" (recording it asks first, or needs --yes)." if overturns else "."),
        )
    if sentence:
        result_sentence(console, r.report.result)


def undone(console: Console, u: Undone) -> None:
    """What `rule --undo` did (held: would do), what stands after it, and how a final result
    changes."""
    m = u.report.result.motion
    tz = m.committee.timezone
    whose = "the chair's casting vote" if u.member is None else f"{u.member.name} ({u.member.id})"
    ruling = step_in_words(u.ruling, tz)
    if u.held:
        say_quoted(
            console, f"Would undo {ruling} on {whose} (kept in the audit trail, marked undone)."
        )
    else:
        say_quoted(console, f"Undid {ruling} on {whose}: kept in the audit trail, marked undone.")
    if u.line is not None:
        stands = standing_in_words(u.line, tz)
    elif u.casting is not None:
        stands = f"{step_in_words(u.casting.ruling, tz)} stands as the casting vote"
    else:
        stands = "no casting vote is recorded"
    say_quoted(console, f"{'Then' if u.held else 'Now'}: {stands}")
    _say_change(console, u.change, u.report.result, would=u.held)
    if not u.held:
        result_sentence(console, u.report.result)


def say_quoted(console: Console, text: str) -> None:
    """One line (or paragraph) of text that quotes names and reasons from files and the
    store: escaped, no markup, no highlighting, wrapped between words."""
    console.print(untrusted(text, 4000), markup=False, highlight=False, emoji=False)


def _listed(console: Console, lines: list[str]) -> None:
    """Each line indented by two spaces (a wrapped line too), the first RULED_LISTED."""
    from rich.padding import Padding

    shown = [untrusted(x, 4000) for x in lines[:RULED_LISTED]]
    if len(lines) > RULED_LISTED:
        shown.append(f"… and {len(lines) - RULED_LISTED:,} more")
    for line in shown:
        console.print(Padding(Text(line), (0, 0, 0, 2)))


def _ruling_head(x: Ruled) -> str:
    """'FOR for Sam Tarry (sam-tarry)', 'the chair's casting vote AGAINST'."""
    vote = x.ruling.vote.value.upper() if x.ruling.vote else "no vote"
    if x.member is None:
        return f"the chair's casting vote {vote}" if x.ruling.vote else "no casting vote"
    return f"{vote} for {x.member.name} ({x.member.id})"


def _after(x: Ruled, tz: str) -> str:
    """What the ruling replaced ('replaces AGAINST from the reply of 12 Jan 10:02'), or that
    nothing stood and why (a late reply is named: it existed, but never counted), and
    whether the ruling stands."""
    from steervote.core.tally import day_and_time

    said = replaces_in_words(x, tz)
    if not x.replaces and x.late is not None:
        read = f" ({x.late.vote.value.upper()})" if x.late.vote is not None else ""
        said += (
            f": the reply of {day_and_time(x.late.received_at, tz)}{read} came after the "
            "deadline and is not counted"
        )
    said += "."
    if not x.stands and x.line is not None:
        # A reply received after the ruling's own time (a clock ahead of ours) replaced it.
        said += f" It does not stand: now {standing_in_words(x.line, tz)}"
    return said


def _already_standing(x: Ruled, tz: str) -> str:
    """'the ruling of 12 Jan 10:02 (FOR, by sec) stands, for the same reason'."""
    return f"{step_in_words(x.ruling, tz)} stands, for the same reason"


def change_words(change: FinalChange) -> str:
    """'CARRIED → DEFEATED'."""
    return " → ".join(x.value.upper().replace("_", " ") for x in (change.before, change.after))


def _say_change(
    console: Console, change: FinalChange | None, after: TallyResult, *, would: bool
) -> None:
    """'This changes the final result: CARRIED → DEFEATED (voting closed …).' when it does;
    'settles' only where the result is final after it (nothing else awaited), else 'This
    changes the result after the deadline: …' and what it still awaits."""
    from steervote.core.result_line import local_time, review_can_change

    if change is None:
        return
    m = after.motion
    closed = f"voting closed {local_time(m.closes, m.committee.timezone)}"
    # `after` is the count once recorded (a preview, `would`, holds the count before it).
    awaited = after.outcome.result is Result.TIED or (
        after.needs_review and review_can_change(after)
    )
    if awaited and not would:
        verb = "would change" if would else "changes"
        say_quoted(
            console,
            f"This {verb} the result after the deadline: {change_words(change)} ({closed}); "
            "it is not final yet (see the sentence below).",
        )
        return
    verb = (
        ("would settle" if would else "settles")
        if change.settles
        else ("would change" if would else "changes")
    )
    say_quoted(console, f"This {verb} the final result: {change_words(change)} ({closed}).")


def awaiting(console: Console, a: Awaiting, motion: Motion) -> None:
    """One member awaiting review: who, when, why, and their own words in full."""
    from steervote.core.records import Ruling
    from steervote.core.tally import day_and_time

    line, tz = a.line, motion.committee.timezone
    member = line.member
    console.rule(safe(f"{member.name} ({member.id})"))
    at = day_and_time(line.received_at, tz) if line.received_at else "(time unknown)"
    number = f", message {a.number}" if a.number is not None else ""
    strength = f" (strength {line.strength})" if line.strength else ""
    _plain(console, Text(untrusted(f"received {at}{number}, via {line.how}{strength}")))
    if a.reply is not None:
        _plain(console, Text("from: ") + safe(a.reply.sender, 200))
    _plain(console, Text("why: ") + safe(line.note, 2000))
    if line.ruling is not None:
        standing = step_in_words(line.ruling.ruling, tz)
        _plain(
            console,
            Text(
                untrusted(
                    f"earlier: {standing}; not counted while this reply awaits your ruling",
                    2000,
                )
            ),
        )
    for x in line.superseded:
        if isinstance(x.item, Ruling) and not isinstance(x.by, Ruling):
            vote = x.item.vote.value.upper() if x.item.vote else "no vote"
            _plain(
                console,
                Text(
                    f"ruling of {day_and_time(x.item.ruled_at, tz)} ({vote}) "
                    "replaced by a later reply"
                ),
            )
    words = a.reply.own_text if a.reply is not None else line.evidence
    _plain(console, Text("their words:"))
    console.print(safe(words or "(no text of their own)", 4000, oneline=False), soft_wrap=True)
    if a.number is not None:
        raw = f"{this_program()} show {motion.id} {member.id} --raw {a.number}"
        _say(console, Text(untrusted(f"as received: {raw}")))


def review_list(console: Console, r: Report, waiting: Sequence[Awaiting]) -> None:
    """Every member awaiting review, their words in full, and how to record rulings."""
    m = r.result.motion
    if not waiting:
        _plain(console, Text(untrusted(f"Nothing awaits review on {m.id}.")))
        return
    for a in waiting:
        awaiting(console, a, m)
    motion_id, program = untrusted(m.id), this_program()
    _plain(console, Text(f"\n{_how_many(len(waiting), 'member')} awaiting review."))
    # Each command on a line of its own, never wrapped: pasted, it runs as printed.
    for what, command in (
        ("Record a ruling", f"rule {motion_id} MEMBER for|against|abstain|none --reason TEXT"),
        ("One by one", f"review {motion_id} --interactive"),
        ("Many at once", f"rule {motion_id} --from-csv FILE"),
    ):
        _say(console, Text(f"{what}: {program} {command}"))


def members(console: Console, r: TallyResult) -> None:
    """One line per voting member: id, name and role, address and aliases, and where they
    stand; on a console too narrow for them all whole, two lines per member."""
    from rich.cells import set_cell_size

    rows = [
        (
            untrusted(x.member.id, 200),
            untrusted(x.member.name + (f" ({x.member.role})" if x.member.role else ""), 200),
            untrusted(", ".join((x.member.email, *x.member.aliases)), 400),
            x.standing,
        )
        for x in r.lines
    ]
    header = ("id", "name", "address", "status")
    widest = [max(cell_len(row[i]) for row in [header, *rows]) for i in range(4)]
    gap = 2
    id_width, status_width = widest[0], widest[3]
    if sum(widest) + 3 * gap > console.width:
        # Too narrow for every cell whole, and an address cut short is no use (it is what
        # the list is read for): each member in two lines, the id whole, then where they
        # stand, their name and their addresses (cut only past the console's width).
        for member_id, name, address, standing in rows:
            console.print(Text(member_id), soft_wrap=True)
            console.print(Text(_fit(f"  {standing}  {name}  {address}", console.width)))
        _members_summary(console, r)
        return
    room = max(20, console.width - id_width - status_width - 3 * gap)
    name_width = min(widest[1], max(room // 2, room - widest[2]))
    address_width = min(widest[2], room - name_width)
    widths = (id_width, name_width, address_width, status_width)

    def cell(text: str, width: int) -> str:
        if cell_len(text) > width:
            text = set_cell_size(text, max(width - 1, 0)) + "…"
        return set_cell_size(text, width)

    for i, row in enumerate([header, *rows]):
        text = (" " * gap).join(cell(c, w) for c, w in zip(row, widths, strict=True)).rstrip()
        line = Text(text, style="bold" if i == 0 else "")
        console.print(line, markup=False, highlight=False, soft_wrap=True, overflow="ignore")
    _members_summary(console, r)


def _members_summary(console: Console, r: TallyResult) -> None:
    """'12 members of new-constitution: 10 counted, 2 not voted.'"""
    counts = {
        "counted": r.counts.counted,
        "in review": r.needs_review,
        "late": r.late,
        "not voted": r.not_voted,
    }
    said = ", ".join(f"{n:,} {what}" for what, n in counts.items() if n)
    _plain(
        console, Text(untrusted(f"{_how_many(len(r.lines), 'member')} of {r.motion.id}: {said}."))
    )
