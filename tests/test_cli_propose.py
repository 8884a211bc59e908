"""`steervote propose` as a user runs it: through `steervote.cli.main()` (the console entry
point, where typed errors become one line on stderr and an exit code), against the local
outbox or a real SMTP server, with the store on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from propose_kit import (
    EVERYONE,
    MEMBERS,
    MOTION_ID,
    SUBJECT,
    copy_example,
    edit,
    parse,
    received,
    smtp_lines,
    to_address,
    toml_config,
)
from servers import PASSWORD, Certificate, SmtpServer
from steervote.adapters.store import Store
from steervote.core.records import BallotStatus


@pytest.fixture
def motion_file(isolated: Path) -> Path:
    return copy_example(isolated)


@pytest.fixture
def store_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The store for this test, passed as a user would: STEERVOTE_DATABASE_URL."""
    monkeypatch.setenv("STEERVOTE_DATABASE_URL", database_url)
    yield database_url


def ballots(url: str) -> dict[str, BallotStatus]:
    store = Store(url)
    try:
        return {b.address: b.status for b in store.ballots(MOTION_ID)}
    finally:
        store.close()


def outbox(directory: Path) -> list[mailbox.MaildirMessage]:
    return list(mailbox.Maildir(directory / "mail" / "outbox", create=False))


def test_with_no_config_at_all_ballots_go_to_the_local_outbox(
    cli, motion_file: Path, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("sqlite"):
        monkeypatch.setenv("STEERVOTE_DATABASE_URL", database_url)
    assert sorted(p.name for p in isolated.iterdir()) == ["motions"]

    run = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert run.code == 0, run.err
    assert "Sent now: 14; failed: 0; pending: 0" in run.out
    messages = [parse(m.as_bytes()) for m in outbox(isolated)]
    assert sorted(to_address(m) for m in messages) == sorted(EVERYONE)
    assert all(m["Subject"] == SUBJECT for m in messages)
    if database_url.startswith("sqlite"):
        assert (isolated / "steervote.db").is_file()  # The default store, beside the motions.
    statuses = ballots(database_url)
    assert set(statuses.values()) == {BallotStatus.SENT}
    tokens = {m["Message-ID"].strip() for m in messages if to_address(m) in MEMBERS}
    assert len(tokens) == 12 and all(t.endswith("@localhost>") for t in tokens)

    again = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert again.code == 0, again.err
    assert "already been sent" in again.out
    assert len(outbox(isolated)) == 14


def test_dry_run_writes_nothing_and_prints_one_ballot_in_full(
    cli, motion_file: Path, isolated: Path, store_url: str
) -> None:
    run = cli("propose", "motions/new-constitution.yaml", "--dry-run")

    assert run.code == 0, run.err
    assert f"Subject: {SUBJECT}" in run.out
    assert "Auto-Submitted: auto-generated" in run.out
    assert "Reply to this email with one word: FOR, AGAINST or ABSTAIN." in run.out
    assert "Fingerprint: " in run.out
    assert "momentum-constitution.pdf" in run.out
    assert run.out.count("Subject: ") == 1  # One ballot, not fourteen.
    assert "Dry run: nothing written, nothing sent." in run.out
    assert sorted(p.name for p in isolated.iterdir()) == ["motions"]  # No store, no outbox.
    tables = sqlalchemy.inspect(sqlalchemy.create_engine(store_url)).get_table_names()
    assert tables == []


def test_without_yes_and_without_a_terminal_it_refuses_and_says_to_pass_yes(
    cli, motion_file: Path, isolated: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # Not a terminal (cron, CI, a pipe).

    run = cli("propose", "motions/new-constitution.yaml")

    assert run.code == 2
    assert run.err.count("\n") == 1 and "pass --yes" in run.err
    assert not (isolated / "mail").exists()
    if store_url.startswith("sqlite"):
        assert not (isolated / "steervote.db").exists()  # not even an empty database
    else:
        assert ballots(store_url) == {}


def test_ballots_through_smtp_configured_in_steervote_toml(
    cli, motion_file: Path, isolated: Path, store_url: str, smtp_server: SmtpServer
) -> None:
    toml_config(isolated, smtp=smtp_lines(smtp_server), plus_tokens=True)

    run = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert run.code == 0, run.err
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(m) == 1 for m in mail.values())
    tokens = {}
    store = Store(store_url)
    try:
        tokens = {b.address: b.token for b in store.ballots(MOTION_ID)}
    finally:
        store.close()
    for address in MEMBERS:
        [msg] = mail[address]
        assert msg["Reply-To"] == f"votes+{tokens[address]}@momentum.example"
    assert not (isolated / "mail").exists()  # With [smtp], nothing goes to the outbox.


def test_starttls_with_login_password_from_the_environment(
    cli,
    motion_file: Path,
    isolated: Path,
    store_url: str,
    smtp_server: SmtpServer,
    test_certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test CA is trusted the way a user trusts a private CA: SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(test_certificate.cafile))
    monkeypatch.setenv("BALLOT_SMTP_PASSWORD", PASSWORD)
    login = 'username = "chair"\npassword_env = "BALLOT_SMTP_PASSWORD"\n'
    toml_config(isolated, smtp=smtp_lines(smtp_server, "starttls", login))

    run = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert run.code == 0, run.err
    # One sign-in for the check propose runs first (`steervote check`), one to send all.
    assert smtp_server.logins == ["chair", "chair"]
    assert sorted(received(smtp_server)) == sorted(EVERYONE)
    assert PASSWORD not in run.out + run.err


def test_an_untrusted_certificate_stops_the_run_with_one_line_and_exit_1(
    cli, motion_file: Path, isolated: Path, store_url: str, smtp_server: SmtpServer
) -> None:
    toml_config(isolated, smtp=smtp_lines(smtp_server, "starttls"))

    run = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert run.code == 1
    assert run.err.count("\n") == 1
    assert "certificate verification failed" in run.err
    assert smtp_server.messages == []
    # The server is asked before anything is recorded: a re-run starts afresh.
    assert not (isolated / "steervote.db").exists()
    assert ballots(store_url) == {}


def test_a_refused_member_is_reported_exit_1_and_only_they_are_retried(
    cli, motion_file: Path, isolated: Path, store_url: str, smtp_server: SmtpServer
) -> None:
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    smtp_server.refuse[MEMBERS[2]] = "550 5.1.1 mailbox unavailable"

    first = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert first.code == 1
    assert "Sent now: 13; failed: 1" in first.out
    assert first.err.count("\n") == 1
    assert (
        "1 ballot refused: Christine Shawcroft <christine.shawcroft@momentum.example>" in first.err
    )
    assert "5.1.1 mailbox unavailable" in first.err  # The server's reason.
    assert ballots(store_url)[MEMBERS[2]] is BallotStatus.FAILED

    smtp_server.refuse.clear()
    smtp_server.reset()
    second = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert second.code == 0, second.err
    assert list(received(smtp_server)) == [MEMBERS[2]]


def test_a_server_that_goes_away_mid_run_exits_1_and_the_rerun_sends_the_rest(
    cli, motion_file: Path, isolated: Path, store_url: str, smtp_server: SmtpServer
) -> None:
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    # After 6 ballots the server closes the connection on every try ("421"), like a server
    # shutting down; the transport retries once, then gives up.
    smtp_server.refuse[MEMBERS[6]] = "421 4.3.2 shutting down"

    first = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert first.code == 1
    assert first.err.count("\n") == 1
    assert "connection lost twice" in first.err and "re-run propose" in first.err
    assert "Sent now: 6; failed: 0; pending: 8" in first.out
    statuses = ballots(store_url)
    assert [statuses[a] for a in MEMBERS[:6]] == [BallotStatus.SENT] * 6
    assert len(smtp_server.messages) == 6

    smtp_server.refuse.clear()
    second = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert second.code == 0, second.err
    assert "Sent now: 8; failed: 0; pending: 0" in second.out
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(m) == 1 for m in mail.values())


