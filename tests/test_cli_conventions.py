"""Issue 13, item 13: the conventions of a good Python CLI.

`-h` as well as `--help`; `--config` after the command as well as before it; shell
completion; an `Examples:` block in every command's help; plain metavars; no automatic
highlighting; plurals written out; no padding spaces in piped output; a progress line on
`tally` when it reads more than a few hundred messages on a terminal.
"""

from __future__ import annotations

import io
import mailbox
import re
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

from election import reply_to
from propose_kit import MEMBERS, big_motion, copy_example, toml_config
from steervote import cli as cli_package
from steervote.cli import READ_PROGRESS_AFTER, Consoles, app, consoles, reading_progress

REPO = Path(__file__).resolve().parents[1]
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def steervote(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed program as a user runs it: its own process, output piped."""
    return subprocess.run(
        [sys.executable, "-m", "steervote", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_there_are_commands_to_check() -> None:
    assert {"validate", "propose", "tally", "status", "review", "rule", "show"} <= set(COMMANDS)
    assert {"audit", "verify", "demo", "acknowledge", "ask", "remind", "announce"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_short_help_and_an_examples_block(cli: Any, command: str) -> None:
    long, short = cli(command, "--help"), cli(command, "-h")
    assert long.code == short.code == 0, long.err
    assert long.out == short.out
    lines = long.out.splitlines()
    assert "  Examples:" in lines, long.out
    # The block: one example per line, each a whole command, none folded onto the next.
    block = lines[lines.index("  Examples:") + 1 :]
    examples = []
    for line in block[1:] if block and not block[0].strip() else block:
        if not line.strip():
            break
        examples.append(line.strip())
    assert examples and all(x.startswith(f"steervote {command}") for x in examples), examples
    assert all(x.split()[1] == command for x in examples)
    # Every command takes --config after its name, and names it PATH.
    assert re.search(r"^\s+--config PATH\s", long.out, re.MULTILINE), long.out


def test_short_help_on_the_program_and_completion_is_offered(cli: Any) -> None:
    run = cli("-h")
    assert run.code == 0 and run.out == cli("--help").out
    assert "--install-completion" in run.out and "--show-completion" in run.out
    script = steervote("--show-completion", "bash")
    assert script.returncode == 0 and "complete_bash" in script.stdout


def test_metavars_are_plain_words(cli: Any) -> None:
    for command in COMMANDS:
        text = cli(command, "-h").out
        usage = text.splitlines()[0]
        assert not re.search(r"[a-z]+_[a-z_]+", usage), usage  # no motion_id, member_id
        for line in text.splitlines():
            # An option that takes a value names it in capitals (--out DIR), never <str>.
            if re.match(r"\s+--[a-z-]+ <", line):
                raise AssertionError(f"{command}: {line.strip()}")
    assert "{MOTION}" in cli("tally", "-h").out or "[MOTION]" in cli("tally", "-h").out
    rule = cli("rule", "-h").out
    assert "MEMBER" in rule.splitlines()[0] and "VOTE" in rule.splitlines()[0]
    assert re.search(r"VOTE\b.*for.*against.*abstain.*none", " ".join(rule.split()))


def test_config_is_taken_after_the_command_too(cli: Any, isolated: Path) -> None:
    work = isolated / "workspace"
    work.mkdir()
    motion = copy_example(work)
    config = toml_config(work, database_url=f"sqlite:///{work / 'steervote.db'}")
    assert cli("propose", str(motion), "--yes", "--config", str(config)).code == 0
    before = cli("--config", str(config), "status")
    after = cli("status", "--config", str(config))
    assert before.code == after.code == 0, after.err
    assert before.out == after.out and "new-constitution" in after.out
    tally = cli("tally", "new-constitution", "--offline", "--config", str(config))
    assert tally.code == 0 and "PENDING — 0 for" in tally.out
    assert not (isolated / "steervote.db").exists()  # nothing made where it ran
    same = cli("--config", str(config), "status", "--config", str(config))
    assert same.code == 0 and same.out == after.out
    twice = cli("--config", str(config), "status", "--config", "other.toml")
    assert twice.code == 2 and "--config" in twice.err and "given twice" in twice.err


def test_the_consoles_highlight_nothing_and_pipe_no_padding() -> None:
    made = Consoles()
    for console in (made.out, made.err):
        assert console.render_str("1 message(s) at 12:30 in /tmp/x").spans == []
    out = io.StringIO()
    unpadded = cli_package._Unpadded(lambda: out)
    unpadded.write("a table cell   \nnext   ")
    unpadded.write("   line\nlast   ")
    unpadded.write("\n")
    assert out.getvalue() == "a table cell\nnext      line\nlast\n"
    assert unpadded.underlying is out


def test_piped_output_carries_no_padding(isolated: Path) -> None:
    """The demo prints tables, rules and wrapped lines: piped, no line ends in a space."""
    run = steervote("demo", "--dir", str(isolated / "demo"))
    assert run.returncode == 0, run.stderr
    assert "CARRIED — " in run.stdout
    for line in (run.stdout + run.stderr).splitlines():
        assert line == line.rstrip(), repr(line)


def test_plurals_are_written_out(cli: Any, isolated: Path) -> None:
    motion = copy_example(isolated)
    toml_config(isolated, database_url=f"sqlite:///{isolated / 'steervote.db'}")
    assert cli("propose", str(motion), "--yes").code == 0
    outbox = mailbox.Maildir(isolated / "mail" / "outbox", create=False)
    inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
    ballot = next(
        message_from_bytes(outbox.get_bytes(k))
        for k in outbox.iterkeys()
        if MEMBERS[0] in str(message_from_bytes(outbox.get_bytes(k))["To"])
    )
    inbox.add(reply_to(ballot, "For", sender=MEMBERS[0]))
    inbox.add(
        b"From: stranger@elsewhere.example\r\nTo: votes@momentum.example\r\n"
        b"Subject: hello\r\nMessage-ID: <s1@elsewhere.example>\r\n\r\nBuy now.\r\n"
    )
    run = cli("tally", "new-constitution")
    assert run.code == 0, run.err
    assert "Read 2 new messages from" in run.err and "1 read as a vote," in run.err
    assert "1 message ignored" in run.out
    for output in (run.out, run.err):
        assert "(s)" not in output
    owned = ["render.py", "cli/__init__.py", "cli/tally.py", "core/result_line.py"]
    for name in owned:
        text = (REPO / "src" / "steervote" / name).read_text(encoding="utf-8")
        found = [x for x in re.findall(r"\w+\(s\)", text) if x != "password(s)"]
        assert not found, (name, found)


def test_reading_progress_shows_on_a_terminal_past_a_few_hundred(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    monkeypatch.setitem(consoles.__dict__, "err", terminal)
    with reading_progress() as advance:
        advance(READ_PROGRESS_AFTER)
    assert screen.getvalue() == ""  # a few hundred: nothing
    with reading_progress() as advance:
        advance(250)
        advance(250)
        advance(1000)
    assert "Reading mail: 1,500 messages read" in screen.getvalue()
    piped = Console(file=io.StringIO(), force_terminal=False)
    monkeypatch.setitem(consoles.__dict__, "err", piped)
    with reading_progress() as advance:
        advance(5000)
    assert piped.file.getvalue() == ""  # type: ignore[attr-defined]


def test_tally_shows_its_progress_on_a_terminal(
    cli: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    motion = big_motion(isolated / "motions", 400)
    toml_config(isolated, database_url=database_url)
    assert cli("propose", str(motion), "--yes").code == 0
    outbox = mailbox.Maildir(isolated / "mail" / "outbox", create=False)
    inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
    for key in outbox.iterkeys():
        ballot = message_from_bytes(outbox.get_bytes(key))
        to = str(ballot["To"])
        inbox.add(reply_to(ballot, "For", sender=to[to.index("<") + 1 : to.index(">")]))
    screen = io.StringIO()
    monkeypatch.setitem(
        consoles.__dict__, "err", Console(file=screen, force_terminal=True, width=80)
    )
    run = cli("tally", "big-vote")
    assert run.code == 0, run.err
    assert "Reading mail: 400 messages read" in screen.getvalue()
    assert "Read 400 new messages" in screen.getvalue()
    assert "CARRIED — 400 for" in run.out
