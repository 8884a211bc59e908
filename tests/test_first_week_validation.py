"""Issue 13, point 12, after a second blind tester: validation gaps, through the CLI.

A misspelt role is refused at the member's line (with did-you-mean), not reported later as
a motion problem; no value that goes into a mail header (a name, a title, a committee's
name, a From or Reply-To) may hold a bidi control or another invisible format character;
a From, Reply-To or member address must be a sound address in the form the message shows;
a setting that only sending needs does not stop a command that sends nothing; and a config
named by $STEERVOTE_CONFIG that is missing says where its name came from.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest

from propose_kit import copy_example, edit, toml_config

MOTION = "motions/new-constitution.yaml"
COMMITTEE = "motions/committees/steering-group.yaml"


@pytest.fixture
def motion(isolated: Path) -> Path:
    """The example motion, by the relative path the user types (errors name it so)."""
    return copy_example(isolated).relative_to(isolated)


def failing(cli: Any, *args: str) -> list[str]:
    """The error lines of a command that must fail with exit 2 (the "error: " cut)."""
    run = cli(*args)
    assert run.code == 2, run.out + run.err
    lines = run.err.rstrip("\n").split("\n")
    assert lines[0].startswith("error: ")
    return [lines[0].removeprefix("error: "), *lines[1:]]


def refused(cli: Any, *, config: bool = False) -> list[str]:
    """The lines `validate` and `propose --dry-run` both refuse with (the same), nothing
    written by either."""
    lines = failing(cli, "validate", MOTION)
    assert failing(cli, "propose", MOTION, "--dry-run") == lines
    kept = {"motions", "steervote.toml"} if config else {"motions"}
    assert {p.name for p in Path.cwd().iterdir()} == kept
    return lines


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --- 1. a role is one steervote knows -------------------------------------------------


def test_a_misspelt_role_is_refused_at_the_members_line(cli: Any, motion: Path) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "    role: chair", "    role: chiar")
    n = line_of(committee, "role: chiar")
    expected = [
        f"{committee}:{n}: members[1].role: unknown role 'chiar' (did you mean 'chair'?); "
        "the roles steervote knows are chair, secretary, treasurer, vice-chair (chair gives "
        "the casting vote); any other is shown as written"
    ]
    assert refused(cli) == expected
    # With a casting vote for the chair, the typo is still what is named, not the motion.
    edit(motion, "casting_vote: none", "casting_vote: chair")
    assert refused(cli) == expected


@pytest.mark.parametrize("role", ["Chair", "CHAIR", "secretary", "Vice-Chair", "treasurer"])
def test_a_known_role_in_any_case_is_accepted(cli: Any, motion: Path, role: str) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "    role: chair", f"    role: {role}")
    run = cli("validate", MOTION)
    assert run.code == 0, run.err


@pytest.mark.parametrize("role", ["convenor", "member", "Trustee"])
def test_a_role_of_its_own_is_shown_as_written(cli: Any, motion: Path, role: str) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "    role: chair", f"    role: {role}")
    run = cli("validate", MOTION)
    assert run.code == 0, run.err


def test_an_unknown_role_in_a_members_csv_is_refused_at_its_row(cli: Any, motion: Path) -> None:
    members = motion.parent / "members.csv"
    members.write_text(
        "name,email,role\nAda Lovelace,ada@x.example,chair\nBob Byte,bob@x.example,secretery\n",
        encoding="utf-8",
    )
    edit(motion, "committee: steering-group            # committees/steering-group.yaml", "")
    edit(motion, "proposer: jon-lansman", "proposer: ada-lovelace\nname: Board")
    edit(motion, "quorum: 7 ", "quorum: 1 ")
    with motion.open("a", encoding="utf-8") as f:
        f.write("members_csv: members.csv\n")
    assert refused(cli) == [
        f"{members}:3: role: unknown role 'secretery' (did you mean 'secretary'?); "
        "the roles steervote knows are chair, secretary, treasurer, vice-chair (chair gives "
        "the casting vote); any other is shown as written"
    ]


# --- 2. nothing invisible that can disguise text in a header ----------------------------

# Every Bidi_Control (Unicode PropList.txt), and invisible format characters that hide or
# join text: zero-width space, word joiner, byte order mark, soft hyphen, an invisible
# operator, a tag character, a Hangul filler.
DISGUISES = [
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u2062",
    "\U000e0041",
    "\u3164",
]


@pytest.mark.parametrize("ch", DISGUISES, ids=lambda c: f"U+{ord(c):04X}")
def test_a_member_name_with_an_invisible_character_is_refused(
    cli: Any, motion: Path, ch: str
) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "  - name: Sam Tarry", f'  - name: "Sam{ch}Tarry"')
    [line] = refused(cli)
    n = line_of(committee, '  - name: "Sam')
    assert ch not in line
    if ch == "\ufeff":  # The YAML reader refuses a byte order mark inside a file first.
        assert line.startswith(f"{committee}:{n}: ") and "U+FEFF" in line
        return
    assert line == (
        f"{committee}:{n}: members[4].name: must not hold an invisible character "
        f"(U+{ord(ch):04X} {unicodedata.name(ch)}), which can disguise the text: remove it"
    )


def test_a_bidi_override_written_as_an_escape_is_refused_too(cli: Any, motion: Path) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "  - name: Sam Tarry", '  - name: "Sam \\u202eyrraT"')
    assert "members[4].name: must not hold an invisible character (U+202E RIGHT" in refused(cli)[0]


@pytest.mark.parametrize(
    ("where", "old", "new", "field"),
    [
        ("motion", "title: Adopt the new constitution", "title: Adopt\u202e the", "title"),
        ("committee", "name: National Steering Group", "name: National\u2066 Group", "name"),
        (
            "committee",
            "  - Emma Rees <emma.rees@momentum.example>",
            "  - Emma\u200b Rees <emma.rees@momentum.example>",
            "observers[",
        ),
    ],
)
def test_every_file_value_that_goes_into_a_header_is_refused_too(
    cli: Any, motion: Path, where: str, old: str, new: str, field: str
) -> None:
    path = motion if where == "motion" else motion.parent / "committees" / "steering-group.yaml"
    edit(path, old, new)  # fails if the example no longer holds `old`: update the case
    [line] = refused(cli)
    assert line.startswith(f"{path}:{line_of(path, new)}: {field}"), line
    assert "invisible character" in line


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627",  # Persian: ZWNJ between words' parts
        "\u0915\u094d\u200d\u0937",  # Devanagari: ZWJ after a virama
        "Ana \U0001f469\u200d\U0001f4bb",  # an emoji sequence joined by ZWJ
    ],
)
def test_joiners_a_script_needs_are_kept(cli: Any, motion: Path, name: str) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "  - name: Sam Tarry", f'  - name: "{name}"\n    id: sam-tarry')
    run = cli("validate", MOTION)
    assert run.code == 0, run.err


@pytest.mark.parametrize("name", ["Sam\u200cTarry", "Sam\u200d Tarry"])
def test_a_joiner_between_latin_letters_is_refused(cli: Any, motion: Path, name: str) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "  - name: Sam Tarry", f'  - name: "{name}"')
    assert "invisible character" in refused(cli)[0]


def test_a_ballot_from_name_with_a_bidi_control_is_refused(cli: Any, motion: Path) -> None:
    config = toml_config(Path.cwd())
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('from = "Momentum', 'from = "Mom\u202eentum'), "utf-8")
    [line] = refused(cli, config=True)
    assert line.startswith(f"{config}: [ballot] from: ")
    assert "invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)" in line and "\u202e" not in line


# --- 3. addresses in the form a person can check ----------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("from", "Secretary secretary@example.org", "a space"),
        ("from", "Secretary secretary@example", "a space"),
        ("from", "secretary@example", "the domain 'example' has no dot"),
        ("from", "Secretary <secretary@example>", "the domain 'example' has no dot"),
        ("from", "Secretary <secretary@example.org", "angle brackets"),
        ("from", "Secretary <secretary@example.org> extra", "angle brackets"),
        ("from", "Secretary <sec retary@example.org>", "a space"),
        ("from", "Sec <a@b.example>, Other <c@d.example>", "one address"),
        ("from", "nobody", "exactly one @"),
        ("reply_to", "votes at example.org", "a space"),
        ("reply_to", "votes@example", "the domain 'example' has no dot"),
        ("reply_to", "Votes <votes@@example.org>", "exactly one @"),
    ],
)
def test_a_from_or_reply_to_that_is_not_a_sound_address_is_refused(
    cli: Any, motion: Path, key: str, value: str, why: str
) -> None:
    config = Path.cwd() / "steervote.toml"
    other = "reply_to" if key == "from" else "from"
    config.write_text(
        f'[ballot]\n{key} = "{value}"\n{other} = "Sec <sec@example.org>"\n', encoding="utf-8"
    )
    [line] = refused(cli, config=True)
    assert line.startswith(f"{config}: [ballot] {key}: "), line
    assert why in line, line
    assert "Name <address@domain>" in line, line


@pytest.mark.parametrize(
    "value",
    [
        "secretary@example.org",
        "Secretary <secretary@example.org>",
        '"Secretary, Board" <secretary@example.org>',
        "Jürgen Müller <jürgen@bücher.example>",
        "<secretary@example.org>",
    ],
)
def test_a_sound_from_is_accepted(cli: Any, motion: Path, value: str) -> None:
    (Path.cwd() / "steervote.toml").write_text(
        f"[ballot]\nfrom = '{value}'\nreply_to = '{value}'\n", encoding="utf-8"
    )
    run = cli("validate", MOTION)
    assert run.code == 0, run.err


def test_a_member_address_with_a_space_says_what_is_expected(cli: Any, motion: Path) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "email: sam.tarry@momentum.example", 'email: "sam tarry@momentum.example"')
    [line] = refused(cli)
    assert line == (
        f"{committee}:{line_of(committee, 'sam tarry@')}: members[4].email: invalid email "
        "address 'sam tarry@momentum.example': an email address has no spaces or control "
        "characters"
    )


# --- 5. what only sending needs does not stop a command that sends nothing ---------------


def test_status_runs_with_smtp_and_no_ballot_from(cli: Any, motion: Path) -> None:
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    config = Path.cwd() / "steervote.toml"
    config.write_text("[smtp]\nhost = 'mail.example.org'\n", encoding="utf-8")
    run = cli("status")
    assert run.code == 0, run.err
    assert "[ballot] from" not in run.out + run.err
    for command in (("validate", MOTION), ("propose", MOTION, "--dry-run")):
        assert failing(cli, *command) == [
            f"{config}: [ballot] {key}: required when [smtp] is configured"
            for key in ("from", "reply_to")
        ]


def test_check_names_a_sending_problem(cli: Any, motion: Path) -> None:
    config = Path.cwd() / "steervote.toml"
    config.write_text("[smtp]\nhost = 'mail.example.org'\n", encoding="utf-8")
    run = cli("check")
    assert run.code == 1
    assert "[ballot] from: required when [smtp] is configured" in run.out


def test_validate_names_a_sending_problem_beside_the_motions(cli: Any, motion: Path) -> None:
    config = Path.cwd() / "steervote.toml"
    config.write_text("[smtp]\nhost = 'mail.example.org'\n", encoding="utf-8")
    edit(motion, "quorum: 7", "quorum: 70")
    lines = failing(cli, "validate", MOTION)
    assert lines[0] == f"{config}: [ballot] from: required when [smtp] is configured"
    assert lines[1] == f"{config}: [ballot] reply_to: required when [smtp] is configured"
    assert "quorum: 70 is more than the 12 voting members" in lines[2]


# --- 6. a missing config says where its name came from ----------------------------------


def test_a_missing_config_named_by_the_environment_says_so(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEERVOTE_CONFIG", "/nonexist.toml")
    for command in (("status",), ("validate", "x.yaml")):
        lines = failing(cli, *command)
        assert lines[0] == "/nonexist.toml: config file not found (named by $STEERVOTE_CONFIG)"
    monkeypatch.setenv("STEERVOTE_CONFIG", str(isolated))
    [line] = failing(cli, "status")
    assert line.startswith(f"{isolated}: cannot be read") and "$STEERVOTE_CONFIG" in line
    assert list(isolated.iterdir()) == []


def test_a_missing_config_given_with_config_says_so(cli: Any, isolated: Path) -> None:
    assert failing(cli, "status", "--config", "nothere.toml") == [
        "nothere.toml: config file not found (given with --config)"
    ]
