"""`steervote tally` end to end: match strength, thread consistency, reply-all, receipt time.

Ballots go out through the real SMTP server; replies are delivered into the real Dovecot
(IMAP), a Maildir or an mbox file and read by the CLI; every test runs on SQLite and
PostgreSQL. Each test is one case of the issue "matching authority and hostile mail".
"""

from __future__ import annotations

import mailbox
import shutil
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from election import Election, header, reply_to
from test_tally_e2e import MEMBERS, member

SOURCES = ["imap", "maildir", "mbox"]
ANN, BOB = MEMBERS[0], MEMBERS[1]  # jon-lansman, marsha-jane-thompson
MOTION_2 = "interim-governance"


class Box:
    """Where a test delivers replies, at a receipt time it chooses, and how to read them."""

    def __init__(self, kind: str, e: Election, name: str = "replies") -> None:
        self.kind, self.e = kind, e
        self.path = e.root / (f"{name}.mbox" if kind == "mbox" else name)
        self.count = 0

    def deliver(self, raw: bytes, at: datetime | None = None) -> None:
        """Deliver as a server does: INTERNALDATE, a Maildir delivery name, a From line."""
        at = at or datetime.now(UTC)
        self.count += 1
        if self.kind == "imap":
            self.e.append(raw, at=at)
        elif self.kind == "maildir":
            mailbox.Maildir(self.path, create=True).close()
            name = f"{int(at.timestamp())}.M{self.count}P1.test"
            (self.path / "new" / name).write_bytes(raw)
        else:
            self.deliver_mbox(raw, at.strftime("%a %b %d %H:%M:%S %Y +0000"))

    def deliver_mbox(self, raw: bytes, from_date: str) -> None:
        """Append to the mbox with exactly this date on the From line."""
        with self.path.open("ab") as f:
            f.write(f"From member@momentum.example {from_date}\n".encode() + raw + b"\n")

    def source(self) -> tuple[str, ...]:
        return () if self.kind == "imap" else ("--source", f"{self.kind}:{self.path}")

    def tally(self, *args: str) -> Any:
        return self.e.tally(*self.source(), *args)


def tokenless(e: Election, address: str, text: str, **kw: Any) -> bytes:
    """A reply with the motion's subject and the member's From, but no ballot token."""
    ballot = e.ballots[address]
    raw = reply_to(ballot, text, sender=address, **kw)
    raw = raw.replace(header(ballot, "Reply-To").encode(), b"votes@steering-group.example.org")
    return raw.replace(header(ballot, "Message-ID").encode(), b"<unrelated@elsewhere.example>")


def with_headers(raw: bytes, *lines: str) -> bytes:
    """The message with these header lines put on top (as a receiving server adds them)."""
    return "".join(f"{line}\r\n" for line in lines).encode() + raw


def set_date(raw: bytes, when: datetime) -> bytes:
    msg = message_from_bytes(raw)
    msg.replace_header("Date", format_datetime(when))
    return msg.as_bytes()


def add_tally_settings(e: Election, text: str) -> None:
    config = e.root / "steervote.toml"
    config.write_text(config.read_text() + f"\n[tally]\n{text}\n")


# --- 2. a tokenless reply never silently replaces a token-verified vote or a ruling ------


@pytest.mark.parametrize("where", SOURCES)
def test_a_tokenless_reply_does_not_replace_a_token_vote(election: Election, where: str) -> None:
    box = Box(where, election)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    box.deliver(reply_to(election.ballots[ANN], "For.", sender=ANN), at=t0)
    box.deliver(tokenless(election, ANN, "Against."), at=t0 + timedelta(hours=1))
    result = box.tally()
    ann = member(result, ANN)
    assert ann["status"] == "needs_review" and ann["vote"] is None
    assert "earlier: FOR by token" in ann["reason"]
    assert "now: AGAINST by subject only" in ann["reason"] and "confirm" in ann["reason"]
    assert ann["strength"] == "subject+sender"
    assert result["counts"]["for"] == 0 and result["counts"]["against"] == 0
    # The member's own word by token settles it.
    box.deliver(reply_to(election.ballots[ANN], "Against.", sender=ANN))
    settled = member(box.tally(), ANN)
    assert settled["vote"] == "against" and settled["strength"] == "token+sender"


