"""Shared fixtures: real servers for the session, a store URL per backend, an isolated test.

A server that cannot start is a test error with its log, never a skip: the suite is only
green when it ran against real Dovecot, SMTP and PostgreSQL.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from election import Election, make_election
from oauth_server import OAuthServer, start_oauth
from propose_kit import Run
from servers import (
    Certificate,
    DovecotServer,
    PostgresServer,
    SmtpServer,
    make_certificate,
    start_dovecot,
    start_postgres,
    start_smtp,
)
from steervote.cli import main

# No per-example deadline: a busy machine must not turn a slow example into a failure.
# pytest on its own explores new examples on every run (that is how bugs are found);
# scripts/test, which CI runs, uses HYPOTHESIS_PROFILE=ci: a fixed set, so a landing never
# depends on luck.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own empty directory with no STEERVOTE_* settings."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("STEERVOTE_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture(autouse=True)
def user_state(
    isolated: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """propose's per-user list of stores ($STEERVOTE_STATE_DIR) in a folder of this test's
    own, outside its working directory: never the real user's, never shared by two tests."""
    state = tmp_path_factory.mktemp("user-state")
    monkeypatch.setenv("STEERVOTE_STATE_DIR", str(state))
    return state


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A private Dovecot for the session; use `imap_user` for a fresh, empty mailbox."""
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def imap_user(dovecot: DovecotServer) -> str:
    """A user name never used before: its INBOX is empty."""
    return dovecot.new_user()


@pytest.fixture(scope="session")
def test_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A throw-away CA and a server certificate for 127.0.0.1."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def _smtp_session(test_certificate: Certificate) -> Iterator[SmtpServer]:
    server = start_smtp(auth=True, certificate=test_certificate)
    yield server
    server.close()


@pytest.fixture
def smtp_server(_smtp_session: SmtpServer) -> Iterator[SmtpServer]:
    """The session's SMTP server (STARTTLS and AUTH offered), emptied for this test."""
    _smtp_session.reset()
    if not _smtp_session.running:  # A test stopped it: bring it back on the same port.
        _smtp_session.start()
    yield _smtp_session
    _smtp_session.reset()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for the session."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store on each backend: every store test runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/steervote.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `steervote ARGS` in this process through main(), as the console script does."""

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["steervote", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        code = exited.value.code
        return Run(code if isinstance(code, int) else 1, out, err)

    return run


@pytest.fixture
def fresh_election(
    tmp_path: Path,
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
    imap_user: str,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Election:
    """The example motion wired to the test servers (SMTP, Dovecot, each store), not yet
    proposed."""
    return make_election(
        tmp_path, smtp_server, dovecot, imap_user, database_url, capsys, monkeypatch
    )


@pytest.fixture
def election(fresh_election: Election) -> Election:
    """The example motion, proposed: every member's ballot is in `ballots`."""
    fresh_election.propose()
    assert len(fresh_election.ballots) == 12
    return fresh_election


# --- OAuth2 sign-in (issue 14): a test OAuth2 server, and Dovecot and SMTP checking tokens
# against it. Started only by the tests that ask for them.


@pytest.fixture(scope="session")
def oauth_server(test_certificate: Certificate) -> Iterator[OAuthServer]:
    """The test OAuth2 server (tests/oauth_server.py) on 127.0.0.1, HTTPS with the test CA."""
    server = start_oauth(test_certificate)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oauth_dovecot(oauth_server: OAuthServer) -> Iterator[DovecotServer]:
    """A private Dovecot whose oauth2 passdb asks the test OAuth2 server about each token
    (XOAUTH2 and OAUTHBEARER); PLAIN and LOGIN take PASSWORD as before."""
    server = start_dovecot(introspection_url=f"{oauth_server.http_url}/introspect")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _oauth_smtp_session(oauth_server: OAuthServer) -> Iterator[SmtpServer]:
    server = start_smtp(auth=True, introspection_url=f"{oauth_server.http_url}/introspect")
    yield server
    server.close()


@pytest.fixture
def oauth_smtp(_oauth_smtp_session: SmtpServer) -> Iterator[SmtpServer]:
    """An SMTP server offering XOAUTH2 and OAUTHBEARER (and PLAIN/LOGIN), emptied."""
    _oauth_smtp_session.reset()
    yield _oauth_smtp_session
    _oauth_smtp_session.reset()
