"""The store on SQLite and on a real PostgreSQL: round trips, batches, rulings, state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from steervote.adapters.store import NewMessage, Store
from steervote.core.motion import Committee, Member, Motion, Observer, Threshold
from steervote.core.records import BallotRecord, BallotStatus, Disposition, Ruling
from steervote.core.vote import Vote

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MOTION = Motion(
    id="budget",
    title="Approve the budget",
    text="That the budget is approved.",
    committee=Committee(
        "board",
        "Board",
        "Europe/London",
        (
            Member("ann", "Ann", "ann@x.example", ("ann@home.example",), "chair"),
            Member("bob", "Bob", "bob@x.example"),
        ),
        (Observer("Obs", "obs@x.example"),),
    ),
    proposer="ann",
    threshold=Threshold.MAJORITY_OF_VOTES_CAST,
    quorum=2,
    closes=NOW + timedelta(days=3),
    authority="SO 7.3",
    attachments=(Path("papers/a.pdf"),),
    closes_spec="3d",
)


def ballots() -> list[BallotRecord]:
    return [
        BallotRecord(
            "budget",
            "ann",
            "Ann",
            "ann@x.example",
            True,
            "a" * 24,
            "<ba@x>",
            BallotStatus.PENDING,
            "",
            None,
        ),
        BallotRecord(
            "budget",
            "bob",
            "Bob",
            "bob@x.example",
            True,
            "b" * 24,
            "<bb@x>",
            BallotStatus.PENDING,
            "",
            None,
        ),
    ]


@pytest.fixture
def store(database_url: str) -> Store:
    s = Store(database_url)
    s.record_motion(MOTION, digest="d1", ballots=ballots(), now=NOW)
    return s


def test_motion_round_trip_keeps_every_field_and_aware_times(store: Store) -> None:
    recorded = store.recorded_motion("budget")
    assert recorded is not None
    assert recorded.motion == MOTION
    assert recorded.motion.closes.tzinfo is not None
    assert recorded.digest == "d1" and recorded.motion.closes_spec == "3d"
    assert store.motion_ids() == ["budget"]
    assert store.recorded_motion("other") is None


def test_ballot_status_is_recorded_one_at_a_time(store: Store) -> None:
    store.mark_ballot("budget", "ann", BallotStatus.SENT, "", NOW)
    store.mark_ballot("budget", "bob", BallotStatus.FAILED, "550 no such user", NOW)
    by = {b.recipient: b for b in store.ballots("budget")}
    assert by["ann"].status is BallotStatus.SENT and by["ann"].sent_at == NOW
    assert by["bob"].status is BallotStatus.FAILED and by["bob"].detail == "550 no such user"


def test_directory_holds_tokens_and_aliases(store: Store) -> None:
    d = store.directory()
    assert d.tokens["a" * 24] == ("budget", "ann")
    assert d.members["budget"]["ann@home.example"] == "ann"
    assert d.closes["budget"] == MOTION.closes


def test_batches_mailbox_state_and_duplicate_lookups(store: Store) -> None:
    msg = NewMessage(
        uid=7,
        message_id="<r1@x>",
        sha256="h1",
        sender="Ann <ann@x.example>",
        subject="Re: x",
        size=100,
        received_at=NOW,
        received_from="internaldate",
        disposition=Disposition.VOTE,
        reason="said FOR",
        motion_id="budget",
        member_id="ann",
        how="token",
        vote=Vote.FOR,
        evidence="For.",
        own_text="For.",
    )
    store.record_batch("imap://u@h/INBOX", 42, 7, [msg], NOW)
    assert store.mailbox_state("imap://u@h/INBOX") == (42, 7)
    by_id, hashes = store.seen(["<r1@x>"], ["h1", "h2"])
    assert by_id["<r1@x>"][0].own_text == "For."
    assert hashes == {"h1": {("imap://u@h/INBOX", 42)}}
    (r,) = store.received("budget")
    assert r.vote is Vote.FOR and r.received_at == NOW and r.how == "token"


def test_rulings_round_trip(store: Store) -> None:
    store.record_ruling(Ruling("budget", "bob", None, "not a vote", "sec", NOW))
    store.record_ruling(Ruling("budget", "bob", Vote.AGAINST, "phoned", "sec", NOW + timedelta(1)))
    assert [r.vote for r in store.rulings("budget")] == [None, Vote.AGAINST]


def test_replacing_a_motion_is_refused_once_a_ballot_went_out(store: Store) -> None:
    store.record_motion(MOTION, digest="d2", ballots=ballots()[:1], now=NOW, replaces="d1")
    assert len(store.ballots("budget")) == 1
    store.mark_ballot("budget", "ann", BallotStatus.SENT, "", NOW)
    with pytest.raises(Exception, match="already sent"):
        store.record_motion(MOTION, digest="d3", ballots=ballots(), now=NOW, replaces="d2")


def test_reopening_runs_no_migration_twice(database_url: str) -> None:
    Store(database_url).close()
    Store(database_url).close()


def test_mail_text_with_nul_characters_is_recorded(store: Store) -> None:
    # PostgreSQL text cannot hold NUL; hostile mail must not be able to stop a tally.
    msg = NewMessage(
        uid=1,
        message_id="<n\x00@x>",
        sha256="h",
        sender="A\x00 <ann@x.example>",
        subject="Re:\x00 x",
        size=10,
        received_at=NOW,
        received_from="internaldate",
        disposition=Disposition.VOTE,
        reason="r\x00",
        motion_id="budget",
        member_id="ann",
        how="token",
        vote=Vote.FOR,
        evidence="For\x00.",
        own_text="For\x00.",
    )
    store.record_batch("imap://u@h/INBOX", 1, 1, [msg], NOW)
    (r,) = store.received("budget")
    assert r.evidence == "For\ufffd." and "\x00" not in r.sender + r.message_id
    by_id, _ = store.seen(["<n\x00@x>"], ["h"])
    assert list(by_id) == ["<n\ufffd@x>"]