def test_an_unconfirmed_delivery_is_reported_exit_1_and_never_resent(
    cli, motion_file: Path, isolated: Path, store_url: str, smtp_server: SmtpServer
) -> None:
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    smtp_server.drop_after_data = {MEMBERS[0]}

    first = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert first.code == 1
    assert first.err.count("\n") == 1
    assert "1 ballot may not have been delivered" in first.err
    assert "Jon Lansman" in first.err

    smtp_server.drop_after_data = set()
    second = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert second.code == 0, second.err
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(m) == 1 for m in mail.values())


def test_a_motion_changed_after_sending_is_refused_with_one_line_and_exit_2(
    cli, motion_file: Path, isolated: Path, store_url: str
) -> None:
    assert cli("propose", "motions/new-constitution.yaml", "--yes").code == 0
    edit(motion_file, "closes: 7d ", "closes: 10d ")

    run = cli("propose", "motions/new-constitution.yaml", "--yes")

    assert run.code == 2
    assert run.err == (
        "error: motion new-constitution: deadline changed after 14 ballots went out; "
        "refusing to send a different motion under the same id (propose it under a new id)\n"
    )
    assert len(outbox(isolated)) == 14
    dry = cli("propose", "motions/new-constitution.yaml", "--dry-run")
    assert dry.code == 2 and "deadline changed" in dry.err


def test_resend_sends_again_only_a_ballot_whose_delivery_is_unconfirmed(
    cli, motion_file: Path, isolated: Path, store_url: str, smtp_server: SmtpServer
) -> None:
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    smtp_server.drop_after_data = {MEMBERS[0]}
    assert cli("propose", "motions/new-constitution.yaml", "--yes").code == 1
    smtp_server.drop_after_data = set()
    [first] = received(smtp_server)[MEMBERS[0]]

    for who, why in (("sam-tarry", "the server confirmed it"), ("nobody", "no ballot")):
        refused = cli("propose", "motions/new-constitution.yaml", "--resend", who, "--yes")
        assert refused.code == 2, refused.err
        assert refused.err.count("\n") == 1 and who in refused.err and why in refused.err
    assert len(smtp_server.messages) == 14  # Refused before anything was sent.

    again = cli("propose", "motions/new-constitution.yaml", "--resend", "jon-lansman", "--yes")

    assert again.code == 0, again.err
    assert "Sent now: 1; failed: 0; pending: 0" in again.out
    [_, second] = received(smtp_server)[MEMBERS[0]]
    # The same ballot again: the same token and Message-ID, so either copy's reply counts.
    assert (second["Message-ID"], second["Reply-To"]) == (first["Message-ID"], first["Reply-To"])
    assert ballots(store_url)[MEMBERS[0]] is BallotStatus.SENT
    last = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert last.code == 0 and "already been sent" in last.out
    assert "may not have been delivered" not in last.out + last.err
    assert len(smtp_server.messages) == 15
