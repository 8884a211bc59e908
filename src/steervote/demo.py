"""`steervote demo`: the whole flow with no mail server, in a directory of its own.

It proposes the example motion to the local outbox, writes clearly labelled
*simulated* member replies into mail/inbox/, tallies them, asks the member whose reply
is unclear for one word, writes a simulated answer, and tallies again.
"""

from __future__ import annotations

import mailbox
import shlex
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
from steervote.core.tally import Status, TallyResult
from steervote.errors import InvalidInput

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


def check_folder(directory: Path) -> None:
    """InvalidInput unless `directory` is missing or an empty folder: the demo writes a
    store, motions and simulated mail, and must never write them into a real workspace."""
    for above in (directory, *directory.absolute().parents):
        if above.exists() and not above.is_dir():
            raise InvalidInput(f"--dir {directory}: {above} is not a folder")
        if above.exists():
            break
    if not directory.exists():
        return
    entries = sorted(p.name for p in directory.iterdir())
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise InvalidInput(
            f"--dir {directory} is not empty (it holds {shown}): the demo writes a store, "
            "motions and simulated mail there; give a new or empty folder, or leave out "
            "--dir for a new temporary one"
        )


def run_demo(
    console: Console, directory: Path | None, *, now: datetime, command: str = "steervote"
) -> None:
    """Propose, simulate replies, tally; print each step, then the commands to try next,
    each run as `command` (how to run this steervote from any folder).

    `directory` must be missing or empty (InvalidInput otherwise, with nothing written);
    None: a new temporary folder. The simulated story ends at `now`: the ballots went out
    an hour and ten minutes before, so nothing the commands printed next show is in the
    future.
    """
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

    start = now - timedelta(hours=1, minutes=10)  # the ballots go out; the story ends at now
    if directory is not None:
        check_folder(directory)
    where = Path(tempfile.mkdtemp(prefix="steervote-demo-")) if directory is None else directory
    where = where.absolute()
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(example_motions(), where / "motions", dirs_exist_ok=True)
    settings = load_settings(None, env={}, cwd=where)
    console.rule("1. propose")
    console.print(f"Working in {where} (SQLite store, local Maildir outbox; no mail server).")
    path = where / "motions" / "new-constitution.yaml"
    motion = load_motion(path, now=start)
    b = settings.ballot
    addressing = Addressing(b.sender, b.reply_to, b.plus_tokens)
    store = Store(settings.database_url)
    plan = proposing.plan(motion, store, addressing, now=start)
    with MaildirOutbox(settings.outbox) as outbox:
        result = proposing.propose(plan, store, outbox, addressing, now=lambda: start)
    render.ballots(console, result.ballots)

    console.rule("2. members reply (SIMULATED)")
    mailbox.Maildir(settings.inbox, create=True)
    simulated = _simulated_replies(settings.outbox, result.plan.motion.committee.members, start)
    for i, reply in enumerate(simulated):
        # Delivered in the story's time: the Maildir name carries it, as a server's would.
        delivered = start + timedelta(minutes=5 + i)
        name = f"{int(delivered.timestamp())}.M{i}P0Q0.demo-reply"
        (settings.inbox / "new" / name).write_bytes(reply.as_bytes())
    console.print(
        f"Wrote {len(simulated)} simulated replies to {settings.inbox}: votes in several styles, "
        "one conditional yes, an out-of-office notice and a message from a non-member."
    )

    console.rule("3. tally")
    read = collect(
        MaildirSource(settings.inbox),
        store,
        now=lambda: start + timedelta(hours=1),
        max_size=settings.max_message_bytes,
    )
    console.print(
        f"Read {read.read} messages: {read.votes} read as votes, {read.needs_review} for "
        f"review, {read.ignored} ignored."
    )
    later = start + timedelta(hours=1)
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
    noun = "answer" if answers == 1 else "answers"
    console.print(f"Wrote {answers} simulated one-word {noun} to {settings.inbox}.")

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
    asked_ids = [n.recipient for n in asked.notices]
    _next_steps(console, where, command, motion.id, r.result, asked_ids)


def _next_steps(
    console: Console,
    where: Path,
    command: str,
    motion_id: str,
    result: TallyResult,
    asked: Sequence[str],
) -> None:
    """The commands to try next, each as it can be pasted into a shell: the member in
    the rule example is one awaiting review, else the one who was asked, else one who
    did not vote."""
    lines = result.lines
    in_review = [x.member.id for x in lines if x.status is Status.NEEDS_REVIEW]
    silent = [x.member.id for x in lines if x.status is Status.NOT_VOTED]
    member = [*in_review, *asked, *silent, lines[0].member.id][0]
    why = (
        "awaits review"
        if in_review
        else "was asked to confirm"
        if member in asked
        else "has not voted"
    )
    steps = (
        (f"cd {shlex.quote(str(where))}", "the demo's workspace: its store and mail/"),
        (f"{command} status", "every motion: counts and result"),
        (f"{command} review {motion_id}", "replies that need a person"),
        (f"{command} show {motion_id} {member}", f"the whole history of a member who {why}"),
        (
            f"{command} rule {motion_id} {member} for --reason 'confirmed by phone'",
            "record a ruling",
        ),
        (f"{command} tally {motion_id} --json", "the result as JSON"),
        (f"{command} audit {motion_id} --out audit", "a folder anyone can verify"),
    )
    console.rule("next")
    console.print(
        "Try next (each line works as printed; the text after # is a comment):",
        markup=False,
        highlight=False,
    )
    for step, what in steps:
        console.print(f"{step}   # {what}", markup=False, highlight=False, soft_wrap=True)


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
