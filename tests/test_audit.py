"""`audit` writes a folder a third party can check; `verify` re-reads it without the
database and either confirms the result or lists each difference (issue 11, items 4
and 5). Through the CLI, on SQLite and PostgreSQL, with mail through real Dovecot."""

from __future__ import annotations

import hashlib
import json
import mailbox
import random
import shutil
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from election import Election, reply_to
from propose_kit import big_motion, member_address, toml_config

VERIFIED = "verified: the result in this folder follows from its messages and rulings"


@pytest.fixture
def audited(election: Election) -> tuple[Election, Path]:
    """A motion with votes, a change of mind, a reply for review, a ruling and a stranger's
    mail, tallied and audited."""
    election.reply("jon.lansman@momentum.example", "FOR")
    election.reply("marsha-jane.thompson@momentum.example", "Against.")
    earlier = datetime.now(UTC) - timedelta(hours=1)
    election.reply("christine.shawcroft@momentum.example", "For", at=earlier)
    election.reply("christine.shawcroft@momentum.example", "AGAINST")
    election.reply("sam.tarry@momentum.example", "Yes if the budget is agreed first")
    election.reply("matt.wrack@momentum.example", "abstain")
    election.append(
        b"From: stranger@elsewhere.example\r\nTo: votes@steering-group.example.org\r\n"
        b"Subject: hello\r\nMessage-ID: <s1@elsewhere.example>\r\n\r\nBuy now.\r\n"
    )
    election.tally()
    ruled = election.cli(
        "rule", "new-constitution", "sam-tarry", "for", "--reason", "confirmed by phone"
    )
    assert ruled.code == 0, ruled.err
    out = election.root / "audit-folder"
    run = election.cli("audit", "new-constitution", "--out", str(out))
    assert run.code == 0, run.err
    assert "steervote verify" in run.out
    return election, out


def test_audit_then_verify_confirms_the_result(audited: tuple[Election, Path]) -> None:
    election, out = audited
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "MANIFEST",
            "MANIFEST.sha256",
            "README.txt",
            "audit.json",
            "ballots.json",
            "electorate.json",
            "messages",
            "messages.json",
            "motion.yaml",
            "notices.json",
            "others.json",
            "result.json",
            "result.txt",
            "rulings.json",
        ]
    )
    emls = list((out / "messages").iterdir())
    assert len(emls) == 6  # the stranger's mail is only hashed
    for eml in emls:  # each named by its own SHA-256
        assert hashlib.sha256(eml.read_bytes()).hexdigest() == eml.stem
    others = json.loads((out / "others.json").read_text(encoding="utf-8"))
    assert [o["sender"] for o in others] == ["stranger@elsewhere.example"]
    rulings = json.loads((out / "rulings.json").read_text(encoding="utf-8"))
    assert [(r["member"], r["vote"]) for r in rulings] == [("sam-tarry", "for")]
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["counts"]["for"] == 2 and result["counts"]["against"] == 2

    run = election.cli("verify", str(out))
    assert run.code == 0, run.out
    assert VERIFIED in " ".join(run.out.split())


def test_the_manifest_checks_with_sha256sum_alone(audited: tuple[Election, Path]) -> None:
    _, out = audited
    lines = (out / "MANIFEST").read_text(encoding="utf-8").splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert "MANIFEST" not in listed and len(listed) == len(lines)
    stated = (out / "MANIFEST.sha256").read_text(encoding="utf-8").split()
    assert stated == [hashlib.sha256((out / "MANIFEST").read_bytes()).hexdigest(), "MANIFEST"]


def test_no_ballot_token_is_in_the_folder_but_in_the_replies(
    audited: tuple[Election, Path],
) -> None:
    election, out = audited
    replied = {"jon.lansman", "marsha-jane.thompson", "christine.shawcroft", "sam.tarry"}
    replied |= {"matt.wrack"}
    silent_tokens = []
    for address, ballot in election.ballots.items():
        token = str(ballot["Reply-To"]).split("+", 1)[1].split("@", 1)[0]
        if address.split("@")[0] not in replied:
            silent_tokens.append(token)
    assert len(silent_tokens) == 7
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            for token in silent_tokens:
                assert token.lower().encode() not in data, path.name
    ballots = json.loads((out / "ballots.json").read_text(encoding="utf-8"))
    assert all("[token]" in b["message_id"] for b in ballots if b["voting"])
    assert all(len(b["token_sha256"]) == 64 for b in ballots if b["voting"])


