"""`tally --json` schema 2, pinned: every line explained, on a motion that has it all.

Through the CLI against real SMTP and Dovecot, on SQLite and PostgreSQL: a counted vote,
a reply replaced by a later one, a review, a late reply, a ruling that replaced a reply,
and a 2-2 tie under `casting_vote: chair` broken by the chair's second casting ruling.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from election import Election, make_election
from servers import DovecotServer, SmtpServer

CHAIR = "jon.lansman@momentum.example"
FOR = "marsha-jane.thompson@momentum.example"
RULED = "christine.shawcroft@momentum.example"
AGAINST = "sam.tarry@momentum.example"
REVIEW = "jacqueline.walker@momentum.example"
LATE = "martyn.cook@momentum.example"

MOTION_KEYS = {
    *("schema", "motion", "electorate", "counts", "result", "result_text", "decided"),
    *("quorum_met", "casting_vote", "ballots", "members", "ignored", "withdrawn"),
}
MEMBER_KEYS = {
    *("id", "name", "email", "status", "vote", "received_at", "evidence", "message_id"),
    *("how", "reason", "strength", "replies", "late_replies", "ruling", "superseded"),
}
RULING_KEYS = {"vote", "reason", "by", "at", "replaces"}
REPLY_STEP_KEYS = {
    *("kind", "at", "vote", "reading", "evidence", "reason", "how", "strength"),
    "message_id",
}
RULING_STEP_KEYS = {"kind", "at", "vote", "by", "reason"}


@pytest.fixture
def closed(
    tmp_path: Path,
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
    imap_user: str,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Election, datetime, dict[str, Any]]:
    """The motion under majority-of-votes-cast, quorum 4 and a casting vote, closed, with
    its replies and rulings recorded: (election, closes, tally --json)."""
    e = make_election(tmp_path, smtp_server, dovecot, imap_user, database_url, capsys, monkeypatch)
    # Dovecot takes no INTERNALDATE in the future, so the deadline comes first.
    closes = datetime.now(UTC) + timedelta(seconds=5)
    e.edit_motion("threshold: majority-of-members", "threshold: majority-of-votes-cast")
    e.edit_motion("quorum: 7 ", "quorum: 4 ")
    e.edit_motion("casting_vote: none", "casting_vote: chair")
    e.edit_motion("closes: 7d", f"closes: {closes.isoformat()}")
    e.propose()
    t0 = datetime.now(UTC) - timedelta(hours=2)
    e.reply(CHAIR, "Against.", at=t0)
    e.reply(CHAIR, "Please change my vote to FOR.", at=t0 + timedelta(hours=1))
    e.reply(FOR, "For.", at=t0)
    e.reply(RULED, "Yes, provided clause 9 is amended.", at=t0)
    e.reply(AGAINST, "Against.", at=t0)
    e.reply(REVIEW, "Yes if clause 9 changes.", at=t0)
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    e.reply(LATE, "For.")
    assert e.tally()["counts"]["needs_review"] == 2
    for args in (
        ("christine-shawcroft", "against", "--reason", "phoned: against unless amended"),
        ("casting", "against", "--reason", "first thoughts"),
        ("casting", "for", "--reason", "the chair's casting vote"),
    ):
        run = e.cli("rule", "new-constitution", *args, "--by", "secretary", "--yes")
        assert run.code == 0, run.err
    return e, closes, e.tally("--offline")


def member(result: dict[str, Any], email: str) -> dict[str, Any]:
    return next(m for m in result["members"] if m["email"] == email)


def utc(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    assert t.utcoffset() == timedelta(0), text
    return t


def test_motion_level_keys(closed: tuple[Election, datetime, dict[str, Any]]) -> None:
    e, closes, result = closed
    assert set(result) == MOTION_KEYS and result["schema"] == 2
    assert result["motion"]["closes"] == closes.replace(microsecond=0).isoformat()
    assert result["counts"] == {
        "for": 2,
        "against": 2,
        "abstain": 0,
        "needs_review": 1,
        "not_voted": 6,
        "late": 1,
    }
    assert result["result"] == "carried" and result["decided"] is True
    assert result["quorum_met"] is True
    assert result["ballots"] == {
        "sent": 12,
        "failed": 0,
        "unconfirmed": 0,
        "pending": 0,
        "copies": 2,
    }
    casting = result["casting_vote"]
    assert set(casting) == RULING_KEYS
    assert casting["vote"] == "for" and casting["by"] == "secretary"
    assert casting["reason"] == "the chair's casting vote"
    utc(casting["at"])
    earlier = casting["replaces"]
    assert set(earlier) == RULING_STEP_KEYS
    assert earlier["kind"] == "ruling" and earlier["vote"] == "against"
    assert earlier["reason"] == "first thoughts"
    # result_text is the very sentence the terminal prints, and names the casting vote.
    text = result["result_text"]
    assert text.startswith("CARRIED on the chair's casting vote — 2 for, 2 against")
    assert text in e.cli("tally", "new-constitution", "--offline").out


def test_member_level_keys(closed: tuple[Election, datetime, dict[str, Any]]) -> None:
    _, _, result = closed
    for m in result["members"]:
        assert set(m) == MEMBER_KEYS
        if m["status"] != "not_voted":
            assert m["reason"], m  # every counted, review, late or ruled line says why

    plain = member(result, FOR)
    assert (plain["status"], plain["vote"], plain["how"]) == ("counted", "for", "token")
    assert plain["strength"] == "token+sender" and plain["reason"] == "reads as for"
    assert (plain["replies"], plain["ruling"], plain["superseded"]) == (1, None, [])

    changed = member(result, CHAIR)
    assert changed["vote"] == "for" and changed["replies"] == 2 and changed["ruling"] is None
    assert changed["reason"] == "reads as for; latest of several replies"
    [was] = changed["superseded"]
    assert set(was) == REPLY_STEP_KEYS | {"replaced_by", "why"}
    assert (was["kind"], was["vote"], was["reading"]) == ("reply", "against", "vote")
    assert was["evidence"] == "Against." and was["how"] == "token"
    assert was["replaced_by"]["kind"] == "reply" and was["replaced_by"]["vote"] == "for"
    assert utc(was["at"]) < utc(was["replaced_by"]["at"]) and was["why"]

    ruled = member(result, RULED)
    assert (ruled["status"], ruled["vote"], ruled["how"]) == ("counted", "against", "ruling")
    assert ruled["reason"] == "ruled by secretary: phoned: against unless amended"
    ruling = ruled["ruling"]
    assert set(ruling) == RULING_KEYS
    assert (ruling["vote"], ruling["by"]) == ("against", "secretary")
    replaced = ruling["replaces"]
    assert set(replaced) == REPLY_STEP_KEYS
    assert (replaced["kind"], replaced["reading"], replaced["vote"]) == (
        "reply",
        "needs_review",
        None,
    )
    assert replaced["reason"].startswith("conditional")
    [was] = ruled["superseded"]
    assert was["kind"] == "reply" and was["replaced_by"]["kind"] == "ruling"
    assert was["why"] == "ruled by secretary: phoned: against unless amended"

    review = member(result, REVIEW)
    assert review["status"] == "needs_review" and review["vote"] is None
    assert review["reason"].startswith("conditional") and review["ruling"] is None

    late = member(result, LATE)
    assert (late["status"], late["vote"], late["replies"]) == ("late", None, 1)
    assert late["reason"] == "received after the deadline; not counted"

    silent = member(result, "matt.wrack@momentum.example")
    assert (silent["status"], silent["how"], silent["replies"]) == ("not_voted", None, 0)
    assert silent["ruling"] is None and silent["superseded"] == []


def test_every_motion_without_an_id_is_a_list_of_schema_2_objects(
    closed: tuple[Election, datetime, dict[str, Any]],
) -> None:
    e, _, result = closed
    run = e.cli("tally", "--json", "--offline")
    assert run.code == 0, run.err
    assert run.json() == [result]
