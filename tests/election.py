"""An election run for real: propose through the test SMTP server, replies into Dovecot.

Tests drive steervote through its console entry point (`steervote.cli.main`), exactly
as a user would, and read the result from `tally --json`.
"""

from __future__ import annotations

import email
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import pytest

from propose_kit import ballots_went_out_earlier
from servers import DovecotServer, SmtpServer
from steervote.config import load_settings

REPO = Path(__file__).resolve().parents[1]
IMAP_PASSWORD_ENV = "SV_TEST_IMAP_PASSWORD"


@dataclass
class Run:
    """What one CLI run printed and how it exited."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Election:
    """A directory with motions and a steervote.toml wired to the test servers."""

    root: Path
    smtp: SmtpServer
    dovecot: DovecotServer
    user: str
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    ballots: dict[str, Message] = field(default_factory=dict)  # member address -> ballot

    def cli(self, *args: str) -> Run:
        """Run `steervote ARGS` in-process through the console entry point."""
        from steervote.cli import main

        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "argv", ["steervote", *args])
        code = 0
        try:
            main()
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = self.capsys.readouterr()
        return Run(code, out, err)

    def edit_motion(self, old: str, new: str) -> None:
        """Change one line of the example motion before it is proposed."""
        path = self.root / "motions" / "new-constitution.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    def propose(self, motion: str = "motions/new-constitution.yaml") -> None:
        """Propose, then record the ballots as handed over a day ago: a test's replies are
        appended with receipt times up to hours in the past (Dovecot takes none in the
        future), and a reply received before its ballot went out answers no ballot."""
        run = self.cli("propose", motion, "--yes")
        assert run.code == 0, run.err
        ballots_went_out_earlier(
            load_settings(self.root / "steervote.toml").database_url, timedelta(days=1)
        )
        for m in self.smtp.messages:
            msg = email.message_from_bytes(m.content)
            if "Reply-To" in msg and "votes+" in str(msg["Reply-To"]):
                self.ballots[parseaddr(str(msg["To"]))[1].lower()] = msg

    def reply(
        self,
        member: str,
        text: str,
        *,
        sender: str | None = None,
        subject: str | None = None,
        at: datetime | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> bytes:
        """A plain reply to MEMBER's ballot, quoting it; APPENDed to the secretary's inbox."""
        raw = reply_to(
            self.ballots[member], text, sender=sender or member, subject=subject, headers=headers
        )
        self.append(raw, at=at)
        return raw

    def append(self, raw: bytes, *, at: datetime | None = None) -> None:
        self.dovecot.append(raw, internaldate=at or datetime.now(UTC), user=self.user)

    def tally(self, *args: str) -> Any:
        run = self.cli("tally", "new-constitution", "--json", *args)
        assert run.code == 0, run.err
        return run.json()


def header(msg: Message, name: str) -> str:
    """A header's value unfolded (the parsed ballot keeps the server's line folding)."""
    return " ".join(str(msg[name]).split())


def ballot_text(ballot: Message) -> str:
    """The plain-text body of a ballot as the member's client shows it."""
    for part in ballot.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("ballot has no text/plain part")


def reply_to(
    ballot: Message,
    text: str,
    *,
    sender: str,
    subject: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    quoted = "\n".join(f"> {line}".rstrip() for line in ballot_text(ballot).splitlines())
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = header(ballot, "Reply-To")
    msg["Subject"] = subject if subject is not None else "Re: " + header(ballot, "Subject")
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="member.example")
    msg["In-Reply-To"] = header(ballot, "Message-ID")
    msg["References"] = header(ballot, "Message-ID")
    for name, value in headers:
        msg[name] = value
    msg.set_content(f"{text}\n\nOn 4 Jan 2027, the chair wrote:\n{quoted}\n")
    return msg.as_bytes()


def make_election(
    tmp_path: Path,
    smtp: SmtpServer,
    dovecot: DovecotServer,
    user: str,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Election:
    shutil.copytree(REPO / "motions", tmp_path / "motions")
    (tmp_path / "steervote.toml").write_text(
        f"""
[database]
url = "{database_url}"

[ballot]
from = "Helen Marsh <chair@steering-group.example.org>"
reply_to = "votes@steering-group.example.org"
plus_tokens = true

[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"

[imap]
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password_env = "{IMAP_PASSWORD_ENV}"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    monkeypatch.chdir(tmp_path)
    return Election(tmp_path, smtp, dovecot, user, capsys, monkeypatch)
