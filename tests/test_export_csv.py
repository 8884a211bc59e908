"""`tally --csv`, pinned: every motion asked for, a motion column, UTF-8 with a BOM, `-`
for standard output, and a path that cannot be written refused before any mail is read.

Through the CLI against real SMTP and Dovecot, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from election import Election, make_election
from servers import DovecotServer, SmtpServer

HEADER = [
    *("motion", "id", "name", "email", "status", "vote", "received_at", "evidence"),
    *("message_id", "how", "reason", "strength", "replies"),
    *("ruling_vote", "ruling_reason", "ruling_by", "ruling_at", "ruling_replaces"),
    "superseded",
]
BOM = "\ufeff"
JON = "jon.lansman@momentum.example"
MARSHA = "marsha-jane.thompson@momentum.example"


@pytest.fixture
def election(
    tmp_path: Path,
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
    imap_user: str,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Election:
    """The example motion, a member's name with an accent, proposed."""
    e = make_election(tmp_path, smtp_server, dovecot, imap_user, database_url, capsys, monkeypatch)
    committee = tmp_path / "motions" / "committees" / "steering-group.yaml"
    text = committee.read_text(encoding="utf-8")
    committee.write_text(text.replace("Professor Cecile", "Professor Cécile"), encoding="utf-8")
    e.propose()
    return e


def rows(text: str) -> list[dict[str, str]]:
    """The rows of CSV text that starts with a BOM; the header is checked exactly."""
    assert text.startswith(BOM)
    table = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert table[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in table[1:]]


def test_every_motion_in_one_file_with_a_motion_column(election: Election, tmp_path: Path) -> None:
    election.reply(JON, '=HYPERLINK("http://x") For')
    second = tmp_path / "motions" / "second.yaml"
    first = (tmp_path / "motions" / "new-constitution.yaml").read_text(encoding="utf-8")
    second.write_text(
        first.replace("id: new-constitution", "id: second-vote").replace(
            "title: Adopt the new constitution", "title: A second vote"
        ),
        encoding="utf-8",
    )
    election.propose(str(second))
    election.reply(MARSHA, "Against.")  # on the second motion: its ballot came last
    election.cli("rule", "new-constitution", "sam-tarry", "none", "--reason", "not a vote")

    run = election.cli("tally", "--csv", "all.csv")
    assert run.code == 0, run.err
    data = (tmp_path / "all.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8's byte-order mark, for spreadsheets
    table = rows(data.decode("utf-8"))
    assert [r["motion"] for r in table] == ["new-constitution"] * 12 + ["second-vote"] * 12
    by = {(r["motion"], r["email"]): r for r in table}
    jon = by["new-constitution", JON]
    # A formula is not a sentence: the reply is for a person (never counted as FOR).
    assert (jon["status"], jon["vote"], jon["how"], jon["replies"]) == (
        "needs_review",
        "",
        "token",
        "1",
    )
    assert jon["evidence"].startswith("'=")  # a formula in mail stays text in a spreadsheet
    assert jon["reason"].startswith("not a sentence") and jon["superseded"] == ""
    marsha = by["second-vote", MARSHA]
    assert (marsha["status"], marsha["vote"]) == ("counted", "against")
    assert by["new-constitution", MARSHA]["status"] == "not_voted"
    ruled = by["new-constitution", "sam.tarry@momentum.example"]
    assert (ruled["ruling_vote"], ruled["ruling_reason"]) == ("none", "not a vote")
    assert ruled["ruling_by"] and ruled["ruling_at"] and ruled["ruling_replaces"] == ""
    assert "Professor Cécile Wright" in {r["name"] for r in table}
    # One motion asked for: only its rows.
    run = election.cli("tally", "second-vote", "--offline", "--csv", "one.csv")
    assert run.code == 0, run.err
    one = rows((tmp_path / "one.csv").read_text(encoding="utf-8"))
    assert {r["motion"] for r in one} == {"second-vote"} and len(one) == 12


def test_a_changed_vote_and_its_ruling_are_explained(election: Election, tmp_path: Path) -> None:
    election.reply(JON, "For.")
    election.cli("tally")
    election.cli("rule", "new-constitution", "jon-lansman", "against", "--reason", "phoned")
    run = election.cli("tally", "--offline", "--csv", "out.csv")
    assert run.code == 0, run.err
    [jon] = [r for r in rows((tmp_path / "out.csv").read_text("utf-8")) if r["email"] == JON]
    assert (jon["vote"], jon["how"], jon["strength"]) == ("against", "ruling", "ruling")
    assert jon["reason"].startswith("ruled by ") and jon["ruling_vote"] == "against"
    assert jon["ruling_replaces"].startswith("FOR by token on ")
    assert jon["superseded"].startswith("FOR by token on ") and "phoned" in jon["superseded"]


def test_dash_writes_the_csv_to_stdout_instead_of_the_report(election: Election) -> None:
    election.reply(JON, "For.")
    run = election.cli("tally", "new-constitution", "--csv", "-")
    assert run.code == 0, run.err
    table = rows(run.out)  # stdout is the CSV alone: no table, no result line
    assert len(table) == 12 and "CARRIED" not in run.out and "PENDING" not in run.out
    assert "Read 1 new message " in run.err
    assert not Path("-").exists()


def test_dash_with_json_is_a_usage_error(election: Election) -> None:
    election.reply(JON, "For.")
    run = election.cli("tally", "--csv", "-", "--json")
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and "--csv -" in run.err and "--json" in run.err
    assert election.tally("--offline")["counts"]["for"] == 0  # no mail was read


@pytest.mark.parametrize(
    "target",
    ["no-such-folder/out.csv", "a-folder", "/proc/version"],
    ids=["missing-folder", "a-directory", "refused-by-the-system"],
)
def test_a_path_that_cannot_be_written_stops_the_run_before_any_mail_is_read(
    election: Election, tmp_path: Path, target: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    election.reply(JON, "For.")
    run = election.cli("tally", "new-constitution", "--csv", target)
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and run.err.startswith(f"error: --csv {target}: ")
    assert "Traceback" not in run.err and "Read " not in run.err
    assert not (tmp_path / "no-such-folder").exists()
    # Nothing was recorded: the reply is still new mail for the next run.
    before = election.tally("--offline")
    assert before["counts"]["for"] == 0
    assert all(m["replies"] == 0 for m in before["members"])
    assert "Read 1 new message " in election.cli("tally", "new-constitution").err


def test_a_failed_run_leaves_no_file_behind_and_an_old_file_as_it_was(
    election: Election, tmp_path: Path
) -> None:
    run = election.cli("tally", "no-such-motion", "--offline", "--csv", "new.csv")
    assert run.code == 2 and "no-such-motion" in run.err
    assert not (tmp_path / "new.csv").exists()
    (tmp_path / "old.csv").write_text("the secretary's earlier export\n", encoding="utf-8")
    run = election.cli("tally", "no-such-motion", "--offline", "--csv", "old.csv")
    assert run.code == 2
    assert (tmp_path / "old.csv").read_text("utf-8") == "the secretary's earlier export\n"
    run = election.cli("tally", "--offline", "--csv", "old.csv")
    assert run.code == 0 and len(rows((tmp_path / "old.csv").read_text("utf-8"))) == 12
