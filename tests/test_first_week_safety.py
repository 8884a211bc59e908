"""Issue 13, items 1, 3, 4 and 14 (the demo's next steps): the demo never writes into a
real workspace, a command that only reads creates nothing, a mistyped motion id is refused
before any mail is read, and the commands the demo prints work as printed."""

from __future__ import annotations

import mailbox
import os
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from propose_kit import MOTION_ID, copy_example, toml_config
from servers import PostgresServer
from steervote.adapters.store import Store, store_exists
from steervote.terminal import steervote_command

NO_STORE_HERE = "no store here (looked for ./steervote.db; use --config or cd to the workspace)"


# --- 1. demo --dir refuses a folder that is not empty ----------------------------------


def test_demo_refuses_a_folder_that_is_not_empty_and_writes_nothing(
    cli: Any, isolated: Path
) -> None:
    workspace = isolated / "workspace"
    copy_example(workspace)
    (workspace / "steervote.toml").write_text("[ballot]\n", encoding="utf-8")
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))

    run = cli("demo", "--dir", str(workspace))

    assert run.code == 2
    assert "is not empty (it holds motions, steervote.toml)" in run.err
    assert "give a new or empty folder" in run.err
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before


def test_demo_refuses_a_file_and_a_folder_holding_only_a_hidden_file(
    cli: Any, isolated: Path
) -> None:
    (isolated / "notes.txt").write_text("x", encoding="utf-8")
    assert cli("demo", "--dir", "notes.txt").code == 2
    (isolated / "hidden").mkdir()
    (isolated / "hidden" / ".git").write_text("x", encoding="utf-8")
    run = cli("demo", "--dir", "hidden")
    assert run.code == 2 and "not empty" in run.err
    assert [p.name for p in (isolated / "hidden").iterdir()] == [".git"]


def test_demo_uses_an_empty_folder(cli: Any, isolated: Path) -> None:
    (isolated / "empty").mkdir()
    run = cli("demo", "--dir", "empty")
    assert run.code == 0, run.err
    assert (isolated / "empty" / "steervote.db").is_file()


# --- 3. read-only commands create nothing --------------------------------------------

READ_ONLY = [
    pytest.param(("status",), id="status"),
    pytest.param(("review", MOTION_ID), id="review"),
    pytest.param(("show", MOTION_ID, "sam-tarry"), id="show"),
    pytest.param(("tally", "--offline"), id="tally-offline"),
    pytest.param(("tally", MOTION_ID, "--offline"), id="tally-motion-offline"),
    pytest.param(("tally", MOTION_ID), id="tally-motion"),
    pytest.param(("tally",), id="tally"),
    pytest.param(("audit", MOTION_ID, "--out", "audit"), id="audit"),
    pytest.param(("rule", MOTION_ID, "sam-tarry", "for", "--reason", "phone"), id="rule"),
]


@pytest.mark.parametrize("args", READ_ONLY)
def test_with_no_config_and_no_store_a_command_says_so_and_creates_nothing(
    cli: Any, isolated: Path, args: tuple[str, ...]
) -> None:
    run = cli(*args)
    assert run.code == 2, run.err
    assert run.err.strip() == f"error: {NO_STORE_HERE}"
    assert list(isolated.iterdir()) == []  # no steervote.db, no mail/inbox/, no audit/


@pytest.mark.parametrize("args", READ_ONLY)
def test_with_a_config_whose_store_is_absent_nothing_is_created(
    cli: Any, isolated: Path, database_url: str, args: tuple[str, ...]
) -> None:
    config = toml_config(isolated, database_url=database_url)
    run = cli(*args)
    assert run.code == 2, run.err
    assert "no store yet (looked for " in run.err
    assert f"the database of {config}; nothing has been proposed with this config)" in run.err
    assert "password" not in run.err
    assert [p.name for p in isolated.iterdir()] == ["steervote.toml"]
    assert not store_exists(database_url)  # PostgreSQL: the schema is still absent


def test_the_no_store_message_names_the_postgresql_database_without_its_password(
    cli: Any, isolated: Path, postgres: PostgresServer
) -> None:
    secret = postgres.new_database() + "?password=S3cret"
    toml_config(isolated, database_url=secret)
    run = cli("status")
    assert run.code == 2
    assert "which has no steervote tables" in run.err and "S3cret" not in run.err


# --- 4. tally MOTION checks the id before reading any mail ----------------------------


