"""Issue 13: the rough edges a blind tester found after the first round, each as a kind.

- Usage lines name arguments the POSIX way (`MOTION`, `[MEMBER]`), never `{MOTION}`.
- An argument given as '' is refused (exit 2), never taken as left out: `tally ''` must
  not read the mailbox for every motion.
- `tally --forget-source` of a source never read, or with other options, is refused.
- `verify` of a folder that is no audit folder is a usage error (2), not "not verified".
- Every command naming a motion offers "did you mean" for a near miss.
- A long motion id is never broken: the tally's heading puts it on a line of its own.
- The demo's story ends when it is run: nothing it records is in the future.
- Hints name steervote as it can be run again (`python -m steervote …` when it was run so).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from propose_kit import MOTION_ID, copy_example, edit, toml_config
from steervote.cli import app

LONG_ID = "adopt-the-revised-standing-orders-and-constitution-of-the-2027"  # 62 characters


def _proposed(cli: Any, isolated: Path, database_url: str, motion_id: str = MOTION_ID) -> None:
    motion = copy_example(isolated)
    if motion_id != MOTION_ID:
        edit(motion, f"id: {MOTION_ID}", f"id: {motion_id}")
    toml_config(isolated, database_url=database_url)
    run = cli("propose", str(motion), "--yes")
    assert run.code == 0, run.err


def test_usage_lines_name_arguments_plainly(cli: Any) -> None:
    import typer.main

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert len(commands) > 15
    for name in commands:
        run = cli(name, "-h")
        assert run.code == 0, (name, run.err)
        usage = run.out.splitlines()[0]
        assert usage.startswith("Usage: ") and "{" not in usage, usage
        assert "<str>" not in run.out and "<path>" not in run.out, name
    rule = cli("rule", "-h").out
    assert rule.splitlines()[0].endswith(" rule [OPTIONS] MOTION [MEMBER] [VOTE]")
    assert "VOTE <for|against|abstain|none>" in rule  # a choice keeps its choices


@pytest.mark.parametrize(
    "args",
    [
        ("tally", ""),
        ("tally", "   "),
        ("status", ""),
        ("show", "", "jon-lansman"),
        ("show", MOTION_ID, ""),
        ("rule", MOTION_ID, "", "for"),
        ("withdraw", "", "--reason", "x"),
        ("members", ""),
        ("audit", "", "--out", "a"),
        ("verify", ""),
    ],
)
def test_an_empty_argument_is_refused_and_nothing_is_read(
    cli: Any, isolated: Path, args: tuple[str, ...]
) -> None:
    copy_example(isolated)
    toml_config(isolated)
    before = sorted(isolated.rglob("*"))
    run = cli(*args)
    assert run.code == 2
    if args[0] != "status":  # status takes no argument: '' is one too many
        assert "is empty" in run.err, run.err
    assert sorted(isolated.rglob("*")) == before  # no inbox made, no store


def test_forgetting_a_source_never_read_is_refused(
    cli: Any, isolated: Path, database_url: str
) -> None:
    _proposed(cli, isolated, database_url)
    assert "none yet" in cli("tally", "--forget-source", "maildir:mail/inbox").err
    new = isolated / "mail" / "inbox" / "new"
    new.mkdir(parents=True)
    (new / "1.M1P1.here").write_bytes(b"From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n")
    assert cli("tally", MOTION_ID).code == 0
    never = cli("tally", "--forget-source", "maildir:mail/outbox")
    assert never.code == 2
    assert "was never read, so there is nothing to forget" in never.err
    assert f"Sources read: maildir:{isolated / 'mail' / 'inbox'}" in never.err
    typo = cli("tally", "--forget-source", "mbox:replies.mbox")
    assert typo.code == 2 and "never read" in typo.err


@pytest.mark.parametrize(
    "extra",
    [("new-constitution",), ("--json",), ("--offline",), ("--rescan",), ("--csv", "x.csv")],
)
def test_forget_source_is_a_job_of_its_own(
    cli: Any, isolated: Path, database_url: str, extra: tuple[str, ...]
) -> None:
    _proposed(cli, isolated, database_url)
    assert cli("tally", MOTION_ID, "--source", "maildir:mail/outbox").code == 0
    run = cli("tally", "--forget-source", "maildir:mail/outbox", *extra)
    assert run.code == 2 and "--forget-source is a job of its own" in run.err
    assert not (isolated / "x.csv").exists()
    # Nothing was forgotten: the outbox's 14 messages are still on record.
    result = json.loads(cli("tally", MOTION_ID, "--offline", "--json").out)
    assert len(result["ignored"]) == 14


def test_verify_of_a_folder_that_is_no_audit_folder_is_a_usage_error(
    cli: Any, isolated: Path, database_url: str
) -> None:
    _proposed(cli, isolated, database_url)
    for folder in (isolated, isolated / "motions"):
        run = cli("verify", str(folder))
        assert run.code == 2 and "not an audit folder" in run.err, run.err
    # A damaged audit folder is not the wrong folder: it is "not verified" (exit 1).
    assert cli("tally", MOTION_ID).code == 0
    assert cli("audit", MOTION_ID, "--out", "audit").code == 0
    (isolated / "audit" / "audit.json").unlink()
    damaged = cli("verify", "audit")
    assert damaged.code == 1 and "not verified" in damaged.out


@pytest.mark.parametrize(
    "command",
    [
        ("show", "new-constitutio", "jon-lansman"),
        ("withdraw", "new-constitutio", "--reason", "typo"),
        ("audit", "new-constitutio", "--out", "a"),
        ("members", "new-constitutio"),
        ("review", "new-constitutio"),
        ("tally", "new-constitutio"),
    ],
)
def test_every_command_naming_a_motion_offers_did_you_mean(
    cli: Any, isolated: Path, database_url: str, command: tuple[str, ...]
) -> None:
    _proposed(cli, isolated, database_url)
    run = cli(*command)
    assert run.code == 2
    assert "no motion 'new-constitutio' in the store (did you mean 'new-constitution'?)" in (
        run.err
    )
    assert not (isolated / "a").exists()


def test_a_long_motion_id_is_never_broken_in_the_tally_heading(
    cli: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _proposed(cli, isolated, database_url, LONG_ID)
    for width in ("80", "66"):
        monkeypatch.setenv("COLUMNS", width)
        lines = cli("tally", LONG_ID, "--offline").out.splitlines()
        assert lines[0] == f"{LONG_ID}:" and lines[1] == "Adopt the new constitution"
    monkeypatch.setenv("COLUMNS", "200")
    assert cli("tally", LONG_ID, "--offline").out.splitlines()[0] == (
        f"{LONG_ID}: Adopt the new constitution"
    )


def test_the_read_summary_says_what_replies_read_as_not_what_counts(
    cli: Any, isolated: Path, database_url: str
) -> None:
    _proposed(cli, isolated, database_url)
    run = cli("tally", MOTION_ID)
    assert "0 read as votes, 0 for review, 0 ignored" in run.err


def _times(value: Any, key: str = "") -> list[tuple[str, datetime]]:
    """Every ISO timestamp in a JSON value, with its key (deadlines excepted)."""
    if isinstance(value, dict):
        if value.get("kind") == "closes":  # `show`'s deadline event
            return []
        return [t for k, v in value.items() if k != "closes" for t in _times(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _times(v, key)]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return [(key, datetime.fromisoformat(value))]
        except ValueError:
            return []
    return []


def test_nothing_the_demo_records_is_in_the_future(cli: Any, isolated: Path) -> None:
    run = cli("demo", "--dir", "demo")
    assert run.code == 0, run.err
    done = datetime.now(UTC) + timedelta(seconds=1)
    os.chdir(isolated / "demo")
    found = _times(json.loads(cli("tally", MOTION_ID, "--offline", "--json").out))
    for member in ("michael-chessum", "jon-lansman", "maggie-simpson"):
        found += _times(json.loads(cli("show", MOTION_ID, member, "--json").out))
    assert len(found) > 20
    future = [(k, t) for k, t in found if t.astimezone(UTC) > done]
    assert not future, future


def test_hints_name_steervote_as_it_was_run(isolated: Path) -> None:
    """Run as `python -m steervote` with no steervote on PATH, a hint to run another
    command says `python -m steervote …`: pasted, it works."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEERVOTE_")}
    env["PATH"] = "/usr/bin:/bin"

    def steervote(*args: str, cwd: Path) -> str:
        ran = subprocess.run(
            [sys.executable, "-m", "steervote", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    steervote("demo", "--dir", "demo", cwd=isolated)
    shown = steervote("show", MOTION_ID, "michael-chessum", cwd=isolated / "demo")
    assert f"Each message as received: {sys.executable} -m steervote show " in shown


# --- a relative deadline no ballot has started ------------------------------------------


def test_a_deadline_no_ballot_started_is_shown_as_not_started(
    cli: Any, isolated: Path, database_url: str, smtp_server: Any
) -> None:
    """Every ballot refused: `closes: 7d` has not started (a re-run counts from its own
    time), so status, the sentence and the JSON say so instead of a running clock."""
    from propose_kit import MEMBERS, OBSERVERS, smtp_lines

    for address in (*MEMBERS, *OBSERVERS):
        smtp_server.refuse[address] = "550 5.1.1 no such user"
    motion = copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server), database_url=database_url)
    assert cli("propose", str(motion), "--yes", "--no-check").code == 1

    status = cli("status")
    assert status.code == 0, status.err
    [row] = [x for x in status.out.splitlines() if x.startswith(MOTION_ID + " ")]
    assert "not started" in row and "left" not in status.out
    sentence = cli("tally", MOTION_ID, "--offline").out
    assert "voting closes 7 days after the first ballot goes out, and none has yet" in sentence
    assert "left)" not in sentence
    result = json.loads(cli("tally", MOTION_ID, "--offline", "--json").out)
    assert result["motion"]["status"] == "not started" and result["motion"]["closes"] is None


