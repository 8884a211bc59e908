"""ImapSource against a real Dovecot: batches, UID filtering, sizes, read-only, TLS, failures."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta, timezone

import pytest

from servers import PASSWORD, DovecotServer, free_port
from steervote.adapters.imap import ImapSource, Security
from steervote.adapters.source import Fetched
from steervote.errors import MailServerError

WHEN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def message(n: int, body: bytes = b"I vote for.") -> bytes:
    return (
        (
            f"From: member{n}@example.org\r\nTo: votes@example.org\r\n"
            f"Subject: [m1] vote {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\n"
        ).encode()
        + body
        + b"\r\n"
    )


def source(dovecot: DovecotServer, user: str, security: Security = "none", **kw) -> ImapSource:
    port = dovecot.ssl_port if security == "ssl" else dovecot.port
    kw.setdefault("ssl_context", dovecot.certificate.client_context())
    return ImapSource("127.0.0.1", port, security, user, PASSWORD, timeout=5, **kw)


def read_all(src: ImapSource, **kw) -> list[list[Fetched]]:
    return list(src.batches(**kw))


def test_reads_every_message_in_uid_batches(dovecot: DovecotServer, imap_user: str) -> None:
    uids = dovecot.append_many([message(n) for n in range(7)], internaldate=WHEN, user=imap_user)
    with source(dovecot, imap_user) as src:
        batches = read_all(src, after_uid=0, batch_size=3)
    assert [[f.uid for f in batch] for batch in batches] == [uids[0:3], uids[3:6], uids[6:]]
    flat = [f for batch in batches for f in batch]
    assert [f.raw for f in flat] == [message(n) for n in range(7)]
    assert all(f.size == len(f.raw or b"") for f in flat)


def test_after_uid_skips_what_was_seen(dovecot: DovecotServer, imap_user: str) -> None:
    uids = dovecot.append_many([message(n) for n in range(5)], internaldate=WHEN, user=imap_user)
    with source(dovecot, imap_user) as src:
        later = [f.uid for batch in src.batches(after_uid=uids[2]) for f in batch]
        # "UID n:*" with n above every UID still matches the last message: filtered out.
        nothing = list(src.batches(after_uid=uids[-1]))
        beyond = list(src.batches(after_uid=uids[-1] + 100))
    assert later == uids[3:]
    assert nothing == []
    assert beyond == []


def test_empty_folder_yields_nothing(dovecot: DovecotServer, imap_user: str) -> None:
    dovecot.append_many([], internaldate=WHEN, user=imap_user)  # Creates nothing; INBOX exists.
    with source(dovecot, imap_user) as src:
        assert list(src.batches(after_uid=0)) == []
        assert src.uidvalidity() == dovecot.uidvalidity(imap_user)


def test_internaldate_is_aware_utc(dovecot: DovecotServer, imap_user: str) -> None:
    # Appended with a +02:00 offset; the server's receipt time comes back in UTC.
    local = datetime(2025, 3, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=2)))
    dovecot.append(message(1), internaldate=local, user=imap_user)
    with source(dovecot, imap_user) as src:
        [[fetched]] = read_all(src, after_uid=0)
    assert fetched.received_at == local
    assert fetched.received_at.utcoffset() == timedelta(0)
    assert fetched.received_from == "internaldate"


def test_oversize_message_is_listed_but_not_fetched(dovecot: DovecotServer, imap_user: str) -> None:
    big = message(2, body=b"x" * 5000)
    uids = dovecot.append_many([message(1), big, message(3)], internaldate=WHEN, user=imap_user)
    with source(dovecot, imap_user) as src:
        [batch] = read_all(src, after_uid=0, max_size=1000)
    assert [f.uid for f in batch] == uids
    assert batch[1].raw is None
    assert batch[1].size == len(big)
    assert batch[0].raw == message(1) and batch[2].raw == message(3)


def test_reading_changes_nothing(dovecot: DovecotServer, imap_user: str) -> None:
    dovecot.append_many([message(n) for n in range(3)], internaldate=WHEN, user=imap_user)
    dovecot.append(message(9), internaldate=WHEN, user=imap_user, flags=[r"\Seen"])
    before = dovecot.flags(imap_user), dovecot.count(imap_user)
    with source(dovecot, imap_user) as src:
        assert sum(len(b) for b in src.batches(after_uid=0)) == 4
    assert (dovecot.flags(imap_user), dovecot.count(imap_user)) == before
    assert sum(1 for flags in before[0].values() if b"\\Seen" in flags) == 1


def test_uidvalidity_change_is_visible(dovecot: DovecotServer, imap_user: str) -> None:
    dovecot.append_many([message(n) for n in range(2)], internaldate=WHEN, user=imap_user)
    with source(dovecot, imap_user) as src:
        first = src.uidvalidity()
    dovecot.reset_uidvalidity(imap_user)
    with source(dovecot, imap_user) as src:
        assert src.uidvalidity() != first
        assert [f.uid for b in src.batches(after_uid=0) for f in b] == [1, 2]


def test_other_folder(dovecot: DovecotServer, imap_user: str) -> None:
    dovecot.append(message(1), internaldate=WHEN, user=imap_user, folder="Votes")
    with source(dovecot, imap_user, folder="Votes") as src:
        assert src.key == f"imap://{imap_user}@127.0.0.1:{dovecot.port}/Votes"
        assert [f.raw for b in src.batches(after_uid=0) for f in b] == [message(1)]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_certificate_verification(
    dovecot: DovecotServer, imap_user: str, security: Security
) -> None:
    dovecot.append(message(1), internaldate=WHEN, user=imap_user)
    with source(dovecot, imap_user, security) as src:
        assert [f.raw for b in src.batches(after_uid=0) for f in b] == [message(1)]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_refuses_an_unknown_certificate(
    dovecot: DovecotServer, imap_user: str, security: Security
) -> None:
    calls: list[float] = []
    src = source(dovecot, imap_user, security, ssl_context=ssl.create_default_context())
    src._sleep = calls.append  # type: ignore[method-assign]
    with pytest.raises(MailServerError, match="certificate verification failed"):
        src.uidvalidity()
    assert calls == []  # Not retried: it will not get better.


def test_bad_password_is_reported_without_it(dovecot: DovecotServer, imap_user: str) -> None:
    wrong = "hunter2-wrong"
    src = ImapSource("127.0.0.1", dovecot.port, "none", imap_user, wrong, retry_delays=(0, 0))
    with pytest.raises(MailServerError) as caught:
        src.uidvalidity()
    text = str(caught.value)
    assert f"127.0.0.1:{dovecot.port}" in text and "login refused" in text
    assert wrong not in text and wrong not in repr(src) and wrong not in src.key


def test_missing_folder_is_reported(dovecot: DovecotServer, imap_user: str) -> None:
    with pytest.raises(MailServerError, match="Nowhere"):
        source(dovecot, imap_user, folder="Nowhere").uidvalidity()


def test_unreachable_port_fails_after_retries() -> None:
    delays: list[float] = []
    port = free_port()
    src = ImapSource(
        "127.0.0.1", port, "none", "u", "pw", retry_delays=(0.25, 0.5), sleep=delays.append
    )
    with pytest.raises(MailServerError) as caught:
        src.uidvalidity()
    assert delays == [0.25, 0.5]  # Three attempts, backing off.
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_many_messages_stream_in_bounded_batches(dovecot: DovecotServer, imap_user: str) -> None:
    # More UIDs than one FETCH command carries: the source splits the command itself.
    client = dovecot.client(imap_user)
    try:
        client.multiappend("INBOX", [{"msg": message(n), "date": WHEN} for n in range(1100)])
    finally:
        client.logout()
    with source(dovecot, imap_user) as src:
        sizes = [len(batch) for batch in src.batches(after_uid=0, batch_size=1050)]
    assert sizes == [1000, 50, 50]


def test_raw_fetch_replies_are_read_in_both_server_orders() -> None:
    from steervote.adapters.imap import _literals

    dovecot_style = [(b"1 (UID 7 BODY[] {3}", b"abc"), b")", (b"2 (UID 9 BODY[] {2}", b"de"), b")"]
    assert _literals(dovecot_style) == {7: b"abc", 9: b"de"}
    uid_after = [(b"1 (BODY[] {3}", b"abc"), b" UID 7)"]
    assert _literals(uid_after) == {7: b"abc"}
    assert _literals([(b"1 (BODY[] {3}", b"abc"), b")"]) is None  # no UID: not understood
    assert _literals([(b"1 (UID 7 RFC822 {3}", b"abc"), b")"]) is None


def test_internaldate_is_read_without_the_locale() -> None:
    from datetime import UTC, datetime

    from steervote.adapters.imap import _internaldate

    assert _internaldate(b"27-Nov-2026 06:14:54 +0100") == datetime(
        2026, 11, 27, 5, 14, 54, tzinfo=UTC
    )
    assert _internaldate(b" 4-Jan-2017 10:15:00 -0000") == datetime(2017, 1, 4, 10, 15, tzinfo=UTC)


def test_oversize_message_comes_with_its_headers_only(
    dovecot: DovecotServer, imap_user: str
) -> None:
    big = message(2, body=b"x" * 5000)
    dovecot.append_many([message(1), big], internaldate=WHEN, user=imap_user)
    before = dovecot.flags(imap_user)
    with source(dovecot, imap_user) as src:
        [[small, large]] = read_all(src, after_uid=0, max_size=1000)
    assert small.head is None
    assert large.raw is None
    assert large.head == big[: big.index(b"\r\n\r\n") + 4]
    assert dovecot.flags(imap_user) == before  # PEEK: nothing marked \Seen
