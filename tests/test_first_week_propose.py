"""Issue 13, propose in a secretary's first week: run from the wrong folder (a folder with
no store, another --config) it must not create a second store and send every ballot again
with new tokens; its output writes plurals out; a run where no ballot went out says the
deadline has not started and how to resume.

The per-user list of stores that proposed motions lives in $STEERVOTE_STATE_DIR, a
temporary folder of each test's own (tests/conftest.py).
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from propose_kit import (
    EVERYONE,
    MEMBERS,
    MOTION_ID,
    big_motion,
    copy_example,
    edit,
    received,
    smtp_lines,
    toml_config,
)
from servers import PostgresServer, SmtpServer

MOTION = "motions/new-constitution.yaml"


class Terminal(io.StringIO):
    """A terminal's standard input that answers the question with the text given."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def workspace(isolated: Path, database_url: str) -> Path:
    """A secretary's workspace: the example motion and a steervote.toml naming the store."""
    ws = isolated / "ws"
    ws.mkdir()
    copy_example(ws)
    toml_config(ws, database_url=database_url)
    return ws


def _outbox(directory: Path) -> int:
    """How many messages the local outbox under directory holds."""
    new = directory / "mail" / "outbox" / "new"
    return len(list(new.iterdir())) if new.is_dir() else 0


def _store_named(database_url: str, workspace: Path) -> str:
    """How a message names the store of `workspace`."""
    if database_url.startswith("sqlite:///"):
        return str(Path(database_url.removeprefix("sqlite:///")).resolve())
    return database_url


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the wrong folder ---------------------------------------------------------------------