def test_a_deadline_not_started_never_closes_the_vote() -> None:
    from steervote.core.motion_file import load_motion
    from steervote.core.rules import Result
    from steervote.core.tally import tally

    root = Path(__file__).parent.parent / "motions" / "new-constitution.yaml"
    motion = load_motion(root, now=datetime(2026, 1, 1, tzinfo=UTC))
    weeks_later = motion.closes + timedelta(weeks=3)
    waiting = tally(motion, [], [], now=weeks_later, clock_started=False)
    assert not waiting.closed and waiting.outcome.result is Result.PENDING
    assert tally(motion, [], [], now=weeks_later).closed  # a started clock closes


def test_show_of_a_vote_not_started_has_no_deadline(
    cli: Any, isolated: Path, database_url: str, smtp_server: Any
) -> None:
    from propose_kit import MEMBERS, OBSERVERS, smtp_lines

    for address in (*MEMBERS, *OBSERVERS):
        smtp_server.refuse[address] = "550 5.1.1 no such user"
    motion = copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server), database_url=database_url)
    assert cli("propose", str(motion), "--yes", "--no-check").code == 1
    shown = json.loads(cli("show", MOTION_ID, "jon-lansman", "--json").out)
    assert shown["motion"]["closes"] is None
    assert [e["kind"] for e in shown["history"]] == ["ballot"]
    assert "voting closes" not in cli("show", MOTION_ID, "jon-lansman").out


