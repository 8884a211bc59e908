"""`steervote demo`: the whole flow with no mail server, in a directory of its own.

It proposes the example motion to the local outbox, writes clearly labelled
*simulated* member replies into mail/inbox/, and tallies them.
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
    from steervote.services import propose as proposing
    from steervote.services.collect import collect
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
    r = report(store, motion.id, now=now + timedelta(hours=1))
    render.tally(console, r.result, r.ignored)
    store.close()
    console.rule("next")
    console.print(
        f"cd {where}\nsteervote review {motion.id}      # the reply that needs a human\n"
        f"steervote rule {motion.id} MEMBER_ID for --reason '...'\n"
        f"steervote tally {motion.id} --json",
        markup=False,
        highlight=False,
    )


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
        sent = now + timedelta(minutes=5 + i)
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