def _differences(election: Election, out: Path) -> list[str]:
    run = election.cli("verify", str(out))
    assert run.code == 1, run.out
    text = run.out
    assert "not verified" in text
    return [" ".join(line.split()) for line in text.split("difference: ")[1:]]


def _eml_of(out: Path, member: str) -> Path:
    entries = json.loads((out / "messages.json").read_text(encoding="utf-8"))
    [entry] = [e for e in entries if e["member"] == member]
    return out / entry["file"]


def test_a_changed_byte_is_reported(audited: tuple[Election, Path]) -> None:
    election, out = audited
    eml = _eml_of(out, "jon-lansman")
    data = eml.read_bytes()
    eml.write_bytes(data.replace(b"FOR", b"FOX", 1))
    found = _differences(election, out)
    assert any(eml.name in d and "changed" in d for d in found), found


def test_a_changed_vote_with_a_forged_manifest_is_reported(
    audited: tuple[Election, Path],
) -> None:
    """Rewriting a reply, and the manifest to match, cannot pass: the reply is read again."""
    election, out = audited
    eml = _eml_of(out, "jon-lansman")
    eml.write_bytes(eml.read_bytes().replace(b"FOR", b"AGAINST", 1))
    _rewrite_manifest(out)
    found = _differences(election, out)
    assert any("jon-lansman" in d and "read again as vote (AGAINST)" in d for d in found), found
    assert any("counts" in d for d in found), found


def test_a_deleted_message_is_reported(audited: tuple[Election, Path]) -> None:
    election, out = audited
    eml = _eml_of(out, "marsha-jane-thompson")
    eml.unlink()
    found = _differences(election, out)
    assert any(eml.name in d and "missing" in d for d in found), found
    assert any("marsha-jane-thompson" in d and "status" in d for d in found), found


def test_an_added_message_is_reported(audited: tuple[Election, Path]) -> None:
    election, out = audited
    extra = election.ballots["cecile.wright@momentum.example"]
    raw = reply_to(extra, "FOR", sender="cecile.wright@momentum.example")
    (out / "messages" / f"{hashlib.sha256(raw).hexdigest()}.eml").write_bytes(raw)
    found = _differences(election, out)
    assert any("added (not in the MANIFEST)" in d for d in found), found


def test_an_edited_result_is_reported_even_with_a_new_manifest(
    audited: tuple[Election, Path],
) -> None:
    election, out = audited
    path = out / "result.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    result["result"] = "carried"
    result["counts"]["for"] = 9
    path.write_text(json.dumps(result), encoding="utf-8")
    (out / "result.txt").write_text("CARRIED — 9 for\n", encoding="utf-8")
    found = _differences(election, out)
    assert any("result.json: changed" in d for d in found), found
    _rewrite_manifest(out)
    found = _differences(election, out)
    assert any("result.json says result 'carried'" in d for d in found), found
    assert any("result.txt says" in d for d in found), found


def test_an_edited_ruling_is_reported(audited: tuple[Election, Path]) -> None:
    election, out = audited
    path = out / "rulings.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"for"', '"against"'), "utf-8")
    _rewrite_manifest(out)
    found = _differences(election, out)
    assert any("sam-tarry" in d and "vote" in d for d in found), found


def test_an_edited_motion_is_reported(audited: tuple[Election, Path]) -> None:
    election, out = audited
    path = out / "motion.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("quorum: 7", "quorum: 3"), "utf-8")
    _rewrite_manifest(out)
    found = _differences(election, out)
    assert any("the motion was changed" in d for d in found), found


def test_a_symlink_in_the_folder_is_not_followed(audited: tuple[Election, Path]) -> None:
    election, out = audited
    (out / "messages" / "link.eml").symlink_to("/etc/passwd")
    found = _differences(election, out)
    assert any("link.eml: not a plain file" in d for d in found), found


