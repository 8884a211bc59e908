"""Matching a message to its motion and member: token first, subject + sender second."""

from __future__ import annotations

import email
from email.message import Message

from steervote.core.match import Directory, How, Matched, Unmatched, match, tokens_in
from steervote.core.strength import Strength

TOKEN_A = "a" * 24
TOKEN_B = "b2" * 12

DIRECTORY = Directory(
    tokens={TOKEN_A: ("budget", "ann"), TOKEN_B: ("budget", "bob")},
    members={
        "budget": {"ann@x.example": "ann", "ann@home.example": "ann", "bob@x.example": "bob"},
        "strict": {"ann@x.example": "ann"},
    },
    require_token={"budget": False, "strict": True},
    titles={"budget": "Approve the budget", "strict": "Strict motion"},
)


def msg(**headers: str) -> Message:
    lines = [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return email.message_from_string("\n".join(lines) + "\n\nFor.\n")


def test_token_in_plus_address_names_motion_and_member() -> None:
    m = match(msg(From="Ann <ann@x.example>", To=f"votes+{TOKEN_A}@v.example"), DIRECTORY)
    assert m == Matched("budget", "ann", How.TOKEN, strength=Strength.TOKEN)


def test_token_in_references_and_alias_sender() -> None:
    refs = f"<other@x> <ballot.budget.{TOKEN_A}@v.example>"
    m = match(msg(From="ann@home.example", To="votes@v.example", References=refs), DIRECTORY)
    # It replies (the last References id) to Ann's ballot: a yes there is a vote.
    assert m == Matched("budget", "ann", How.TOKEN, strength=Strength.TOKEN, replying_to="ballot")


def test_token_is_case_insensitive() -> None:
    m = match(msg(From="ann@x.example", To=f"votes+{TOKEN_A.upper()}@v.example"), DIRECTORY)
    assert isinstance(m, Matched) and m.member_id == "ann"


def test_token_of_a_used_by_member_b_is_bs_reply_never_a_vote_of_a() -> None:
    # A reply-all (or a forwarded ballot) answered by another member is that member's own,
    # as strong as their address: the token's owner is untouched.
    m = match(msg(From="bob@x.example", To=f"votes+{TOKEN_A}@v.example"), DIRECTORY)
    assert m == Matched("budget", "bob", How.THREAD, strength=Strength.SUBJECT)


def test_token_of_a_used_by_a_stranger_is_reviewed_as_forwarded() -> None:
    m = match(msg(From="eve@x.example", To=f"votes+{TOKEN_A}@v.example"), DIRECTORY)
    assert isinstance(m, Matched) and m.member_id == "ann" and m.strength is Strength.WEAK
    assert m.review is not None and "forwarded" in m.review


def test_token_used_by_stranger_is_review() -> None:
    m = match(msg(From="eve@evil.example", In_Reply_To=f"<ballot.budget.{TOKEN_A}@v>"), DIRECTORY)
    assert isinstance(m, Matched) and m.review is not None


def test_two_members_tokens_from_one_member_goes_to_review() -> None:
    to = f"votes+{TOKEN_A}@v.example, votes+{TOKEN_B}@v.example"
    m = match(msg(From="bob@x.example", To=to), DIRECTORY)
    assert isinstance(m, Matched) and m.review is not None and m.member_id == "bob"


def test_subject_tag_and_member_address() -> None:
    m = match(msg(From="Bob <BOB@X.example>", Subject="Re: [budget] Approve the budget"), DIRECTORY)
    assert m == Matched("budget", "bob", How.SUBJECT, strength=Strength.SUBJECT)


def test_subject_tag_from_non_member_is_ignored_with_reason() -> None:
    m = match(msg(From="eve@evil.example", Subject="Re: [budget] Approve"), DIRECTORY)
    assert isinstance(m, Unmatched) and "not a member" in m.reason and m.motion_id == "budget"


def test_unknown_motion_and_no_tag() -> None:
    m = match(msg(From="ann@x.example", Subject="Re: [nothing] x"), DIRECTORY)
    assert isinstance(m, Unmatched) and "unknown motion" in m.reason
    m = match(msg(From="ann@x.example", Subject="hello"), DIRECTORY)
    assert isinstance(m, Unmatched) and "no ballot token" in m.reason


def test_require_token_sends_subject_match_to_review() -> None:
    m = match(msg(From="ann@x.example", Subject="Re: [strict] Strict motion"), DIRECTORY)
    assert isinstance(m, Matched) and m.review is not None and "requires" in m.review


def test_spoofed_from_failing_dmarc_goes_to_review() -> None:
    m = match(
        msg(
            Authentication_Results="mx.v.example; dkim=fail header.d=x.example; dmarc=fail",
            From="ann@x.example",
            Subject="Re: [budget] Approve the budget",
        ),
        DIRECTORY,
    )
    assert isinstance(m, Matched) and m.review is not None and "spoofed" in m.review


def test_dkim_pass_is_a_plain_match() -> None:
    m = match(
        msg(
            Authentication_Results="mx.v.example; dkim=pass header.d=x.example; dmarc=pass",
            From="ann@x.example",
            Subject="Re: [budget] Approve the budget",
        ),
        DIRECTORY,
    )
    assert m == Matched("budget", "ann", How.SUBJECT, strength=Strength.SUBJECT)


def test_unknown_tokens_are_not_tokens() -> None:
    assert tokens_in(msg(To="votes+zzzzzzzzzzzzzzzzzzzzzzzz@v.example")) == {
        "zzzzzzzzzzzzzzzzzzzzzzzz"
    }
    m = match(msg(From="ann@x.example", To="votes+zzzzzzzzzzzzzzzzzzzzzzzz@v"), DIRECTORY)
    assert isinstance(m, Unmatched)


def test_encoded_display_name_with_a_comma_keeps_the_address() -> None:
    # "Müller, Jürgen" arrives RFC 2047-encoded; decoding before parsing split it at the comma.
    sender = "=?utf-8?q?M=C3=BCller=2C_J=C3=BCrgen?= <ann@x.example>"
    m = match(msg(From=sender, To=f"votes+{TOKEN_A}@v.example"), DIRECTORY)
    assert m == Matched("budget", "ann", How.TOKEN, strength=Strength.TOKEN)
