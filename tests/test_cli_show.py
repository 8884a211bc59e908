"""`steervote show MOTION MEMBER`: a member's whole history, through the CLI, on each store.

The example motion is proposed through the test SMTP server and replies are APPENDed to
Dovecot (tests/election.py), so every message shown was really received and recorded.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from election import Election, Run, header

MOTION = "new-constitution"
SAM = "sam.tarry@momentum.example"
SAM_ALIAS = "sam@tarry.example"


def show(election: Election, *args: str) -> Run:
    election.tally()  # read the mail first: show itself reads none
    return election.cli("show", MOTION, *args)


def test_help_explains_member_and_gives_examples(cli: Any) -> None:
    run = cli("show", "--help")
    assert run.code == 0
    assert "an address or alias" in run.out and "whole name" in run.out
    assert "Examples:" in run.out
    assert "\n    steervote show new-constitution sam-tarry\n" in run.out


def test_member_by_id_address_alias_and_name(election: Election) -> None:
    election.reply(SAM, "Against.", sender=SAM_ALIAS)
    for who in ("sam-tarry", "SAM.Tarry@Momentum.example", SAM_ALIAS, "  sam   TARRY "):
        run = show(election, who)
        assert run.code == 0, (who, run.err)
        assert run.out.startswith("Sam Tarry (sam-tarry) — new-constitution:"), who
        assert f"from: {SAM_ALIAS}" in run.out
    # A name with different case and accents: "Professor Cecile Wright" in the file.
    run = show(election, "professor CÉCILE wright")
    assert run.code == 0, run.err
    assert "(cecile-wright)" in run.out and "now: not voted" in run.out


def test_near_miss_unknown_and_observer_exit_2(election: Election) -> None:
    run = show(election, "jon-lansmen")
    assert run.code == 2 and run.out == ""
    assert "did you mean jon-lansman (Jon Lansman)?" in run.err
    run = show(election, "Cécile Wright")  # not the whole name
    assert run.code == 2 and "did you mean cecile-wright (Professor Cecile Wright)?" in run.err
    run = show(election, "Sam")
    assert run.code == 2
    assert "sam-tarry (Sam Tarry) or sam-wheeler (Sam Wheeler)" in run.err
    run = show(election, "nobody@nowhere.example")
    assert run.code == 2 and "no member 'nobody@nowhere.example'" in run.err
    run = show(election, "emma.rees@momentum.example")
    assert run.code == 2 and "is an observer of new-constitution" in run.err
    run = election.cli("show", "no-such-motion", "sam-tarry")
    assert run.code == 2
    assert run.err.strip() == (
        "error: no motion 'no-such-motion' in the store; recorded: new-constitution"
    )


def test_a_name_two_members_share_lists_their_ids(election: Election) -> None:
    committees = election.root / "motions" / "committees"
    (committees / "twins.yaml").write_text(
        "name: Twins\ntimezone: Europe/London\nmembers:\n"
        "  - {name: Alex Smith, email: alex@leeds.example, id: alex-smith-leeds}\n"
        "  - {name: Alex Smith, email: alex@york.example, id: alex-smith-york}\n"
        "  - {name: Ruth Jones, email: ruth@york.example}\n",
        encoding="utf-8",
    )
    (election.root / "motions" / "twins.yaml").write_text(
        "id: twins\ntitle: Twins\ncommittee: twins\ntext: That we meet.\n"
        "proposer: ruth-jones\nthreshold: majority-of-votes-cast\nquorum: 2\ncloses: 7d\n",
        encoding="utf-8",
    )
    election.propose("motions/twins.yaml")
    run = election.cli("show", "twins", "alex smith")
    assert run.code == 2
    assert "names several members of twins: alex-smith-leeds, alex-smith-york" in run.err
    assert election.cli("show", "twins", "alex@york.example").code == 0


def test_several_replies_and_a_ruling_in_time_order(election: Election) -> None:
    time.sleep(1.1)  # receipt times are whole seconds: after the ballot, and apart
    election.reply(SAM, "For.")
    time.sleep(1.1)
    election.reply(SAM, "Against.")
    before = show(election, "sam-tarry")
    assert before.code == 0, before.err
    assert "now: counted AGAINST (message 2)" in before.out
    run = election.cli(
        "rule", MOTION, "sam-tarry", "for", "--reason", "confirmed by phone", "--by", "sec"
    )
    assert run.code == 0, run.err
    out = show(election, "sam-tarry").out
    assert "now: counted FOR (ruling 1) — ruled by sec: confirmed by phone" in out
    order = [
        "ballot sent to sam.tarry@momentum.example",
        "message 1 received (time from IMAP INTERNALDATE)",
        "read: FOR — reads as for",
        "message 2 received",
        "read: AGAINST — reads as against",
        "ruling 1: FOR, by sec",
        "▶ stands now: counted FOR",
        "voting closes",
        "--raw N",
    ]
    positions = [out.index(s) for s in order]
    assert positions == sorted(positions), out
    assert out.count("▶ stands now") == 1
    assert "matched: by token (how token, strength token+sender)" in out
    # The ballot's Message-ID (it holds the token) is shown once, on the ballot.
    ballot_id = " ".join(str(election.ballots[SAM]["Message-ID"]).split())
    assert out.count(ballot_id) == 1


def test_raw_prints_the_message_escaped(election: Election) -> None:
    hostile = "\x1b[31mAgainst\u202e. \x1b]0;owned\x07"
    ballot = election.ballots[SAM]
    msg = EmailMessage()
    msg["From"] = SAM
    msg["To"] = header(ballot, "Reply-To")
    msg["Subject"] = "Re: " + header(ballot, "Subject")
    msg["Message-ID"] = make_msgid(domain="member.example")
    msg["In-Reply-To"] = header(ballot, "Message-ID")
    msg.set_content(hostile + "\n", cte="8bit")
    raw = msg.as_bytes().replace(b"\n", b"\r\n")
    assert b"\x1b[31m" in raw and "\u202e".encode() in raw  # in the bytes as received
    election.append(raw)
    run = show(election, "sam-tarry", "--raw", "1")
    assert run.code == 0, run.err
    assert "\x1b" not in run.out and "\u202e" not in run.out and "\x07" not in run.out
    assert "\\x1b[31mAgainst\\u202e. \\x1b]0;owned\\x07" in run.out
    assert "In-Reply-To:" in run.out and "\r" not in run.out  # CRLF shown as newlines
    assert "Message 1 of 1 from sam-tarry" in run.err and "SHA-256" in run.err
    # The history shows their words escaped too.
    run = show(election, "sam-tarry")
    assert run.code == 0 and "\x1b" not in run.out and "\u202e" not in run.out
    assert "\ufffd[31mAgainst" in run.out


def test_raw_out_of_range_and_not_kept(election: Election, database_url: str) -> None:
    election.reply(SAM, "For.")
    run = show(election, "sam-tarry", "--raw", "9")
    assert run.code == 2 and run.out == ""
    assert "--raw 9: 1 message received from sam-tarry on new-constitution" in run.err
    assert "give N from 1 to 1" in run.err
    run = show(election, "jon-lansman", "--raw", "1")
    assert run.code == 2 and "no message received from jon-lansman" in run.err
    assert show(election, "sam-tarry", "--raw", "1", "--json").code == 2
    engine = create_engine(database_url)
    with engine.begin() as c:
        c.execute(text("DELETE FROM message_raw"))
    engine.dispose()
    run = show(election, "sam-tarry", "--raw", "1")
    assert run.code == 1 and "was not kept as received" in run.err


def test_json_shape(election: Election) -> None:
    election.reply(SAM, "For.")
    run = election.cli("rule", MOTION, "sam-tarry", "against", "--reason", "said so at the meeting")
    assert run.code == 0, run.err
    data = show(election, "sam@tarry.example", "--json").json()
    assert list(data) == ["schema", "motion", "member", "standing", "history"]
    assert data["schema"] == 1
    assert list(data["motion"]) == ["id", "title", "closes"]
    assert data["member"] == {
        "id": "sam-tarry",
        "name": "Sam Tarry",
        "email": SAM,
        "aliases": [SAM_ALIAS],
        "role": None,
    }
    assert data["standing"] == {
        "status": "counted",
        "vote": "against",
        "how": "ruling",
        "strength": "ruling",
        "reason": data["standing"]["reason"],
        "on": "ruling 1",
    }
    assert [e["kind"] for e in data["history"]] == ["ballot", "message", "ruling", "closes"]
    ballot, message, ruling, closes = data["history"]
    assert list(ballot) == ["kind", "at", "to", "status", "message_id", "detail", "about"]
    assert list(message) == [
        *("kind", "number", "at", "time_from", "time_proven", "late", "from", "subject"),
        *("message_id", "dated", "motion", "how", "strength", "reading", "vote", "reason"),
        *("evidence", "own_text", "sha256", "size", "kept", "stands"),
    ]
    assert list(ruling) == [
        *("kind", "number", "at", "casting", "vote", "reason", "by", "undone", "stands")
    ]
    assert list(closes) == ["kind", "at"]
    assert message["number"] == 1 and message["vote"] == "for" and message["reading"] == "vote"
    assert message["time_from"] == "internaldate" and message["time_proven"] is True
    assert message["late"] is False and message["kept"] is True and message["stands"] is False
    assert ruling["vote"] == "against" and ruling["stands"] is True
    assert datetime.fromisoformat(message["at"]).tzinfo is not None


def test_a_late_reply_is_shown_late(fresh_election: Election) -> None:
    # Dovecot will not take an INTERNALDATE in the future, so the deadline comes first.
    e = fresh_election
    closes = datetime.now(UTC) + timedelta(seconds=3)
    e.edit_motion("closes: 7d", f"closes: {closes.isoformat()}")
    e.propose()
    time.sleep(1.1)
    e.reply(SAM, "For.")
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    e.reply(SAM, "Against.")
    e.reply("jon.lansman@momentum.example", "For.")
    run = show(e, "sam-tarry")
    assert run.code == 0, run.err
    out = run.out
    assert "now: counted FOR (message 1)" in out
    late = out.index("message 2 received (time from IMAP INTERNALDATE)  LATE: after the deadline")
    assert out.index("voting closes") < late
    assert out.count("LATE") == 1
    run = show(e, "jon-lansman")
    assert "now: late: not counted (message 1) — received after the deadline" in run.out
    assert "▶ the latest reply, after the deadline: late: not counted" in run.out
    data = e.cli("show", MOTION, "jon-lansman", "--json").json()
    assert data["standing"]["status"] == "late"
    assert [x["late"] for x in data["history"] if x["kind"] == "message"] == [True]


def test_show_creates_no_database(cli: Any, tmp_path: Path) -> None:
    run = cli("show", MOTION, "sam-tarry")
    assert run.code == 2
    assert "error: no store here (looked for ./steervote.db;" in run.err
    assert not (tmp_path / "steervote.db").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [("--raw", "x"), ("--json", "--raw", "1")])
def test_bad_options_exit_2(cli: Any, args: tuple[str, ...]) -> None:
    assert cli("show", MOTION, "sam-tarry", *args).code == 2
