"""Local mail: the Maildir outbox, and Maildir and mbox folders read as sources."""

from __future__ import annotations

import mailbox
import os
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

from steervote.adapters.local import MaildirOutbox, MaildirSource, MboxSource
from steervote.adapters.source import UNKNOWN_TIME


def ballot(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "chair@example.org"
    msg["To"] = f"member{n}@example.org"
    msg["Subject"] = f"[m1] ballot {n}"
    msg.set_content(f"Ballot {n}: reply FOR or AGAINST.\n")
    return msg


def reply(n: int) -> bytes:
    return (
        f"From: member{n}@example.org\nSubject: Re: [m1]\nMessage-ID: <r{n}@example.org>\n"
        f"Date: Sat, 01 Mar 2025 10:00:0{n % 10} +0100\n\nFor.\n"
    ).encode()


def test_outbox_writes_messages_into_a_new_maildir(tmp_path: Path) -> None:
    outbox = MaildirOutbox(tmp_path / "outbox")
    msg = ballot(1)
    msg["Bcc"] = "secret-observer@example.org"
    result = outbox.send(msg, sender="chair@example.org", recipients=["member1@example.org"])
    assert result.ok
    [stored] = list(mailbox.Maildir(tmp_path / "outbox", create=False))
    assert stored["Subject"] == "[m1] ballot 1"
    assert stored["Bcc"] is None  # As it would have been sent.
    assert msg["Bcc"] == "secret-observer@example.org"  # The caller's message is untouched.
    assert "Ballot 1" in stored.get_payload()


def write_maildir(root: Path, names_and_bodies: list[tuple[str, str, bytes, float]]) -> None:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for sub, name, body, mtime in names_and_bodies:
        path = root / sub / name
        path.write_bytes(body)
        os.utime(path, (mtime, mtime))


T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC).timestamp()


def test_maildir_source_orders_by_name_and_uses_the_delivery_time_in_it(tmp_path: Path) -> None:
    # Copied (cp -r) an hour later: new mtimes, the same names with the delivery time.
    write_maildir(
        tmp_path,
        [
            ("cur", "1740819602.M2P1.host:2,S", reply(2), T0 + 3600),
            ("new", "1740819601.M1P1.host", reply(1), T0 + 3600),
            ("new", "1740819603.M3P1.host", reply(3), T0 + 3600),
        ],
    )
    source = MaildirSource(tmp_path)
    batches = list(source.batches(after_uid=0, batch_size=2))
    assert [[f.uid for f in b] for b in batches] == [[1, 2], [3]]
    flat = [f for b in batches for f in b]
    assert [f.raw for f in flat] == [reply(1), reply(2), reply(3)]
    assert [f.received_at.timestamp() for f in flat] == [
        T0 + 1.000001,
        T0 + 2.000002,
        T0 + 3.000003,
    ]
    assert all(f.received_from == "maildir-name" and f.received_at.tzinfo is UTC for f in flat)
    assert [f.uid for b in source.batches(after_uid=2) for f in b] == [3]
    assert source.key == f"maildir:{tmp_path}"


def test_maildir_source_never_moves_or_changes_files(tmp_path: Path) -> None:
    write_maildir(tmp_path, [("new", "1740819601.M1P1.host", reply(1), T0)])
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    list(MaildirSource(tmp_path).batches(after_uid=0))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_maildir_uidvalidity_is_stable_and_changes_with_the_listing(tmp_path: Path) -> None:
    write_maildir(tmp_path, [("new", "1740819601.M1P1.host", reply(1), T0)])
    source = MaildirSource(tmp_path)
    first = source.uidvalidity()
    assert MaildirSource(tmp_path).uidvalidity() == first
    # A mail client reading it (new/ -> cur/ with flags) does not renumber anything.
    (tmp_path / "new" / "1740819601.M1P1.host").rename(
        tmp_path / "cur" / "1740819601.M1P1.host:2,S"
    )
    assert source.uidvalidity() == first
    # A new message, or a deleted one, does: the caller re-reads and de-duplicates.
    write_maildir(tmp_path, [("new", "1740819600.M0P1.host", reply(0), T0)])
    assert source.uidvalidity() != first
    assert 0 < source.uidvalidity() < 2**31