def test_a_tokenless_reply_after_a_ruling_keeps_the_ruling_shown(election: Election) -> None:
    election.reply(ANN, "Yes, provided clause 9 is amended.")
    assert member(election.tally(), ANN)["status"] == "needs_review"
    ruled = election.cli("rule", "new-constitution", "jon-lansman", "for", "--reason", "phoned")
    assert ruled.code == 0, ruled.err
    time.sleep(1.1)  # INTERNALDATE has whole seconds: the forgery comes after the ruling
    election.append(tokenless(election, ANN, "Against."))
    ann = member(election.tally(), ANN)
    assert ann["status"] == "needs_review" and ann["vote"] is None
    assert "ruled FOR by" in ann["reason"] and "phoned" in ann["reason"]
    assert "now: AGAINST by subject only" in ann["reason"]
    review = election.cli("review", "new-constitution")
    assert "phoned" in review.out and "subject only" in review.out
    # A reply by token from the member's own address replaces a ruling, as before.
    election.reply(ANN, "Against.")
    after = member(election.tally(), ANN)
    assert after["status"] == "counted" and after["vote"] == "against"


# --- 3. a token others have seen is not a key ------------------------------------------


FAILED = "mx.steering-group.example.org; dkim=fail header.d=momentum.example; dmarc=fail"
PASSED = "mx.steering-group.example.org; dkim=pass header.d=momentum.example; dmarc=pass"


@pytest.mark.parametrize("require_token", [False, True])
def test_a_token_with_failed_dmarc_goes_to_review(
    fresh_election: Election, require_token: bool
) -> None:
    e = fresh_election
    e.edit_motion("require_token: false", f"require_token: {str(require_token).lower()}")
    e.propose()
    add_tally_settings(e, 'trusted_authserv_ids = ["mx.steering-group.example.org"]')
    forged = reply_to(e.ballots[ANN], "For.", sender=ANN)
    e.append(with_headers(forged, f"Authentication-Results: {FAILED}"))
    e.append(
        with_headers(
            reply_to(e.ballots[BOB], "For.", sender=BOB), f"Authentication-Results: {PASSED}"
        )
    )
    result = e.tally()
    ann = member(result, ANN)
    assert ann["status"] == "needs_review" and ann["vote"] is None
    assert "DKIM fail for momentum.example" in ann["reason"] and ann["strength"] == "weak"
    bob = member(result, BOB)
    assert bob["vote"] == "for" and bob["strength"] == "token+sender+auth"


def test_only_the_trusted_authserv_ids_speak(election: Election) -> None:
    add_tally_settings(election, 'trusted_authserv_ids = ["mx.steering-group.example.org"]')
    # A header the sender wrote on top claims a pass; the receiving server's says fail.
    raw = with_headers(
        reply_to(election.ballots[ANN], "For.", sender=ANN),
        "Authentication-Results: evil.example; dkim=pass header.d=momentum.example",
        f"Authentication-Results: {FAILED}",
    )
    election.append(raw)
    # Unknown to the receiving server (dkim=none): token and sender, authentication unknown.
    unknown = "mx.steering-group.example.org; dkim=none; dmarc=none"
    election.append(
        with_headers(
            reply_to(election.ballots[BOB], "For.", sender=BOB),
            f"Authentication-Results: {unknown}",
        )
    )
    result = election.tally()
    assert member(result, ANN)["status"] == "needs_review"
    assert member(result, BOB)["vote"] == "for"
    assert member(result, BOB)["strength"] == "token+sender"


