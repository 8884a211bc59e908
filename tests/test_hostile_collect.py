"""Collect with hostile and awkward mail, on both stores, in one process and on the pool.

Uses test_collect's in-memory MailSource (our own interface), so every path of the use
case is reached without a mail server; the CLI runs against real servers in
test_hostile_tally.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest

from hostile import BOMBS
from steervote.adapters.source import Fetched
from steervote.adapters.store import Store
from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.parse import head_of
from steervote.core.records import BallotRecord, BallotStatus
from steervote.services import collect as collecting
from steervote.services.review import report
from test_collect import NOW, ListSource, counts, replies, store, token

__all__ = ["store"]  # the fixture, on SQLite and PostgreSQL


class HeadSource(ListSource):
    """A ListSource that hands over the headers of what it does not fetch, as real ones do."""

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> Iterator[list[Fetched]]:
        for batch in super().batches(after_uid=after_uid, batch_size=batch_size, max_size=max_size):
            yield [
                Fetched(
                    f.uid,
                    f.raw,
                    f.size,
                    f.received_at,
                    f.received_from,
                    head_of(self.raws[f.uid - 1]) if f.raw is None else None,
                )
                for f in batch
            ]


def line(s: Store, member: str) -> tuple[str, str | None, str]:
    r = report(s, "m", now=NOW + timedelta(hours=1)).result
    found = next(x for x in r.lines if x.member.id == member)
    return found.status.value, found.vote.value if found.vote else None, found.note


def reasons(s: Store) -> list[str]:
    return [i.reason for i in s.ignored("m")]


def bomb_from(member: int | None, kind: str) -> bytes:
    if member is None:
        head = b"From: stranger@elsewhere.example\r\nSubject: hello\r\n"
    else:
        head = (
            f"From: m{member}@x.example\r\nTo: votes+{token(member)}@v.example\r\n"
            f"Subject: Re: [m] Approve it\r\nMessage-ID: <bomb{member}@x.example>\r\n"
        ).encode()
    return BOMBS[kind](head)


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "pool"])
@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_bomb_stops_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch, kind: str, workers: int
) -> None:
    monkeypatch.setattr(collecting, "POOL_THRESHOLD", 1)
    raws = replies()
    raws[0] = bomb_from(0, kind)  # member m0's reply is a bomb
    raws.insert(5, bomb_from(None, kind))  # and a stranger sends one
    source = ListSource(raws)
    result = collecting.collect(
        source, store, now=lambda: NOW, max_size=1_000_000, batch_size=7, workers=workers
    )
    assert result.read == len(raws) and result.recorded == len(raws)
    status, vote, note = line(store, "m0")
    assert (status, vote) == ("needs_review", None) and note.startswith("unreadable: ")
    assert any(r.startswith("unreadable: ") for r in reasons(store))
    # m1..m39 are counted as before (m0's FOR is now a review).
    assert counts(store) == (9, 10, 10, 11)
    again = collecting.collect(source, store, now=lambda: NOW, max_size=1_000_000)
    assert again.read == 0 and counts(store) == (9, 10, 10, 11)


def test_a_mailing_list_copy_first_does_not_put_the_direct_copy_to_review(store: Store) -> None:
    direct = replies()[1]  # m1: "Against."
    listed = (
        direct.replace(b"From: m1@x.example", b"From: M 1 via Committee <list@lists.example>")
        .replace(f"To: votes+{token(1)}@v.example".encode(), b"To: committee@lists.example")
        .replace(b"Subject: Re: [m]", b"Subject: [committee] Re: [m]")
    )
    collecting.collect(ListSource([listed, direct]), store, now=lambda: NOW, max_size=100_000)
    assert any("not a member" in r for r in reasons(store))
    assert line(store, "m1")[:2] == ("counted", "against")


def test_a_reused_message_id_of_a_matched_reply_still_goes_to_review(store: Store) -> None:
    raw = replies()[0]
    forged = raw.replace(b"For.", b"Against.")
    collecting.collect(ListSource([raw, forged]), store, now=lambda: NOW, max_size=100_000)
    status, _, note = line(store, "m0")
    assert status == "needs_review" and "Message-ID reused" in note


def test_an_unquoted_comma_in_the_sender_name_is_still_the_member(store: Store) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Re: [m] Approve it"
    msg["Message-ID"] = "<comma@x.example>"
    msg.set_content("For.\n")
    raw = b"From: M, Three <m3@x.example>\n" + msg.as_bytes()
    result = collecting.collect(ListSource([raw]), store, now=lambda: NOW, max_size=100_000)
    assert result.votes == 1 and line(store, "m3")[:2] == ("counted", "for")


def test_a_second_sender_never_rides_on_a_member_address(store: Store) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Re: [m] Approve it"
    msg.set_content("For.\n")
    body = msg.as_bytes()
    raws = [
        b"From: m3@x.example, eve@evil.example\n" + body,
        b"From: eve@evil.example\nFrom: m4@x.example\n" + body,
    ]
    collecting.collect(ListSource(raws), store, now=lambda: NOW, max_size=100_000)
    assert line(store, "m3")[0] == "not_voted" and line(store, "m4")[0] == "not_voted"
    assert sum("several" in r for r in reasons(store)) == 2


def test_an_internationalised_member_address_matches_either_form(database_url: str) -> None:
    s = Store(database_url)
    members = (
        Member("u", "Ülla", "ülla@bücher.example"),
        Member("p", "Pat", "pat@xn--mnchen-3ya.example"),
    )
    motion = Motion(
        id="m",
        title="Approve it",
        text="That it is approved.",
        committee=Committee("c", "C", "UTC", members),
        proposer="u",
        threshold=Threshold.MAJORITY_OF_VOTES_CAST,
        quorum=1,
        closes=NOW + timedelta(days=1),
    )
    ballots = [
        BallotRecord(
            "m", x.id, x.name, x.email, True, None, f"<b{x.id}@v>", BallotStatus.SENT, "", NOW
        )
        for x in members
    ]
    s.record_motion(motion, digest="d", ballots=ballots, now=NOW)
    raws = [
        b"From: =?utf-8?q?=C3=9Clla?= <\xc3\xbclla@xn--bcher-kva.example>\n"
        b"Subject: Re: [m] Approve it\nMessage-ID: <u@x>\n\nFor.\n",
        "From: Pat <PAT@MÜNCHEN.example>\nSubject: Re: [m] Approve it\nMessage-ID: <p@x>\n\n"
        "Against.\n".encode(),
    ]
    collecting.collect(ListSource(raws), s, now=lambda: NOW, max_size=100_000)
    assert line(s, "u")[:2] == ("counted", "for")
    assert line(s, "p")[:2] == ("counted", "against")


def test_an_oversize_vote_goes_to_review_and_a_rescan_reads_it_once(store: Store) -> None:
    raws = replies()[:3]
    raws[0] = raws[0].replace(b"For.", b"For.\n\n" + b"> padding padding padding\n" * 800)
    source = HeadSource(raws)
    collecting.collect(source, store, now=lambda: NOW, max_size=10_000)
    status, vote, note = line(store, "m0")
    assert (status, vote) == ("needs_review", None)
    assert note.startswith("too large to read: ") and "tally --rescan" in note
    # The limit is raised; a plain re-run reads nothing new (the position has passed it).
    assert collecting.collect(source, store, now=lambda: NOW, max_size=100_000).read == 0
    assert line(store, "m0")[0] == "needs_review"
    result = collecting.collect(source, store, now=lambda: NOW, max_size=100_000, rescan=True)
    assert result.read == 3 and result.votes == 1 and result.already_recorded == 2
    assert line(store, "m0")[:2] == ("counted", "for")
    assert counts(store) == (1, 1, 1, 0)
    again = collecting.collect(source, store, now=lambda: NOW, max_size=100_000, rescan=True)
    assert again.recorded == 0 and again.already_recorded == 3
    assert counts(store) == (1, 1, 1, 0)
    assert not any("too large" in r or "duplicate" in r for r in reasons(store))


def test_a_rescan_of_a_message_still_too_large_records_nothing_again(store: Store) -> None:
    raws = [replies()[0].replace(b"For.", b"For.\n" + b"x" * 20_000)]
    source = HeadSource(raws)
    collecting.collect(source, store, now=lambda: NOW, max_size=10_000)
    result = collecting.collect(source, store, now=lambda: NOW, max_size=10_000, rescan=True)
    assert result.recorded == 0 and result.already_recorded == 1
    assert line(store, "m0")[0] == "needs_review"
