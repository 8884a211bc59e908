"""Match strength: what may replace what, the receiving server's verdict, receipt proof."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steervote.config import load_settings
from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.receipt import doubtful_receipt, trusted_received_time
from steervote.core.records import Disposition, Received, Ruling
from steervote.core.strength import Strength, Verdict, authentication, token_strength
from steervote.core.tally import Status, tally
from steervote.core.vote import Vote
from steervote.errors import ConfigInvalid

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CLOSES = T0 + timedelta(days=2)
MEMBERS = tuple(Member(f"m{i}", f"Member {i}", f"m{i}@x.example") for i in range(3))
MOTION = Motion(
    id="budget",
    title="Approve the budget",
    text="That the budget is approved.",
    committee=Committee("c", "Committee", "Europe/London", MEMBERS),
    proposer="m0",
    threshold=Threshold.MAJORITY_OF_MEMBERS,
    quorum=1,
    closes=CLOSES,
)


def reply(
    ref: int,
    vote: Vote | None,
    at: datetime,
    strength: Strength,
    *,
    dated: datetime | None = None,
    received_from: str = "internaldate",
) -> Received:
    how = {Strength.SUBJECT: "subject+sender", Strength.WEAK: "token"}.get(strength, "token")
    return Received(
        ref,
        "budget",
        "m1",
        at,
        Disposition.VOTE if vote else Disposition.NEEDS_REVIEW,
        vote,
        str(vote),
        "",
        "" if vote else "unclear",
        how,
        f"<{ref}@x>",
        "m1@x.example",
        strength,
        dated,
        received_from,
        at,
    )


def line(replies: list[Received], rulings: tuple[Ruling, ...] = ()) -> object:
    return tally(MOTION, replies, list(rulings), now=T0 + timedelta(days=1)).lines[1]


def test_a_weaker_reply_sends_the_member_to_review_with_both_shown() -> None:
    strong = reply(1, Vote.FOR, T0, Strength.TOKEN_AUTHENTICATED)
    weak = reply(2, Vote.AGAINST, T0 + timedelta(hours=1), Strength.SUBJECT)
    result = tally(MOTION, [strong, weak], [], now=T0 + timedelta(hours=2)).lines[1]
    assert result.status is Status.NEEDS_REVIEW and result.vote is None
    assert "earlier: FOR by token, sender authenticated on 2026-01-10 12:00 UTC" in result.note
    assert "now: AGAINST by subject only on 2026-01-10 13:00 UTC — confirm" in result.note
    assert result.strength == "subject+sender" and result.ref == 2


def test_an_equal_or_stronger_reply_replaces_and_a_weaker_agreeing_one_changes_nothing() -> None:
    first = reply(1, Vote.FOR, T0, Strength.TOKEN)
    same = reply(2, Vote.FOR, T0 + timedelta(hours=1), Strength.SUBJECT)
    change = reply(3, Vote.AGAINST, T0 + timedelta(hours=2), Strength.TOKEN)
    r = tally(MOTION, [first, same, change], [], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.COUNTED and r.vote is Vote.AGAINST and r.ref == 3
    r = tally(MOTION, [first, same], [], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.COUNTED and r.vote is Vote.FOR and r.ref == 1


def test_a_ruling_is_replaced_only_by_a_reply_as_strong_as_a_token() -> None:
    ruling = Ruling("budget", "m1", Vote.FOR, "phoned", "sec", T0 + timedelta(hours=1))
    early = reply(1, None, T0, Strength.TOKEN)
    weak = reply(2, Vote.AGAINST, T0 + timedelta(hours=2), Strength.SUBJECT)
    r = tally(MOTION, [early, weak], [ruling], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.NEEDS_REVIEW
    assert "ruled FOR by sec on 2026-01-10 13:00 UTC: phoned" in r.note
    strong = reply(3, Vote.AGAINST, T0 + timedelta(hours=3), Strength.TOKEN)
    r = tally(MOTION, [early, weak, strong], [ruling], now=T0 + timedelta(hours=4)).lines[1]
    assert r.status is Status.COUNTED and r.vote is Vote.AGAINST


def test_a_reply_dated_before_the_ruling_it_would_replace_is_reviewed() -> None:
    ruled_at = T0 + timedelta(hours=1)
    ruling = Ruling("budget", "m1", Vote.AGAINST, "phoned", "sec", ruled_at)
    # Received after the ruling, but written before it: the ruling may have weighed it.
    old = reply(1, Vote.FOR, T0 + timedelta(hours=2), Strength.TOKEN, dated=T0)
    r = tally(MOTION, [old], [ruling], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.NEEDS_REVIEW and r.vote is None
    assert "ruled AGAINST by sec" in r.note and "older than the ruling" in r.note
    # Saying what the ruling says, it changes nothing; written after it, it stands.
    same = replace(old, vote=Vote.AGAINST)
    r = tally(MOTION, [same], [ruling], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.COUNTED and r.vote is Vote.AGAINST
    new = replace(old, dated=ruled_at + timedelta(minutes=5))
    r = tally(MOTION, [new], [ruling], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.COUNTED and r.vote is Vote.FOR


def test_a_reply_dated_before_the_one_it_would_replace_is_reviewed() -> None:
    first = reply(1, Vote.FOR, T0, Strength.TOKEN, dated=T0)
    change = reply(
        2, Vote.AGAINST, T0 + timedelta(hours=1), Strength.TOKEN, dated=T0 + timedelta(hours=1)
    )
    replay = reply(3, Vote.FOR, T0 + timedelta(hours=2), Strength.TOKEN, dated=T0)
    r = tally(MOTION, [first, change, replay], [], now=T0 + timedelta(hours=3)).lines[1]
    assert r.status is Status.NEEDS_REVIEW and "older than the reply it would replace" in r.note


def test_an_unproven_time_read_after_the_deadline_is_reviewed_never_late() -> None:
    near = reply(
        1, Vote.FOR, CLOSES - timedelta(hours=1), Strength.TOKEN, received_from="from-line-local"
    )
    late_read = CLOSES + timedelta(hours=1)
    near = replace(near, read_at=late_read)
    r = tally(MOTION, [near], [], now=late_read).lines[1]
    assert r.status is Status.NEEDS_REVIEW and "without a time zone" in r.note
    assert (
        doubtful_receipt("from-line-local", CLOSES - timedelta(days=1), late_read, CLOSES) is None
    )
    assert doubtful_receipt("date-header", CLOSES + timedelta(days=1), CLOSES, CLOSES) is None
    assert doubtful_receipt("internaldate", CLOSES, late_read, CLOSES) is None
    assert doubtful_receipt("date-header", CLOSES - timedelta(days=1), late_read, CLOSES)


def auth(*headers: str, sender: str = "ann@x.example", ids: tuple[str, ...] = ()) -> Verdict:
    text = "".join(f"Authentication-Results: {h}\n" for h in headers) + "From: x\n\nbody\n"
    return authentication(email.message_from_string(text), sender, ids).verdict


def test_the_receiving_servers_verdict() -> None:
    mx = ("mx",)
    assert auth() is Verdict.ABSENT
    assert auth("mx; dkim=pass header.d=x.example", ids=mx) is Verdict.PASS
    assert auth("mx; dkim=pass header.d=mail.x.example", ids=mx) is Verdict.UNKNOWN  # not aligned
    assert auth("mx; dkim=pass header.d=other.example; dmarc=pass", ids=mx) is Verdict.PASS
    assert auth("mx; dkim=none; dmarc=none", ids=mx) is Verdict.UNKNOWN
    assert auth("mx; dkim=fail header.d=other.example") is Verdict.UNKNOWN  # a third party's
    assert auth("mx; dkim=fail header.d=x.example") is Verdict.FAIL
    assert auth("mx; dmarc=fail") is Verdict.FAIL
    # Below the top, by default, nobody speaks for the receiving server.
    assert auth("mx; dkim=fail header.d=x.example", "evil; dmarc=pass") is Verdict.FAIL
    assert auth("evil; dkim=pass header.d=x.example", "mx; dmarc=fail", ids=mx) is Verdict.FAIL
    assert auth("evil; dmarc=fail", ids=mx) is Verdict.ABSENT


def test_without_trusted_ids_the_topmost_header_only_detects_failure() -> None:
    # The receiving server may add no header at all: then the topmost is the sender's own.
    assert auth("mx; dkim=pass header.d=x.example; dmarc=pass") is Verdict.UNKNOWN
    assert auth("mx; dmarc=fail") is Verdict.FAIL
    assert token_strength(Verdict.UNKNOWN) is Strength.TOKEN
    assert token_strength(Verdict.ABSENT) is Strength.TOKEN  # nothing reported, nothing proven
    assert token_strength(Verdict.PASS) is Strength.TOKEN_AUTHENTICATED
    assert token_strength(Verdict.FAIL) is Strength.WEAK


# RFC 8601 Appendix B's examples, each with the verdict on a sender at the domain its
# DKIM result names (and comments, CFWS, anywhere section 2.2 allows them).
RFC_8601_EXAMPLES = [
    # B.2: nothing done.
    ("example.org 1; none", "a@example.org", Verdict.UNKNOWN),
    # B.3: SPF only, which says nothing of the From domain's DKIM or DMARC.
    ("example.com; spf=pass smtp.mailfrom=example.net", "a@example.net", Verdict.UNKNOWN),
    # B.4: SMTP AUTH with a comment, and SPF.
    (
        "example.com; auth=pass (cram-md5) smtp.auth=sender@example.net; "
        "spf=pass smtp.mailfrom=example.net",
        "sender@example.net",
        Verdict.UNKNOWN,
    ),
    # B.5: two DKIM signatures with comments; the good one is the sender's domain.
    (
        "example.com; dkim=pass (good signature) header.d=mail-router.example.net; "
        "dkim=fail (bad signature) header.d=newyork.example.com",
        "a@mail-router.example.net",
        Verdict.PASS,
    ),
    (
        "example.com; dkim=pass (good signature) header.d=mail-router.example.net; "
        "dkim=fail (bad signature) header.d=newyork.example.com",
        "a@newyork.example.com",
        Verdict.FAIL,
    ),
    # B.6: reasons as quoted strings, identities as header.i.
    (
        'example.com; dkim=pass reason="good signature" header.i=@mail-router.example.net; '
        'dkim=fail reason="bad signature" header.i=@newyork.example.com',
        "a@newyork.example.com",
        Verdict.FAIL,
    ),
    (
        "example.net; dkim=pass (good signature) header.i=@newyork.example.com",
        "a@newyork.example.com",
        Verdict.PASS,
    ),
    # Comments before the result, nested, with quoted pairs; a result inside a quoted
    # string or a comment is no result.
    ("mx; dmarc=(p=reject) fail header.from=x.example", "a@x.example", Verdict.FAIL),
    ("mx; dmarc = (p=reject (nested \\) paren)) fail", "a@x.example", Verdict.FAIL),
    ("mx (comment; dmarc=fail); dkim=pass header.d=x.example", "a@x.example", Verdict.PASS),
    (
        'mx; dkim=pass reason="dmarc=fail; dkim=fail" header.d=x.example',
        "a@x.example",
        Verdict.PASS,
    ),
    ("mx; dkim/1=(version) fail header.d=x.example", "a@x.example", Verdict.FAIL),
]


@pytest.mark.parametrize(("header", "sender", "verdict"), RFC_8601_EXAMPLES)
def test_rfc_8601_examples_and_comments(header: str, sender: str, verdict: Verdict) -> None:
    serv_id = header.split(None, 1)[0].rstrip(";")
    assert auth(header, sender=sender, ids=(serv_id,)) is verdict


def test_a_trusted_received_header_gives_the_time() -> None:
    text = (
        "Received: from mx by imap.example.org with LMTP; Tue, 3 Jan 2017 10:00:05 +0000\n"
        "Received: from relay by MX.example.org. with ESMTPS; Tue, 3 Jan 2017 11:00:00 +0100\n"
        "Received: from forged by mx.example.org; Mon, 1 Jan 2017 00:00:00 +0000\n"
        "From: x\n\nbody\n"
    )
    msg = email.message_from_string(text)
    assert trusted_received_time(msg, ("mx.example.org",)) == datetime(2017, 1, 3, 10, tzinfo=UTC)
    assert trusted_received_time(msg, ()) is None
    assert trusted_received_time(msg, ("other.example",)) is None


# --- the property: a token-verified vote is never replaced without review ----------------

WEAKER = st.sampled_from([Strength.TOKEN, Strength.SUBJECT, Strength.WEAK])
VOTES = st.sampled_from([Vote.FOR, Vote.AGAINST, Vote.ABSTAIN, None])
LATER = st.integers(min_value=0, max_value=3 * 24 * 3600)  # seconds after the vote


@given(
    vote=st.sampled_from([Vote.FOR, Vote.AGAINST, Vote.ABSTAIN]),
    later=st.lists(st.tuples(VOTES, WEAKER, LATER, st.booleans()), max_size=8),
)
def test_a_token_verified_vote_is_never_replaced_by_weaker_mail_without_review(
    vote: Vote, later: list[tuple[Vote | None, Strength, int, bool]]
) -> None:
    verified = reply(1, vote, T0, Strength.TOKEN_AUTHENTICATED, dated=T0)
    replies = [verified]
    for i, (said, strength, seconds, dated) in enumerate(later, start=2):
        at = T0 + timedelta(seconds=seconds)
        replies.append(reply(i, said, at, strength, dated=at if dated else None))
    r = tally(MOTION, replies, [], now=T0 + timedelta(days=4)).lines[1]
    assert r.status is Status.NEEDS_REVIEW or (r.vote is vote and r.ref == 1), r


def test_the_trusted_servers_are_configured_in_tally(tmp_path: Path) -> None:
    path = tmp_path / "steervote.toml"
    path.write_text(
        '[tally]\ntrusted_authserv_ids = ["MX.Example.org"]\n'
        'trusted_received_by = ["mx.example.org."]\n'
    )
    s = load_settings(path, env={}, cwd=tmp_path)
    assert s.trusted_authserv_ids == ("mx.example.org",)
    assert s.trusted_received_by == ("mx.example.org",)
    assert load_settings(None, env={}, cwd=tmp_path / "none").trusted_authserv_ids == ()
    for bad in ('"mx.example.org"', '["two words"]', "[1]", '[""]'):
        path.write_text(f"[tally]\ntrusted_received_by = {bad}\n")
        with pytest.raises(ConfigInvalid, match="trusted_received_by"):
            load_settings(path, env={}, cwd=tmp_path)
