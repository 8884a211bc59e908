"""Composing ballots and information copies (pure): headers, body, tokens, fingerprint."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from propose_kit import NOW, PAPERS, REPLY_TO, SENDER, SUBJECT, copy_example, plain_text
from steervote.core.ballot import (
    MOTION_HEADER,
    TOKEN_BYTES,
    Addressing,
    compose_ballot,
    compose_copy,
    fingerprint,
    new_token,
)
from steervote.core.motion import Member, Motion
from steervote.core.motion_file import load_motion
from steervote.services.propose import read_attachments

PLUS = Addressing(SENDER, REPLY_TO, plus_tokens=True)


@pytest.fixture
def motion(isolated: Path) -> Motion:
    return load_motion(copy_example(isolated), now=NOW)


def test_a_ballot_carries_the_token_in_reply_to_and_message_id(motion: Motion) -> None:
    token = new_token()
    member = motion.committee.members[3]
    msg = compose_ballot(motion, member, token, PLUS, read_attachments(motion), NOW)

    assert msg["From"] == SENDER
    assert msg["To"] == "Sam Tarry <sam.tarry@momentum.example>"
    assert msg["Reply-To"] == f"votes+{token}@momentum.example"
    assert msg["Subject"] == SUBJECT
    assert msg["Message-ID"] == f"<ballot.new-constitution.{token}@momentum.example>"
    assert msg[MOTION_HEADER] == "new-constitution"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert [p.get_filename() for p in msg.iter_attachments()] == list(PAPERS)
    html = msg.get_body(("html",))
    assert html is not None and "FOR, AGAINST or ABSTAIN" in html.get_content()


def test_without_plus_addressing_the_reply_address_is_the_shared_one(motion: Motion) -> None:
    token = new_token()
    plain = Addressing(SENDER, "Votes <votes@momentum.example>", plus_tokens=False)
    msg = compose_ballot(motion, motion.committee.members[0], token, plain, (), NOW)
    assert msg["Reply-To"] == "Votes <votes@momentum.example>"
    assert token in msg["Message-ID"]  # The token still travels in the threading headers.


def test_the_body_states_rule_quorum_deadline_authority_and_fingerprint(motion: Motion) -> None:
    papers = read_attachments(motion)
    text = plain_text(
        compose_ballot(motion, motion.committee.members[0], "t" * 24, PLUS, papers, NOW)
    )

    assert "That the National Steering Group:" in text
    assert "Proposed by: Jon Lansman (chair)" in text
    assert "Reply to this email with one word: FOR, AGAINST or ABSTAIN." in text
    assert "more than half of all 12 voting members vote for" in text
    assert "7 needed" in text
    assert "Quorum: 7 counted votes" in text
    # Closes 7 days from NOW: Tuesday 19 January 2027 09:30 GMT, with the UTC time beside it.
    assert "Voting closes: Tuesday 19 January 2027, 09:30 GMT (Europe/London)" in text
    assert "= 2027-01-19 09:30 UTC" in text
    assert "Authority: Proposal of the chair, 10 January 2017" in text
    assert f"Fingerprint: {fingerprint(motion, papers)}" in text
    assert re.fullmatch(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}", fingerprint(motion, papers))
    assert "momentum-constitution.pdf" in text


def test_the_deadline_is_shown_in_summer_time_with_its_utc_equivalent(motion: Motion) -> None:
    summer = replace(motion, closes=datetime(2027, 7, 1, 16, 0, tzinfo=UTC))
    text = plain_text(compose_ballot(summer, summer.committee.members[0], "t" * 24, PLUS, (), NOW))
    assert "Thursday 01 July 2027, 17:00 BST (Europe/London) = 2027-07-01 16:00 UTC" in text


def test_an_observer_copy_has_no_token_and_says_it_carries_no_vote(motion: Motion) -> None:
    observer = motion.committee.observers[0]
    msg = compose_copy(motion, observer, PLUS, read_attachments(motion), NOW, "<copy.x@m.example>")

    assert msg["To"] == "Emma Rees <emma.rees@momentum.example>"
    assert msg["Reply-To"] == REPLY_TO  # No plus tag: nothing personal to match a vote to.
    assert msg["Message-ID"] == "<copy.x@m.example>"
    assert msg["Subject"] == SUBJECT
    assert msg["Auto-Submitted"] == "auto-generated"
    text = plain_text(msg)
    assert "you do not have a vote on this motion" in text
    assert "HOW TO VOTE" not in text
    assert len(list(msg.iter_attachments())) == 4


def test_tokens_are_at_least_96_bits_and_safe_in_a_local_part() -> None:
    assert TOKEN_BYTES * 8 >= 96
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(re.fullmatch(r"[a-z2-7]{24}", t) for t in tokens)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: replace(m, text=m.text + "\nAnd one more thing."), id="text"),
        pytest.param(lambda m: replace(m, closes=m.closes + timedelta(hours=1)), id="deadline"),
        pytest.param(
            lambda m: replace(
                m,
                committee=replace(
                    m.committee,
                    members=(*m.committee.members, Member("new", "New Member", "new@m.example")),
                ),
            ),
            id="electorate",
        ),
        pytest.param(lambda m: replace(m, quorum=m.quorum + 1), id="quorum"),
    ],
)
def test_the_fingerprint_changes_with_what_is_voted_on(motion: Motion, change) -> None:
    assert fingerprint(change(motion)) != fingerprint(motion)


def test_the_fingerprint_changes_when_a_paper_changes(motion: Motion) -> None:
    papers = read_attachments(motion)
    altered = (replace(papers[0], content=papers[0].content + b"%"), *papers[1:])
    assert fingerprint(motion, altered) != fingerprint(motion, papers)


def test_the_press_renders_exactly_what_compose_builds(motion: Motion) -> None:
    import email
    from email import policy

    from steervote.core.motion import Observer
    from steervote.core.press import BallotPress

    papers = read_attachments(motion)
    press = BallotPress(motion, PLUS, papers, NOW)
    token = new_token()
    who = replace(motion.committee.members[3], name="Zoë Smith, Jr.")
    fast = email.message_from_bytes(press.ballot(who, token), policy=policy.default)
    slow = compose_ballot(motion, who, token, PLUS, papers, NOW)
    for name in ("From", "To", "Reply-To", "Subject", "Message-ID", MOTION_HEADER, "Date"):
        assert str(fast[name]) == str(slow[name]), name
    assert str(fast["To"]) == '"Zoë Smith, Jr." <sam.tarry@momentum.example>'
    assert plain_text(fast).replace("\r\n", "\n") == plain_text(slow)
    assert [p.get_filename() for p in fast.iter_attachments()] == list(PAPERS)
    observer = Observer("Emma Rees", "emma.rees@momentum.example")
    copy = email.message_from_bytes(press.copy(observer, "<copy.x@m.example>"))
    assert copy["Message-ID"] == "<copy.x@m.example>" and "+" not in str(copy["Reply-To"])
    # RFC 6532: an internationalised address stays UTF-8 (sent only where SMTPUTF8 is
    # offered); an ASCII local part at an internationalised domain goes as A-labels.
    raw = press.ballot(replace(who, email="zoë@exämple.org"), token)
    head = raw.partition(b"\r\n\r\n")[0].decode("utf-8")
    assert "To: =?utf-8?b?Wm/DqyBTbWl0aCwgSnIu?= <zoë@exämple.org>\r\n" in head
    raw = press.ballot(replace(who, email="zoe@exämple.org"), token)
    assert b"<zoe@xn--exmple-cua.org>" in raw
    with pytest.raises(ValueError):
        press.ballot(replace(who, name="Zoe\rSmith"), token)  # Validation refuses it first.
