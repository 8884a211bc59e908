"""The collect use case with a small in-memory mail source (our own MailSource interface)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from steervote.adapters.source import Fetched
from steervote.adapters.store import Store
from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.records import BallotRecord, BallotStatus
from steervote.services import collect as collecting
from steervote.services.review import report

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
N = 40
VOTES = ["For.", "Against.", "I abstain.", "Yes, if clause 9 changes."]


class ListSource:
    """A mailbox held in a list: UIDs 1..n, one UIDVALIDITY."""

    key = "memory:test"

    def __init__(self, raws: list[bytes]) -> None:
        self.raws = raws

    def uidvalidity(self) -> int:
        return 7

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> Iterator[list[Fetched]]:
        items = [
            Fetched(
                uid,
                raw if len(raw) <= max_size else None,
                len(raw),
                NOW + timedelta(seconds=uid),
                "internaldate",
            )
            for uid, raw in enumerate(self.raws, 1)
            if uid > after_uid
        ]
        for i in range(0, len(items), batch_size):
            yield items[i : i + batch_size]

    def not_read(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


def token(i: int) -> str:
    return f"{i:024d}".replace("0", "a").replace("1", "b")[:24]


def motion() -> Motion:
    members = tuple(Member(f"m{i}", f"M {i}", f"m{i}@x.example") for i in range(N))
    return Motion(
        id="m",
        title="Approve it",
        text="That it is approved.",
        committee=Committee("c", "C", "UTC", members),
        proposer="m0",
        threshold=Threshold.MAJORITY_OF_VOTES_CAST,
        quorum=1,
        closes=NOW + timedelta(days=1),
    )


def replies() -> list[bytes]:
    out = []
    for i in range(N):
        msg = EmailMessage()
        msg["From"] = f"m{i}@x.example"
        msg["To"] = f"votes+{token(i)}@v.example"
        msg["Subject"] = "Re: [m] Approve it"
        msg["Message-ID"] = f"<r{i}@x.example>"
        msg.set_content(VOTES[i % len(VOTES)] + "\n\n> Reply FOR, AGAINST or ABSTAIN.\n")
        out.append(msg.as_bytes())
    return out


@pytest.fixture
def store(database_url: str) -> Store:
    s = Store(database_url)
    ballots = [
        BallotRecord(
            "m",
            f"m{i}",
            f"M {i}",
            f"m{i}@x.example",
            True,
            token(i),
            f"<b{i}@v>",
            BallotStatus.SENT,
            "",
            NOW,
        )
        for i in range(N)
    ]
    s.record_motion(motion(), digest="d", ballots=ballots, now=NOW)
    return s


def counts(store: Store) -> tuple[int, int, int, int]:
    r = report(store, "m", now=NOW + timedelta(hours=1)).result
    return (r.counts.for_, r.counts.against, r.counts.abstain, r.needs_review)


def test_process_pool_records_exactly_what_one_process_does(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collecting, "POOL_THRESHOLD", 1)
    result = collecting.collect(
        ListSource(replies()), store, now=lambda: NOW, max_size=100_000, batch_size=7, workers=2
    )
    assert (result.read, result.votes, result.needs_review) == (N, 30, 10)
    assert counts(store) == (10, 10, 10, 10)
    again = collecting.collect(
        ListSource(replies()), store, now=lambda: NOW, max_size=100_000, workers=1
    )
    assert again.read == 0


def test_batches_are_recorded_as_they_go_and_resume(store: Store) -> None:
    source = ListSource(replies()[:10])
    collecting.collect(source, store, now=lambda: NOW, max_size=100_000, batch_size=3)
    assert store.mailbox_state("memory:test") == (7, 10)
    source.raws = replies()
    result = collecting.collect(source, store, now=lambda: NOW, max_size=100_000, batch_size=3)
    assert result.read == N - 10 and counts(store) == (10, 10, 10, 10)


def test_reused_message_id_with_other_content_goes_to_review(store: Store) -> None:
    raws = replies()[:1]
    forged = raws[0].replace(b"For.", b"Against.")
    collecting.collect(ListSource([*raws, forged]), store, now=lambda: NOW, max_size=100_000)
    line = report(store, "m", now=NOW + timedelta(hours=1)).result.lines[0]
    assert line.status.value == "needs_review" and "Message-ID reused" in line.note


def test_nul_in_headers_and_text_is_recorded_and_still_a_duplicate(store: Store) -> None:
    raw = (
        replies()[0].replace(b"<r0@x.example>", b"<r0\x00@x.example>").replace(b"For.", b"For.\x00")
    )
    first = collecting.collect(ListSource([raw]), store, now=lambda: NOW, max_size=100_000)
    assert first.recorded == 1
    resent = raw.replace(b"Subject:", b"X-Resent: yes\nSubject:")
    collecting.collect(ListSource([raw, resent]), store, now=lambda: NOW, max_size=100_000)
    reasons = [i.reason for i in store.ignored("m")]
    assert any("same Message-ID, member and words" in r for r in reasons)


def test_raw_eight_bit_headers_are_recorded(store: Store) -> None:
    raw = (
        replies()[0]
        .replace(b"Re: [m] Approve it", b"Re: [m] Approve it \xff\xfe caf\xe9")
        .replace(b"<r0@x.example>", b"<r0\xe9@x.example>")
        .replace(b"From: m0@x.example", b"From: J\xf6rg <m0@x.example>")
        .replace(b"For.", b"For. Gr\xfc\xdfe \xff")
    )
    result = collecting.collect(ListSource([raw]), store, now=lambda: NOW, max_size=100_000)
    assert result.recorded == 1 and result.votes == 1
    (r,) = store.received("m")
    r.sender.encode("utf-8")  # no lone surrogates reached the store
    r.message_id.encode("utf-8")
    r.own_text.encode("utf-8")


def test_same_message_id_and_text_but_another_subject_is_not_a_duplicate(store: Store) -> None:
    # Subject-only votes have the same (empty) text: the subject is content too.
    def subject_vote(word: str) -> bytes:
        msg = EmailMessage()
        msg["From"] = "m0@x.example"
        msg["To"] = f"votes+{token(0)}@v.example"
        msg["Subject"] = f"Re: [m] Approve it - {word}"
        msg["Message-ID"] = "<same@x.example>"
        msg.set_content("")
        return msg.as_bytes()

    raws = [subject_vote("YES"), subject_vote("NO")]
    collecting.collect(ListSource(raws), store, now=lambda: NOW, max_size=100_000)
    assert not any("duplicate" in i.reason for i in store.ignored("m"))
    line = report(store, "m", now=NOW + timedelta(hours=1)).result.lines[0]
    assert line.status.value == "needs_review" and line.vote is None


def test_review_shows_each_member_their_own_words_when_replies_lack_message_ids(
    store: Store,
) -> None:
    import io

    from rich.console import Console

    from steervote import render

    raws = []
    for i, words in ((0, "Yes, if clause 9 goes."), (1, "Maybe, ask me later?")):
        raw = replies()[i].replace(f"Message-ID: <r{i}@x.example>\n".encode(), b"")
        raws.append(raw.replace(VOTES[i % len(VOTES)].encode(), words.encode()))
    collecting.collect(ListSource(raws), store, now=lambda: NOW, max_size=100_000)
    r = report(store, "m", now=NOW + timedelta(hours=1))
    out = io.StringIO()
    render.review(Console(file=out, width=200), r.result, r.replies)
    text = out.getvalue()
    first, second = text.index("M 0 (m0)"), text.index("M 1 (m1)")
    assert "clause 9" in text[first:second] and "ask me later" not in text[first:second]
    assert "ask me later" in text[second:]


def test_a_vote_dated_only_by_its_sender_is_reviewed_once_the_motion_has_closed(
    store: Store,
) -> None:
    # A Date header is the sender's word: it cannot show a vote arrived in time.
    class DateHeaderSource(ListSource):
        def batches(
            self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
        ) -> Iterator[list[Fetched]]:
            for batch in super().batches(after_uid=after_uid, batch_size=batch_size):
                yield [Fetched(f.uid, f.raw, f.size, NOW, "date-header") for f in batch]

    after_close = NOW + timedelta(days=2)
    collecting.collect(
        DateHeaderSource(replies()[:1]), store, now=lambda: after_close, max_size=100_000
    )
    line = report(store, "m", now=after_close).result.lines[0]
    assert line.status.value == "needs_review" and "Date header" in line.note
