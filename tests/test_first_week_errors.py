"""Issue 13, item 12: errors a new user meets, in plain words, all at once, through the CLI.

YAML syntax errors name the mistake and its line; the independent problems of a motion or
committee file are listed together, one line each; `casting_vote: yes` says what it
expects; a members CSV saved with semicolons says so; `validate` checks the config too; an
unsupported database URL names the two supported kinds; and the propose question answered
"n" sends nothing, records nothing and exits 0.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from propose_kit import MOTION_ID, copy_example, edit, toml_config
from steervote.adapters.store import Store, store_exists

MOTION = "motions/new-constitution.yaml"
COMMITTEE = "motions/committees/steering-group.yaml"


@pytest.fixture
def motion(isolated: Path) -> Path:
    """The example motion, by the relative path the user types (errors name it so)."""
    return copy_example(isolated).relative_to(isolated)


def validate(cli: Any, *args: str) -> list[str]:
    """The error lines of a `validate` that must fail with exit 2 (the "error: " cut)."""
    run = cli("validate", *args)
    assert run.code == 2, run.out
    lines = run.err.strip().splitlines()
    assert lines[0].startswith("error: ")
    return [lines[0].removeprefix("error: "), *lines[1:]]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` that contains `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --- YAML syntax errors in plain words ---------------------------------------------------


def test_a_line_indented_less_than_the_line_above(cli: Any, motion: Path) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "    email: sam.tarry@momentum.example", "   email: sam.tarry@momentum.example")
    n = line_of(committee, "   email: sam.tarry@")
    assert validate(cli, MOTION) == [
        f"{committee}:{n}: YAML syntax error: line {n} is indented less than the line above "
        f"(it starts after 3 spaces, line {n - 1} after 4 spaces): line it up with the fields "
        "it belongs with"
    ]


def test_a_tab_that_indents(cli: Any, motion: Path) -> None:
    edit(motion, "  - papers/interim-governance.pdf", "\t- papers/interim-governance.pdf")
    n = line_of(motion, "\t- papers/interim")
    assert validate(cli, MOTION) == [
        f"{motion}:{n}: YAML syntax error: tabs cannot indent YAML; use spaces"
    ]


def test_an_unclosed_quote_points_at_the_line_where_it_opens(cli: Any, motion: Path) -> None:
    edit(motion, "title: Adopt the new constitution", 'title: "Adopt the new constitution')
    n = line_of(motion, 'title: "Adopt')
    assert validate(cli, MOTION) == [
        f'{motion}:{n}: YAML syntax error: the quote " that opens the value on line {n} is '
        'never closed: end the value with " on the same line'
    ]


def test_a_colon_inside_a_value_says_to_quote_it(cli: Any, motion: Path) -> None:
    edit(motion, "title: Adopt the new constitution", "title: Constitution: adopt it")
    n = line_of(motion, "title: Constitution")
    assert validate(cli, MOTION) == [
        f"{motion}:{n}: YAML syntax error: a ': ' inside a value makes it look like another "
        'field: put the value in quotes, e.g. title: "Constitution: adopt it"'
    ]


# --- every independent problem at once -------------------------------------------------


def test_several_problems_in_a_motion_are_listed_together_one_per_line(
    cli: Any, motion: Path
) -> None:
    edit(motion, "title: Adopt the new constitution\n", "")
    edit(motion, "threshold: majority-of-members", "threshold: majority")
    edit(motion, "casting_vote: none", "casting_vote: yes")
    edit(motion, "require_token: false", "require_tokens: false")
    lines = validate(cli, MOTION)
    assert lines == [
        f"{motion}: 4 problems:",
        f"{motion}:4: title: missing required field",
        f"{motion}:{line_of(motion, 'threshold:')}: threshold: unknown threshold 'majority' "
        "(expected one of: majority-of-votes-cast, majority-of-members, "
        "two-thirds-of-votes-cast, two-thirds-of-members, unanimous)",
        f"{motion}:{line_of(motion, 'require_tokens')}: require_tokens: unknown field "
        "(did you mean 'require_token'?)",
        f"{motion}:{line_of(motion, 'casting_vote')}: casting_vote: unknown casting vote 'yes' "
        "(expected none or chair)",
    ]


def test_problems_in_the_motion_and_its_committee_are_listed_together(
    cli: Any, motion: Path
) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(motion, "quorum: 7", "quorum: seven")
    edit(committee, "timezone: Europe/London", "timezone: Europe/Londn")
    edit(committee, "email: sam.tarry@momentum.example", "email: sam.tarry@")
    edit(committee, "email: matt.wrack@momentum.example", "emial: matt.wrack@momentum.example")
    lines = validate(cli, MOTION)
    assert lines[0] == "4 problems:"  # in two files
    assert lines[1].startswith(f"{motion}:{line_of(motion, 'quorum')}: quorum: expected a whole")
    assert lines[2].startswith(
        f"{committee}:{line_of(committee, 'timezone')}: timezone: unknown timezone"
    )
    assert lines[3].startswith(
        f"{committee}:{line_of(committee, 'sam.tarry@')}: members[4].email: invalid email "
        "address 'sam.tarry@'"
    )
    assert lines[4] == (
        f"{committee}:{line_of(committee, 'emial')}: members[8].emial: unknown field "
        "(did you mean 'email'?)"
    )


def test_casting_vote_yes_says_what_it_expects(cli: Any, motion: Path) -> None:
    edit(motion, "casting_vote: none", "casting_vote: yes")
    assert validate(cli, MOTION) == [
        f"{motion}:{line_of(motion, 'casting_vote')}: casting_vote: unknown casting vote 'yes' "
        "(expected none or chair)"
    ]


# --- members CSV -----------------------------------------------------------------------


def _csv_committee(motion: Path, text: str) -> Path:
    committee = motion.parent / "committees" / "steering-group.yaml"
    committee.write_text("name: Steering Group\nmembers_csv: members.csv\n", encoding="utf-8")
    members = motion.parent / "committees" / "members.csv"
    members.write_text(text, encoding="utf-8")
    edit(motion, "proposer: jon-lansman", "proposer: ada")
    edit(motion, "quorum: 7", "quorum: 1")
    return members


def test_a_members_csv_separated_by_semicolons_says_so(cli: Any, motion: Path) -> None:
    members = _csv_committee(motion, "name;email\nAda;ada@example.org\n")
    assert validate(cli, MOTION) == [
        f"{members}:1: header: the columns are separated by semicolons (;), not commas: save "
        "the file as comma-separated CSV (in the spreadsheet's Save As, choose the comma as "
        "the field separator)"
    ]


def test_every_bad_row_of_a_members_csv_is_listed(cli: Any, motion: Path) -> None:
    members = _csv_committee(
        motion, "name,email\nAda,ada@example.org\nBob,\n,carol@example.org\nDan,dan@\n"
    )
    assert validate(cli, MOTION) == [
        f"{members}: 3 problems:",
        f"{members}:3: email: missing",
        f"{members}:4: name: missing",
        f"{members}:5: email: invalid email address 'dan@': the domain '' has no dot",
    ]


# --- validate checks the config; database URLs ----------------------------------------


def test_validate_reports_the_config_and_the_motion_problems_together(
    cli: Any, motion: Path, isolated: Path
) -> None:
    (isolated / "steervote.toml").write_text("[ballot]\nfrm = 'x@example.org'\n")
    edit(motion, "quorum: 7", "quorum: 70")
    lines = validate(cli, MOTION)
    assert lines[0].startswith(f"{isolated / 'steervote.toml'}: [ballot] frm: unknown setting")
    assert (
        lines[1]
        == f"{motion}:{line_of(motion, 'quorum')}: quorum: 70 is more than the 12 voting members"
    )


def test_validate_names_the_config_it_checked(cli: Any, motion: Path, isolated: Path) -> None:
    run = cli("validate", MOTION)
    assert run.code == 0, run.err
    assert "Config: none (built-in defaults): ballots go to the local outbox" in run.out
    config = toml_config(isolated)
    run = cli("validate", MOTION)
    assert run.code == 0, run.err
    assert f"Config: {config}: ballots go to the local outbox" in " ".join(run.out.split())
    (isolated / "steervote.toml").write_text("[smtp]\nhost = 'mail.example.org'\n")
    assert validate(cli, MOTION) == [
        f"{config}: [ballot] {key}: required when [smtp] is configured"
        for key in ("from", "reply_to")
    ]


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("mysql://steer:S3cret@db.example.org/votes", "mysql:// is not a supported database"),
        ("postgresql://steer:S3cret@db.example.org/votes", "write postgresql+psycopg://"),
        ("sqlite://", "a SQLite store is a file"),
    ],
)
def test_an_unsupported_database_url_names_the_two_supported_kinds(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch, url: str, hint: str
) -> None:
    toml_config(isolated, database_url=url)
    for run in (cli("status"), cli("validate", "nothing.yaml")):
        assert run.code == 2
        assert "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE" in run.err
        assert hint in run.err and "S3cret" not in run.err
    (isolated / "steervote.toml").unlink()
    monkeypatch.setenv("STEERVOTE_DATABASE_URL", url)
    run = cli("status")
    assert run.code == 2 and run.err.startswith("error: $STEERVOTE_DATABASE_URL: ")
    assert list(isolated.iterdir()) == []


# --- the propose question answered "n" -------------------------------------------------


class Terminal(io.StringIO):
    """A terminal's standard input that answers the question with the text given."""

    def isatty(self) -> bool:
        return True


def test_answering_n_sends_nothing_records_nothing_and_exits_0(
    cli: Any, motion: Path, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml_config(isolated, database_url=database_url)
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))

    run = cli("propose", MOTION)

    assert run.code == 0, run.err
    # The question names the store it would create (this database has no tables yet).
    assert "Create the store " in run.out and " and send 14 messages now?" in run.out
    assert run.out.rstrip().endswith("Nothing sent.")
    assert sorted(p.name for p in isolated.iterdir()) == ["motions", "steervote.toml"]
    assert not store_exists(database_url)  # not even an empty database

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    run = cli("propose", MOTION)
    assert run.code == 0, run.err
    assert "Sent now: 14" in run.out


def test_answering_n_with_a_store_already_there_records_nothing(
    cli: Any, motion: Path, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml_config(isolated, database_url=database_url)
    Store(database_url).close()
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))

    run = cli("propose", MOTION)

    assert run.code == 0 and "Nothing sent." in run.out, run.err
    store = Store(database_url)
    try:
        assert store.motion_ids() == [] and store.ballots(MOTION_ID) == []
    finally:
        store.close()
    assert not (isolated / "mail").exists()
