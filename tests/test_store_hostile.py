"""The store against hostile mail, on SQLite and PostgreSQL: any bytes in any header or
charset label are recorded; one mailbox spelled twice never moves a vote; two tallies at
once fail in one typed line, losing nothing."""

from __future__ import annotations

import email
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steervote.adapters.source import Fetched
from steervote.adapters.store import NewMessage, Store, TallyRaced
from steervote.core.match import Matched, match
from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.records import BallotRecord, BallotStatus, Disposition
from steervote.services.collect import collect

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TOKEN_ONE, TOKEN_TWO = "a" * 24, "b" * 24
NFC, NFD = "zo\u00eb@club.example", "zoe\u0308@club.example"


def motion(members: tuple[Member, ...]) -> Motion:
    return Motion(
        id="budget",
        title="Approve the budget",
        text="That the budget is approved.",
        committee=Committee("board", "Board", "UTC", members),
        proposer=members[0].id,
        threshold=Threshold.MAJORITY_OF_VOTES_CAST,
        quorum=1,
        closes=NOW + timedelta(days=3),
    )


def ballot(member: Member, token: str) -> BallotRecord:
    return BallotRecord(
        "budget",
        member.id,
        member.name,
        member.email,
        True,
        token,
        f"<ballot.budget.{token}@x>",
        BallotStatus.SENT,
        "",
        NOW,
    )


def store_with(database_url: str, *members: Member) -> Store:
    s = Store(database_url)
    ballots = [ballot(m, t) for m, t in zip(members, (TOKEN_ONE, TOKEN_TWO), strict=False)]
    s.record_motion(motion(members), digest="d", ballots=ballots, now=NOW)
    return s


# --- any bytes, any charset label ---------------------------------------------------------


class _Box:
    """A small fake of our MailSource interface: the given messages, then nothing."""

    def __init__(self, raws: list[bytes], start: int) -> None:
        self.raws, self.start = raws, start

    @property
    def key(self) -> str:
        return "fake:box"

    def uidvalidity(self) -> int:
        return 1

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> object:
        items = [
            Fetched(self.start + i, raw, len(raw), NOW, "internaldate")
            for i, raw in enumerate(self.raws)
            if self.start + i > after_uid
        ]
        return iter([items] if items else [])

    def not_read(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


_labels = st.one_of(
    st.sampled_from(
        [
            "utf-7",
            "unicode_escape",
            "raw_unicode_escape",
            "rot13",
            "base64_codec",
            "hex_codec",
            "zlib_codec",
            "uu_codec",
            "utf-16",
            "utf-16-le",
            "utf-32",
            "punycode",
            "idna",
            "cp1252",
            "x-unknown",
        ]
    ),
    st.text(st.characters(codec="ascii", exclude_characters="?\r\n"), max_size=12),
)
_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def hostile_messages(draw: st.DrawFn) -> bytes:
    label = draw(_labels).encode("ascii")
    word = b"=?" + label + b"?q?" + draw(_bytes).replace(b"?", b"=3F") + b"?="
    subject = draw(st.sampled_from([word, draw(_bytes), b"Re: [budget] " + word]))
    sender = draw(st.sampled_from([word + b" <zo\xc3\xab@club.example>", draw(_bytes)]))
    return (
        b"From: " + sender + b"\r\nTo: votes+" + TOKEN_ONE.encode() + b"@v.example\r\n"
        b"Subject: " + subject + b"\r\nMessage-ID: <" + draw(_bytes) + b"@x>\r\n"
        b"Content-Type: text/plain; charset=" + label + b"\r\n\r\n" + draw(st.binary()) + b"\r\n"
    )


def test_any_header_bytes_or_charset_label_never_stop_the_store_write(database_url: str) -> None:
    store = store_with(database_url, Member("one", "One", NFC))
    uids = itertools.count(1, 10)

    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(hostile_messages(), min_size=1, max_size=3))
    def record(raws: list[bytes]) -> None:
        box = _Box(raws, next(uids))
        report = collect(box, store, now=lambda: NOW, max_size=1_000_000, workers=1)
        assert report.recorded + report.already_recorded == len(raws)
        for r in store.received("budget"):
            for text in (r.evidence, r.own_text, r.reason, r.sender, r.message_id):
                text.encode("utf-8")  # valid Unicode, as the terminal needs it
        for i in store.ignored(None):
            (i.subject + i.sender + i.reason + i.message_id).encode("utf-8")

    record()


def test_the_store_makes_lone_surrogates_replacement_characters(database_url: str) -> None:
    store = store_with(database_url, Member("one", "One", NFC))
    bad = "\ud800x\udfff"
    store.record_batch(
        "box",
        1,
        1,
        [
            NewMessage(
                1, f"<{bad}@x>", "h", bad, bad, 1, NOW, "internaldate", Disposition.IGNORED, bad
            )
        ],
        NOW,
    )
    (ignored,) = store.ignored(None)
    assert ignored.subject == "\ufffdx\ufffd" and ignored.reason == "\ufffdx\ufffd"
    assert store.seen([f"<{bad}@x>"], ["h"])[1] == {"h": {("box", 1)}}


# --- one mailbox spelled two ways ---------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "two"),
    [(NFC, NFD), ("j\u00fcrgen@b\u00fccher.example", "j\u00fcrgen@xn--bcher-kva.example")],
)
def test_a_token_reply_stays_with_its_owner_when_another_member_shares_the_address(
    database_url: str, one: str, two: str
) -> None:
    # Recorded before validation compared addresses as matching does.
    store = store_with(database_url, Member("one", "One", one), Member("two", "Two", two))
    directory = store.directory()
    for sender, token, owner in ((one, TOKEN_ONE, "one"), (two, TOKEN_TWO, "two")):
        raw = f"From: <{sender}>\nTo: votes+{token}@v.example\nSubject: Re: [budget] x\n\nFor.\n"
        tie = match(email.message_from_string(raw), directory)
        assert isinstance(tie, Matched) and tie.member_id == owner, tie
    # Without a token, whose vote it is cannot be known: a person decides.
    raw = f"From: <{one}>\nTo: votes@v.example\nSubject: Re: [budget] x\n\nFor.\n"
    tie = match(email.message_from_string(raw), directory)
    assert isinstance(tie, Matched) and tie.review is not None and "whose vote" in tie.review


# --- two tallies at once ------------------------------------------------------------------


def test_two_tallies_recording_the_same_messages_fail_in_one_typed_line(
    database_url: str,
) -> None:
    store = store_with(database_url, Member("one", "One", "one@x.example"))
    other = Store(database_url)
    message = NewMessage(
        7, "<m@x>", "h7", "one@x.example", "s", 1, NOW, "internaldate", Disposition.IGNORED, "r"
    )
    store.record_batch("box", 1, 7, [message], NOW)
    with pytest.raises(TallyRaced) as raised:
        other.record_batch("box", 1, 7, [replace(message, sha256="h7b")], NOW)
    assert str(raised.value) == (
        "another tally recorded these messages at the same time; run tally again"
    )
    assert raised.value.exit_code == 1
    assert [i.ref for i in store.ignored(None)] and len(store.ignored(None)) == 1
    assert store.mailbox_state("box") == (1, 7)
