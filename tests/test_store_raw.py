"""The store keeps the raw bytes of every message tied to a motion, and only the hash of
the others (issue 11: keep the evidence), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import zlib
from email.message import EmailMessage

from election import Election
from steervote.adapters.store import Store
from steervote.core.records import Disposition


def _store(election: Election) -> Store:
    text = (election.root / "steervote.toml").read_text(encoding="utf-8")
    url = text.split('url = "', 1)[1].split('"', 1)[0]
    return Store(url)


def test_a_matched_reply_is_kept_as_received_and_a_stranger_only_hashed(
    election: Election,
) -> None:
    raw = election.reply("jon.lansman@momentum.example", "I vote FOR.")
    spam = EmailMessage()
    spam["From"] = "someone@elsewhere.example"
    spam["To"] = "votes@steering-group.example.org"
    spam["Subject"] = "cheap watches"
    spam["Message-ID"] = "<spam.1@elsewhere.example>"
    spam.set_content("Buy now.\n")
    election.append(spam.as_bytes())
    election.tally()

    store = _store(election)
    try:
        [reply] = [m for m in store.messages("new-constitution") if m.member_id]
        kept = store.raw_message(reply.sha256)
        assert kept is not None and reply.kept
        # Exactly the bytes the server delivered: their hash is the recorded one.
        assert hashlib.sha256(kept).hexdigest() == reply.sha256
        assert kept.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
        assert reply.disposition is Disposition.VOTE

        [other] = store.messages(None)
        assert other.sender.startswith("someone@") and not other.kept
        assert store.raw_message(other.sha256) is None
        assert len(other.sha256) == 64
    finally:
        store.close()


def test_the_same_bytes_twice_are_kept_once(election: Election) -> None:
    raw = election.reply("jon.lansman@momentum.example", "For.")
    election.append(raw)  # a second delivery of the very same bytes
    election.tally()
    store = _store(election)
    try:
        copies = [m for m in store.messages("new-constitution") if m.member_id]
        assert len(copies) == 2 and copies[0].sha256 == copies[1].sha256
        assert all(m.kept for m in copies)
        with store.engine.connect() as c:
            from sqlalchemy import text

            assert c.execute(text("SELECT count(*) FROM message_raw")).scalar() == 1
            data = c.execute(text("SELECT data FROM message_raw")).scalar()
        assert len(data) < len(raw)  # compressed
        assert zlib.decompress(data).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    finally:
        store.close()


def test_a_store_from_before_raw_bytes_were_kept_is_upgraded(database_url: str) -> None:
    from sqlalchemy import text

    from steervote.adapters.store import MIGRATIONS

    old = Store(database_url)
    with old.engine.begin() as c:
        c.execute(text("DROP TABLE message_raw"))
        c.execute(text("DELETE FROM schema_version WHERE version = 4"))
    old.close()
    upgraded = Store(database_url)
    try:
        with upgraded.engine.connect() as c:
            versions = sorted(v for (v,) in c.execute(text("SELECT version FROM schema_version")))
        assert versions == [v for v, _ in MIGRATIONS]
        assert upgraded.raw_message("0" * 64) is None
    finally:
        upgraded.close()


def test_a_store_from_before_papers_were_hashed_is_upgraded(database_url: str) -> None:
    """A motion recorded before migration 5 has its papers unknown, and still loads."""
    from sqlalchemy import text

    old = Store(database_url)
    with old.engine.begin() as c:
        c.execute(text("ALTER TABLE motion DROP COLUMN papers"))
        c.execute(text("DELETE FROM schema_version WHERE version = 5"))
    old.close()
    upgraded = Store(database_url)
    try:
        with upgraded.engine.connect() as c:
            columns = [r[0] for r in c.execute(text("SELECT papers FROM motion"))]
        assert columns == []
    finally:
        upgraded.close()
