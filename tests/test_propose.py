"""The propose use case against a real SMTP server and a real store (SQLite and PostgreSQL).

Each ballot's status is recorded as it goes, so a run cut short by the mail server is
finished by the next run, and no member ever gets a second ballot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from propose_kit import (
    EVERYONE,
    MEMBERS,
    MOTION_ID,
    NOW,
    OBSERVERS,
    PAPERS,
    REPLY_TO,
    SENDER,
    SUBJECT,
    CrashableServers,
    copy_example,
    edit,
    plain_text,
    received,
)
from servers import SmtpServer
from steervote.adapters.smtp import SmtpTransport
from steervote.adapters.store import Store
from steervote.core.ballot import MOTION_HEADER, Addressing, fingerprint
from steervote.core.motion_file import load_motion
from steervote.core.records import BallotRecord, BallotStatus
from steervote.errors import InvalidInput, MotionChanged
from steervote.services.propose import ProposeResult, plan, propose, read_attachments

ADDRESSING = Addressing(SENDER, REPLY_TO, plus_tokens=True)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


@pytest.fixture
def motion_file(isolated: Path) -> Path:
    return copy_example(isolated)


@pytest.fixture
def servers() -> Iterator[CrashableServers]:
    started = CrashableServers()
    yield started
    started.close()


def run(
    motion_file: Path,
    store: Store,
    server: SmtpServer,
    *,
    now: datetime = NOW,
    progress: Callable[[BallotRecord], None] = lambda b: None,
) -> ProposeResult:
    """What `steervote propose --yes` does, with the clock fixed."""
    motion = load_motion(motion_file, now=now)
    the_plan = plan(motion, store, ADDRESSING, now=now)
    # Not `with`: that connects at once, and a server that is down must reach propose().
    with closing(SmtpTransport(server.host, server.port, "none", timeout=5)) as smtp:
        return propose(the_plan, store, smtp, ADDRESSING, now=lambda: now, progress=progress)


def statuses(store: Store) -> dict[str, BallotStatus]:
    return {b.address: b.status for b in store.ballots(MOTION_ID)}


def test_every_member_gets_one_personal_ballot_and_observers_a_copy(
    motion_file: Path, store: Store, smtp_server: SmtpServer
) -> None:
    result = run(motion_file, store, smtp_server)

    assert (result.sent_now, result.failed_now, result.error) == (14, 0, None)
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(messages) == 1 for messages in mail.values())
    assert {m.sender for m in smtp_server.messages} == {"chair@momentum.example"}
    assert len({m.peer for m in smtp_server.messages}) == 1  # One connection for all.

    motion = load_motion(motion_file, now=NOW)
    expected_fingerprint = fingerprint(motion, read_attachments(motion))
    tokens = {b.address: b.token for b in store.ballots(MOTION_ID)}
    for address in EVERYONE:
        [msg] = mail[address]
        text = plain_text(msg)
        assert msg["Subject"] == SUBJECT
        assert msg["From"] == SENDER
        assert msg[MOTION_HEADER] == MOTION_ID
        assert msg["Auto-Submitted"] == "auto-generated"
        assert [p.get_filename() for p in msg.iter_attachments()] == list(PAPERS)
        assert "Rule: carried when more than half of all 12 voting members vote for" in text
        assert "Quorum: 7 counted votes" in text
        assert "Tuesday 19 January 2027, 09:30 GMT (Europe/London) = 2027-01-19 09:30 UTC" in text
        assert "Authority: Proposal of the chair" in text
        assert f"Fingerprint: {expected_fingerprint}" in text
        assert address in msg["To"]

    for address in MEMBERS:
        [msg] = mail[address]
        token = tokens[address]
        assert token is not None and re.fullmatch(r"[a-z2-7]{24}", token)  # 120 bits
        assert msg["Reply-To"] == f"votes+{token}@momentum.example"
        # A long Message-ID is folded onto its own line (legal); the parser keeps the space.
        assert msg["Message-ID"].strip() == f"<ballot.{MOTION_ID}.{token}@momentum.example>"
        assert "Reply to this email with one word: FOR, AGAINST or ABSTAIN." in plain_text(msg)
    assert len({tokens[a] for a in MEMBERS}) == 12

    member_tokens = [t for t in tokens.values() if t]
    for address in OBSERVERS:
        [msg] = mail[address]
        assert tokens[address] is None
        assert msg["Reply-To"] == REPLY_TO
        assert "+" not in msg["Reply-To"]
        assert msg["Message-ID"].strip().endswith("@momentum.example>")
        assert not any(t in msg.as_string() for t in member_tokens)
        assert "you do not have a vote on this motion" in plain_text(msg)
        assert "HOW TO VOTE" not in plain_text(msg)

    assert set(statuses(store).values()) == {BallotStatus.SENT}
    assert all(b.sent_at == NOW for b in store.ballots(MOTION_ID))


def test_a_rerun_after_everything_went_out_sends_nothing(
    motion_file: Path, store: Store, smtp_server: SmtpServer
) -> None:
    run(motion_file, store, smtp_server)
    smtp_server.reset()
    again = run(motion_file, store, smtp_server, now=NOW + timedelta(hours=3))
    assert (again.sent_now, again.plan.already_sent, len(again.plan.to_send)) == (0, 14, 0)
    assert smtp_server.messages == []


@pytest.mark.parametrize("k", [0, 5])
def test_a_server_that_stops_after_k_ballots_leaves_the_rest_for_the_next_run(
    motion_file: Path, store: Store, servers: CrashableServers, k: int
) -> None:
    down = servers.new()
    done: list[str] = []

    def stop_after_k(ballot: BallotRecord) -> None:
        done.append(ballot.address)
        if len(done) == k:
            down.stop()  # Like a crash: connections cut, nothing listening.

    if k == 0:
        down.stop()
    first = run(motion_file, store, down, progress=stop_after_k)

    assert first.error is not None and f"SMTP 127.0.0.1:{down.port}" in first.error
    assert (first.sent_now, first.failed_now) == (k, 0)
    assert [b.address for b in first.ballots if b.status is BallotStatus.SENT] == done
    assert all(b.status is BallotStatus.PENDING for b in first.ballots[k:])
    assert len(down.messages) == k

    second = run(motion_file, store, servers.new(), now=NOW + timedelta(minutes=20))

    assert (second.sent_now, second.plan.already_sent, second.error) == (14 - k, k, None)
    mail = servers.messages()
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(messages) == 1 for messages in mail.values())  # Nobody got two.
    assert set(statuses(store).values()) == {BallotStatus.SENT}


def test_a_connection_the_server_keeps_dropping_stops_the_run_and_the_rerun_finishes(
    motion_file: Path, store: Store, smtp_server: SmtpServer
) -> None:
    # After 7 ballots the server cuts every connection at MAIL (the retry too).
    def drop_after_7(ballot: BallotRecord) -> None:
        if ballot.address == MEMBERS[6]:
            smtp_server.drop_at_mail = 2

    first = run(motion_file, store, smtp_server, progress=drop_after_7)
    assert first.error is not None and "connection lost twice" in first.error
    assert first.sent_now == 7
    assert list(statuses(store).values()).count(BallotStatus.SENT) == 7

    second = run(motion_file, store, smtp_server)
    assert second.sent_now == 7
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(messages) == 1 for messages in mail.values())


def test_a_ballot_whose_delivery_is_unconfirmed_is_never_sent_twice(
    motion_file: Path, store: Store, smtp_server: SmtpServer
) -> None:
    # The server stores the 4th ballot, then cuts the connection before saying "250":
    # it may have been delivered, so sending it again could give Sam Tarry two ballots.
    smtp_server.drop_after_data = {MEMBERS[3]}
    first = run(motion_file, store, smtp_server)
    smtp_server.drop_after_data = set()

    assert first.error is None
    assert first.unconfirmed_now == 1
    [unsure] = [b for b in first.ballots if b.address == MEMBERS[3]]
    assert unsure.status is BallotStatus.SENT
    assert unsure.detail.startswith("delivery unconfirmed: connection lost after the message")
    assert "None" not in unsure.detail

    second = run(motion_file, store, smtp_server)
    assert (second.sent_now, len(second.plan.to_send)) == (0, 0)
    mail = received(smtp_server)
    assert sorted(mail) == sorted(EVERYONE)
    assert all(len(messages) == 1 for messages in mail.values())


def test_a_refused_recipient_is_recorded_with_the_reason_and_only_it_is_retried(
    motion_file: Path, store: Store, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse[MEMBERS[4]] = "550 5.1.1 <jacqueline.walker@momentum.example>: no such user"
    first = run(motion_file, store, smtp_server)

    assert (first.sent_now, first.failed_now, first.error) == (13, 1, None)
    [failed] = [b for b in first.ballots if b.status is BallotStatus.FAILED]
    assert failed.address == MEMBERS[4]
    assert failed.detail.startswith("550 ")
    assert "no such user" in failed.detail
    assert sorted(received(smtp_server)) == sorted(set(EVERYONE) - {MEMBERS[4]})

    smtp_server.refuse.clear()
    smtp_server.reset()
    second = run(motion_file, store, smtp_server)
    assert [b.address for b in second.plan.to_send] == [MEMBERS[4]]
    assert (second.sent_now, second.failed_now) == (1, 0)
    assert list(received(smtp_server)) == [MEMBERS[4]]
    # The retried ballot keeps its token: a reply to the refused one still matches.
    [retried] = [b for b in second.ballots if b.address == MEMBERS[4]]
    assert retried.token == failed.token and retried.detail == ""


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ("  1. adopts the constitution", "  1. adopts, with thanks, the constitution", "text"),
        (
            "  - name: Maggie Simpson\n    email: maggie.simpson@momentum.example\n",
            "",
            "electorate",
        ),
        ("closes: 7d ", "closes: 8d ", "deadline"),
    ],
    ids=["text", "electorate", "deadline"],
)
def test_a_motion_changed_after_ballots_went_out_is_refused_and_nothing_is_sent(
    motion_file: Path,
    store: Store,
    servers: CrashableServers,
    smtp_server: SmtpServer,
    old: str,
    new: str,
    what: str,
) -> None:
    down = servers.new()
    run(motion_file, store, down, progress=lambda b: down.stop())  # One ballot went out.
    before = store.ballots(MOTION_ID)
    committee = motion_file.parent / "committees" / "steering-group.yaml"
    edit(committee if what == "electorate" else motion_file, old, new)

    with pytest.raises(MotionChanged) as refused:
        run(motion_file, store, smtp_server)

    message = str(refused.value)
    assert "\n" not in message
    assert f"{what} changed after 1 ballot went out" in message
    assert MOTION_ID in message
    assert smtp_server.messages == []
    assert store.ballots(MOTION_ID) == before


def test_a_motion_changed_before_any_ballot_went_out_is_recorded_afresh(
    motion_file: Path, store: Store, servers: CrashableServers, smtp_server: SmtpServer
) -> None:
    down = servers.new()
    down.stop()
    first = run(motion_file, store, down)
    assert first.error is not None and first.sent_now == 0
    old_tokens = {b.token for b in store.ballots(MOTION_ID)}

    edit(motion_file, "  1. adopts the constitution", "  1. adopts, with thanks, the constitution")
    second = run(motion_file, store, smtp_server)

    assert (second.sent_now, second.error) == (14, None)
    recorded = store.recorded_motion(MOTION_ID)
    assert recorded is not None and "adopts, with thanks," in recorded.motion.text
    assert old_tokens.isdisjoint(b.token for b in store.ballots(MOTION_ID) if b.token)
    assert all("adopts, with thanks," in plain_text(m[0]) for m in received(smtp_server).values())


def test_a_relative_deadline_keeps_the_date_from_when_the_motion_was_first_proposed(
    motion_file: Path, store: Store, servers: CrashableServers, smtp_server: SmtpServer
) -> None:
    # "closes: 7d" means 7 days from the first run, not from each re-run.
    down = servers.new()
    run(motion_file, store, down, progress=lambda b: down.stop())  # One ballot went out.

    later = NOW + timedelta(days=2, hours=5)
    second = run(motion_file, store, smtp_server, now=later)

    assert (second.sent_now, second.error) == (13, None)
    assert second.plan.motion.closes == NOW + timedelta(days=7)
    recorded = store.recorded_motion(MOTION_ID)
    assert recorded is not None and recorded.motion.closes == NOW + timedelta(days=7)
    texts = [plain_text(m[0]) for m in received(smtp_server).values()]
    assert len(texts) == 13
    assert all("= 2027-01-19 09:30 UTC" in t for t in texts)


def test_a_relative_deadline_starts_when_the_first_ballot_goes_out(
    motion_file: Path, store: Store, servers: CrashableServers, smtp_server: SmtpServer
) -> None:
    """Issue 13: with the server down no ballot went out, so the clock has not started:
    a re-run two days later counts 7 days from then, and every ballot says so."""
    down = servers.new()
    down.stop()
    first = run(motion_file, store, down)
    assert first.sent_now == 0 and first.error is not None
    recorded = store.recorded_motion(MOTION_ID)
    assert recorded is not None and recorded.motion.closes == NOW + timedelta(days=7)

    later = NOW + timedelta(days=2, hours=5)
    second = run(motion_file, store, smtp_server, now=later)

    assert (second.sent_now, second.error) == (14, None)
    recorded = store.recorded_motion(MOTION_ID)
    assert recorded is not None and recorded.motion.closes == later + timedelta(days=7)
    texts = [plain_text(m[0]) for m in received(smtp_server).values()]
    assert len(texts) == 14
    assert all("= 2027-01-21 14:30 UTC" in t for t in texts)


def test_ballots_left_unsent_are_not_sent_after_the_vote_closed(
    motion_file: Path, store: Store, servers: CrashableServers, smtp_server: SmtpServer
) -> None:
    # "closes: 7d" keeps the first run's deadline; a re-run after it must not send
    # ballots for a vote that is over (they would say "Voting closes" in the past).
    down = servers.new()
    run(motion_file, store, down, progress=lambda b: down.stop())  # One ballot went out.

    with pytest.raises(InvalidInput) as refused:
        run(motion_file, store, smtp_server, now=NOW + timedelta(days=8))

    assert "\n" not in str(refused.value)
    assert "closed at 2027-01-19 09:30 UTC" in str(refused.value)
    assert "13 ballots" in str(refused.value)
    assert smtp_server.messages == []