def test_maildir_oversize_not_read(tmp_path: Path) -> None:
    write_maildir(tmp_path, [("new", "1.M1.host", reply(1) + b"x" * 500, T0)])
    [[fetched]] = MaildirSource(tmp_path).batches(after_uid=0, max_size=100)
    assert fetched.raw is None and fetched.size == len(reply(1)) + 500


def test_mbox_source_reads_from_line_dates(tmp_path: Path) -> None:
    path = tmp_path / "votes.mbox"
    path.write_bytes(
        b"From member1@example.org Sat Mar  1 09:00:01 2025\n" + reply(1) + b"\n"
        b"From member2@example.org Sat Mar  1 09:00:02 2025\n" + reply(2) + b"\n"
        b"From -\n" + reply(3) + b"\n"
    )
    source = MboxSource(path)
    flat = [f for b in source.batches(after_uid=0) for f in b]
    assert [f.uid for f in flat] == [1, 2, 3]
    assert [f.raw for f in flat] == [reply(1), reply(2), reply(3)]
    assert [f.size for f in flat] == [len(reply(n)) for n in (1, 2, 3)]
    assert flat[0].received_at == datetime(2025, 3, 1, 9, 0, 1, tzinfo=UTC)
    assert flat[0].received_from == "from-line-local"  # no zone: local time or UTC?
    # No date on the From line: the Date header, converted to UTC.
    assert flat[2].received_at == datetime(2025, 3, 1, 9, 0, 3, tzinfo=UTC)
    assert flat[2].received_from == "date-header"
    assert [f.uid for b in source.batches(after_uid=2) for f in b] == [3]
    assert source.key == f"mbox:{path}"


def test_mbox_written_by_python_mailbox_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "votes.mbox"
    box = mailbox.mbox(path)
    for n in range(3):
        box.add(message_from_bytes(reply(n)))
    box.close()
    flat = [f for b in MboxSource(path).batches(after_uid=0) for f in b]
    assert [message_from_bytes(f.raw or b"")["Message-ID"] for f in flat] == [
        f"<r{n}@example.org>" for n in range(3)
    ]


def test_mbox_unknown_time_and_oversize(tmp_path: Path) -> None:
    path = tmp_path / "votes.mbox"
    path.write_bytes(b"From someone\nSubject: no date\n\nFor.\n\nFrom x Sat Mar  1 09:00:01 2025\n")
    flat = [f for b in MboxSource(path).batches(after_uid=0, max_size=5) for f in b]
    assert (flat[0].raw, flat[0].received_at, flat[0].received_from) == (
        None,
        UNKNOWN_TIME,
        "unknown",
    )
    assert flat[1].raw == b""


def test_mbox_uidvalidity_changes_when_the_file_does(tmp_path: Path) -> None:
    path = tmp_path / "votes.mbox"
    path.write_bytes(b"From a Sat Mar  1 09:00:01 2025\n" + reply(1))
    first = MboxSource(path).uidvalidity()
    assert MboxSource(path).uidvalidity() == first
    with path.open("ab") as file:
        file.write(b"\nFrom b Sat Mar  1 09:00:02 2025\n" + reply(2))
    assert MboxSource(path).uidvalidity() != first


def test_oversize_maildir_and_mbox_messages_come_with_their_headers(tmp_path: Path) -> None:
    big = reply(1) + b"x" * 500
    head = big[: big.index(b"\n\n") + 2]
    write_maildir(tmp_path / "md", [("new", "1.M1.host", big, T0)])
    [[fetched]] = MaildirSource(tmp_path / "md").batches(after_uid=0, max_size=100)
    assert (fetched.raw, fetched.head) == (None, head)
    path = tmp_path / "votes.mbox"
    path.write_bytes(b"From a Sat Mar  1 09:00:01 2025\n" + big + b"\n\nFrom b\n" + reply(2))
    first, second = [f for b in MboxSource(path).batches(after_uid=0, max_size=300) for f in b]
    assert (first.raw, first.head) == (None, head)
    assert (second.raw, second.head) == (reply(2), None)
