"""`steervote tally` end to end with hostile and oversize mail, from IMAP, Maildir and mbox.

Ballots go out through the real SMTP server; replies are delivered into the real Dovecot,
a Maildir or an mbox file; every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from election import Election, header, reply_to
from hostile import BOMBS
from test_tally_e2e import MEMBERS, member

SOURCES = ["imap", "maildir", "mbox"]


class Mailbox:
    """Where the test delivers replies, and the --source that reads them."""

    def __init__(self, kind: str, e: Election) -> None:
        self.kind, self.e = kind, e
        self.path = e.root / ("replies.mbox" if kind == "mbox" else "replies")
        self.count = 0

    def deliver(self, raw: bytes) -> None:
        self.count += 1
        if self.kind == "imap":
            self.e.append(raw)
        elif self.kind == "maildir":
            box = mailbox.Maildir(self.path, create=True)
            # Unique names sort in delivery order, as Maildir delivery names do.
            name = f"{1_700_000_000 + self.count}.M{self.count}P1.test"
            (self.path / "new" / name).write_bytes(raw)
            box.close()
        else:
            box = mailbox.mbox(self.path)
            box.add(raw)
            box.flush()
            box.close()

    def source(self) -> tuple[str, ...]:
        if self.kind == "imap":
            return ()
        return ("--source", f"{self.kind}:{self.path}")

    def tally(self, *args: str) -> Any:
        return self.e.tally(*self.source(), *args)


def reply(e: Election, address: str, text: str) -> bytes:
    return reply_to(e.ballots[address], text, sender=address)


def bomb(e: Election, address: str, kind: str) -> bytes:
    ballot = e.ballots[address]
    head = (
        f"From: {address}\r\nTo: {header(ballot, 'Reply-To')}\r\n"
        f"Subject: Re: {header(ballot, 'Subject')}\r\nMessage-ID: <bomb-{kind}@member.example>\r\n"
        f"Date: {datetime.now(UTC):%a, %d %b %Y %H:%M:%S +0000}\r\n"
    ).encode()
    return BOMBS[kind](head)


@pytest.mark.parametrize("kind", sorted(BOMBS))
@pytest.mark.parametrize("where", SOURCES)
def test_a_mime_bomb_is_listed_and_every_other_vote_counted(
    election: Election, where: str, kind: str
) -> None:
    box = Mailbox(where, election)
    box.deliver(reply(election, MEMBERS[0], "For."))
    box.deliver(bomb(election, MEMBERS[1], kind))
    stranger = BOMBS[kind](b"From: eve@elsewhere.example\r\nSubject: hi\r\n")
    box.deliver(stranger)
    box.deliver(reply(election, MEMBERS[2], "Against."))
    run = election.cli("tally", "new-constitution", *box.source())
    assert run.code == 0, run.err
    assert "Read 4 new messages" in run.err
    result = box.tally()
    assert result["counts"]["for"] == 1 and result["counts"]["against"] == 1
    bombed = member(result, MEMBERS[1])
    assert bombed["status"] == "needs_review" and bombed["vote"] is None
    ignored = [i["reason"] for i in result["ignored"]]
    assert any(r.startswith("unreadable: ") for r in ignored), ignored
    again = election.cli("tally", "new-constitution", *box.source())
    assert again.code == 0 and "Read 0 new messages" in again.err
    assert box.tally() == result
    review = election.cli("review", "new-constitution")
    assert review.code == 0 and "unreadable: " in review.out


def test_a_bomb_on_the_parallel_path_stops_nothing(
    election: Election, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steervote.services import collect

    monkeypatch.setattr(collect, "POOL_THRESHOLD", 1)
    monkeypatch.setattr(collect.os, "cpu_count", lambda: 2)
    box = Mailbox("maildir", election)
    for address in MEMBERS[:4]:
        box.deliver(reply(election, address, "For."))
    box.deliver(bomb(election, MEMBERS[4], "rfc822"))
    box.deliver(bomb(election, MEMBERS[5], "multipart"))
    result = box.tally()
    assert result["counts"]["for"] == 4 and result["counts"]["needs_review"] == 2
    assert box.tally() == result


def set_limit(e: Election, limit: int) -> None:
    config = e.root / "steervote.toml"
    text = config.read_text().split("\n[tally]")[0]
    config.write_text(text + f"\n[tally]\nmax_message_bytes = {limit}\n")


@pytest.mark.parametrize("where", SOURCES)
def test_an_oversize_vote_is_reviewed_by_name_then_counted_after_a_rescan(
    election: Election, where: str
) -> None:
    box = Mailbox(where, election)
    set_limit(election, 4096)
    box.deliver(reply(election, MEMBERS[0], "For.\n\n" + "> padding padding padding\n" * 300))
    box.deliver(reply(election, MEMBERS[1], "Against."))
    result = box.tally()
    big = member(result, MEMBERS[0])
    assert big["status"] == "needs_review" and big["vote"] is None
    review = election.cli("review", "new-constitution")
    assert "too large to read" in review.out and "--rescan" in review.out
    set_limit(election, 1_000_000)
    assert box.tally() == result  # the mailbox position has passed it
    run = election.cli("tally", "new-constitution", "--rescan", *box.source())
    assert run.code == 0, run.err
    after = box.tally()
    assert member(after, MEMBERS[0])["vote"] == "for"
    assert after["counts"]["for"] == 1 and after["counts"]["against"] == 1
    assert after["counts"]["needs_review"] == 0
    assert box.tally("--rescan") == after  # counting nothing twice
    assert not any("duplicate" in i["reason"] for i in after["ignored"])


def test_rescan_is_documented(election: Election) -> None:
    run = election.cli("tally", "--help")
    assert "--rescan" in run.out and "max_message_bytes" in run.out
    assert "--rescan" in (Path(__file__).resolve().parents[1] / "README.md").read_text()
