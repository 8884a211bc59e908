"""Issue 13, point 12, after a blind tester: errors in plain words, all at once, through the CLI.

Every independent problem of steervote.toml in one run; a character YAML refuses, a byte
that is not UTF-8, a YAML tag, named by line and column and never echoed; a committee's
clash of addresses hides none of the committee's or the motion's other problems; an
impossible deadline says which part is impossible; no Python message or repr reaches the
user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from propose_kit import copy_example, edit
from steervote.config import load_settings

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


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --- 1. every problem of the config at once ---------------------------------------------


def test_every_independent_config_problem_is_reported_at_once(
    cli: Any, motion: Path, isolated: Path
) -> None:
    config = isolated / "steervote.toml"
    config.write_text(
        "[smtp]\n"
        'host = "mail.example.org"\n'
        'port = "abc"\n'
        'security = "tls"\n'
        "prot = 587\n"
        "[ballot]\n"
        'from = "Secretary <secretary@example.org>"\n'
        'plus_tokens = "yes"\n'
        'timezone = "Europe/Londn"\n'
        "[database]\n"
        'url = "mysql://steer:S3cret@db.example.org/votes"\n'
        "[tally]\n"
        "max_message_bytes = 5\n"
        "[mial]\n"
        "x = 1\n"
    )
    lines = failing(cli, "validate", MOTION)
    assert lines[0] == f"{config}: 8 problems:"
    assert sorted(lines[1:]) == sorted(
        f"{config}: {line}"
        for line in (
            "[smtp] prot: unknown setting (did you mean 'port'?)",
            "unknown section [mial] (known: ballot, database, imap, oauth2, smtp, tally)",
            "[database] url: mysql:// is not a supported database; use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DATABASE",
            '[ballot] plus_tokens: expected true or false (no quotes), got "yes"',
            "[ballot] timezone: \"Europe/Londn\" is not a timezone (did you mean 'Europe/London'?)",
            '[smtp] security: expected one of none, starttls, ssl, got "tls"',
            '[smtp] port: expected a whole number 1-65535, got "abc"',
            "[tally] max_message_bytes: expected a whole number of bytes, 1024 or more, got 5",
        )
    )
    assert "S3cret" not in "\n".join(lines)
    # Every command reads the config the same way.
    assert failing(cli, "status") == lines


def test_a_misspelt_required_setting_is_one_problem(cli: Any, isolated: Path) -> None:
    config = isolated / "steervote.toml"
    config.write_text('[smtp]\nhost = "mail.example.org"\n[ballot]\nfrm = "s@example.org"\n')
    assert failing(cli, "status") == [
        f"{config}: [ballot] frm: unknown setting (did you mean 'from'?)"
    ]


def test_config_problems_across_sign_in_sections_are_listed_together(
    cli: Any, isolated: Path
) -> None:
    config = isolated / "steervote.toml"
    config.write_text(
        '[imap]\nhost = "imap.example.org"\nauth = "token"\noauth2_mechanism = "plain"\n'
        '[smtp]\nhost = "smtp.example.org"\nmax_per_day = 0\nmax_per_minute = "ten"\n'
        '[ballot]\nfrom = "s@example.org"\n'
        '[oauth2]\nprovider = "custom"\nclient_id = 5\ntoken_url = "http://t.example"\n'
        'scopes = "mail"\n'
    )
    lines = failing(cli, "status")
    assert lines[0] == f"{config}: 8 problems:"
    assert set(lines[1:]) == {
        f'{config}: [imap] oauth2_mechanism: expected "xoauth2" or "oauthbearer", got "plain"',
        f'{config}: [imap] auth: expected "password" or "oauth2", got "token"',
        f"{config}: [smtp] max_per_minute: expected a whole number of messages (1 or more), "
        'got "ten"',
        f"{config}: [smtp] max_per_day: expected a whole number of messages (1 or more), got 0",
        f"{config}: [oauth2] client_id: expected text in quotes, got 5",
        f'{config}: [oauth2] token_url: expected an https:// address, got "http://t.example"',
        f'{config}: [oauth2] scopes: expected a list of scope names, got "mail"',
        # A custom provider with no device_url signs in in a browser: it needs this too.
        f'{config}: [oauth2] authorize_url: required with flow = "loopback"',
    }


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[smtp]\nhost = mail.example.org\n", 'text must be in quotes: host = "mail.example.org"'),
        ("[ballot]\nplus_tokens = True\n", "write true and false in lowercase"),
        ('[smtp]\nhost = "a"\n[smtp]\n', "[smtp] is given twice"),
        ('[ballot]\nfrom = "a@b.org"\nfrom = "c@d.org"\n', "a setting is given twice"),
        ('[ballot]\nfrom = "C:\\papers"\n', "a backslash inside double quotes starts an escape"),
        ('[ballot]\nfrom = "a@b.org\n', "the quote that opens the value is never closed"),
        ('[smtp]\nhost = "a\x1bb"\n', "a control character (U+001B) is not allowed"),
    ],
)
def test_a_toml_syntax_error_is_said_in_plain_words_with_its_line(
    cli: Any, isolated: Path, text: str, said: str
) -> None:
    config = isolated / "steervote.toml"
    config.write_text(text)
    (line,) = failing(cli, "status")
    assert line.startswith(f"{config}:") and said in line
    assert "('smtp'" not in line and "\x1b" not in line  # no Python tuple, no raw character


def test_a_config_not_in_utf8_and_one_with_a_byte_order_mark(cli: Any, isolated: Path) -> None:
    config = isolated / "steervote.toml"
    config.write_bytes(b'[ballot]\nfrom = "caf\xe9 <s@example.org>"\n')
    assert failing(cli, "status") == [
        f"{config}:2: byte 0xE9 is not UTF-8 text: save the file as UTF-8"
    ]
    config.write_bytes(b'\xef\xbb\xbf[ballot]\nfrom = "s@example.org"\n')  # Notepad's BOM
    assert load_settings(None, env={}, cwd=isolated).ballot.sender == "s@example.org"


# --- 2. characters and bytes a YAML file cannot hold -----------------------------------------


@pytest.mark.parametrize(
    ("char", "what"),
    [
        ("\x1b", "a control character (U+001B)"),
        ("\x00", "a control character (U+0000)"),
        ("\x07", "a control character (U+0007)"),
        ("\x7f", "a control character (U+007F)"),
        ("\x9b", "a control character (U+009B)"),
        ("\uffff", "a character that is not text (U+FFFF)"),
        ("\ufeff", "a byte order mark (U+FEFF, invisible; it belongs only at the start of a file)"),
        ("\x85", "an invisible line break (U+0085 NEXT LINE)"),
        ("\u2028", "an invisible line break (U+2028 LINE SEPARATOR)"),
    ],
)
def test_a_character_yaml_refuses_is_named_by_line_column_and_code_point(
    cli: Any, motion: Path, char: str, what: str
) -> None:
    edit(motion, "title: Adopt the new", f"title: Adopt{char} the new")
    n = line_of(motion, "title: Adopt")
    run = cli("validate", MOTION)
    assert run.code == 2
    assert run.err == (
        f"error: {motion}:{n}: column 13: {what} is not allowed in a motion file; remove it\n"
    )
    assert char not in run.err + run.out


def test_every_line_with_a_control_character_is_listed_once(cli: Any, motion: Path) -> None:
    edit(motion, "title: Adopt the new", "title: \x1b[31mAdopt\x1b[0m the new")
    edit(motion, "proposer: jon-lansman", "proposer: jon\x00-lansman")
    lines = failing(cli, "validate", MOTION)
    title, proposer = line_of(motion, "title:"), line_of(motion, "proposer:")
    assert lines == [
        f"{motion}: 2 problems:",
        f"{motion}:{title}: column 8: a control character (U+001B) is not allowed in a motion "
        "file; remove it (and 1 more on this line)",
        f"{motion}:{proposer}: column 14: a control character (U+0000) is not allowed in a "
        "motion file; remove it",
    ]


def test_a_control_character_in_the_committee_file_is_listed_with_the_motion_problems(
    cli: Any, motion: Path
) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "name: Sam Tarry", "name: Sam\x1b Tarry")
    edit(motion, "threshold: majority-of-members", "threshold: most")
    lines = failing(cli, "validate", MOTION)
    assert lines[0] == "2 problems:"
    assert lines[1].startswith(f"{motion}:{line_of(motion, 'threshold')}: threshold: unknown")
    assert lines[2] == (
        f"{committee}:{line_of(committee, 'Sam')}: column 14: a control character (U+001B) "
        "is not allowed in a committee file; remove it"
    )


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (
            "latin-1",
            "column 17: byte 0xE9 is not UTF-8 text: the file was saved in another encoding "
            "(such as Windows-1252 or Latin-1); save it as UTF-8",
        ),
        ("utf-16", "the file is saved as UTF-16 text: save it as UTF-8"),
        ("utf-16-le", "the file is saved as UTF-16 text: save it as UTF-8"),
    ],
)
def test_a_motion_file_in_another_encoding_says_so(
    cli: Any, motion: Path, raw: str, said: str
) -> None:
    text = motion.read_text(encoding="utf-8").replace("title: Adopt the", "title: Adopt café the")
    motion.write_bytes(text.encode(raw))
    (line,) = failing(cli, "validate", MOTION)
    assert line.startswith(str(motion)) and said in line


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("quorum: !!int seven", "a YAML tag (!!int) is not read in steervote files"),
        ("quorum: !!float 7", "a YAML tag (!!float) is not read in steervote files"),
        ("quorum: !!timestamp 2027-13-01", "a YAML tag (!!timestamp) is not read"),
        ("quorum: !!python/object:os.system x", "a YAML tag (!!python/object:os.system)"),
        ("quorum: !!binary '%%%'", "a YAML tag (!!binary)"),
        ("quorum: !!set {a, b}", "a YAML tag (!!set)"),
        ("quorum: !custom 7", "a YAML tag (!custom)"),
        ("quorum: " + "7" * 5000, "a number of 5000 digits is too long to read"),
        ('quorum: "C:\\papers"', "\\p is not an escape YAML knows inside double quotes"),
        ("quorum: &  seven", "a value that starts with & is read as a YAML anchor"),
        ("quorum: |x", "after | or > only a comment may follow on the same line"),
        ("quorum: ]", "a value cannot start with ]: put it in quotes"),
        ("[quorum]: 7", "a field name cannot be a list or a mapping"),
        ("<<: 7", "<<: merges in the fields of an anchored mapping"),
        ("quorum: 7\n---\nid: other", "a second YAML document starts here (---)"),
    ],
)
def test_rarer_yaml_mistakes_are_said_in_plain_words(
    cli: Any, motion: Path, value: str, said: str
) -> None:
    edit(motion, "quorum: 7 ", value + " ")
    (line,) = failing(cli, "validate", MOTION)
    assert line.startswith(f"{motion}:")
    assert said in line, line
    for python in ("ValueError", "invalid literal", "constructor", "tag:yaml.org", "<scalar>"):
        assert python not in line


def test_a_text_tag_is_still_allowed(cli: Any, motion: Path) -> None:
    edit(motion, "title: Adopt the new constitution", "title: !!str 2027")
    run = cli("validate", MOTION)
    assert run.code == 0, run.err


def test_a_duplicate_anchor_names_both_lines(cli: Any, motion: Path) -> None:
    edit(motion, "quorum: 7 ", "quorum: &n 7 ")
    edit(motion, "require_token: false", "require_token: &n false")
    (line,) = failing(cli, "validate", MOTION)
    assert line == (
        f"{motion}:{line_of(motion, 'require_token')}: YAML syntax error: the anchor &n is given "
        f"twice (first on line {line_of(motion, 'quorum')}): give each anchor its own name"
    )


# --- 3. a clash of addresses hides nothing ------------------------------------------------


def test_an_alias_clash_hides_neither_the_committee_nor_the_motion_problems(
    cli: Any, motion: Path
) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(
        committee,
        "    email: marsha-jane.thompson@momentum.example",
        "    email: marsha-jane.thompson@momentum.example\n    aliases: [sam@tarry.example]",
    )
    edit(committee, "  - name: Martyn Cook\n", "  - name: Martyn Cook\n    role: [x]\n")
    edit(motion, "quorum: 7 ", "quorum: 70 ")
    edit(motion, "closes: 7d ", "closes: 2027-13-01T10:00 ")
    lines = failing(cli, "validate", MOTION)
    assert lines == [
        "4 problems:",
        f"{motion}:{line_of(motion, 'quorum')}: quorum: 70 is more than the 12 voting members",
        f"{motion}:{line_of(motion, 'closes')}: closes: '2027-13-01T10:00' is not a date: "
        "month 13 (months are 1 to 12)",
        f"{committee}:{line_of(committee, '[sam@tarry.example]  ')}: members[4].aliases: "
        "'sam@tarry.example' is also an address of Marsha Jane Thompson "
        f"(line {line_of(committee, 'name: Marsha')})",
        f"{committee}:{line_of(committee, 'role: [x]')}: members[6].role: expected text, got a "
        "list (put it in quotes)",
    ]


def test_a_member_with_a_bad_id_still_clashes_with_later_members(cli: Any, motion: Path) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(
        committee,
        "    email: marsha-jane.thompson@momentum.example",
        "    email: marsha-jane.thompson@momentum.example\n"
        "    aliases: [sam@tarry.example]\n    id: Marsha",
    )
    lines = failing(cli, "validate", MOTION)
    assert lines[0] == f"{committee}: 2 problems:"
    assert lines[1].startswith(
        f"{committee}:{line_of(committee, 'id: Marsha')}: members[2].id: bad member id 'Marsha'"
    )
    assert lines[2].startswith(
        f"{committee}:{line_of(committee, '[sam@tarry.example]  ')}: members[4].aliases: "
        "'sam@tarry.example' is also an address of Marsha Jane Thompson"
    )


def test_an_inline_committee_with_a_clash_still_checks_the_deadline(
    cli: Any, isolated: Path
) -> None:
    path = isolated / "inline.yaml"
    path.write_text(
        "id: inline\ntitle: T\ntext: T\nproposer: nobody\nthreshold: unanimous\n"
        "closes: 2027-02-29T10:00+00:00\nname: Board\nmembers:\n"
        "  - {name: Ada, email: ada@example.org}\n"
        "  - {name: Bo, email: ada@example.org}\n",
        encoding="utf-8",
    )
    lines = failing(cli, "validate", "inline.yaml")
    assert lines == [
        "inline.yaml: 2 problems:",
        "inline.yaml:6: closes: '2027-02-29T10:00+00:00' is not a date: 29 February 2027 "
        "(2027 is not a leap year)",
        "inline.yaml:10: members[2].email: 'ada@example.org' is also an address of Ada (line 9)",
    ]


# --- 4. an impossible deadline says which part -----------------------------------------------


@pytest.mark.parametrize(
    ("closes", "said"),
    [
        ("2027-13-01", "'2027-13-01' is not a date: month 13 (months are 1 to 12)"),
        ("2027-13-01T10:00", "'2027-13-01T10:00' is not a date: month 13 (months are 1 to 12)"),
        ("2027-00-10T10:00", "'2027-00-10T10:00' is not a date: month 0 (months are 1 to 12)"),
        ("2027-06-31T10:00", "'2027-06-31T10:00' is not a date: day 31 (June has 30 days)"),
        ("2027-06-00T10:00", "'2027-06-00T10:00' is not a date: day 0 (days start at 1)"),
        (
            "2027-02-29 10:00",
            "'2027-02-29 10:00' is not a date: 29 February 2027 (2027 is not a leap year)",
        ),
        ("2027-02-01T25:00", "'2027-02-01T25:00' is not a time: hour 25 (hours are 0 to 23)"),
        (
            "2027-02-01T24:00",
            "'2027-02-01T24:00' is not a time: hour 24 (hours are 0 to 23; write 23:59, or "
            "00:00 of the next day)",
        ),
        ("2027-02-01T10:61", "'2027-02-01T10:61' is not a time: minute 61 (minutes are 0 to 59)"),
        (
            "2027-02-01T10:00:60",
            "'2027-02-01T10:00:60' is not a time: second 60 (seconds are 0 to 59)",
        ),
        (
            "2027-02-01T10:00+25:00",
            "'2027-02-01T10:00+25:00': the UTC offset +25:00 is impossible (an offset is at "
            "most 23:59 ahead of or behind UTC, e.g. +01:00)",
        ),
        (
            "2027-02-01T10:00 Europe/London",
            "'2027-02-01T10:00 Europe/London': a timezone name after the time is not read: "
            "write a UTC offset (e.g. +01:00), or leave it out to use the committee's timezone",
        ),
        (
            "2027-2-1 10:00",
            "cannot read '2027-2-1 10:00': write each part with two digits (e.g. 2027-02-01T10:00)",
        ),
        ("7 days", "cannot read '7 days': write 7d (units are w, d, h and m)"),
        ("2 weeks 3 hours", "cannot read '2 weeks 3 hours': write 2w 3h (units are w, d, h and m)"),
        ("48H", "cannot read '48H': write 48h (units are w, d, h and m)"),
        ("30M", "cannot read '30M': M could be months or minutes: write 30m for minutes"),
        (
            "1y",
            "cannot read '1y': a duration is counted in weeks, days, hours and minutes "
            "(w, d, h, m), not months or years: write e.g. 4w, or the date and time",
        ),
        (
            "3 fortnights",
            "cannot read '3 fortnights': 'fortnights' is not a unit (write w, d, h or m for "
            "weeks, days, hours or minutes, e.g. 7d)",
        ),
    ],
)
def test_an_impossible_deadline_says_which_part_is_impossible(
    cli: Any, motion: Path, closes: str, said: str
) -> None:
    edit(motion, "closes: 7d ", f"closes: {closes} ")
    assert failing(cli, "validate", MOTION) == [
        f"{motion}:{line_of(motion, 'closes:')}: closes: {said}"
    ]


def test_a_leap_day_and_a_thirtieth_of_june_are_dates(cli: Any, motion: Path) -> None:
    for closes in ("2096-02-29T10:00", "2096-06-30T23:59:59"):
        text = motion.read_text(encoding="utf-8")
        motion.write_text(
            "\n".join(
                f"closes: {closes}" if line.startswith("closes:") else line
                for line in text.splitlines()
            ),
            encoding="utf-8",
        )
        run = cli("validate", MOTION)
        assert run.code == 0, run.err


# --- 5. no Python message reaches the user ---------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe", "Europe/", "../etc", "a" * 300])
def test_a_timezone_that_is_a_folder_or_a_path_is_an_unknown_timezone(
    cli: Any, motion: Path, zone: str
) -> None:
    committee = motion.parent / "committees" / "steering-group.yaml"
    edit(committee, "timezone: Europe/London", f"timezone: {zone}")
    (line,) = failing(cli, "validate", MOTION)
    assert f"timezone: unknown timezone '{zone}'"[:60] in line
    assert "Errno" not in line and "ZoneInfo" not in line


def test_a_config_timezone_is_checked(cli: Any, isolated: Path) -> None:
    config = isolated / "steervote.toml"
    config.write_text('[ballot]\ntimezone = "Europe"\n')
    assert failing(cli, "status") == [
        f"{config}: [ballot] timezone: \"Europe\" is not a timezone (did you mean 'Europe/Rome'?)"
    ]


def test_an_attachment_that_is_a_loop_of_links(cli: Any, motion: Path) -> None:
    papers = motion.parent / "papers"
    (papers / "loop.pdf").symlink_to("loop.pdf")
    edit(motion, "  - papers/momentum-constitution.pdf", "  - papers/loop.pdf")
    (line,) = failing(cli, "validate", MOTION)
    assert line == (
        f"{motion}:{line_of(motion, 'papers/loop.pdf')}: attachments: 'papers/loop.pdf': is a "
        "link that leads back to itself (a loop of links)"
    )


def _csv_committee(motion: Path, raw: bytes) -> Path:
    committee = motion.parent / "committees" / "steering-group.yaml"
    committee.write_text("name: Steering Group\nmembers_csv: members.csv\n", encoding="utf-8")
    members = motion.parent / "committees" / "members.csv"
    members.write_bytes(raw)
    edit(motion, "proposer: jon-lansman", "proposer: ada")
    edit(motion, "quorum: 7", "quorum: 1")
    return members


def test_a_members_csv_not_in_utf8_names_the_line(cli: Any, motion: Path) -> None:
    members = _csv_committee(motion, b"name,email\nAda,ada@example.org\nJos\xe9,jose@example.org\n")
    assert failing(cli, "validate", MOTION) == [
        f"{members}:3: column 4: byte 0xE9 is not UTF-8 text: the file was saved in another "
        "encoding (such as Windows-1252 or Latin-1); save it as UTF-8"
    ]


def test_a_members_csv_with_a_quote_never_closed(cli: Any, motion: Path) -> None:
    members = _csv_committee(
        motion, b'name,email\nAda,ada@example.org\n"Bo,bo@example.org\n' + b"x" * 140_000 + b"\n"
    )
    (line,) = failing(cli, "validate", MOTION)
    assert (
        line.startswith(f"{members}:") and 'is a quote (") opened above and never closed?' in line
    )
