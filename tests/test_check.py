"""Issue 14: `steervote check` against good and broken set-ups, each broken one giving its
✗ line and its fix; `propose` runs the SMTP part first; `validate` validates the config."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from oauth_server import OAuthServer
from propose_kit import copy_example
from servers import PASSWORD, Certificate, DovecotServer, SmtpServer

BALLOT = '[ballot]\nfrom = "Sec <sec@x.example>"\nreply_to = "votes@x.example"\n'


def config(
    isolated: Path,
    dovecot: DovecotServer,
    smtp: SmtpServer,
    *,
    imap: str = "",
    smtp_extra: str = "",
    user: str = "checker",
) -> None:
    (isolated / "steervote.toml").write_text(
        BALLOT
        + f'[imap]\nhost = "127.0.0.1"\nport = {dovecot.port}\nsecurity = "none"\n'
        + f'username = "{user}"\n'
        + (imap or 'password_env = "SV_IMAP_PW"\n')
        + f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "starttls"\n'
        + (smtp_extra or 'username = "chair"\npassword_env = "SV_SMTP_PW"\n'),
        encoding="utf-8",
    )


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch, test_certificate: Certificate) -> None:
    monkeypatch.setenv("SV_IMAP_PW", PASSWORD)
    monkeypatch.setenv("SV_SMTP_PW", PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(test_certificate.cafile))


def lines(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


def test_a_good_set_up_passes_every_step(
    cli, isolated: Path, dovecot: DovecotServer, smtp_server: SmtpServer, passwords: None
) -> None:
    config(
        isolated,
        dovecot,
        smtp_server,
        smtp_extra='username = "chair"\npassword_env = "SV_SMTP_PW"\nprovider = "microsoft365"\n',
    )
    run = cli("check")
    assert run.code == 0, run.out
    said = lines(run.out)
    assert said[0] == f"✓ config: {isolated / 'steervote.toml'}"
    assert "✓ IMAP password: from $SV_IMAP_PW (not shown)" in said
    assert f"✓ IMAP 127.0.0.1:{dovecot.port}: connected (no TLS)" in said
    assert "✓ IMAP sign-in: as checker (password)" in said
    assert any(x.startswith("✓ IMAP folder INBOX: 0 messages, UIDVALIDITY ") for x in said)
    assert any(
        x.startswith(f"✓ SMTP 127.0.0.1:{smtp_server.port}: connected (STARTTLS);") for x in said
    )
    assert "✓ SMTP sign-in: as chair (password)" in said
    assert (
        "✓ sending limits: 30 a minute, 10,000 in any 24 hours "
        "(Microsoft 365's published limits unless set)" in said
    )
    assert said[-1].startswith("All ") and said[-1].endswith(" checks passed.")
    assert PASSWORD not in run.out + run.err
    assert smtp_server.messages == []  # nothing sent without --send-test
    run = cli("check", "--send-test", "me@x.example")
    assert run.code == 0 and "✓ test message: sent to me@x.example" in lines(run.out)
    assert [m.recipients for m in smtp_server.messages] == [("me@x.example",)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def failure(run) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The ✗ line and the fix under it; exit 1."""
    assert run.code == 1, run.out
    said = lines(run.out)
    [i] = [n for n, line in enumerate(said) if line.startswith("✗ ")]
    assert said[i + 1].startswith("fix: ")
    assert said[-1].endswith("checks failed.")
    return said[i], said[i + 1]


def test_wrong_port(
    cli, isolated: Path, dovecot: DovecotServer, smtp_server: SmtpServer, passwords: None
) -> None:
    port = closed_port()
    config(isolated, dovecot, smtp_server)
    text = (
        (isolated / "steervote.toml")
        .read_text()
        .replace(f"port = {dovecot.port}", f"port = {port}")
    )
    (isolated / "steervote.toml").write_text(text)
    line, fix = failure(cli("check"))
    assert line == f"✗ IMAP 127.0.0.1:{port}: connection refused"
    assert fix.startswith('fix: nothing listens there: use security = "ssl" on port 993')


def test_wrong_security_tls_on_a_plain_port_names_the_providers_setting(
    cli, isolated: Path, dovecot: DovecotServer, smtp_server: SmtpServer, passwords: None
) -> None:
    config(
        isolated,
        dovecot,
        smtp_server,
        imap='password_env = "SV_IMAP_PW"\nprovider = "gmail"\nauth = "password"\n',
    )
    text = (
        (isolated / "steervote.toml")
        .read_text()
        .replace('security = "none"', 'security = "ssl"', 1)
    )
    (isolated / "steervote.toml").write_text(text)
    line, fix = failure(cli("check"))
    assert line.startswith(f"✗ IMAP 127.0.0.1:{dovecot.port}: TLS failed (")
    said = f"port {dovecot.port} does not speak TLS at once"
    assert fix == f'fix: {said}: Gmail needs security = "ssl" on port 993'