# --- a reply before the ballot ----------------------------------------------------------


def _into_inbox(isolated: Path, sender: str, subject: str, words: str, at: datetime) -> None:
    """A message delivered into the local inbox at `at` (the Maildir name holds the time)."""
    new = isolated / "mail" / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    raw = (
        f"From: {sender}\r\nTo: secretary@momentum.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{int(at.timestamp())}.{len(list(new.iterdir()))}@example.org>\r\n"
        f"Date: {at.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n\r\n{words}\r\n"
    )
    (new / f"{int(at.timestamp())}.M{len(list(new.iterdir()))}P1.test").write_text(raw)


@pytest.mark.parametrize("words", ["Against", "FOR", "I abstain."])
def test_a_message_received_before_the_ballot_went_out_is_never_counted(
    cli: Any, isolated: Path, database_url: str, words: str
) -> None:
    """A discussion tagged with the motion's id before it was proposed answers no ballot:
    review with the reason, never a vote; a reply after the ballot counts as ever."""
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    sam = "Sam Tarry <sam.tarry@momentum.example>"
    _into_inbox(isolated, sam, f"Re: [{MOTION_ID}] draft", words, three_days_ago)
    _proposed(cli, isolated, database_url)
    result = json.loads(cli("tally", MOTION_ID, "--json").out)
    [line] = [m for m in result["members"] if m["id"] == "sam-tarry"]
    assert line["status"] == "needs_review" and line["vote"] is None, line
    assert "not after this member's ballot went out" in line["reason"]
    assert result["counts"]["for"] + result["counts"]["against"] + result["counts"]["abstain"] == 0

    time.sleep(1.1)  # a second after the ballot: in its own second, which came first is unknown
    _into_inbox(isolated, sam, f"Re: [{MOTION_ID}] Adopt", "For.", datetime.now(UTC))
    again = json.loads(cli("tally", MOTION_ID, "--json").out)
    [line] = [m for m in again["members"] if m["id"] == "sam-tarry"]
    assert line["status"] == "counted" and line["vote"] == "for", line


