"""Issue 14: OAuth2 sign-in (XOAUTH2, OAUTHBEARER) for IMAP and SMTP, against Dovecot's
oauth2 passdb and aiosmtpd checking tokens at a test OAuth2 server on 127.0.0.1.

A token from oauth2_token_command; the built-in sign-in through the device-code flow (the
test plays the user at the server's approval page) and the PKCE loopback flow (the test
follows the redirect); refresh after expiry; logout; a refused token.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import null

from election import Election
from keyring_backend import FileKeyring
from oauth_server import CLIENT_ID, OAuthServer
from servers import Certificate, DovecotServer, SmtpServer
from steervote.adapters.imap import ImapSource
from steervote.adapters.oauth import SignedInTokens, token_key
from steervote.adapters.store import Store
from steervote.adapters.token_store import FILE_NAME, RefreshTokens
from steervote.config import load_settings

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.fixture
def no_keyring(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A machine with no keyring: the token file goes to a config folder under the test's
    own directory (never the user's), as for a process started with these variables."""
    before = keyring.get_keyring()
    config_home = isolated / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    keyring.set_keyring(null.Keyring())
    yield config_home / "steervote"
    keyring.set_keyring(before)


@pytest.fixture
def a_keyring(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A keyring (tests/keyring_backend.py, a JSON file), for this process and children."""
    before = keyring.get_keyring()
    path = isolated / "keyring.json"
    monkeypatch.setenv("STEERVOTE_TEST_KEYRING", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring_backend.FileKeyring")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated / "config-home"))
    keyring.set_keyring(FileKeyring())
    yield path
    keyring.set_keyring(before)


@pytest.fixture
def trusted(test_certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA trusted as a private CA is: by requests (the OAuth2 server) and ssl."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(test_certificate.cafile))
    monkeypatch.setenv("SSL_CERT_FILE", str(test_certificate.cafile))


def election(
    root: Path,
    smtp: SmtpServer,
    dovecot: DovecotServer,
    user: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    imap_auth: str,
    smtp_auth: str,
    oauth2: str = "",
) -> Election:
    import shutil

    shutil.copytree(REPO / "motions", root / "motions", dirs_exist_ok=True)
    (root / "steervote.toml").write_text(
        f"""
[ballot]
from = "Helen Marsh <chair@steering-group.example.org>"
reply_to = "votes@steering-group.example.org"
plus_tokens = true

[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
username = "{user}"
{smtp_auth}

[imap]
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
{imap_auth}
{oauth2}
""",
        encoding="utf-8",
    )
    return Election(root, smtp, dovecot, user, capsys, monkeypatch)


def oauth2_section(server: OAuthServer, flow: str) -> str:
    return f"""
[oauth2]
provider = "custom"
client_id = "{CLIENT_ID}"
authorize_url = "{server.url}/authorize"
token_url = "{server.url}/token"
device_url = "{server.url}/device"
revoke_url = "{server.url}/revoke"
scopes = ["mail"]
flow = "{flow}"
"""


def test_propose_and_tally_signed_in_with_oauth2_token_command(
    isolated: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    oauth_smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = oauth_dovecot.new_user("oauth")
    token = oauth_server.issue(user)
    (isolated / "token").write_text(token + "\n")
    command = f'auth = "oauth2"\noauth2_token_command = "cat {isolated / "token"}"'
    e = election(
        isolated,
        oauth_smtp,
        oauth_dovecot,
        user,
        capsys,
        monkeypatch,
        imap_auth=command + '\noauth2_mechanism = "oauthbearer"',
        smtp_auth=command,
    )
    e.propose()
    assert len(e.ballots) == 12
    # The check before sending, and the sending connection: both by XOAUTH2.
    assert oauth_smtp.logins == [f"{user} (XOAUTH2)"] * 2

    e.reply("sam.tarry@momentum.example", "I vote for.")
    e.reply("jon.lansman@momentum.example", "Against.")
    report = e.tally()
    assert (report["counts"]["for"], report["counts"]["against"]) == (1, 1)
    assert token not in json.dumps(report)


def test_a_refused_token_is_one_line_exit_1_without_the_token(
    isolated: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    oauth_smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = oauth_dovecot.new_user("refused")
    token = oauth_server.issue(user, lifetime=-1)  # already expired: inactive
    (isolated / "token").write_text(token + "\n")
    command = f'auth = "oauth2"\noauth2_token_command = "cat {isolated / "token"}"'
    e = election(
        isolated,
        oauth_smtp,
        oauth_dovecot,
        user,
        capsys,
        monkeypatch,
        imap_auth=command,
        smtp_auth=command,
    )
    for args in (("propose", "motions/new-constitution.yaml", "--yes"), ("tally",)):
        run = e.cli(*args)
        assert run.code == 1, run
        assert run.err.count("\n") == 1, run.err
        assert "token refused" in run.err and "oauth2_token_command" in run.err
        assert token not in run.out + run.err
        if args[0] == "propose":  # refused before anything was recorded or sent
            assert oauth_smtp.messages == [] and not (isolated / "steervote.db").exists()
            Store(f"sqlite:///{isolated / 'steervote.db'}").close()  # tally reads into one


def steervote(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`steervote ARGS` in a process of its own (its output read as it comes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(TESTS)  # the test keyring backend
    return subprocess.Popen(
        [sys.executable, "-m", "steervote", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    """Lines of the process's output up to and including the first holding `marker`."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
    _, err = process.communicate(timeout=30)
    raise AssertionError(f"{marker!r} never printed: {''.join(seen)}{err}")


def test_login_by_device_code_then_tally_then_logout(
    isolated: Path,
    no_keyring: Path,
    trusted: None,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    oauth_smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = oauth_dovecot.new_user("device")
    e = election(
        isolated,
        oauth_smtp,
        oauth_dovecot,
        user,
        capsys,
        monkeypatch,
        imap_auth='auth = "oauth2"',
        smtp_auth='auth = "oauth2"',
        oauth2=oauth2_section(oauth_server, "device"),
    )
    login = steervote("login", cwd=isolated)
    shown = read_until(login, "enter the code")
    code = shown.split("enter the code ")[1].split()[0]
    oauth_server.approve(code, user)  # the user, on their phone
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert f"Signed in as {user}" in out and "no system keyring here" in out
    # A headless machine: a file only its owner can read, in the config folder.
    path = no_keyring / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    [refresh] = json.loads(path.read_text()).values()
    assert refresh in oauth_server.state.refresh
    # Access tokens never reach the disk.
    for access in list(oauth_server.state.access):
        assert access not in path.read_text()

    e.propose()  # SMTP signs in with a token from the refresh token
    e.reply("sam.tarry@momentum.example", "For.")
    assert e.tally()["counts"]["for"] == 1

    run = e.cli("logout")
    assert run.code == 0 and f"Signed out {user}" in run.out and "revoked" in run.out, run
    assert refresh not in oauth_server.state.refresh
    assert json.loads(path.read_text()) == {}
    run = e.cli("tally")
    assert run.code == 1 and "not signed in" in run.err and "steervote login" in run.err


def test_login_by_pkce_loopback_into_the_keyring(
    isolated: Path,
    a_keyring: Path,
    trusted: None,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    oauth_smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = oauth_dovecot.new_user("pkce")
    e = election(
        isolated,
        oauth_smtp,
        oauth_dovecot,
        user,
        capsys,
        monkeypatch,
        imap_auth='auth = "oauth2"',
        smtp_auth='auth = "oauth2"',
        oauth2=oauth2_section(oauth_server, "loopback"),
    )
    login = steervote("login", "--no-browser", cwd=isolated)
    shown = read_until(login, "/authorize?")
    url = next(line for line in shown.splitlines() if "/authorize?" in line).strip()
    assert "code_challenge_method=S256" in url and f"client_id={CLIENT_ID}" in url
    page = oauth_server.follow(url)  # the browser: sign in, come back to 127.0.0.1
    assert "signed in" in page
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert "the system keyring (keyring_backend)" in out
    entries = json.loads(a_keyring.read_text())
    assert list(entries) == [f"steervote|{oauth_server.url}/token {CLIENT_ID} {user}"]
    assert not (isolated / "config-home").exists()  # nothing in a file

    run = e.cli("check")
    assert run.code == 0, run.out
    assert f"✓ IMAP sign-in: as {user} (XOAUTH2)" in run.out
    assert f"✓ SMTP sign-in: as {user} (XOAUTH2)" in run.out


def test_refresh_after_the_access_token_expires(
    isolated: Path,
    no_keyring: Path,
    trusted: None,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
) -> None:
    user = oauth_dovecot.new_user("refresh")
    (isolated / "steervote.toml").write_text(
        f'[imap]\nhost = "127.0.0.1"\nport = {oauth_dovecot.port}\nsecurity = "none"\n'
        f'username = "{user}"\nauth = "oauth2"\n' + oauth2_section(oauth_server, "device")
    )
    oauth = load_settings(isolated / "steervote.toml").oauth2
    assert oauth is not None
    store = RefreshTokens()
    # As `login` leaves it: a refresh token kept, no access token anywhere.
    with oauth_server.state.lock:
        oauth_server.state.refresh["first-refresh"] = (user, "mail")
    store.save(token_key(oauth, user), "first-refresh")

    clock = [time.time()]
    tokens = SignedInTokens(oauth, user, os.environ, store, clock=lambda: clock[0])
    refreshes = oauth_server.state.refreshes
    first = tokens.access_token()
    assert tokens.access_token() == first  # held in memory while valid
    assert oauth_server.state.refreshes == refreshes + 1
    # The server rotated the refresh token: the new one is kept, the old one is dead.
    kept = store.load(token_key(oauth, user))
    assert kept not in (None, "first-refresh") and kept in oauth_server.state.refresh

    def examine() -> int:
        with ImapSource(
            "127.0.0.1", oauth_dovecot.port, "none", user, "", tokens=tokens, timeout=5
        ) as source:
            return source.uidvalidity()

    assert examine()
    oauth_server.expire_access_tokens()
    clock[0] += 3600  # an hour on: the access token has expired
    second = tokens.access_token()
    assert second != first and oauth_server.state.refreshes == refreshes + 2
    assert examine()


def test_a_token_file_others_can_read_is_refused(isolated: Path, no_keyring: Path) -> None:
    from steervote.errors import InvalidInput

    tokens = RefreshTokens(isolated / "config")
    tokens.save("key", "refresh-secret")
    assert tokens.load("key") == "refresh-secret"
    (isolated / "config" / FILE_NAME).chmod(0o644)
    with pytest.raises(InvalidInput, match="readable by others") as refused:
        tokens.load("key")
    assert "refresh-secret" not in str(refused.value)


def test_a_failing_token_command_is_named_and_its_output_not_shown(isolated: Path) -> None:
    from steervote.adapters.oauth import CommandTokens
    from steervote.errors import ConfigInvalid

    script = isolated / "oama"
    script.write_text("#!/bin/sh\necho leaked-token-text\necho leaked-on-stderr >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(ConfigInvalid) as failed:
        CommandTokens(str(script), os.environ).access_token()
    said = str(failed.value)
    assert said.startswith("oauth2_token_command: ") and "exit code 3" in said
    assert "leaked" not in said