def test_wrong_security_plain_on_a_tls_port(
    cli, isolated: Path, dovecot: DovecotServer, smtp_server: SmtpServer, passwords: None
) -> None:
    config(isolated, dovecot, smtp_server)
    text = (
        (isolated / "steervote.toml")
        .read_text()
        .replace(f"port = {dovecot.port}", f"port = {dovecot.ssl_port}")
    )
    (isolated / "steervote.toml").write_text(text)
    line, fix = failure(cli("check", "--timeout", "1"))
    assert line == f"✗ IMAP 127.0.0.1:{dovecot.ssl_port}: no answer within 1 s"
    assert fix.startswith('fix: use security = "ssl" on port 993')


def test_refused_password(
    cli,
    isolated: Path,
    dovecot: DovecotServer,
    smtp_server: SmtpServer,
    passwords: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SV_IMAP_PW", "not-the-password")
    config(isolated, dovecot, smtp_server)
    line, fix = failure(cli("check"))
    assert line.startswith("✗ IMAP sign-in: password refused for checker: ")
    assert fix == "fix: check username and the password"
    assert "not-the-password" not in cli("check").out


def test_refused_token(
    cli,
    isolated: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    smtp_server: SmtpServer,
    passwords: None,
) -> None:
    user = oauth_dovecot.new_user("checked")
    token = oauth_server.issue(user, lifetime=-1)
    (isolated / "token").write_text(token)
    command = f'auth = "oauth2"\noauth2_token_command = "cat {isolated / "token"}"\n'
    config(isolated, oauth_dovecot, smtp_server, imap=command, user=user)
    run = cli("check")
    line, fix = failure(run)
    assert line.startswith(f"✗ IMAP sign-in: token refused for {user} (XOAUTH2): ")
    assert fix.startswith("fix: token refused: check what oauth2_token_command prints")
    assert token not in run.out + run.err
    assert "✓ IMAP token: from oauth2_token_command (not shown)" in lines(run.out)


def test_missing_folder_lists_the_folders(
    cli, isolated: Path, dovecot: DovecotServer, smtp_server: SmtpServer, passwords: None
) -> None:
    config(isolated, dovecot, smtp_server, imap='password_env = "SV_IMAP_PW"\nfolder = "Votes"\n')
    line, fix = failure(cli("check"))
    assert line.startswith("✗ IMAP folder Votes: ")
    assert fix == "fix: set [imap] folder to one of this mailbox's folders: INBOX"


def test_a_broken_config_is_a_failed_step(cli, isolated: Path) -> None:
    (isolated / "steervote.toml").write_text('[imap]\nhost = "h"\nprovider = "hotmail"\n')
    line, fix = failure(cli("check"))
    assert (
        line.startswith("✗ config: ") and 'provider: "hotmail" is not one steervote knows' in line
    )
    assert "gmail" in line and fix == "fix: correct that setting in the config file"


def test_propose_runs_the_smtp_check_first_and_no_check_skips_it(
    cli,
    isolated: Path,
    dovecot: DovecotServer,
    smtp_server: SmtpServer,
    passwords: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy_example(isolated)
    config(isolated, dovecot, smtp_server)
    monkeypatch.setenv("SV_SMTP_PW", "wrong")
    run = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert run.code == 1 and run.err.count("\n") == 1
    assert run.err.startswith("error: SMTP sign-in: password refused for chair: 535")
    assert "fix: check username and the password; nothing was recorded or sent" in run.err
    assert not (isolated / "steervote.db").exists()
    # --no-check: the transport's own sign-in refuses it, just as one line.
    run = cli("propose", "motions/new-constitution.yaml", "--yes", "--no-check")
    assert run.code == 1 and "login refused for 'chair'" in run.err
    assert "SMTP sign-in:" not in run.out and smtp_server.messages == []


def test_validate_validates_the_config_too(cli, isolated: Path) -> None:
    copy_example(isolated)
    (isolated / "steervote.toml").write_text(
        BALLOT + '[smtp]\nhost = "smtp.x.example"\nauth = "oauth2"\nusername = "sec@x.example"\n'
    )
    run = cli("validate", "motions/new-constitution.yaml")
    assert run.code == 2
    assert 'auth = "oauth2" needs oauth2_token_command, or an [oauth2] section' in run.err
