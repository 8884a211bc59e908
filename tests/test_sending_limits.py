"""Issue 14: sending limits. `[smtp] max_per_minute` spaces sends (measured at the server);
`max_per_day` stops a run cleanly and a later run (a simulated next day) sends exactly the
rest; a server's 4xx quota reply after k messages stops the run with k sent, the rest
resumable; propose says how long sending takes and refuses when the last ballot would go
out after voting closes, unless --allow-late-send.
"""

from __future__ import annotations

from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from propose_kit import (
    EVERYONE,
    MOTION_ID,
    NOW,
    REPLY_TO,
    SENDER,
    big_motion,
    copy_example,
    member_address,
    received,
    smtp_lines,
    toml_config,
)
from servers import SmtpServer
from steervote.adapters.smtp import SmtpTransport
from steervote.adapters.store import Store
from steervote.adapters.throttle import ThrottledTransport, quota_reply
from steervote.core.ballot import Addressing
from steervote.core.motion_file import load_motion
from steervote.core.records import BallotStatus
from steervote.core.send_schedule import Limits, schedule
from steervote.services.propose import plan, propose

ADDRESSING = Addressing(SENDER, REPLY_TO, True)


# --- the schedule (pure) -------------------------------------------------------------------


def test_schedule_spaces_by_the_minute_and_waits_out_the_rolling_day() -> None:
    t0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    assert schedule(31, Limits(per_minute=30), [], t0).last == t0 + timedelta(minutes=1)
    two_days = schedule(5, Limits(per_day=2), [], t0)
    assert (two_days.last, two_days.runs) == (t0 + timedelta(hours=48), 3)
    # Sends of the last 24 hours count: one left today, the next when the oldest is a day old.
    earlier = [t0 - timedelta(hours=20), t0 - timedelta(hours=1)]
    later = schedule(2, Limits(per_day=3), earlier, t0)
    assert later.last == t0 + timedelta(hours=4) and later.runs == 2
    assert schedule(0, Limits(per_day=1), earlier, t0).runs == 0


@pytest.mark.parametrize(
    ("code", "reason", "quota"),
    [
        (451, "4.7.1 Sending quota exceeded, try again later", True),
        (421, "4.7.28 rate limited", True),
        (550, "5.4.5 Daily user sending limit exceeded.", True),
        (451, "4.3.0 Temporary local problem", False),  # not a quota: the message fails
        (550, "5.1.1 No such user", False),
        (452, "4.2.2 Mailbox full", False),
    ],
)
def test_what_counts_as_a_quota_reply(code: int, reason: str, quota: bool) -> None:
    assert quota_reply(code, reason) is quota


# --- against the test SMTP server -------------------------------------------------------------


def test_a_per_minute_limit_spaces_the_sends(cli, isolated: Path, smtp_server: SmtpServer) -> None:
    copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server, extra="max_per_minute = 240\n"))
    run = cli("propose", "motions/new-constitution.yaml", "--yes", "--no-check")
    assert run.code == 0, run.err
    assert "Sending limits: 240 a minute" in run.out and "14 messages take about 3 s" in run.out
    times = sorted(m.at for m in smtp_server.messages)
    assert len(times) == len(EVERYONE)
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= 0.24, gaps  # 60 / 240 = 0.25 s apart (the clock's grain aside)
    assert times[-1] - times[0] >= 13 * 0.24


def test_a_daily_cap_stops_cleanly_and_the_next_day_sends_exactly_the_rest(
    isolated: Path, smtp_server: SmtpServer
) -> None:
    motion = load_motion(big_motion(isolated / "big", 10), now=NOW)
    store = Store(f"sqlite:///{isolated / 'steervote.db'}")
    clock = [NOW]
    naps: list[float] = []

    def run() -> tuple[int, str | None]:
        the_plan = plan(motion, store, ADDRESSING, now=clock[0])
        smtp = SmtpTransport(smtp_server.host, smtp_server.port, "none", timeout=5)
        sent = store.sent_since(clock[0] - timedelta(hours=24))
        throttled = ThrottledTransport(
            smtp, Limits(per_day=4), sent, now=lambda: clock[0], sleep=naps.append
        )
        with closing(throttled):
            result = propose(the_plan, store, throttled, ADDRESSING, now=lambda: clock[0])
        return result.sent_now, result.error

    try:
        sent, error = run()
        assert sent == 4 and error is not None and "daily sending limit is reached" in error
        assert "re-run after 2027-01-13 09:30 UTC" in error
        statuses = Counter(b.status for b in store.ballots("big-vote"))
        assert statuses == {BallotStatus.SENT: 4, BallotStatus.PENDING: 6}
        clock[0] += timedelta(hours=23)  # the same day: nothing may go yet
        assert run() == (0, error)
        clock[0] += timedelta(hours=1)  # the next day
        assert run()[0] == 4
        clock[0] += timedelta(hours=24)
        assert run() == (2, None)
    finally:
        store.close()
    mail = received(smtp_server)
    assert sorted(mail) == sorted(member_address(i) for i in range(1, 11))
    assert all(len(messages) == 1 for messages in mail.values())  # no one twice
    assert naps == []  # no per-minute limit: never slept


