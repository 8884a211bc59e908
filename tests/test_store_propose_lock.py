"""The store's side of "one propose at a time": the lock per motion, the `sending` state and
a recorded motion that only the run that planned against it may replace; SQLite and
PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from steervote.adapters.store import MIGRATIONS, Store, StoreError
from steervote.core.records import BallotStatus
from steervote.errors import ProposeRunning
from test_store import MOTION, NOW, ballots


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def test_one_propose_at_a_time_per_motion(database_url: str, store: Store) -> None:
    other = Store(database_url)  # Another run: its own connections.
    try:
        with store.propose_lock("budget", now=NOW) as held:
            assert held.took_over is None
            with pytest.raises(ProposeRunning) as running, other.propose_lock("budget", now=NOW):
                pass
            assert str(running.value) == (
                f"another propose of budget is running (pid {os.getpid()}, "
                "since 2026-11-27 12:00:00 UTC)"
            )
            assert running.value.exit_code == 1
            with other.propose_lock("other-motion", now=NOW):  # Another motion is free.
                pass
        with other.propose_lock("budget", now=NOW) as held:  # Released.
            assert held.took_over is None
    finally:
        other.close()


HOLD = """
import sys, time
from datetime import UTC, datetime
from steervote.adapters.store import Store
store = Store(sys.argv[1])
with store.propose_lock("budget", now=datetime(2026, 11, 27, 11, 0, tzinfo=UTC)):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_lock_of_a_killed_propose_is_taken_over_and_says_so(
    database_url: str, store: Store
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, database_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        running = pytest.raises(ProposeRunning, match=f"pid {holder.pid}, since 2026-11-27 11:00")
        with running, store.propose_lock("budget", now=NOW):
            pass
    finally:
        holder.kill()  # SIGKILL: the lock is never released by its holder.
        holder.wait()

    with store.propose_lock("budget", now=NOW) as held:
        assert held.took_over is not None
        assert (held.took_over.pid, held.took_over.since) == (holder.pid, NOW.replace(hour=11))
        assert f"took over the lock of propose pid {holder.pid}" in held.note()
        assert "no longer running" in held.note()


def test_a_ballot_handed_over_is_recorded_as_sending_and_blocks_a_replacement(
    store: Store,
) -> None:
    store.record_motion(MOTION, digest="d1", ballots=ballots(), now=NOW)
    store.mark_ballot("budget", "ann", BallotStatus.SENDING, "", NOW)
    by = {b.recipient: b for b in store.ballots("budget")}
    assert by["ann"].status is BallotStatus.SENDING and by["ann"].sent_at == NOW
    # It may have been delivered: the motion it belongs to can no longer be replaced.
    with pytest.raises(StoreError, match="ballots already sent"):
        store.record_motion(MOTION, digest="d2", ballots=ballots(), now=NOW, replaces="d1")

    [settled] = store.settle_unconfirmed("budget", ["ann"], "delivery unconfirmed: x")
    assert settled.status is BallotStatus.SENT and settled.sent_at == NOW
    assert settled.detail == "delivery unconfirmed: x"
    assert store.settle_unconfirmed("budget", ["ann"], "again") == []  # only from sending


def test_a_recorded_motion_is_replaced_only_by_the_run_that_planned_against_it(
    store: Store,
) -> None:
    store.record_motion(MOTION, digest="d1", ballots=ballots(), now=NOW)
    with pytest.raises(StoreError, match="recorded by another run"):
        store.record_motion(MOTION, digest="d2", ballots=ballots(), now=NOW)  # planned as new
    with pytest.raises(StoreError, match="recorded by another run"):
        store.record_motion(MOTION, digest="d3", ballots=ballots(), now=NOW, replaces="d0")
    store.record_motion(MOTION, digest="d2", ballots=ballots(), now=NOW, replaces="d1")
    recorded = store.recorded_motion("budget")
    assert recorded is not None and recorded.digest == "d2"


def test_a_store_made_before_the_lock_existed_is_upgraded(database_url: str) -> None:
    old = Store(database_url)
    with old.engine.begin() as c:
        c.execute(text("DROP TABLE propose_lock"))
        c.execute(text("DELETE FROM schema_version WHERE version = 3"))
    old.close()
    upgraded = Store(database_url)
    try:
        with upgraded.engine.connect() as c:
            versions = sorted(v for (v,) in c.execute(text("SELECT version FROM schema_version")))
        assert versions == [v for v, _ in MIGRATIONS]
        with upgraded.propose_lock("budget", now=NOW) as held:
            assert held.took_over is None
    finally:
        upgraded.close()
