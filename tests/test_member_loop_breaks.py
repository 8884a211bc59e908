"""What a blind tester broke in the member loop (issue 12), fixed by kind: a yes, a no or
thanks in reply to a receipt or the result is not a vote; an ask is answered by an option
word, never a yes or no; reversed (bidi) text is for a person; receipts follow the vote
as it stands; an ask never relays words that may not be the member's."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from steervote.core.reply import Kind, read_reply
from steervote.core.vote import Vote


def _read(text: str, **kw: Any) -> Any:
    msg = EmailMessage()
    msg["From"] = "Sam Tarry <sam@tarry.example>"
    msg["Subject"] = "Re: [m] T"
    msg.set_content(text + "\n")
    return read_reply(msg, ballot_subject="[m] T", motion_title="T", **kw)


@pytest.mark.parametrize("replying_to", ["receipt", "result"])
@pytest.mark.parametrize(
    "text", ["Yes", "No", "Yes, correct. Thanks!", "Nein, alles richtig.", "Nope, all good", "Sí"]
)
def test_a_yes_or_no_to_a_receipt_or_the_result_is_never_counted(
    replying_to: str, text: str
) -> None:
    assert _read(text, replying_to=replying_to).kind is not Kind.VOTE


@pytest.mark.parametrize("replying_to", ["receipt", "result"])
@pytest.mark.parametrize("text", ["Thanks", "Got it, thank you.", "Merci beaucoup", "Danke!"])
def test_thanks_to_a_receipt_or_the_result_leave_the_vote_standing(
    replying_to: str, text: str
) -> None:
    assert _read(text, replying_to=replying_to).kind is Kind.NOT_A_VOTE


@pytest.mark.parametrize(
    ("text", "vote"),
    [("Against", Vote.AGAINST), ("I vote against", Vote.AGAINST), ("Dafür, danke", Vote.FOR)],
)
def test_an_option_in_reply_to_a_receipt_still_counts(text: str, vote: Vote) -> None:
    reading = _read(text, replying_to="receipt")
    assert reading.kind is Kind.VOTE and reading.vote is vote


@pytest.mark.parametrize("text", ["Yes", "No", "Ja", "Nein", "Sí", "Tak", "Aye", "Oui"])
def test_an_answer_to_an_ask_is_an_option_word_never_a_yes_or_no(text: str) -> None:
    assert _read(text, strict_answer=True).kind is Kind.NEEDS_REVIEW


@pytest.mark.parametrize(
    "text", ["For.\u202e tsniaga \u202c", "\u202dFor\u202c\nAgainst?", "Za \u202eaw\u202c"]
)
def test_reversed_text_goes_to_a_person(text: str) -> None:
    assert _read(text).kind is Kind.NEEDS_REVIEW


@pytest.fixture
def demo(cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert cli("demo", "--dir", "d").code == 0
    monkeypatch.chdir(isolated / "d")
    return isolated / "d"


def _receipts(cli: Any, member: str) -> list[dict[str, Any]]:
    data = json.loads(cli("show", "new-constitution", member, "--json").out)
    return [e for e in data["history"] if e["kind"] == "receipt"]


def test_receipts_follow_the_vote_as_it_stands_through_a_ruling_and_its_undo(
    cli: Any, demo: Path
) -> None:
    member = "jon-lansman"
    assert cli("acknowledge", "new-constitution", "--yes").code == 0
    assert len(_receipts(cli, member)) == 1
    assert cli("rule", "new-constitution", member, "against", "--reason", "letter").code == 0
    assert cli("acknowledge", "new-constitution", "--yes").code == 0
    assert len(_receipts(cli, member)) == 2
    assert cli("rule", "new-constitution", member, "--undo", "--reason", "forged").code == 0
    assert cli("acknowledge", "new-constitution", "--yes").code == 0
    assert len(_receipts(cli, member)) == 3  # FOR again: the member must be told
    again = cli("acknowledge", "new-constitution", "--yes")
    assert "Nothing to send" in again.out


def test_ask_refuses_a_counted_member(cli: Any, demo: Path) -> None:
    run = cli("ask", "new-constitution", "--member", "jon-lansman", "--dry-run")
    assert "counted" in run.out and "to send: 0" in run.out.lower()
