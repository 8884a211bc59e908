"""Issue 13, items 5, 7 (rule --undo), 10 and 11, through the CLI on SQLite and PostgreSQL:
`members`, `rule` by id, address or name saying what it replaces, a ruling a later reply
replaced shown in the report, `review --json`, `review --interactive` on a pseudo-terminal,
`rule --from-csv` all or nothing, `rule --undo`, and audit + verify after an undo.

The example motion is proposed to the local outbox; replies are delivered to the Maildir
inbox under names that carry their delivery time, so each test sets when a reply came.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.utils import format_datetime
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from election import reply_to
from propose_kit import Run, ballots_went_out_earlier, copy_example, toml_config
from steervote.adapters.store import Store
from steervote.core.motion import Committee, Member, Motion, Threshold
from steervote.core.records import Disposition, Received, Ruling, Undo
from steervote.core.ruling_file import MAX_BYTES, read_ruling_lines
from steervote.core.strength import Strength
from steervote.core.tally import Status, tally
from steervote.core.vote import Vote
from steervote.errors import InvalidInput

MOTION = "new-constitution"
JON = "jon.lansman@momentum.example"
SAM = "sam.tarry@momentum.example"
CHRISTINE = "christine.shawcroft@momentum.example"
MATT = "matt.wrack@momentum.example"
LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
_names = count(1)


@dataclass
class Workspace:
    """The example motion proposed to the local outbox, with a Maildir inbox."""

    root: Path
    cli: Any
    database_url: str

    def run(self, *args: str) -> Run:
        return self.cli(*args)

    def ok(self, *args: str) -> Run:
        run = self.cli(*args)
        assert run.code == 0, (args, run.out, run.err)
        return run

    def ballot(self, address: str) -> Message:
        outbox = self.root / "mail" / "outbox"
        for path in sorted(outbox.glob("*/*")):
            msg = message_from_bytes(path.read_bytes())
            if address in str(msg["To"]) and "votes+" in str(msg["Reply-To"]):
                return msg
        raise AssertionError(f"no ballot to {address}")

    def reply(self, address: str, words: str, at: datetime) -> datetime:
        """A reply to the member's ballot, delivered (and dated) at `at`; returns `at`."""
        msg = message_from_bytes(reply_to(self.ballot(address), words, sender=address))
        msg.replace_header("Date", format_datetime(at))
        inbox = self.root / "mail" / "inbox"
        for sub in ("new", "cur", "tmp"):
            (inbox / sub).mkdir(parents=True, exist_ok=True)
        name = f"{int(at.timestamp())}.M{at.microsecond}P{next(_names)}.test"
        (inbox / "new" / name).write_bytes(msg.as_bytes())
        return at

    def at_width(self, columns: int, *args: str) -> str:
        """What `steervote ARGS` prints to a pipe in a console this many columns wide (a
        process of its own: the in-process console keeps the width it was made with)."""
        run = subprocess.run(
            [sys.executable, "-m", "steervote", *args],
            cwd=self.root,
            env=dict(os.environ, COLUMNS=str(columns)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout

    def tally(self) -> dict[str, Any]:
        return json.loads(self.ok("tally", MOTION, "--json").out)

    def member(self, member_id: str) -> dict[str, Any]:
        return next(m for m in self.tally()["members"] if m["id"] == member_id)

    def rulings(self) -> list[Ruling]:
        store = Store(self.database_url)
        try:
            return store.rulings(MOTION)
        finally:
            store.close()


@pytest.fixture
def ws(cli: Any, isolated: Path, database_url: str) -> Workspace:
    copy_example(isolated)
    toml_config(isolated, database_url=database_url)
    w = Workspace(isolated, cli, database_url)
    w.ok("propose", "motions/new-constitution.yaml", "--yes")
    ballots_went_out_earlier(database_url, timedelta(days=1))  # replies come hours back
    return w


def hm(t: datetime) -> str:
    """A time as the messages show it: '12 Jan 10:02' in the committee's timezone."""
    local = t.astimezone(LONDON)
    return f"{local.day} {local:%b %H:%M}"


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- item 10: members ------------------------------------------------------------------


def test_members_lists_id_name_address_role_and_status(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(JON, "For.", t0)
    ws.reply(SAM, "Yes if the budget is agreed first.", t0)
    ws.reply(CHRISTINE, "Against.", t0)
    ws.tally()
    ws.ok("rule", MOTION, CHRISTINE, "abstain", "--reason", "phoned", "--by", "sec")
    # At 80 columns the addresses do not fit beside the rest: two lines a member, the id
    # whole, then where they stand, the name and every address whole.
    lines = ws.at_width(80, "members", MOTION).splitlines()
    assert len(lines) == 2 * 12 + 1
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)
    rows = {lines[i]: lines[i + 1] for i in range(0, 24, 2)}
    assert rows["jon-lansman"].startswith("  counted FOR  Jon Lansman (chair)  jon.lansman@")
    assert rows["sam-tarry"] == (
        "  in review  Sam Tarry  sam.tarry@momentum.example, sam@tarry.example"
    )
    assert rows["christine-shawcroft"].startswith("  ruled ABSTAIN  ")
    assert rows["maggie-simpson"].startswith("  not voted  ")
    assert lines[-1] == "12 members of new-constitution: 2 counted, 1 in review, 9 not voted."
    # Wide enough: one line a member under a header, every address and alias whole.
    wide = ws.at_width(200, "members", MOTION).splitlines()
    assert wide[0].split() == ["id", "name", "address", "status"] and len(wide) == 1 + 12 + 1
    row = next(x for x in wide if x.startswith("sam-tarry  "))
    assert "sam.tarry@momentum.example, sam@tarry.example" in row and row.endswith("in review")
    assert any("Professor Cecile Wright" in x for x in wide)

    data = json.loads(ws.ok("members", MOTION, "--json").out)
    assert set(data) == {"schema", "motion", "members"} and data["schema"] == 1
    assert data["motion"] == {"id": MOTION, "title": "Adopt the new constitution"}
    keys = {"id", "name", "email", "aliases", "role", "status", "vote", "ruled", "standing"}
    assert all(set(m) == keys for m in data["members"])
    by_id = {m["id"]: m for m in data["members"]}
    assert by_id["sam-tarry"]["aliases"] == ["sam@tarry.example"]
    assert (by_id["jon-lansman"]["role"], by_id["jon-lansman"]["vote"]) == ("chair", "for")
    christine = by_id["christine-shawcroft"]
    assert (christine["status"], christine["vote"], christine["ruled"]) == (
        "counted",
        "abstain",
        True,
    )
    assert christine["standing"] == "ruled ABSTAIN"
    assert by_id["sam-tarry"]["status"] == "needs_review"

    run = ws.run("members", "new-constitutoin")
    assert run.code == 2 and "did you mean 'new-constitution'" in run.err


def test_members_of_a_store_that_is_not_there_creates_nothing(cli: Any, isolated: Path) -> None:
    run = cli("members", MOTION)
    assert run.code == 2 and "no store here" in run.err
    assert list(isolated.iterdir()) == []


# --- items 5 and 10: rule by id, address or name, saying what it replaces ----------------


def test_rule_takes_an_address_or_a_name_and_says_what_it_replaces(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    against = ws.reply(SAM, "Against.", t0)
    ws.tally()
    run = ws.ok("rule", MOTION, "Sam.Tarry@Momentum.example", "for", "--reason", "phoned")
    assert one_line(run.out).startswith(
        f"Recorded FOR for Sam Tarry (sam-tarry) on {MOTION}; "
        f"replaces AGAINST from the reply of {hm(against)}."
    )
    assert "PENDING — 1 for, 0 against" in one_line(run.out)
    run = ws.ok("rule", MOTION, "  sam   TARRY ", "abstain", "--reason", "phoned again")
    ruled = [r for r in ws.rulings() if r.vote is Vote.FOR]
    assert f"replaces the ruling of {hm(ruled[0].ruled_at)} (FOR, by " in one_line(run.out)
    run = ws.ok("rule", MOTION, "sam@tarry.example", "abstain", "--reason", "the alias")
    assert "(sam-tarry)" in run.out
    run = ws.ok("rule", MOTION, "Maggie Simpson", "none", "--reason", "not a vote")
    assert "no vote stood before" in one_line(run.out)
    assert len(ws.rulings()) == 4

    for who, near in (
        ("jon lansmen", "did you mean jon-lansman (Jon Lansman)?"),
        ("sam.tary@momentum.example", "did you mean sam-tarry (Sam Tarry)?"),
        ("Sam", "sam-tarry (Sam Tarry) or sam-wheeler (Sam Wheeler)"),
    ):
        run = ws.run("rule", MOTION, who, "for", "--reason", "x")
        assert run.code == 2 and near in run.err, (who, run.err)
    run = ws.run("rule", MOTION, "emma.rees@momentum.example", "for", "--reason", "x")
    assert run.code == 2 and "is an observer" in run.err
    run = ws.run("rule", MOTION, "sam-tarry", "yes", "--reason", "x")
    assert run.code == 2 and "'yes' is not one of" in run.err
    run = ws.run("rule", MOTION, "sam-tarry", "for", "--reason", "  ")
    assert run.code == 2 and "say why" in run.err
    run = ws.run("rule", MOTION, "sam-tarry", "for", "--reason", "a\x1b[31mred")
    assert run.code == 2 and "control character" in run.err
    assert len(ws.rulings()) == 4  # none of those recorded anything

    run = ws.ok("rule", MOTION, "jon-lansman", "for", "--reason", "x", "--dry-run")
    assert "Would record FOR for Jon Lansman" in one_line(run.out)
    assert "Dry run: nothing recorded." in one_line(run.out) and len(ws.rulings()) == 4


def test_a_ruling_a_later_reply_replaced_is_said_in_tally_and_review(ws: Workspace) -> None:
    """Item 5: a ruling never disappears unsaid when a later email replaces it."""
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(MATT, "I will vote later.", t0)
    ws.reply(CHRISTINE, "Against.", t0)
    ws.tally()
    ws.ok("rule", MOTION, "matt-wrack", "for", "--reason", "phoned", "--by", "sec")
    ws.ok("rule", MOTION, "christine-shawcroft", "abstain", "--reason", "phoned", "--by", "sec")
    matt_ruled, christine_ruled = ws.rulings()
    later = datetime.now(UTC) + timedelta(minutes=1)  # after the rulings, and dated so
    ws.reply(MATT, "Against.", later)
    ws.reply(CHRISTINE, "For, provided clause 9 is amended.", later)

    matt = ws.member("matt-wrack")
    said = f"ruling of {hm(matt_ruled.ruled_at)} (FOR) replaced by a later reply"
    assert (matt["status"], matt["vote"], matt["ruling"]) == ("counted", "against", None)
    assert said in matt["reason"]
    [was] = [x for x in matt["superseded"] if x["kind"] == "ruling"]
    assert was["replaced_by"]["kind"] == "reply"
    assert said in ws.at_width(200, "tally", MOTION, "--offline")

    review = one_line(ws.ok("review", MOTION).out)
    said = f"ruling of {hm(christine_ruled.ruled_at)} (ABSTAIN) replaced by a later reply"
    assert "Christine Shawcroft (christine-shawcroft)" in review and said in review
    assert "Matt Wrack" not in review  # counted again: nothing to review
    christine = ws.member("christine-shawcroft")
    assert christine["status"] == "needs_review" and "earlier: ruled ABSTAIN" in christine["reason"]


# --- item 11: review --json and review --interactive ---------------------------------------


def test_review_json_keys_and_message_numbers_as_show_numbers_them(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(SAM, "Against.", t0)
    ws.reply(SAM, "Yes if the budget is agreed first.", t0 + HOUR)
    ws.reply(MATT, "[bold]I will vote later[/]", t0)
    ws.reply(JON, "For.", t0)
    ws.tally()
    data = json.loads(ws.ok("review", MOTION, "--json").out)
    assert set(data) == {"schema", "motion", "awaiting_review"} and data["schema"] == 1
    assert set(data["motion"]) == {"id", "title", "closes"}
    keys = {"id", "name", "email", "received_at", "reason", "words", "message", "from"}
    waiting = {m["id"]: m for m in data["awaiting_review"]}
    assert list(waiting) == ["sam-tarry", "matt-wrack"]  # the committee's order
    assert all(set(m) == keys for m in waiting.values())
    sam = waiting["sam-tarry"]
    assert sam["words"].startswith("Yes if the budget is agreed first.")
    assert sam["reason"].startswith("conditional") and sam["email"] == SAM
    assert abs(datetime.fromisoformat(sam["received_at"]) - (t0 + HOUR)) < timedelta(seconds=1)
    assert waiting["matt-wrack"]["words"].startswith("[bold]I will vote later[/]")
    for member_id, m in waiting.items():
        shown = json.loads(ws.ok("show", MOTION, member_id, "--json").out)
        messages = [e for e in shown["history"] if e["kind"] == "message"]
        number = next(e["number"] for e in messages if e["at"] == m["received_at"])
        assert m["message"] == number, member_id
    assert sam["message"] == 2
    text = one_line(ws.ok("review", MOTION).out)  # a hint may wrap: it names the program
    assert f"show {MOTION} sam-tarry --raw 2" in text and "[bold]I will vote later[/]" in text
    run = ws.run("review", MOTION, "--json", "--interactive")
    assert run.code == 2


def test_review_interactive_without_a_terminal_refuses(ws: Workspace) -> None:
    ws.reply(SAM, "Yes if the budget is agreed first.", datetime.now(UTC) - HOUR)
    ws.tally()
    run = ws.run("review", MOTION, "--interactive")  # stdin and stdout are not terminals
    assert run.code == 2 and run.out == ""
    assert "asks on a terminal and there is none" in run.err
    assert f"steervote rule {MOTION} --from-csv FILE" in one_line(run.err)
    assert ws.rulings() == []


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """`steervote ARGS` on a pseudo-terminal: what it printed, and answers typed to it."""

    def __init__(self, cwd: Path, *args: str) -> None:
        master, slave = pty.openpty()
        env = dict(os.environ, NO_COLOR="1", COLUMNS="100", TERM="dumb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "steervote", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.seen = b""
        self.read_to = 0  # what expect() has matched up to

    @property
    def text(self) -> str:
        return _ANSI.sub("", self.seen.decode("utf-8", "replace")).replace("\r\n", "\n")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the other end closed (Linux: EIO)
            return False
        self.seen += chunk
        return bool(chunk)

    def expect(self, pattern: str, timeout: float = 60) -> None:
        """Wait until `pattern` is printed after what the last expect matched (a space in
        it matches any run of whitespace: the terminal wraps long lines)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = re.search(pattern.replace(" ", r"\s+"), self.text[self.read_to :])
            if found:
                self.read_to += found.end()
                return
            if not self._read(0.2):
                break
        raise AssertionError(f"never printed {pattern!r}:\n{self.text}")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def wait(self) -> int:
        while self._read(0.5) and self.process.poll() is None:
            pass
        while self._read(0.1):
            if not self.seen:
                break
        code = self.process.wait(60)
        os.close(self.master)
        return code


def test_review_interactive_steps_through_and_records_as_it_goes(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(JON, "Yes, provided clause 9 is amended.", t0)
    ws.reply(SAM, "Yes if the budget is agreed first.", t0)
    ws.reply(MATT, "I will vote later.", t0)
    ws.tally()
    term = Terminal(ws.root, "review", MOTION, "--interactive", "--by", "sec")
    term.expect("3 awaiting review")
    term.expect(r"Jon Lansman \(jon-lansman\)")
    term.expect("provided clause 9 is amended")
    choices = r"\[f\]or, \[a\]gainst, a\[b\]stain, \[n\]one, \[s\]kip, \[q\]uit"
    term.expect(rf"\[1/3\] Ruling on jon-lansman: {choices}:")
    term.type("maybe")
    term.expect("'maybe' is not an answer")
    term.type("FOR")
    term.expect("Reason")
    term.type("   ")  # asked again: a reason is needed
    term.expect("say why")
    term.type("confirmed by phone")
    term.expect("Recorded FOR for Jon Lansman")
    term.expect("replaces the reply of")
    term.expect(r"\[2/3\] Ruling on sam-tarry")
    term.type("skip")
    term.expect(r"\[3/3\] Ruling on matt-wrack")
    term.type("none")
    term.expect("Reason")
    term.type("said he would vote later; none yet")
    term.expect("Recorded no vote for Matt Wrack")
    term.expect(r"2 recorded, 1 skipped, 0 not reached\.")
    term.expect("PENDING")
    assert term.wait() == 0, term.text
    rulings = {r.member_id: r for r in ws.rulings()}
    assert set(rulings) == {"jon-lansman", "matt-wrack"}
    assert (rulings["jon-lansman"].vote, rulings["jon-lansman"].reason) == (
        Vote.FOR,
        "confirmed by phone",
    )
    assert rulings["jon-lansman"].ruled_by == "sec" and rulings["matt-wrack"].vote is None
    assert ws.member("sam-tarry")["status"] == "needs_review"

    # quit stops at once; what was recorded stays.
    term = Terminal(ws.root, "review", MOTION, "--interactive")
    term.expect(r"\[1/1\] Ruling on sam-tarry")
    term.type("quit")
    term.expect(r"0 recorded, 0 skipped, 1 not reached\.")
    assert term.wait() == 0
    assert len(ws.rulings()) == 2


# --- item 11: rule --from-csv --------------------------------------------------------------


def test_rule_from_csv_records_every_row(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(SAM, "Yes if the budget is agreed first.", t0)
    against = ws.reply(CHRISTINE, "Against.", t0)
    ws.tally()
    # A spreadsheet's export: UTF-8 with a byte-order mark, separated by semicolons.
    (ws.root / "rulings.csv").write_bytes(
        "\ufeffMember;Vote;Reason;By\n"
        'Sam Tarry;FOR;"phoned; said yes";sec\n'
        "christine.shawcroft@momentum.example;abstain;letter, signed;\n"
        "\n"
        "maggie-simpson;none;asked to be counted as not voting;\n".encode()
    )
    run = ws.ok("rule", MOTION, "--from-csv", "rulings.csv", "--by", "clerk")
    out = one_line(run.out)
    assert f"Recorded 3 rulings on {MOTION} from rulings.csv:" in out
    assert "FOR for Sam Tarry (sam-tarry): replaces the reply of" in out
    assert (
        "ABSTAIN for Christine Shawcroft (christine-shawcroft): replaces AGAINST from the "
        f"reply of {hm(against)}."
    ) in out
    assert "no vote for Maggie Simpson (maggie-simpson): no vote stood before." in out
    rulings = {r.member_id: r for r in ws.rulings()}
    assert (rulings["sam-tarry"].reason, rulings["sam-tarry"].ruled_by) == (
        "phoned; said yes",
        "sec",
    )
    assert rulings["christine-shawcroft"].ruled_by == "clerk"  # an empty `by`: --by
    result = ws.tally()
    assert result["counts"]["for"] == 1 and result["counts"]["abstain"] == 1
    assert result["counts"]["needs_review"] == 0


def test_rule_from_csv_is_all_or_nothing(ws: Workspace) -> None:
    ws.reply(SAM, "Yes if the budget is agreed first.", datetime.now(UTC) - HOUR)
    ws.tally()
    before = ws.tally()
    (ws.root / "bad.csv").write_text(
        "member,vote,reason\n"
        "sam-tarry,for,phoned\n"  # a good row: not recorded either
        "jon lansmen,for,phoned\n"
        "matt-wrack,yes,phoned\n"
        "jill-mountford,against,\n"
        "Sam Tarry,against,again\n"
        "casting,for,x\n"
        "maggie-simpson,for,a,b\n",
        encoding="utf-8",
    )
    run = ws.run("rule", MOTION, "--from-csv", "bad.csv")
    assert run.code == 2 and run.out == ""
    lines = [one_line(x) for x in run.err.splitlines()]
    assert lines[0] == "error: bad.csv: 6 problems; nothing recorded"
    assert lines[1:] == [
        "bad.csv:3: member: no member 'jon lansmen' on motion new-constitution; "
        "did you mean jon-lansman (Jon Lansman)?",
        "bad.csv:4: vote: 'yes' is not one of for, against, abstain, none",
        "bad.csv:5: reason: empty: say why (kept in the audit trail)",
        "bad.csv:6: member: sam-tarry is ruled on line 2 already (one ruling a member in a file)",
        "bad.csv:7: member: motion new-constitution has casting_vote: none; there is no "
        "casting vote",
        "bad.csv:8: 4 fields but the header names 3 (text holding ',' must be in double quotes)",
    ]
    assert ws.rulings() == [] and ws.tally() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"member,vote,reason\nsam-tarry,for,\xff\n", "not UTF-8 text (byte 33)"),
        (b"member\tvote\treason\nsam-tarry\tfor\tx\n", "separated by tabs"),
        (b"name,vote,reason\nsam-tarry,for,x\n", "missing column member; unknown column 'name'"),
        (b"member;vote;why\n", "missing column reason; unknown column 'why'"),
        (b"member,vote,reason,vote\nx,for,y,for\n", "column 'vote' is given twice"),
        (b"member,vote,reason\n", "no rulings"),
        (b"", "no header row"),
        (b'member,vote,reason\nsam-tarry,for,"never closed\n', "not a readable CSV file"),
        (b"member,vote,reason\n" + b"x" * MAX_BYTES, "larger than 2,000,000 bytes"),
    ],
)
def test_a_rulings_file_that_cannot_be_read_is_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_ruling_lines(data, Path("r.csv"))
    assert str(refused.value).startswith("r.csv") and message in str(refused.value)


def test_rulings_file_rows_and_their_problems() -> None:
    rows, problems = read_ruling_lines(
        b'member,reason,vote\n"Smith, Ann","two\nlines",For\nbob,,maybe\n', Path("r.csv")
    )
    assert [(r.line, r.member, r.vote, r.by) for r in rows] == []
    assert [line for line, _ in problems] == [2, 4, 4]  # line 2's reason is two lines
    rows, problems = read_ruling_lines(
        "member,vote,reason\nCécile Wright,Abstain,à la réunion\n".encode(), Path("r.csv")
    )
    assert problems == [] and rows[0].vote is Vote.ABSTAIN and rows[0].reason == "à la réunion"


# --- item 7: rule --undo -----------------------------------------------------------------------


def test_undo_takes_back_the_latest_ruling_and_says_what_stands(ws: Workspace) -> None:
    against = ws.reply(SAM, "Against.", datetime.now(UTC) - HOUR)
    ws.tally()
    ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "phoned", "--by", "sec")
    ws.ok("rule", MOTION, "sam-tarry", "abstain", "--reason", "phoned again", "--by", "sec")
    first, second = ws.rulings()
    assert ws.member("sam-tarry")["vote"] == "abstain"

    run = ws.ok("rule", MOTION, "Sam Tarry", "--undo", "--reason", "the wrong call", "--by", "sec")
    out = one_line(run.out)
    assert out.startswith(
        f"Undid the ruling of {hm(second.ruled_at)} (ABSTAIN, by sec) on Sam Tarry (sam-tarry): "
        "kept in the audit trail, marked undone."
    )
    assert f"Now: ruled FOR: the ruling of {hm(first.ruled_at)} (FOR, by sec) stands" in out
    assert ws.member("sam-tarry")["vote"] == "for"

    run = ws.ok("rule", MOTION, SAM, "--undo", "--reason", "no call at all")
    assert f"Now: counted AGAINST from the reply of {hm(against)}" in one_line(run.out)
    sam = ws.member("sam-tarry")
    assert (sam["status"], sam["vote"], sam["how"], sam["ruling"]) == (
        "counted",
        "against",
        "token",
        None,
    )
    # Kept, each with its undo: nothing is deleted.
    kept = ws.rulings()
    assert [(r.vote, r.undone is not None) for r in kept] == [
        (Vote.FOR, True),
        (Vote.ABSTAIN, True),
    ]
    assert kept[1].undone is not None and kept[1].undone.reason == "the wrong call"
    assert kept[1].undone.undone_by == "sec"

    run = ws.run("rule", MOTION, "sam-tarry", "--undo", "--reason", "once more")
    assert run.code == 2 and "nothing to undo" in run.err
    run = ws.run("rule", MOTION, "sam-tarry", "--undo")
    assert run.code == 2 and "--reason" in run.err
    run = ws.run("rule", MOTION, "sam-tarry", "for", "--undo", "--reason", "x")
    assert run.code == 2 and "--undo: give no VOTE" in run.err
    # A ruling after an undo is recorded and stands as any other.
    run = ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "phoned, third time")
    assert f"replaces AGAINST from the reply of {hm(against)}" in one_line(run.out)


def test_audit_and_verify_after_an_undo(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(SAM, "Against.", t0)
    ws.reply(JON, "Yes if clause 9 changes.", t0)
    ws.reply(MATT, "For.", t0)
    ws.tally()
    ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "phoned", "--by", "sec")
    ws.ok("rule", MOTION, "jon-lansman", "for", "--reason", "phoned", "--by", "sec")
    ws.ok("rule", MOTION, "sam-tarry", "--undo", "--reason", "misheard", "--by", "sec")
    result = ws.tally()
    assert result["counts"]["for"] == 2 and result["counts"]["against"] == 1
    ws.ok("audit", MOTION, "--out", "folder")
    folder = ws.root / "folder"
    rulings = json.loads((folder / "rulings.json").read_text(encoding="utf-8"))
    assert [(r["member"], r["vote"], r["undone"] is not None) for r in rulings] == [
        ("sam-tarry", "for", True),
        ("jon-lansman", "for", False),
    ]
    assert set(rulings[0]["undone"]) == {"reason", "by", "at"}
    assert rulings[0]["undone"]["reason"] == "misheard"
    run = ws.ok("verify", "folder")
    assert "verified: the result in this folder follows from its messages and rulings" in (
        one_line(run.out)
    )

    # Without the undo the rulings give another result, and verify says so.
    rulings[0]["undone"] = None
    (folder / "rulings.json").write_text(json.dumps(rulings), encoding="utf-8")
    run = ws.run("verify", "folder")
    assert run.code == 1 and "not verified" in run.out


# --- the store and the core ---------------------------------------------------------------------


def test_migration_7_adds_the_undo_table_to_an_older_store(database_url: str) -> None:
    Store(database_url).close()
    engine = create_engine(database_url)
    with engine.begin() as c:  # the store as migrations 1-6 left it
        c.execute(text("DROP TABLE ruling_undo"))
        c.execute(text("DELETE FROM schema_version WHERE version = 7"))
    engine.dispose()
    store = Store(database_url)
    try:
        with store.engine.connect() as c:
            versions = set(c.execute(text("SELECT version FROM schema_version")).scalars())
        assert {1, 2, 3, 4, 5, 6, 7} <= versions
        assert store.undo_ruling("m", "x", Undo("r", "sec", datetime.now(UTC))) is None
    finally:
        store.close()


T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
CORE_MOTION = Motion(
    id="budget",
    title="Approve the budget",
    text="That the budget is approved.",
    committee=Committee(
        "c",
        "C",
        "Europe/London",
        tuple(Member(f"m{i}", f"M {i}", f"m{i}@x.example") for i in range(3)),
    ),
    proposer="m0",
    threshold=Threshold.MAJORITY_OF_MEMBERS,
    quorum=2,
    closes=T0 + timedelta(days=2),
)


def test_the_count_passes_over_an_undone_ruling_and_says_when_a_reply_replaced_one() -> None:
    reply = Received(
        1,
        "budget",
        "m1",
        T0,
        Disposition.VOTE,
        Vote.AGAINST,
        "Against.",
        "Against.",
        "",
        "token",
        "<1@x>",
        "m1@x.example",
        Strength.TOKEN,
    )
    ruled = Ruling("budget", "m1", Vote.FOR, "phoned", "sec", T0 + HOUR)
    undone = Ruling(
        "budget", "m1", Vote.ABSTAIN, "oops", "sec", T0 + 2 * HOUR, Undo("no", "sec", T0 + 3 * HOUR)
    )
    now = T0 + 4 * HOUR
    line = tally(CORE_MOTION, [reply], [ruled, undone], now=now).lines[1]
    assert (line.vote, line.standing) == (Vote.FOR, "ruled FOR")
    alone = tally(CORE_MOTION, [reply], [undone], now=now)
    assert alone == tally(CORE_MOTION, [reply], [], now=now)
    assert alone.lines[1].standing == "counted AGAINST"
    # A reply after the ruling replaces it, and the line says so (in London time: GMT).
    later = Received(
        2,
        "budget",
        "m1",
        T0 + 5 * HOUR,
        Disposition.VOTE,
        Vote.AGAINST,
        "No.",
        "No.",
        "",
        "token",
        "<2@x>",
        "m1@x.example",
        Strength.TOKEN,
    )
    line = tally(CORE_MOTION, [reply, later], [ruled], now=T0 + 6 * HOUR).lines[1]
    assert line.status is Status.COUNTED and line.vote is Vote.AGAINST
    assert (
        line.note
        == "ruling of 10 Jan 13:00 (FOR) replaced by a later reply; latest of several replies"
    )


def test_the_casting_vote_is_ruled_and_undone_like_a_members(
    cli: Any, isolated: Path, database_url: str
) -> None:
    path = copy_example(isolated)
    path.write_text(
        path.read_text(encoding="utf-8").replace("casting_vote: none", "casting_vote: chair"),
        encoding="utf-8",
    )
    toml_config(isolated, database_url=database_url)
    ws = Workspace(isolated, cli, database_url)
    ws.ok("propose", "motions/new-constitution.yaml", "--yes")
    run = ws.ok("rule", MOTION, "casting", "for", "--reason", "the chair's call", "--by", "chair")
    assert one_line(run.out).startswith(
        "Recorded the chair's casting vote FOR on new-constitution; no casting vote stood before."
    )
    run = ws.ok("rule", MOTION, "CASTING", "against", "--reason", "changed", "--by", "chair")
    [first, _] = ws.rulings()
    assert f"replaces the ruling of {hm(first.ruled_at)} (FOR, by chair)." in one_line(run.out)
    run = ws.ok("rule", MOTION, "casting", "--undo", "--reason", "misheard", "--by", "sec")
    out = one_line(run.out)
    assert "on the chair's casting vote: kept in the audit trail, marked undone." in out
    assert f"Now: the ruling of {hm(first.ruled_at)} (FOR, by chair) stands as the casting" in out
    assert ws.tally()["casting_vote"]["vote"] == "for"
    run = ws.ok("rule", MOTION, "casting", "--undo", "--reason", "no casting vote yet")
    assert "Now: no casting vote is recorded" in one_line(run.out)
    assert ws.tally()["casting_vote"] is None
    run = ws.run("rule", MOTION, "casting", "--undo", "--reason", "once more")
    assert run.code == 2 and "no ruling on the casting vote holds" in run.err


def test_show_after_an_undo_marks_what_stands_and_prints_the_undo(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undone ruling is shown with its undo and never marked as standing."""
    assert cli("demo", "--dir", "d").code == 0
    monkeypatch.chdir(isolated / "d")
    member = "jon-lansman"
    assert cli("rule", "new-constitution", member, "against", "--reason", "letter").code == 0
    assert cli("rule", "new-constitution", member, "--undo", "--reason", "forged").code == 0
    run = cli("show", "new-constitution", member, "--json")
    data = json.loads(run.out)
    [ruling] = [e for e in data["history"] if e["kind"] == "ruling"]
    assert ruling["undone"]["reason"] == "forged" and ruling["stands"] is False
    assert data["standing"]["status"] == "counted" and data["standing"]["vote"] == "for"
    text = " ".join(cli("show", "new-constitution", member).out.split())
    assert "undone" in text and "forged" in text