def test_a_reply_from_a_member_whose_ballot_bounced_goes_to_review(
    cli: Any, isolated: Path, database_url: str, smtp_server: Any
) -> None:
    from propose_kit import smtp_lines

    smtp_server.refuse["sam.tarry@momentum.example"] = "550 5.1.1 no such user"
    motion = copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server), database_url=database_url)
    assert cli("propose", str(motion), "--yes", "--no-check").code == 1
    sam = "Sam Tarry <sam.tarry@momentum.example>"
    _into_inbox(isolated, sam, f"Re: [{MOTION_ID}] Adopt", "Against", datetime.now(UTC))
    result = json.loads(cli("tally", MOTION_ID, "--source", "maildir:mail/inbox", "--json").out)
    [line] = [m for m in result["members"] if m["id"] == "sam-tarry"]
    assert line["status"] == "needs_review" and "no ballot of this member" in line["reason"]


def test_a_change_of_mind_after_the_deadline_is_said_not_hidden() -> None:
    import io

    from rich.console import Console

    from steervote import render
    from steervote.core.tally import tally
    from steervote.core.vote import Vote
    from steervote.export import tally_json
    from test_tally import CLOSES, MOTION, T0, reply

    late = CLOSES + timedelta(hours=1)
    r = tally(MOTION, [reply("m1", Vote.FOR, T0), reply("m1", Vote.AGAINST, late)], [], now=late)
    assert (r.lines[1].vote, r.lines[1].late_replies) == (Vote.FOR, 1)
    out = io.StringIO()
    render.tally(Console(file=out, width=80), r, [], now=late)
    said = " ".join(out.getvalue().split())
    assert "Received after the deadline, not counted: 1 reply from Member 1 (m1)." in said
    [line] = [m for m in tally_json(r, [])["members"] if m["id"] == "m1"]
    assert (line["status"], line["vote"], line["late_replies"]) == ("counted", "for", 1)


def test_two_members_of_one_name_are_told_apart_in_the_report() -> None:
    import io
    from dataclasses import replace as changed

    from rich.console import Console

    from steervote import render
    from steervote.core.motion import Member
    from steervote.core.tally import tally
    from test_tally import MOTION, T0

    members = (*MOTION.committee.members[:3], Member("dev-patel", "Dev Patel", "d1@x.example"))
    members += (Member("dev-patel-2", "Dev Patel", "d2@x.example"),)
    motion = changed(MOTION, committee=changed(MOTION.committee, members=members))
    out = io.StringIO()
    render.tally(Console(file=out, width=80), tally(motion, [], [], now=T0), [], now=T0)
    assert "Dev Patel (dev-patel) " in out.getvalue()
    assert "Dev Patel (dev-patel-2) " in out.getvalue()
    assert "Member 1 (m1)" not in out.getvalue()


def test_a_reply_in_the_ballots_own_second_counts_only_with_the_ballot_in_it() -> None:
    """Receipt times are whole seconds: a reply in the second its ballot went out may have
    come first, unless it carries the ballot's token or thread (it has the ballot)."""
    from dataclasses import replace as changed

    from steervote.core.tally import Status, tally
    from steervote.core.vote import Vote
    from test_tally import MOTION, T0, reply

    sent = {m.id: T0 for m in MOTION.committee.members}
    by_subject = changed(reply("m1", Vote.FOR, T0), how="subject+sender")
    by_token = reply("m2", Vote.FOR, T0)  # "token"
    by_thread = changed(reply("m3", Vote.FOR, T0 - timedelta(minutes=5)), how="thread+sender")
    r = tally(MOTION, [by_subject, by_token, by_thread], [], now=T0, ballots_sent=sent)
    assert r.lines[1].status is Status.NEEDS_REVIEW
    assert r.lines[2].status is Status.COUNTED and r.lines[3].status is Status.COUNTED
