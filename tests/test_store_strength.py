"""The store keeps each message's strength, Date and further ties, keeps the earliest proven
receipt time, and upgrades a store made before these existed; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from steervote.adapters.store import MIGRATIONS, EarlierTime, NewMessage, Store
from steervote.core.records import Disposition
from steervote.core.strength import Strength
from steervote.core.vote import Vote
from test_store import MOTION, NOW, ballots

MAILBOX = "maildir:/copy"


@pytest.fixture
def store(database_url: str) -> Store:
    s = Store(database_url)
    s.record_motion(MOTION, digest="d1", ballots=ballots(), now=NOW)
    return s


def message(uid: int, **kw: object) -> NewMessage:
    values: dict[str, object] = {
        "uid": uid,
        "message_id": f"<r{uid}@x>",
        "sha256": f"h{uid}",
        "sender": "ann@x.example",
        "subject": "Re: [budget] x",
        "size": 100,
        "received_at": NOW,
        "received_from": "file-time",
        "disposition": Disposition.VOTE,
        "reason": "said FOR",
        "motion_id": "budget",
        "member_id": "ann",
        "how": "token",
        "vote": Vote.FOR,
        "strength": "token+sender+auth",
        "dated": NOW - timedelta(minutes=1),
    }
    values.update(kw)
    return NewMessage(**values)  # type: ignore[arg-type]


def test_strength_date_and_read_time_round_trip(store: Store) -> None:
    store.record_batch(MAILBOX, 1, 1, [message(1)], NOW + timedelta(hours=1))
    (r,) = store.received("budget")
    assert r.strength is Strength.TOKEN_AUTHENTICATED
    assert r.dated == NOW - timedelta(minutes=1)
    assert r.received_from == "file-time" and r.read_at == NOW + timedelta(hours=1)


def test_a_message_tied_to_a_further_motion_is_received_there(store: Store) -> None:
    store.record_motion(replace(MOTION, id="other"), digest="d2", ballots=[], now=NOW)
    tied = message(1, disposition=Disposition.NEEDS_REVIEW, vote=None, also=(("other", "bob"),))
    store.record_batch(MAILBOX, 1, 1, [tied], NOW)
    (here,) = store.received("budget")
    (there,) = store.received("other")
    assert here.member_id == "ann" and there.member_id == "bob" and there.ref == here.ref
    # Read again in full after being too large: its ties go with it.
    store.record_batch(MAILBOX, 1, 1, [], NOW, superseded=["h1"])
    assert store.received("other") == []


def test_the_same_bytes_keep_the_earlier_proven_time(store: Store) -> None:
    store.record_batch(MAILBOX, 1, 2, [message(1), message(2, received_from="date-header")], NOW)
    earlier = NOW - timedelta(days=1)
    later = NOW + timedelta(days=1)
    store.record_batch(
        "maildir:/original",
        2,
        0,
        [],
        NOW,
        earlier=[
            EarlierTime("h1", earlier, "maildir-name"),
            EarlierTime("h2", later, "internaldate"),  # proven beats the sender's word
        ],
    )
    by_ref = {r.message_id: r for r in store.received("budget")}
    assert by_ref["<r1@x>"].received_at == earlier
    assert by_ref["<r1@x>"].received_from == "maildir-name"
    assert by_ref["<r2@x>"].received_at == later
    # A later proven time never replaces an earlier proven one.
    store.record_batch("imap:x", 3, 0, [], NOW, earlier=[EarlierTime("h1", later, "internaldate")])
    assert {r.message_id: r for r in store.received("budget")}["<r1@x>"].received_at == earlier


def test_authors_of_recorded_replies(store: Store) -> None:
    store.record_batch(MAILBOX, 1, 1, [message(1)], NOW)
    assert store.authors(["<r1@x>", "<nope@x>"]) == {"<r1@x>": ("budget", "ann")}


def test_a_store_made_before_strength_existed_is_upgraded(database_url: str) -> None:
    old = Store(database_url)
    old.record_motion(MOTION, digest="d1", ballots=ballots(), now=NOW)
    old.record_batch(
        MAILBOX,
        1,
        3,
        [
            message(1),
            message(2, how="subject+sender", received_from="from-line"),
            message(3, how="", member_id=None, disposition=Disposition.IGNORED),
        ],
        NOW,
    )
    # Undo migration 2, as a store written by the previous release has it.
    with old.engine.begin() as c:
        c.execute(text("DROP TABLE message_tie"))
        c.execute(text("ALTER TABLE message DROP COLUMN strength"))
        c.execute(text("ALTER TABLE message DROP COLUMN dated"))
        c.execute(text("DELETE FROM schema_version WHERE version = 2"))
    old.close()
    upgraded = Store(database_url)
    with upgraded.engine.connect() as c:
        versions = sorted(v for (v,) in c.execute(text("SELECT version FROM schema_version")))
    assert versions == [v for v, _ in MIGRATIONS]
    by_id = {r.message_id: r for r in upgraded.received("budget")}
    assert by_id["<r1@x>"].strength is Strength.TOKEN  # authentication was never checked
    assert by_id["<r2@x>"].strength is Strength.SUBJECT
    assert by_id["<r2@x>"].received_from == "from-line-local"  # old From lines had no zone
    assert by_id["<r1@x>"].dated is None
    upgraded.close()
    assert Store(database_url).received("budget")  # opening again changes nothing