def _proposed(cli: Any, isolated: Path, database_url: str) -> None:
    """The example motion proposed to the local outbox, and one reply in mail/inbox/."""
    copy_example(isolated)
    toml_config(isolated, database_url=database_url)
    run = cli("propose", "motions/new-constitution.yaml", "--yes")
    assert run.code == 0, run.err
    reply = EmailMessage()
    reply["From"] = "Sam Tarry <sam.tarry@momentum.example>"
    reply["To"] = "votes@momentum.example"
    reply["Subject"] = f"Re: [{MOTION_ID}] Adopt the new constitution"
    reply["Message-ID"] = "<reply-1@momentum.example>"
    reply.set_content("For.")
    mailbox.Maildir(isolated / "mail" / "inbox", create=True).add(reply)


def test_a_mistyped_motion_id_is_refused_before_any_mail_is_read(
    cli: Any, isolated: Path, database_url: str
) -> None:
    _proposed(cli, isolated, database_url)

    run = cli("tally", "new-constitutoin")

    assert run.code == 2
    assert run.err.startswith(
        "error: no motion 'new-constitutoin' in the store (did you mean 'new-constitution'?); "
        "recorded: new-constitution"
    ), run.err
    assert "Read " not in run.err  # no mail was read ...
    store = Store(database_url)
    try:  # ... and nothing recorded
        assert store.messages(None) == [] and store.ignored(None) == []
    finally:
        store.close()

    counted = cli("tally", MOTION_ID)  # The right id reads the reply.
    assert counted.code == 0, counted.err
    assert "Read 1 new message" in counted.err


def test_an_unknown_motion_id_with_nothing_close_lists_the_recorded_motions(
    cli: Any, isolated: Path, database_url: str
) -> None:
    _proposed(cli, isolated, database_url)
    shutil.rmtree(isolated / "mail" / "inbox")
    run = cli("tally", "budget")
    assert run.code == 2
    assert "no motion 'budget' in the store; recorded: new-constitution" in run.err
    assert not (isolated / "mail" / "inbox").exists()  # not even the default inbox


# --- 14. the demo's next commands work as printed -------------------------------------


def _next_commands(out: str) -> list[str]:
    """The shell lines printed after the demo's "next" heading, comments removed."""
    after = out.split("Try next", 1)[1].splitlines()[1:]
    return [line.split("   # ")[0] for line in after if line.strip()]


@pytest.mark.parametrize("how", ["script", "module"])
def test_the_demo_prints_next_commands_that_work_as_printed(isolated: Path, how: str) -> None:
    script = Path(sys.executable).parent / "steervote"
    if how == "script" and not script.is_file():
        pytest.fail(f"no console script beside {sys.executable}")
    program = [str(script)] if how == "script" else [sys.executable, "-m", "steervote"]
    # As a user runs it: not on PATH (a venv not activated), from a folder of their own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEERVOTE_")}
    env["PATH"] = "/usr/bin:/bin"
    ran = subprocess.run(
        [*program, "demo", "--dir", "demo"],
        cwd=isolated,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    commands = _next_commands(ran.stdout)
    assert commands[0] == f"cd {isolated / 'demo'}"
    expected = str(script) if how == "script" else f"{sys.executable} -m steervote"
    assert all(c.startswith(expected + " ") for c in commands[1:]), commands
    # The rule example names a real member: the one the demo asked to confirm.
    assert f"rule {MOTION_ID} michael-chessum for" in "\n".join(commands)

    elsewhere = isolated / "elsewhere"
    elsewhere.mkdir()
    for command in commands[1:]:
        done = subprocess.run(  # In a shell, exactly as printed.
            ["/bin/sh", "-c", f"{commands[0]} && {command}"],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert (isolated / "demo" / "audit" / "MANIFEST.sha256").is_file()


def test_how_the_demo_names_steervote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "bin" / "steervote"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert steervote_command(str(program), "/usr/bin/python3") == str(program)
    monkeypatch.setenv("PATH", f"{program.parent}:/usr/bin:/bin")
    assert steervote_command(str(program), "/usr/bin/python3") == "steervote"
    assert steervote_command("steervote", "/usr/bin/python3") == "steervote"
    spaced = "/opt/my python/bin/python3"
    assert steervote_command("/x/steervote/__main__.py", spaced) == f"'{spaced}' -m steervote"
