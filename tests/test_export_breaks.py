"""What a blind tester broke in the exports and the audit (issue 11), fixed by kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def demo(cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert cli("demo", "--dir", "d").code == 0
    monkeypatch.chdir(isolated / "d")
    return isolated / "d"


def test_csv_dot_slash_dash_is_a_file_named_dash(cli: Any, demo: Path) -> None:
    run = cli("tally", "new-constitution", "--offline", "--csv", "./-")
    assert run.code == 0, run.err
    assert (demo / "-").read_bytes().startswith(b"\xef\xbb\xbfmotion,")
    assert "motion,id,name" not in run.out


def test_csv_on_a_full_disk_is_one_line_not_a_traceback(cli: Any, demo: Path) -> None:
    run = cli("tally", "new-constitution", "--offline", "--csv", "/dev/full")
    assert run.code == 1
    assert "Traceback" not in run.err and run.err.count("\n") == 1
    assert "No space left" in run.err


def test_csv_over_the_store_is_refused_and_the_store_survives(cli: Any, demo: Path) -> None:
    before = (demo / "steervote.db").read_bytes()
    run = cli("tally", "new-constitution", "--offline", "--csv", "steervote.db")
    assert run.code == 2 and "steervote needs" in run.err
    assert (demo / "steervote.db").read_bytes() == before
    again = cli("tally", "new-constitution", "--offline", "--json")
    assert again.code == 0 and json.loads(again.out)["counts"]["for"] == 8


def test_audit_where_the_folder_cannot_be_made_is_one_line(cli: Any, demo: Path) -> None:
    run = cli("audit", "new-constitution", "--out", "/proc/no-such-folder")
    assert run.code == 2 and "Traceback" not in run.err
    assert "/proc/no-such-folder" in run.err


def test_raw_escapes_are_unambiguous() -> None:
    """A member who types "\\x1b" is shown a doubled backslash; a real ESC byte is \\x1b; a
    byte that is not UTF-8 is \\xNN; a lone CR is shown, CR LF is a newline."""
    from steervote.render import visible

    shown = visible(b"typed \\x1b[31m real \x1b[31m bad \xff cr\r lf\r\n")
    assert shown == "typed \\\\x1b[31m real \\x1b[31m bad \\xff cr\\x0d lf\n"


def test_demo_dir_under_a_file_is_one_line(cli: Any, isolated: Path) -> None:
    (isolated / "afile").write_text("x", encoding="utf-8")
    run = cli("demo", "--dir", "afile/sub")
    assert run.code == 2 and "not a folder" in run.err and "Traceback" not in run.err


def test_a_reply_in_the_deadlines_own_second_is_in_time() -> None:
    """Receipt times are whole seconds: 12:00:07.9 is in time for a 12:00:07.4 deadline."""
    from datetime import UTC, datetime

    from steervote.core.motion import Committee, Member, Motion, Threshold
    from steervote.core.records import Disposition, Received
    from steervote.core.strength import Strength
    from steervote.core.tally import Status, tally
    from steervote.core.vote import Vote

    closes = datetime(2027, 1, 12, 12, 0, 7, 400_000, tzinfo=UTC)
    member = Member("ann", "Ann", "ann@x.example")
    motion = Motion(
        "m",
        "T",
        "text",
        Committee("c", "C", "UTC", (member,)),
        "ann",
        Threshold.MAJORITY_OF_VOTES_CAST,
        1,
        closes,
    )
    reply = Received(
        1,
        "m",
        "ann",
        closes.replace(microsecond=900_000),
        Disposition.VOTE,
        Vote.FOR,
        "For",
        "For",
        "reads as for",
        "token",
        "<r@x>",
        "ann@x.example",
        Strength.TOKEN,
        None,
        "maildir-name",
        closes.replace(microsecond=950_000),
    )
    [line] = tally(motion, [reply], [], now=closes.replace(second=30)).lines
    assert line.status is Status.COUNTED and line.vote is Vote.FOR