def test_by_default_only_the_topmost_authentication_results_speaks(election: Election) -> None:
    # Without trusted ids, the topmost header is read for a failure only: its pass may be
    # the sender's own writing (a receiving server that adds none leaves it on top).
    raw = with_headers(
        reply_to(election.ballots[ANN], "For.", sender=ANN),
        f"Authentication-Results: {PASSED}",
        "Authentication-Results: evil.example; dmarc=fail",
    )
    election.append(raw)
    failed = with_headers(
        reply_to(election.ballots[BOB], "For.", sender=BOB),
        f"Authentication-Results: {FAILED}",
        f"Authentication-Results: {PASSED}",
    )
    election.append(failed)
    result = election.tally()
    ann = member(result, ANN)
    assert ann["vote"] == "for" and ann["strength"] == "token+sender"
    bob = member(result, BOB)
    assert bob["status"] == "needs_review" and bob["strength"] == "weak"


def test_a_replayed_older_reply_does_not_displace_a_newer_one(election: Election) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=5)
    first = reply_to(election.ballots[ANN], "For.", sender=ANN)
    first = set_date(first, t0)
    election.append(first, at=t0 + timedelta(minutes=1))
    change = set_date(
        reply_to(election.ballots[ANN], "Against.", sender=ANN), t0 + timedelta(hours=1)
    )
    election.append(change, at=t0 + timedelta(hours=1, minutes=1))
    assert member(election.tally(), ANN)["vote"] == "against"
    # Someone who saw the first reply sends it again under a new Message-ID.
    replay = first.replace(b"@member.example>", b"@replayed.example>", 1)
    election.append(replay, at=t0 + timedelta(hours=2))
    ann = member(election.tally(), ANN)
    assert ann["status"] == "needs_review" and ann["vote"] is None
    assert "is older than the reply it would replace" in ann["reason"]


# --- 4. threads that name other motions -------------------------------------------------


def propose_second_motion(e: Election) -> tuple[dict[str, Message], dict[str, Message]]:
    """Propose the example motion and a second one; each member's two ballots."""
    e.propose()
    first = dict(e.ballots)
    path = e.root / "motions" / f"{MOTION_2}.yaml"
    text = (e.root / "motions" / "new-constitution.yaml").read_text(encoding="utf-8")
    text = text.replace("id: new-constitution", f"id: {MOTION_2}")
    text = text.replace("title: Adopt the new constitution", "title: Adopt interim governance")
    path.write_text(text, encoding="utf-8")
    e.smtp.reset()
    e.ballots.clear()
    e.propose(str(path.relative_to(e.root)))
    second = dict(e.ballots)
    assert header(first[ANN], "Message-ID") != header(second[ANN], "Message-ID")
    return first, second


def both(e: Election) -> tuple[Any, Any]:
    run = e.cli("tally", "--json")
    assert run.code == 0, run.err
    by_id = {r["motion"]["id"]: r for r in run.json()}
    return by_id["new-constitution"], by_id[MOTION_2]


def test_a_reply_in_one_motions_thread_retitled_for_another_is_reviewed(
    fresh_election: Election,
) -> None:
    e = fresh_election
    first, second = propose_second_motion(e)
    t0 = datetime.now(UTC) - timedelta(hours=2)
    e.append(reply_to(first[ANN], "For.", sender=ANN), at=t0)
    e.append(reply_to(second[ANN], "For.", sender=ANN), at=t0)
    m1, m2 = both(e)
    assert member(m1, ANN)["vote"] == "for" and member(m2, ANN)["vote"] == "for"
    retitled = reply_to(
        second[ANN],
        "Against.",
        sender=ANN,
        subject=f"Re: {header(first[ANN], 'Subject')} — AGAINST",
    )
    e.append(retitled, at=t0 + timedelta(hours=1))
    m1, m2 = both(e)
    for result in (m1, m2):
        ann = member(result, ANN)
        assert ann["status"] == "needs_review" and ann["vote"] is None
        assert "which motion?" in ann["reason"]
    assert "the subject names new-constitution" in member(m2, ANN)["reason"]


def test_one_members_tokens_for_two_motions_are_reviewed_on_both(
    fresh_election: Election,
) -> None:
    e = fresh_election
    first, second = propose_second_motion(e)
    raw = reply_to(first[ANN], "For.", sender=ANN)
    raw = raw.replace(
        b"\nSubject:", f"\nCc: {header(second[ANN], 'Reply-To')}\nSubject:".encode(), 1
    )
    e.append(raw)
    m1, m2 = both(e)
    for result in (m1, m2):
        ann = member(result, ANN)
        assert ann["status"] == "needs_review"
        assert "several motions" in ann["reason"], ann["reason"]