def _rewrite_manifest(out: Path) -> None:
    """What a forger would do: a manifest (and its sum) that match the changed files."""
    names = sorted(
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and p.name not in ("MANIFEST", "MANIFEST.sha256")
    )
    text = "".join(f"{hashlib.sha256((out / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    (out / "MANIFEST").write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    (out / "MANIFEST.sha256").write_text(f"{digest}  MANIFEST\n", encoding="utf-8")


def test_audit_refuses_a_folder_in_use_and_an_unknown_motion(
    audited: tuple[Election, Path],
) -> None:
    election, out = audited
    again = election.cli("audit", "new-constitution", "--out", str(out))
    assert again.code == 2 and "not empty" in again.err
    unknown = election.cli("audit", "no-such-motion", "--out", str(out.parent / "x"))
    assert unknown.code == 2 and "no-such-motion" in unknown.err
    assert not (out.parent / "x").exists()
    missing_parent = election.cli("audit", "new-constitution", "--out", "nowhere/deeper/x")
    assert missing_parent.code == 2 and "nowhere" in missing_parent.err


def test_audit_with_no_database_creates_none(cli: Any, isolated: Path) -> None:
    run = cli("audit", "new-constitution", "--out", "folder")
    assert run.code == 2 and "no store here (looked for ./steervote.db;" in run.err
    assert list(isolated.iterdir()) == []


def test_verify_of_something_else(cli: Any, isolated: Path) -> None:
    (isolated / "file").write_text("x", encoding="utf-8")
    assert cli("verify", "file").code == 2
    (isolated / "empty").mkdir()
    run = cli("verify", "empty")
    assert run.code == 2 and "not an audit folder" in run.err


def test_a_2000_member_ballot_audits_and_verifies(
    cli: Any, isolated: Path, database_url: str
) -> None:
    """Propose to 2,000 members through the local outbox, 1,900 replies of several kinds,
    tally, a ruling, audit, verify."""
    motion = big_motion(isolated / "motions", 2000)
    toml_config(isolated, database_url=database_url)
    assert cli("propose", str(motion), "--yes").code == 0
    outbox = mailbox.Maildir(isolated / "mail" / "outbox", create=False)
    inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
    chance = random.Random(11)
    words = ["FOR", "Against", "abstain", "yes please", "For, if the budget passes", "AGAINST."]
    for key in sorted(outbox.keys()):
        ballot = message_from_bytes(outbox.get_bytes(key))
        to = str(ballot["To"])
        address = to[to.index("<") + 1 : to.index(">")] if "<" in to else to
        if chance.random() < 0.05:
            continue
        inbox.add(reply_to(ballot, chance.choice(words), sender=address))
    tallied = cli("tally", "big-vote", "--json")
    assert tallied.code == 0, tallied.err
    counted = json.loads(tallied.out)["counts"]
    assert counted["for"] + counted["against"] + counted["abstain"] > 1000
    assert cli("rule", "big-vote", "m00002", "against", "--reason", "by letter").code == 0
    assert cli("audit", "big-vote", "--out", "big-audit").code == 0
    assert len(list((isolated / "big-audit" / "messages").iterdir())) > 1800
    run = cli("verify", "big-audit")
    assert run.code == 0, run.out[-3000:]
    assert VERIFIED in " ".join(run.out.split())
    shutil.rmtree(isolated / "big-audit")
    assert member_address(1) == "m00001@members.example"


def test_the_demo_with_its_ask_and_answer_audits_and_verifies(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo asks its unclear member for one word and counts the answer: the audit
    carries the ask (its token only hashed), and verify reads the answer as the tally did
    (matched through the hashed token of the ask, read by the strict rule)."""
    assert cli("demo", "--dir", "d").code == 0
    monkeypatch.chdir(isolated / "d")
    assert cli("audit", "new-constitution", "--out", "folder").code == 0
    notices = json.loads((isolated / "d" / "folder" / "notices.json").read_text("utf-8"))
    [asked] = [n for n in notices if n["kind"] == "ask"]
    assert asked["message_id"].startswith("<ask.new-constitution.[token]@")
    entries = json.loads((isolated / "d" / "folder" / "messages.json").read_text("utf-8"))
    answers = [e for e in entries if e["member"] == asked["recipient"]]
    assert [e["disposition"] for e in answers] == ["needs_review", "vote"]
    run = cli("verify", "folder")
    assert run.code == 0, run.out
    assert VERIFIED in " ".join(run.out.split())
