"""End to end: propose through real SMTP, replies APPENDed to real Dovecot, tally --json."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from election import Election, header

MEMBERS = [
    "jon.lansman@momentum.example",
    "marsha-jane.thompson@momentum.example",
    "christine.shawcroft@momentum.example",
    "sam.tarry@momentum.example",
    "jacqueline.walker@momentum.example",
    "martyn.cook@momentum.example",
    "michael.chessum@momentum.example",
    "matt.wrack@momentum.example",
]


def member(result: dict[str, Any], email: str) -> dict[str, Any]:
    return next(m for m in result["members"] if m["email"] == email)


def test_seven_for_carries_and_is_decided(election: Election) -> None:
    for address in MEMBERS[:7]:
        election.reply(address, "For.")
    election.reply(MEMBERS[7], "Against.")
    result = election.tally()
    assert result["counts"] == {
        "for": 7,
        "against": 1,
        "abstain": 0,
        "needs_review": 0,
        "not_voted": 4,
        "late": 0,
    }
    assert result["result"] == "carried" and result["decided"] is True
    assert result["motion"]["status"] == "open" and result["electorate"] == 12
    assert member(result, MEMBERS[0])["evidence"]
    run = election.cli("tally", "new-constitution")
    assert "CARRIED — 7 for, 1 against, 0 abstentions of 12 members" in run.out


def test_tally_is_idempotent_and_reads_new_mail_once(election: Election) -> None:
    election.reply(MEMBERS[0], "Yes")
    first = election.tally()
    again = election.cli("tally", "new-constitution")
    assert "Read 0 new messages" in again.err
    assert election.tally() == first
    election.reply(MEMBERS[1], "Against")
    third = election.cli("tally", "new-constitution")
    assert "Read 1 new message " in third.err
    assert election.tally()["counts"]["against"] == 1


def test_uidvalidity_change_rescans_without_counting_twice(election: Election) -> None:
    election.reply(MEMBERS[0], "For")
    election.reply(MEMBERS[1], "Against")
    before = election.tally()
    election.dovecot.reset_uidvalidity(election.user)
    run = election.cli("tally", "new-constitution")
    assert "full rescan" in run.err and "2 recorded before, skipped" in run.err
    assert election.tally() == before


def test_latest_reply_stands(election: Election) -> None:
    now = datetime.now(UTC) - timedelta(hours=2)
    election.reply(MEMBERS[0], "For", at=now)
    election.reply(MEMBERS[0], "Please change my vote to AGAINST.", at=now + timedelta(hours=1))
    result = election.tally()
    assert member(result, MEMBERS[0])["vote"] == "against"
    assert result["counts"]["for"] == 0 and result["counts"]["against"] == 1


def test_receipt_after_the_deadline_is_late_and_changes_nothing(fresh_election: Election) -> None:
    # Dovecot will not take an INTERNALDATE in the future, so the deadline comes first.
    e = fresh_election
    closes = datetime.now(UTC) + timedelta(seconds=3)
    e.edit_motion("closes: 7d", f"closes: {closes.isoformat()}")
    e.propose()
    e.reply(MEMBERS[0], "For")
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    e.reply(MEMBERS[0], "Against")  # a late change of mind does not replace the vote
    e.reply(MEMBERS[1], "For")
    result = e.tally()
    assert result["motion"]["status"] == "closed"
    assert member(result, MEMBERS[0])["vote"] == "for"
    late = member(result, MEMBERS[1])
    assert late["status"] == "late" and late["vote"] is None
    assert result["counts"]["for"] == 1 and result["counts"]["against"] == 0
    assert result["result"] == "no_quorum"


def test_forwarded_ballot_is_never_the_owner_vote(election: Election) -> None:
    # Member 1 answers with member 0's personal ballot (forwarded to them): the reply is
    # member 1's own, matched by their address; member 0 is untouched.
    election.reply(MEMBERS[0], "For", sender=MEMBERS[1])
    result = election.tally()
    owner = member(result, MEMBERS[0])
    assert owner["status"] == "not_voted" and owner["vote"] is None
    sender = member(result, MEMBERS[1])
    assert sender["vote"] == "for" and sender["how"] == "thread+sender"
    # A stranger answering it is never the owner's vote.
    election.reply(MEMBERS[0], "For", sender="eve@elsewhere.example")
    owner = member(election.tally(), MEMBERS[0])
    assert owner["status"] == "needs_review" and owner["vote"] is None


def test_non_member_and_duplicate_are_ignored_with_reasons(election: Election) -> None:
    subject = "Re: " + header(election.ballots[MEMBERS[0]], "Subject")
    election.reply(MEMBERS[0], "For", sender="eve@elsewhere.example", subject=subject, headers=())
    raw = election.reply(MEMBERS[2], "For")
    election.append(raw)  # the very same message delivered twice
    result = election.tally()
    assert result["counts"]["for"] == 1
    reasons = [i["reason"] for i in result["ignored"]]
    assert any("duplicate" in r for r in reasons)


def test_non_member_without_token_is_ignored(election: Election) -> None:
    from election import reply_to

    ballot = election.ballots[MEMBERS[0]]
    raw = reply_to(ballot, "For", sender="eve@elsewhere.example")
    raw = raw.replace(header(ballot, "Reply-To").encode(), b"votes@steering-group.example.org")
    raw = raw.replace(header(ballot, "Message-ID").encode(), b"<unrelated@x>")
    election.append(raw)
    result = election.tally()
    assert result["counts"]["for"] == 0
    assert any("not a member" in i["reason"] for i in result["ignored"])


def test_rich_markup_and_control_characters_are_shown_literally(election: Election) -> None:
    election.reply(MEMBERS[0], "[bold red]Yes if[/] \x1b[31mclause 9\x1b[0m changes")
    election.tally()
    run = election.cli("review", "new-constitution")
    assert run.code == 0
    assert "[bold red]Yes if[/]" in run.out
    assert "\x1b" not in run.out


def test_oversize_message_is_not_read_but_its_member_is_asked_about(election: Election) -> None:
    (election.root / "steervote.toml").write_text(
        (election.root / "steervote.toml").read_text() + "\n[tally]\nmax_message_bytes = 2048\n"
    )
    election.reply(MEMBERS[0], "For\n" + "padding " * 1000)
    result = election.tally()
    assert result["counts"]["for"] == 0
    assert member(result, MEMBERS[0])["status"] == "needs_review"


def test_malformed_mime_and_unknown_charset_do_not_crash(election: Election) -> None:
    ballot = election.ballots[MEMBERS[0]]
    to, subject = header(ballot, "Reply-To"), header(ballot, "Subject")
    broken = (
        f"From: {MEMBERS[0]}\r\nTo: {to}\r\nSubject: Re: {subject}\r\n"
        "Message-ID: <broken@member.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="nope"\r\n\r\n'
        "--wrong\r\nContent-Type: text/plain; charset=x-unknown-42\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    ).encode()
    election.append(broken)
    latin = (
        f"From: {MEMBERS[1]}\r\nTo: {to}\r\nSubject: Re: {subject}\r\n"
        "Message-ID: <latin@member.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=x-made-up\r\n\r\nAgainst. Gr\xfc\xdfe\r\n"
    ).encode("latin-1")
    election.append(latin)
    result = election.tally()
    assert member(result, MEMBERS[0])["status"] in {"needs_review", "not_voted"}
    assert member(result, MEMBERS[0])["vote"] is None
    assert member(result, MEMBERS[1])["vote"] in {"against", None}


def test_mailbox_is_unchanged_by_a_tally(election: Election) -> None:
    election.reply(MEMBERS[0], "For")
    election.reply(MEMBERS[1], "Against")
    flags, count = election.dovecot.flags(election.user), election.dovecot.count(election.user)
    election.tally()
    assert election.dovecot.flags(election.user) == flags
    assert election.dovecot.count(election.user) == count


def test_offline_reads_no_mail(election: Election) -> None:
    election.reply(MEMBERS[0], "For")
    assert election.tally("--offline")["counts"]["for"] == 0
    assert election.tally()["counts"]["for"] == 1


def test_review_then_rule(election: Election) -> None:
    election.reply(MEMBERS[0], "Yes, provided clause 9 is amended.")
    assert member(election.tally(), MEMBERS[0])["status"] == "needs_review"
    run = election.cli("review", "new-constitution")
    assert "provided clause 9" in run.out
    run = election.cli("rule", "new-constitution", "jon-lansman", "for", "--reason", "phoned")
    assert run.code == 0, run.err
    after = election.tally("--offline")
    assert member(after, MEMBERS[0])["vote"] == "for"
    assert after["counts"]["needs_review"] == 0


def test_csv_neutralises_formulas(election: Election, tmp_path: Path) -> None:
    election.reply(MEMBERS[0], '=HYPERLINK("http://x") For')
    run = election.cli("tally", "new-constitution", "--csv", str(tmp_path / "out.csv"))
    assert run.code == 0
    text = (tmp_path / "out.csv").read_text()
    assert "\n=" not in text and ",=" not in text


def test_spoofed_from_without_token_under_require_token_goes_to_review(
    fresh_election: Election,
) -> None:
    e = fresh_election
    e.edit_motion("require_token: false", "require_token: true")
    e.propose()
    from election import reply_to

    # A forger knows the member's address and the subject, but not the personal token.
    ballot = e.ballots[MEMBERS[0]]
    raw = reply_to(ballot, "For", sender=MEMBERS[0])
    raw = raw.replace(header(ballot, "Reply-To").encode(), b"votes@steering-group.example.org")
    raw = raw.replace(header(ballot, "Message-ID").encode(), b"<unrelated@x>")
    e.append(raw)
    e.reply(MEMBERS[1], "For")  # the real thing, with the token
    result = e.tally()
    spoofed = member(result, MEMBERS[0])
    assert spoofed["status"] == "needs_review" and spoofed["vote"] is None
    assert member(result, MEMBERS[1])["vote"] == "for"
    assert result["counts"]["for"] == 1


def test_json_shape_is_the_documented_contract(election: Election) -> None:
    # Schema 2 keeps every key of the first shape and adds; tests/test_export_schema.py
    # pins what the added keys hold.
    election.reply(MEMBERS[0], "For")
    result = election.tally()
    assert result["schema"] == 2
    assert set(result) == {
        *("motion", "electorate", "counts", "result", "decided", "members", "ignored"),
        *("schema", "result_text", "quorum_met", "casting_vote", "ballots", "withdrawn"),
    }
    assert set(result["motion"]) == {"id", "title", "threshold", "quorum", "closes", "status"}
    assert set(result["counts"]) == {
        *("for", "against", "abstain", "needs_review", "not_voted", "late")
    }
    assert set(result["members"][0]) == {
        *("id", "name", "email", "status", "vote", "received_at", "evidence", "message_id"),
        *("how", "reason", "strength"),
        *("replies", "late_replies", "ruling", "superseded"),
    }
    datetime.fromisoformat(result["motion"]["closes"])
    datetime.fromisoformat(member(result, MEMBERS[0])["received_at"])
    everything = election.cli("tally", "--json", "--offline")
    assert everything.code == 0 and isinstance(everything.json(), list)