def test_a_vote_on_one_ballot_quoting_another_motions_ballot_is_reviewed(
    fresh_election: Election,
) -> None:
    e = fresh_election
    first, second = propose_second_motion(e)
    # The reply address (token) of the first motion; the subject and quote of the second.
    raw = reply_to(second[ANN], "For.", sender=ANN)
    raw = raw.replace(
        header(second[ANN], "Reply-To").encode(), header(first[ANN], "Reply-To").encode()
    )
    raw = raw.replace(header(second[ANN], "Message-ID").encode(), b"<elsewhere@x.example>")
    e.append(raw)
    m1, m2 = both(e)
    ann = member(m1, ANN)
    assert ann["status"] == "needs_review" and ann["vote"] is None
    assert f"quotes the ballot of {MOTION_2}" in ann["reason"]
    assert member(m2, ANN)["status"] == "needs_review"
    assert m1["counts"]["for"] == 0 and m2["counts"]["for"] == 0


# --- 5. reply-all belongs to its sender ----------------------------------------------------


def test_reply_all_to_another_members_reply_belongs_to_the_sender(election: Election) -> None:
    bobs = reply_to(election.ballots[BOB], "For.", sender=BOB)
    election.append(bobs)
    bob_id = header(message_from_bytes(bobs), "Message-ID")
    ballot_id = header(election.ballots[BOB], "Message-ID")
    # Ann answers Bob's message to everyone: only Bob's token travels with it.
    anns = message_from_bytes(reply_to(election.ballots[BOB], "Against.", sender=ANN))
    anns.replace_header("In-Reply-To", bob_id)
    anns.replace_header("References", f"{ballot_id} {bob_id}")
    anns["Cc"] = BOB
    election.append(anns.as_bytes())
    result = election.tally()
    bob = member(result, BOB)
    assert bob["status"] == "counted" and bob["vote"] == "for"
    ann = member(result, ANN)
    assert ann["status"] == "needs_review" and ann["how"] == "thread+sender"
    assert "marsha-jane-thompson's reply" in ann["reason"] and "reply-all" in ann["reason"]


def test_a_member_answering_another_members_ballot_votes_as_themself(
    election: Election,
) -> None:
    election.reply(ANN, "For", sender=BOB)  # Ann's ballot, forwarded to Bob, answered by Bob
    result = election.tally()
    assert member(result, ANN)["status"] == "not_voted"
    bob = member(result, BOB)
    assert bob["vote"] == "for" and bob["how"] == "thread+sender"
    assert bob["strength"] == "subject+sender"


# --- 7. receipt time ------------------------------------------------------------------------


def closing_soon(e: Election, seconds: float = 3) -> datetime:
    closes = datetime.now(UTC) + timedelta(seconds=seconds)
    e.edit_motion("closes: 7d", f"closes: {closes.isoformat()}")
    e.propose()
    return closes


def wait_until_after(closes: datetime) -> None:
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)


def test_a_maildir_copied_after_the_deadline_keeps_its_delivery_times(
    fresh_election: Election,
) -> None:
    e = fresh_election
    closes = closing_soon(e)
    box = Box("maildir", e, "original")
    box.deliver(reply_to(e.ballots[ANN], "For.", sender=ANN), at=closes - timedelta(minutes=5))
    box.deliver(reply_to(e.ballots[BOB], "Against.", sender=BOB), at=closes - timedelta(minutes=4))
    wait_until_after(closes)
    # cp -r: new files, new mtimes after the deadline, the same delivery names.
    copy = e.root / "copy"
    shutil.copytree(box.path, copy, copy_function=shutil.copyfile)
    result = e.tally("--source", f"maildir:{copy}")
    assert member(result, ANN)["vote"] == "for" and member(result, BOB)["vote"] == "against"
    assert result["counts"]["for"] == 1 and result["counts"]["against"] == 1


