"""The real test servers start, and each does the one thing the other tests rely on."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

import sqlalchemy

from servers import DovecotServer, PostgresServer, SmtpServer

RAW = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nHello.\r\n"


def test_dovecot_keeps_an_appended_message(dovecot: DovecotServer, imap_user: str) -> None:
    when = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    uid = dovecot.append(RAW, internaldate=when, user=imap_user)
    client = dovecot.client(imap_user)
    try:
        client.normalise_times = False
        client.select_folder("INBOX", readonly=True)
        data = client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"])[uid]
    finally:
        client.logout()
    assert data[b"BODY[]"] == RAW
    assert data[b"INTERNALDATE"] == when
    assert dovecot.count(imap_user) == 1
    assert dovecot.flags(imap_user) == {uid: frozenset()}


def test_dovecot_uidvalidity_can_be_reset(dovecot: DovecotServer, imap_user: str) -> None:
    dovecot.append(RAW, internaldate=datetime(2025, 3, 1, tzinfo=UTC), user=imap_user)
    before = dovecot.uidvalidity(imap_user)
    dovecot.reset_uidvalidity(imap_user)
    assert dovecot.uidvalidity(imap_user) != before
    assert dovecot.count(imap_user) == 1


def test_smtp_server_stores_what_it_receives(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.sendmail("a@example.org", ["b@example.org"], RAW)
    [received] = smtp_server.messages
    assert received.sender == "a@example.org"
    assert received.recipients == ("b@example.org",)
    assert received.content == RAW
    assert [m.as_bytes() for m in smtp_server.maildir] == [RAW.replace(b"\r\n", b"\n")]


def test_smtp_server_refuses_a_chosen_address(smtp_server: SmtpServer) -> None:
    smtp_server.refuse["gone@example.org"] = "550 5.1.1 no such user"
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        refused = client.sendmail("a@example.org", ["b@example.org", "gone@example.org"], RAW)
    assert refused == {"gone@example.org": (550, b"5.1.1 no such user")}
    assert smtp_server.messages[0].recipients == ("b@example.org",)


def test_postgres_gives_fresh_databases(postgres: PostgresServer) -> None:
    first, second = postgres.new_database(), postgres.new_database()
    assert first != second
    engine = sqlalchemy.create_engine(first)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                sqlalchemy.text("select count(*) from pg_tables where schemaname = 'public'")
            ).scalar()
    finally:
        engine.dispose()
    assert tables == 0


def test_database_url_runs_on_both_backends(database_url: str) -> None:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("create table t (x integer)"))
            connection.execute(sqlalchemy.text("insert into t values (1)"))
            assert connection.execute(sqlalchemy.text("select x from t")).scalar() == 1
    finally:
        engine.dispose()


def test_smtp_server_can_be_stopped_and_started_again(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    smtp_server.start()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.sendmail("a@x.example", ["b@x.example"], b"Subject: again\r\n\r\nhi\r\n")
    assert len(smtp_server.messages) == 1
