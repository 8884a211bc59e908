"""Shared helpers for the propose tests: the example motion in a test's own folder, and
the mail the real SMTP server (or the local outbox) received, parsed and grouped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from itertools import count
from pathlib import Path

from servers import SmtpServer, start_smtp

EXAMPLE = Path(__file__).resolve().parents[1] / "motions"
MOTION_ID = "new-constitution"
SUBJECT = "[new-constitution] Adopt the new constitution"
PAPERS = (
    "momentum-constitution.pdf",
    "interim-governance.pdf",
    "election-process-for-the-national-coordinating-group.pdf",
    "momentum-members-survey-16-17.pdf",
)
MEMBERS = tuple(
    f"{name}@momentum.example"
    for name in (
        "jon.lansman",
        "marsha-jane.thompson",
        "christine.shawcroft",
        "sam.tarry",
        "jacqueline.walker",
        "martyn.cook",
        "michael.chessum",
        "matt.wrack",
        "sam.wheeler",
        "cecile.wright",
        "jill.mountford",
        "maggie.simpson",
    )
)
OBSERVERS = ("emma.rees@momentum.example", "adam.klug@momentum.example")
EVERYONE = MEMBERS + OBSERVERS
# A fixed clock: a Tuesday in winter, so Europe/London is GMT and local = UTC.
NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
SENDER = "Momentum Steering Group <chair@momentum.example>"
REPLY_TO = "votes@momentum.example"


def copy_example(directory: Path) -> Path:
    """The example motion, committee and papers under directory/motions; the motion file."""
    shutil.copytree(EXAMPLE, directory / "motions")
    return directory / "motions" / "new-constitution.yaml"


def edit(path: Path, old: str, new: str) -> None:
    """Replace one piece of text in a file the test owns (it must be there exactly once)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def parse(raw: bytes) -> EmailMessage:
    """A received message as an EmailMessage."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def received(server: SmtpServer) -> dict[str, list[EmailMessage]]:
    """Messages the SMTP server accepted, by envelope recipient (each message has one)."""
    out: dict[str, list[EmailMessage]] = defaultdict(list)
    for m in server.messages:
        assert len(m.recipients) == 1, m.recipients
        out[m.recipients[0].lower()].append(parse(m.content))
    return dict(out)


def to_address(msg: EmailMessage) -> str:
    """The bare address in a message's To header."""
    [(_, address)] = getaddresses([str(msg["To"])])
    return address.lower()


def plain_text(msg: EmailMessage) -> str:
    """The text/plain body."""
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def big_motion(directory: Path, n: int, motion_id: str = "big-vote") -> Path:
    """A motion to n members (members.csv beside it, no papers) under directory; its file.

    Member i (from 1) is `m{i:05d}`, "Member {i}", <m{i:05d}@members.example>.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rows = [f"Member {i},{member_address(i)},m{i:05d}" for i in range(1, n + 1)]
    (directory / "members.csv").write_text(
        "name,email,id\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    path = directory / f"{motion_id}.yaml"
    path.write_text(
        f"""\
id: {motion_id}
title: Consent to the new constitution
name: Momentum members
timezone: Europe/London
members_csv: members.csv
text: |
  That the members consent to the constitution adopted by the National Steering Group.
proposer: m00001
threshold: majority-of-votes-cast
closes: 7d
""",
        encoding="utf-8",
    )
    return path


def member_address(i: int) -> str:
    """The address of member i of a big_motion."""
    return f"m{i:05d}@members.example"


def smtp_lines(server: SmtpServer, security: str = "none", extra: str = "") -> str:
    """The [smtp] lines of a config for this server."""
    return f'host = "{server.host}"\nport = {server.port}\nsecurity = "{security}"\n{extra}'


def toml_config(
    directory: Path,
    *,
    smtp: str | None = None,
    plus_tokens: bool = True,
    database_url: str | None = None,
) -> Path:
    """Write directory/steervote.toml with a [ballot] section and, if given, [smtp] lines."""
    lines = [
        "[ballot]",
        f'from = "{SENDER}"',
        f'reply_to = "{REPLY_TO}"',
        f"plus_tokens = {'true' if plus_tokens else 'false'}",
    ]
    if smtp is not None:
        lines += ["", "[smtp]", smtp]
    if database_url is not None:
        lines += ["", "[database]", f'url = "{database_url}"']
    path = directory / "steervote.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class CrashableServers:
    """SMTP servers a test may stop like a crash, and a fresh one for the re-run.

    Not the session's `smtp_server`: tests/servers.py cannot start an aiosmtpd Controller
    again once stopped (its event loop is closed on stop), so a stopped server stays down.
    """

    def __init__(self) -> None:
        self.started: list[SmtpServer] = []

    def new(self) -> SmtpServer:
        """A new server on a new loopback port."""
        server = start_smtp()
        self.started.append(server)
        return server

    def messages(self) -> dict[str, list[EmailMessage]]:
        """Messages every server started so far accepted, by envelope recipient."""
        out: dict[str, list[EmailMessage]] = defaultdict(list)
        for server in self.started:
            for address, messages in received(server).items():
                out[address] += messages
        return dict(out)

    def close(self) -> None:
        for server in self.started:
            server.close()


@dataclass(frozen=True)
class Finished:
    """A steervote process that ended: its exit code (-9 when killed) and output."""

    pid: int
    code: int
    out: str
    err: str


class Steervote:
    """`steervote ARGS` in a process of its own, as a user (or cron) runs it.

    Output goes to files, not pipes: a run printing a 2,000-row table must never block
    on a pipe nobody reads. The environment is the test's (no STEERVOTE_* settings).
    """

    def __init__(self, directory: Path, *args: str) -> None:
        n = next(_runs)
        self._out = directory / f".steervote-{n}.out"
        self._err = directory / f".steervote-{n}.err"
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "steervote", *args],
                cwd=directory,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=dict(os.environ),
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> Finished:
        """SIGKILL, as the OOM killer or a pulled plug would: no clean-up runs."""
        self.process.kill()
        return self.wait()

    def wait(self, timeout: float = 60) -> Finished:
        """Wait for the process to end (reaping it, so its pid is dead) and read its output."""
        code = self.process.wait(timeout)
        return Finished(
            self.pid,
            code,
            self._out.read_text(encoding="utf-8", errors="replace"),
            self._err.read_text(encoding="utf-8", errors="replace"),
        )


_runs = count(1)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def ballots_went_out_earlier(database_url: str, by: timedelta) -> None:
    """Move every ballot's handing-over time `by` into the past, in the store: a test that
    delivers replies with receipt times hours in the past (Dovecot takes none in the
    future) proposes first, and a reply received before its ballot went out answers no
    ballot (core.tally)."""
    from sqlalchemy import select, update

    from steervote.adapters.store import BallotRow, Store

    store = Store(database_url)
    try:
        t = BallotRow.__table__  # type: ignore[attr-defined]
        with store.engine.begin() as connection:
            rows = connection.execute(select(t.c.motion_id, t.c.recipient, t.c.sent_at))
            for motion_id, recipient, sent_at in rows.all():
                if sent_at is not None:
                    connection.execute(
                        update(t)
                        .where(t.c.motion_id == motion_id, t.c.recipient == recipient)
                        .values(sent_at=sent_at - by)
                    )
    finally:
        store.close()