def test_a_quota_reply_after_k_messages_stops_the_run_and_a_rerun_sends_the_rest(
    cli, isolated: Path, smtp_server: SmtpServer
) -> None:
    copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    smtp_server.quota_after = 5
    run = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert run.code == 1
    assert "451 4.7.1 Sending quota exceeded" in run.err and "re-run propose" in run.err
    assert len(smtp_server.messages) == 5
    store = Store(f"sqlite:///{isolated / 'steervote.db'}")
    try:
        ballots = store.ballots(MOTION_ID)
        assert Counter(b.status for b in ballots) == {
            BallotStatus.SENT: 5,
            BallotStatus.PENDING: len(EVERYONE) - 5,
        }
        [stopped] = [b for b in ballots if b.detail]
        assert stopped.status is BallotStatus.PENDING
        assert stopped.detail.startswith("not sent: over the server's sending limit (451")
    finally:
        store.close()

    smtp_server.quota_after = None  # the quota lifted
    run = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert run.code == 0, run.err
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(messages) == 1 for messages in mail.values())


def test_propose_refuses_a_send_that_would_end_after_voting_closes(
    cli, isolated: Path, smtp_server: SmtpServer
) -> None:
    copy_example(isolated)  # closes 7 days after it is proposed
    toml_config(isolated, smtp=smtp_lines(smtp_server, extra="max_per_day = 1\n"))
    run = cli("propose", "motions/new-constitution.yaml", "--yes", "--no-check")
    assert run.code == 2
    assert "after voting closes" in run.err and "--allow-late-send" in run.err
    assert "it takes 14 runs" in run.out
    assert smtp_server.messages == []
    store = Store(f"sqlite:///{isolated / 'steervote.db'}")
    try:
        assert store.motion_ids() == []  # nothing recorded
    finally:
        store.close()

    run = cli("propose", "motions/new-constitution.yaml", "--yes", "--allow-late-send")
    assert run.code == 1  # one sent, then the daily limit: a later run goes on
    assert len(smtp_server.messages) == 1
    assert "daily sending limit is reached (1 message in 24 hours" in run.err


def test_a_run_stopped_while_it_waits_for_its_slot_leaves_that_ballot_pending(
    isolated: Path, smtp_server: SmtpServer
) -> None:
    """Found by a blind tester: a ballot was marked handed over before the throttle's
    wait, so a run stopped (Ctrl-C, a kill) while waiting lost it as 'unconfirmed'."""
    motion = load_motion(big_motion(isolated / "big", 3), now=NOW)
    store = Store(f"sqlite:///{isolated / 'steervote.db'}")
    clock = [NOW]

    def nap(seconds: float) -> None:
        raise KeyboardInterrupt  # the secretary presses Ctrl-C during the wait

    try:
        the_plan = plan(motion, store, ADDRESSING, now=clock[0])
        smtp = SmtpTransport(smtp_server.host, smtp_server.port, "none", timeout=5)
        throttled = ThrottledTransport(
            smtp, Limits(per_minute=1), [], now=lambda: clock[0], sleep=nap
        )
        with closing(throttled), pytest.raises(KeyboardInterrupt):
            propose(the_plan, store, throttled, ADDRESSING, now=lambda: clock[0])
        statuses = Counter(b.status for b in store.ballots("big-vote"))
        assert statuses == {BallotStatus.SENT: 1, BallotStatus.PENDING: 2}
        again = plan(motion, store, ADDRESSING, now=clock[0])
        assert len(again.to_send) == 2 and not again.interrupted
    finally:
        store.close()
