"""Secrets and terminal text: UTF-8 passwords against the real servers, password commands
that fail or hang, and the one escaping rule for text a user did not type."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from servers import DovecotServer, SmtpServer, start_dovecot, start_smtp
from steervote import render
from steervote.adapters.imap import ImapSource
from steervote.adapters.secrets import resolve_password
from steervote.adapters.smtp import SmtpTransport
from steervote.errors import ConfigInvalid, MailServerError
from steervote.terminal import json_for_terminal, untrusted

UTF8_PASSWORD = "pässwörd-ü✓-日本"

# --- UTF-8 passwords ------------------------------------------------------------------


@pytest.fixture(scope="module")
def utf8_smtp() -> Iterator[SmtpServer]:
    server = start_smtp(auth=True, password=UTF8_PASSWORD)
    yield server
    server.close()


@pytest.fixture(scope="module")
def utf8_dovecot() -> Iterator[DovecotServer]:
    server = start_dovecot(password=UTF8_PASSWORD)
    yield server
    server.stop()


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "chair@example.org"
    msg["To"] = "ada@example.org"
    msg["Subject"] = "[m1] ballot"
    msg.set_content("Ballot.\n")
    return msg


def test_a_non_ascii_smtp_password_logs_in_with_auth_plain(utf8_smtp: SmtpServer) -> None:
    utf8_smtp.reset()
    smtp = SmtpTransport(utf8_smtp.host, utf8_smtp.port, "none", "chair", UTF8_PASSWORD, timeout=5)
    with smtp:
        result = smtp.send(_message(), sender="chair@example.org", recipients=["ada@example.org"])
    assert result.ok and utf8_smtp.logins == ["chair"]


def test_a_wrong_non_ascii_smtp_password_is_refused_in_one_line(utf8_smtp: SmtpServer) -> None:
    smtp = SmtpTransport(utf8_smtp.host, utf8_smtp.port, "none", "chair", "pässwörd", timeout=5)
    with pytest.raises(MailServerError, match="login refused for 'chair'") as caught:
        smtp.send(_message(), sender="chair@example.org", recipients=["ada@example.org"])
    assert "pässwörd" not in str(caught.value)


def test_a_non_ascii_smtp_password_through_propose(
    utf8_smtp: SmtpServer, isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from propose_kit import EVERYONE, copy_example, toml_config
    from steervote.cli import main

    utf8_smtp.reset()
    copy_example(isolated)
    toml_config(
        isolated,
        smtp=f'host = "{utf8_smtp.host}"\nport = {utf8_smtp.port}\nsecurity = "none"\n'
        'username = "chair"\npassword_env = "SMTP_PW"',
    )
    monkeypatch.setenv("SMTP_PW", UTF8_PASSWORD)
    monkeypatch.setattr(
        sys, "argv", ["steervote", "propose", "motions/new-constitution.yaml", "-y"]
    )
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in (0, None), capsys.readouterr().err
    assert len(utf8_smtp.messages) == len(EVERYONE)


def test_a_non_ascii_imap_password_logs_in_with_authenticate_plain(
    utf8_dovecot: DovecotServer,
) -> None:
    source = ImapSource(
        utf8_dovecot.host, utf8_dovecot.port, "none", "votes", UTF8_PASSWORD, timeout=5
    )
    with source:
        assert source.uidvalidity() > 0


def test_a_wrong_non_ascii_imap_password_is_refused_in_one_line(
    utf8_dovecot: DovecotServer,
) -> None:
    source = ImapSource(
        utf8_dovecot.host, utf8_dovecot.port, "none", "votes", "pässwörd", timeout=5
    )
    with source, pytest.raises(MailServerError, match="login refused") as caught:
        source.uidvalidity()
    assert "pässwörd" not in str(caught.value)


# --- password_command -----------------------------------------------------------------


def test_a_failing_password_command_never_echoes_its_stderr() -> None:
    script = "import sys; print('hunter2-in-stderr', file=sys.stderr); sys.exit(4)"
    with pytest.raises(ConfigInvalid) as caught:
        resolve_password(None, f'{sys.executable} -c "{script}"', {})
    message = str(caught.value)
    assert "hunter2" not in message
    assert "failed with exit code 4" in message
    assert "run it yourself to see" in message


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: it waits only for its parent (the killed command) to reap it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_password_command_that_hangs_is_killed_with_every_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # The command starts a sleeping child of its own, then waits for it.
    script = (
        "import subprocess, sys; "
        "child = subprocess.Popen(['sleep', '300']); "
        f"open({str(pidfile)!r}, 'w').write(str(child.pid)); "
        "child.wait()"
    )
    started = time.monotonic()
    with pytest.raises(ConfigInvalid, match="did not finish within 1s and was stopped"):
        resolve_password(
            None, f'{sys.executable} -c "{script}"', {"PATH": os.environ["PATH"]}, timeout=1
        )
    assert time.monotonic() - started < 10
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the command's child outlived the timeout"


# --- text for the terminal ------------------------------------------------------------

BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]


@pytest.mark.parametrize("character", BIDI + CONTROLS)
def test_untrusted_replaces_every_bidi_and_control_character(character: str) -> None:
    assert render.untrusted is untrusted  # One rule, wherever it is called from.
    shown = untrusted(f"a{character}b", oneline=False)
    assert character not in shown and shown.startswith("a") and shown.endswith("b")


def test_untrusted_keeps_text_readable() -> None:
    assert untrusted("Zoë 日本 שלום\tx\ny", oneline=False) == "Zoë 日本 שלום\tx\ny"
    assert untrusted("Zoë\n  Smith") == "Zoë Smith"


@pytest.mark.parametrize("character", [*BIDI, "\x7f", "\x85", "\x9b", "\u2028", "\u2029"])
def test_json_for_a_terminal_escapes_what_a_terminal_acts_on(character: str) -> None:
    value = {"name": f"Eve{character}", "nested": [f"{character}x"]}
    text = json_for_terminal(json.dumps(value, ensure_ascii=False, indent=2))
    assert character not in text
    assert json.loads(text) == value  # The same JSON value.
    assert "Zoë" in json_for_terminal(json.dumps("Zoë", ensure_ascii=False))