def test_a_folder_with_no_store_says_a_new_one_will_be_created(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_example(isolated)
    dry = cli("propose", MOTION, "--dry-run")
    assert dry.code == 0, dry.err
    assert "No store here: a new one will be created at ./steervote.db" in _one_line(dry.out)

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    asked = cli("propose", MOTION)
    assert asked.code == 0, asked.err
    assert "Create the store ./steervote.db and send 14 messages now?" in _one_line(asked.out)
    assert not (isolated / "steervote.db").exists()

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert cli("propose", MOTION).code == 0
    again = cli("propose", MOTION, "--yes")
    assert "No store here" not in again.out and "already been sent" in again.out


def test_a_postgresql_database_with_no_tables_says_they_will_be_created(
    cli: Any, isolated: Path, postgres: PostgresServer
) -> None:
    copy_example(isolated)
    url = postgres.new_database()
    toml_config(isolated, database_url=url)
    dry = cli("propose", MOTION, "--dry-run")
    assert dry.code == 0, dry.err
    assert f"No store yet in {url} (no steervote tables): they will be created" in _one_line(
        dry.out
    )


def test_propose_from_a_folder_without_the_store_is_refused_and_names_the_store(
    cli: Any, workspace: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    first = cli("propose", MOTION, "--yes")
    assert first.code == 0, first.err
    sent = _outbox(workspace)
    assert sent == 14

    # The secretary, a week later, in the motions folder: no steervote.toml, no store there.
    wrong = workspace / "motions"
    monkeypatch.chdir(wrong)
    for args in (("--yes",), ("--dry-run",)):
        run = cli("propose", "new-constitution.yaml", *args)
        assert run.code == 2, run.out + run.err
        assert run.err.count("\n") == 1, run.err
        said = _one_line(run.err)
        assert f"motion {MOTION_ID} already has ballots in another store: " in said
        assert _store_named(database_url, workspace) in said
        assert f"cd {workspace}" in said
        assert "second ballot" in said and "--second-store" in said
        assert said.endswith("nothing was recorded or sent")
    assert sorted(p.name for p in wrong.iterdir()) == [
        "committees",
        "new-constitution.yaml",
        "papers",
    ]
    assert _outbox(workspace) == sent

    # Said on purpose: a second set of ballots from a second store.
    meant = cli("propose", "new-constitution.yaml", "--yes", "--second-store")
    assert meant.code == 0, meant.err
    assert _outbox(wrong) == 14
    # And now each store is the other's "another store": the first refuses nothing it has
    # already sent, but would refuse to send anything new.
    monkeypatch.chdir(workspace)
    back = cli("propose", MOTION, "--yes")
    assert back.code == 0 and "already been sent" in back.out, back.err


def test_another_config_naming_another_database_is_refused(
    cli: Any,
    workspace: Path,
    isolated: Path,
    database_url: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(workspace)
    assert cli("propose", MOTION, "--yes").code == 0
    other = isolated / "other"
    other.mkdir()
    if database_url.startswith("sqlite"):
        other_url = f"sqlite:///{other}/votes.db"
    else:
        other_url = request.getfixturevalue("postgres").new_database()
    config = toml_config(other, database_url=other_url)
    (config.parent / "elsewhere.toml").write_text(config.read_text(encoding="utf-8"))
    config.unlink()

    run = cli("propose", MOTION, "--yes", "--config", str(other / "elsewhere.toml"))

    assert run.code == 2, run.out + run.err
    said = _one_line(run.err)
    assert _store_named(database_url, workspace) in said and f"cd {workspace}" in said
    assert not (other / "votes.db").exists() and _outbox(other) == 0
    # The store of the first run is found the other way round too: by its --config.
    (workspace / "steervote.toml").rename(workspace / "first.toml")
    monkeypatch.chdir(other)
    run = cli(
        "propose", str(workspace / MOTION), "--yes", "--config", str(other / "elsewhere.toml")
    )
    assert run.code == 2 and "another store" in run.err


def test_the_same_store_reached_another_way_is_not_another_store(
    cli: Any, workspace: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    assert cli("propose", MOTION, "--yes").code == 0
    monkeypatch.chdir(isolated)
    by_config = cli(
        "propose", str(workspace / MOTION), "--yes", "--config", str(workspace / "steervote.toml")
    )
    assert by_config.code == 0, by_config.err
    assert "already been sent" in by_config.out
    (isolated / "link").symlink_to(workspace)
    monkeypatch.chdir(isolated / "link")
    through_link = cli("propose", MOTION, "--yes")
    assert through_link.code == 0 and "already been sent" in through_link.out, through_link.err


def test_the_same_motion_under_a_new_id_in_another_store_is_refused(
    cli: Any, workspace: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    assert cli("propose", MOTION, "--yes").code == 0
    wrong = workspace / "motions"
    edit(wrong / "new-constitution.yaml", "id: new-constitution", "id: new-constitution-2")
    monkeypatch.chdir(wrong)

    run = cli("propose", "new-constitution.yaml", "--yes")

    assert run.code == 2, run.out + run.err
    said = _one_line(run.err)
    assert (
        f"motion new-constitution-2 is motion {MOTION_ID} under another id (the same title, "
        "text, members, papers and deadline), which already has ballots in another store: "
    ) in said
    assert _store_named(database_url, workspace) in said
    assert not (wrong / "steervote.db").exists()


def test_a_changed_motion_under_a_new_id_in_the_same_store_is_a_new_vote(
    cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tool's own advice after a withdrawal: "propose it under a new id to vote again".
    monkeypatch.chdir(workspace)
    assert cli("propose", MOTION, "--yes").code == 0
    edit(workspace / MOTION, "id: new-constitution", "id: new-constitution-2")
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    assert _outbox(workspace) == 28


def test_a_deleted_store_is_not_another_store(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = isolated / "trial"
    first.mkdir()
    copy_example(first)
    monkeypatch.chdir(first)
    assert cli("propose", MOTION, "--yes").code == 0
    (first / "steervote.db").unlink()
    for leftover in first.glob("steervote.db-*"):
        leftover.unlink()
    real = isolated / "real"
    real.mkdir()
    copy_example(real)
    monkeypatch.chdir(real)
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    assert _outbox(real) == 14


def test_a_store_whose_ballots_all_failed_still_holds_the_motion(
    cli: Any, workspace: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml_config(workspace, smtp=smtp_lines(smtp_server), database_url=_url_of(workspace))
    for address in EVERYONE:
        smtp_server.refuse[address] = "550 5.1.1 mailbox unavailable"
    monkeypatch.chdir(workspace)
    assert cli("propose", MOTION, "--yes", "--no-check").code == 1
    smtp_server.refuse.clear()
    wrong = workspace / "motions"
    monkeypatch.chdir(wrong)
    run = cli("propose", "new-constitution.yaml", "--yes")
    assert run.code == 2 and f"cd {workspace}" in run.err, run.out + run.err
    assert smtp_server.messages == []


def _url_of(workspace: Path) -> str:
    """The [database] url the workspace fixture wrote to its steervote.toml."""
    text = (workspace / "steervote.toml").read_text(encoding="utf-8")
    [url] = re.findall(r'^url = "(.*)"$', text, re.MULTILINE)
    return url


def test_the_list_of_stores_never_holds_a_password(
    cli: Any, isolated: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_example(isolated)
    # Trust authentication on loopback: the password is sent, and not needed.
    url = postgres.new_database()
    user, _, rest = url.partition("://")[2].partition("@")
    with_password = f"postgresql+psycopg://{user}:S3cretPw@{rest}"
    monkeypatch.setenv("STEERVOTE_DATABASE_URL", with_password)
    assert cli("propose", MOTION, "--yes").code == 0
    state = Path(os.environ["STEERVOTE_STATE_DIR"])
    files = [p for p in state.rglob("*") if p.is_file()]
    assert files and not any(b"S3cretPw" in p.read_bytes() for p in files)
    monkeypatch.delenv("STEERVOTE_DATABASE_URL")
    elsewhere = isolated / "motions"
    monkeypatch.chdir(elsewhere)
    run = cli("propose", "new-constitution.yaml", "--yes")
    assert run.code == 2 and "S3cretPw" not in run.err
    assert f"postgresql+psycopg://{user}@{rest}" in run.err
    assert "$STEERVOTE_DATABASE_URL" in run.err


def test_a_list_of_stores_that_cannot_be_read_or_written_is_one_line_and_the_send_goes_on(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_example(isolated)
    blocked = isolated / "not-a-folder"
    blocked.write_text("a file where the folder should be\n")
    monkeypatch.setenv("STEERVOTE_STATE_DIR", str(blocked))

    run = cli("propose", MOTION, "--yes")

    assert run.code == 0, run.err
    assert "Sent now: 14" in run.out
    lines = run.err.splitlines()
    assert len(lines) == 2, run.err
    assert lines[0].startswith(f"warning: cannot read the list of stores in {blocked}")
    assert "cannot check whether another store already has ballots" in lines[0]
    assert lines[1].startswith(f"warning: cannot add this store to the list in {blocked}")


def test_a_damaged_entry_in_the_list_is_named_and_the_rest_still_counts(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = isolated / "ws"
    ws.mkdir()
    copy_example(ws)
    monkeypatch.chdir(ws)
    assert cli("propose", MOTION, "--yes").code == 0
    state = Path(os.environ["STEERVOTE_STATE_DIR"])
    [entry] = [p for p in state.rglob("*.json")]
    assert json.loads(entry.read_text(encoding="utf-8"))["motion"] == MOTION_ID
    (entry.parent / "damaged.json").write_bytes(b"\x00{not json\x1b[31m")
    monkeypatch.chdir(ws / "motions")
    run = cli("propose", "new-constitution.yaml", "--yes")
    assert run.code == 2, run.out + run.err
    assert "warning: " in run.err and "damaged.json" in run.err and "\x1b" not in run.err
    assert f"cd {ws}" in run.err


# --- plurals ------------------------------------------------------------------------------


def test_propose_writes_plurals_out(
    cli: Any, isolated: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_motion(isolated / "motions", 1)
    one = "motions/big-vote.yaml"
    runs = []
    toml_config(isolated, smtp=smtp_lines(smtp_server, extra="max_per_minute = 240\n"))
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    runs.append(cli("propose", one))
    said = _one_line(runs[-1].out)
    assert "To send: 1 message (1 ballot, 0 copies); already sent: 0" in said
    assert "1 message takes about" in said
    assert "Send 1 message now?" in said or "and send 1 message now?" in said
    smtp_server.refuse["m00001@members.example"] = "550 5.1.1 mailbox unavailable"
    runs.append(cli("propose", one, "--yes", "--no-check"))
    assert "error: 1 ballot refused: Member 1" in runs[-1].err
    smtp_server.refuse.clear()
    smtp_server.drop_after_data = {"m00001@members.example"}
    runs.append(cli("propose", one, "--yes", "--no-check"))
    assert "warning: 1 ballot may not have been delivered" in runs[-1].err
    for run in runs:
        text = run.out + run.err
        assert "(s)" not in text, text
        assert not re.search(r"\b1 (messages|ballots|copies|members)\b", text), text


# --- no ballot went out ----------------------------------------------------------------


@pytest.mark.parametrize("how", ["refused", "server gone"])
def test_when_no_ballot_went_out_propose_says_the_deadline_has_not_started(
    cli: Any,
    isolated: Path,
    database_url: str,
    smtp_server: SmtpServer,
    how: str,
) -> None:
    copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server), database_url=database_url)
    if how == "refused":
        for address in EVERYONE:
            smtp_server.refuse[address] = "550 5.1.1 mailbox unavailable"
    else:
        smtp_server.refuse[MEMBERS[0]] = "421 4.3.2 shutting down"

    run = cli("propose", MOTION, "--yes", "--no-check")

    assert run.code == 1
    said = _one_line(run.out + run.err)
    assert (
        "No ballot went out: voting has not started, and the deadline (closes: 7d) counts "
        "from the first ballot that goes out."
    ) in said
    assert "Once the problem above is fixed, re-run: " in said and f" propose {MOTION}" in said
    smtp_server.refuse.clear()
    again = cli("propose", MOTION, "--yes", "--no-check")
    assert again.code == 0, again.err
    assert "No ballot went out" not in again.out + again.err
    assert sorted(received(smtp_server)) == sorted(EVERYONE)


def test_when_no_ballot_went_out_a_fixed_deadline_is_named_as_it_stands(
    cli: Any, isolated: Path, smtp_server: SmtpServer
) -> None:
    copy_example(isolated)
    edit(isolated / MOTION, "closes: 7d ", "closes: 2099-01-20T17:00:00Z ")
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    for address in EVERYONE:
        smtp_server.refuse[address] = "550 5.1.1 mailbox unavailable"

    run = cli("propose", MOTION, "--yes", "--no-check")

    said = _one_line(run.out + run.err)
    assert run.code == 1
    assert (
        "No ballot went out: voting has not started; it still closes at 2099-01-20 17:00 UTC"
        in said
    )
    assert "has not started, and the deadline" not in said