def test_the_same_bytes_seen_with_an_earlier_proven_time_keep_it(
    fresh_election: Election,
) -> None:
    e = fresh_election
    closes = closing_soon(e)
    box = Box("maildir", e, "original")
    box.deliver(reply_to(e.ballots[ANN], "For.", sender=ANN), at=closes - timedelta(minutes=5))
    wait_until_after(closes)
    # A copy whose names lost the delivery time: only the new mtime, after the deadline.
    renamed = e.root / "renamed"
    for sub in ("new", "cur", "tmp"):
        (renamed / sub).mkdir(parents=True)
    for i, path in enumerate(sorted((box.path / "new").iterdir())):
        shutil.copyfile(path, renamed / "new" / f"copy-{i}")
    late = member(e.tally("--source", f"maildir:{renamed}"), ANN)
    assert late["status"] == "late"
    on_time = member(e.tally("--source", f"maildir:{box.path}"), ANN)
    assert on_time["status"] == "counted" and on_time["vote"] == "for"
    assert datetime.fromisoformat(on_time["received_at"]) < closes


def test_a_trusted_received_header_proves_the_time(fresh_election: Election) -> None:
    e = fresh_election
    closes = closing_soon(e)
    wait_until_after(closes)
    before = format_datetime(closes - timedelta(minutes=10))
    path = e.root / "plain"
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True)
    for i, (address, received_by) in enumerate(((ANN, "mx.example.org"), (BOB, "evil.example"))):
        raw = with_headers(
            reply_to(e.ballots[address], "For.", sender=address),
            f"Received: from relay.momentum.example by {received_by} with ESMTPS; {before}",
        )
        (path / "new" / f"message-{i}").write_bytes(raw)  # no delivery time in the name
    add_tally_settings(e, 'trusted_received_by = ["mx.example.org"]')
    result = e.tally("--source", f"maildir:{path}")
    ann = member(result, ANN)
    assert ann["status"] == "counted" and datetime.fromisoformat(ann["received_at"]) < closes
    assert member(result, BOB)["status"] == "late"  # not a server we trust: the file time


def test_an_mbox_from_line_without_a_zone_near_the_deadline_is_reviewed(
    fresh_election: Election,
) -> None:
    e = fresh_election
    closes = closing_soon(e)
    wait_until_after(closes)
    box = Box("mbox", e)
    asctime = "%a %b %d %H:%M:%S %Y"
    near = (closes - timedelta(hours=1)).strftime(asctime)
    # Long before the deadline in every zone (14 hours apart at most), after the ballots
    # (recorded as sent a day before it).
    long_before = (closes - timedelta(hours=20)).strftime(asctime)
    proven = (closes - timedelta(hours=1)).strftime(asctime + " +0000")
    box.deliver_mbox(reply_to(e.ballots[ANN], "For.", sender=ANN), near)
    box.deliver_mbox(reply_to(e.ballots[BOB], "For.", sender=BOB), long_before)
    third = MEMBERS[2]
    box.deliver_mbox(reply_to(e.ballots[third], "For.", sender=third), proven)
    result = box.tally()
    ann = member(result, ANN)
    assert ann["status"] == "needs_review" and "without a time zone" in ann["reason"]
    assert member(result, BOB)["status"] == "counted"
    assert member(result, third)["status"] == "counted"


def test_strength_is_in_the_report_json_and_csv(election: Election, tmp_path: Path) -> None:
    election.reply(ANN, "For.")
    result = election.tally()
    assert member(result, ANN)["strength"] == "token+sender"
    assert member(result, BOB)["strength"] is None
    # The report shows how strongly each reply was matched where it is wide enough.
    election.monkeypatch.setenv("COLUMNS", "160")
    run = election.cli("tally", "new-constitution", "--offline")
    assert "strength" in run.out and "token+sender" in run.out
    csv = tmp_path / "out.csv"
    assert election.cli("tally", "new-constitution", "--offline", "--csv", str(csv)).code == 0
    assert "strength" in csv.read_text().splitlines()[0]
