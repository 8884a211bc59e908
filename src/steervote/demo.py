"""`steervote demo`: the whole flow with no mail server, in a directory of its own.

It proposes the example motion to the local outbox, writes clearly labelled
*simulated* member replies into mail/inbox/, tallies them, asks the member whose reply
is unclear for one word, writes a simulated answer, and tallies again.
"""

from __future__ import annotations

import mailbox
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from rich.console import Console

from steervote import render
from steervote.core.motion import Member

# Simulated replies, by position in the electorate; None: this member does not reply.
REPLIES: tuple[str | None, ...] = (
    "For.",
    "Yes - I support adopting it.",
    "FOR\n\nSent from my iPhone",
    "Against. This should go to a members' meeting first.",
    "I abstain, as I missed the meeting.",
    "+1",
    "Yes, provided clause 9 is amended first.",
    "Dafür.\n\nViele Grüße",
    "Aye.",
    None,  # an out-of-office reply arrives instead
    "In favour.",
    None,
)


def example_motions() -> Path:
    """The example motion folder: shipped in the package, or the source checkout's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "examples", here.parents[1] / "motions"):
        if (candidate / "new-constitution.yaml").is_file():
            return candidate
    raise FileNotFoundError("the example motions are missing from this installation")


def run_demo(console: Console, directory: Path | None, *, now: datetime) -> None:
    """Propose, simulate replies, tally; print each step."""
    from steervote.adapters.local import MaildirOutbox, MaildirSource
    from steervote.adapters.store import Store
    from steervote.config import load_settings
    from steervote.core.ballot import Addressing
    from steervote.core.motion_file import load_motion
    from steervote.services import member_loop
    from steervote.services import propose as proposing
    from steervote.services.collect import collect
    from steervote.services.notify import send_notices
    from steervote.services.review import report

    where = Path(tempfile.mkdtemp(prefix="steervote-demo-")) if directory is None else directory
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(example_motions(), where / "motions", dirs_exist_ok=True)
    settings = load_settings(None, env={}, cwd=where)
    console.rule("1. propose")
    console.print(f"Working in {where} (SQLite store, local Maildir outbox; no mail server).")
    path = where / "motions" / "new-constitution.yaml"
    motion = load_motion(path, now=now)
    b = settings.ballot
    addressing = Addressing(b.sender, b.reply_to, b.plus_tokens)
    store = Store(settings.database_url)
    plan = proposing.plan(motion, store, addressing, now=now)
    with MaildirOutbox(settings.outbox) as outbox:
        result = proposing.propose(plan, store, outbox, addressing, now=lambda: now)
    render.ballots(console, result.ballots)

    console.rule("2. members reply (SIMULATED)")
    inbox = mailbox.Maildir(settings.inbox, create=True)
    simulated = _simulated_replies(settings.outbox, result.plan.motion.committee.members, now)
    for reply in simulated:
        inbox.add(reply)
    console.print(
        f"Wrote {len(simulated)} simulated replies to {settings.inbox}: votes in several styles, "
        "one conditional yes, an out-of-office notice and a message from a non-member."
    )

    console.rule("3. tally")
    read = collect(
        MaildirSource(settings.inbox),
        store,
        now=lambda: now + timedelta(hours=1),
        max_size=settings.max_message_bytes,
    )
    console.print(
        f"Read {read.read} messages: {read.votes} votes, {read.needs_review} for "
        f"review, {read.ignored} ignored."
    )
    later = now + timedelta(hours=1)
    r = report(store, motion.id, now=later)
    render.tally(console, r.result, r.ignored)

    console.rule("4. ask the member whose reply is unclear for one word")
    outgoing = member_loop.ask(store, motion.id, addressing, now=later)
    with MaildirOutbox(settings.outbox) as outbox:
        asked = send_notices(
            outgoing.plan, store, outbox, addressing, outgoing.compose, now=lambda: later
        )
    for notice in asked.notices:
        console.print(
            f"Asked {notice.name} <{notice.address}> (written to {settings.outbox}).",
            markup=False,
            highlight=False,
        )

    console.rule("5. the member answers (SIMULATED)")
    answers = _answers(settings.outbox, settings.inbox, later + timedelta(minutes=5))
    console.print(f"Wrote {answers} simulated one-word answer(s) to {settings.inbox}.")

    console.rule("6. tally again")
    collect(
        MaildirSource(settings.inbox),
        store,
        now=lambda: later + timedelta(minutes=10),
        max_size=settings.max_message_bytes,
    )
    r = report(store, motion.id, now=later + timedelta(minutes=10))
    render.tally(console, r.result, r.ignored)
    store.close()
    console.rule("next")
    console.print(
        f"cd {where}\nsteervote show {motion.id} {r.result.lines[0].member.id}   "
        "# a member's whole history\n"
        f"steervote acknowledge {motion.id} --dry-run   # receipts of each vote as read\n"
        f"steervote audit {motion.id} --out audit      # a folder anyone can verify\n"
        f"steervote tally {motion.id} --json",
        markup=False,
        highlight=False,
    )


def _unfolded(msg: Message, name: str) -> str:
    return " ".join(str(msg[name] or "").split())


def _answers(outbox: Path, inbox: Path, at: datetime) -> int:
    """A one-word answer, "For", to each ask in the outbox, delivered at `at` (the Maildir
    name carries the delivery time, as a mail server's would)."""
    n = 0
    for msg in mailbox.Maildir(outbox, create=False):
        ask = message_from_bytes(msg.as_bytes())
        if not str(ask["Message-ID"] or "").startswith("<ask."):
            continue
        answer = EmailMessage()
        answer["From"] = _unfolded(ask, "To")
        answer["To"] = _unfolded(ask, "Reply-To")
        answer["Subject"] = "Re: " + _unfolded(ask, "Subject")
        answer["Date"] = format_datetime(at)
        answer["Message-ID"] = make_msgid(domain="demo.invalid")
        answer["In-Reply-To"] = _unfolded(ask, "Message-ID")
        answer["References"] = f"{_unfolded(ask, 'References')} {_unfolded(ask, 'Message-ID')}"
        answer["X-Steervote-Demo"] = "simulated member answer"
        answer.set_content(f"For\n\nOn {ask['Date']}, {ask['From']} wrote:\n{_quoted(ask)}\n")
        n += 1
        name = f"{int(at.timestamp())}.M{n}P0Q0.demo"
        (inbox / "new" / name).write_bytes(answer.as_bytes())
    return n


def _simulated_replies(
    outbox: Path, members: Sequence[Member], now: datetime
) -> list[EmailMessage]:
    ballots: dict[str, Message] = {}
    for msg in mailbox.Maildir(outbox, create=False):
        raw = msg.as_bytes()
        parsed = message_from_bytes(raw)
        if "Reply-To" in parsed:
            ballots[parseaddr(str(parsed["To"]))[1].lower()] = parsed
    out = []
    for i, member in enumerate(members):
        ballot = ballots.get(member.email.lower())
        if ballot is None:
            continue
        text = REPLIES[i] if i < len(REPLIES) else None
        sent = now  # written as it is delivered: a Date after receipt would look replayed
        if text is None and i == 9:
            out.append(_out_of_office(member, ballot, sent))
        elif text is not None:
            out.append(_reply(member.name, member.email, ballot, text, sent))
    # Someone outside the committee writes in with the motion's subject (and no ballot).
    first = ballots[members[0].email.lower()]
    stranger = _reply("A. Stranger", "stranger@elsewhere.example", first, "For!", now)
    del stranger["In-Reply-To"], stranger["References"]
    local, _, domain = parseaddr(str(first["Reply-To"]))[1].partition("@")
    stranger.replace_header("To", f"{local.split('+')[0]}@{domain}")
    out.append(stranger)
    return out


def _quoted(ballot: Message) -> str:
    body = next((p for p in ballot.walk() if p.get_content_type() == "text/plain"), None)
    payload = body.get_payload(decode=True) if body is not None else b""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def _reply(name: str, address: str, ballot: Message, text: str, sent: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = str(ballot["Reply-To"])
    msg["Subject"] = "Re: " + str(ballot["Subject"])
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = make_msgid(domain="demo.invalid")
    msg["In-Reply-To"] = str(ballot["Message-ID"])
    msg["References"] = str(ballot["Message-ID"])
    msg["X-Steervote-Demo"] = "simulated member reply"
    attribution = f"On {ballot['Date']}, {ballot['From']} wrote:"
    msg.set_content(f"{text}\n\n{attribution}\n{_quoted(ballot)}\n")
    return msg


def _out_of_office(member: Member, ballot: Message, sent: datetime) -> EmailMessage:
    msg = _reply(
        member.name,
        member.email,
        ballot,
        "I am out of the office until Monday. For urgent matters call the office.",
        sent,
    )
    msg.replace_header("Subject", "Automatic reply: " + str(ballot["Subject"]))
    msg["Auto-Submitted"] = "auto-replied"
    return msg
