"""Loading and validating motion, committee and member CSV files.

Every invalid case checks the whole one-line message: file, line, field and what is wrong.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steervote.core.address import _problem, address_problem, is_email_address
from steervote.core.committee_file import load_committee
from steervote.core.deadline import parse_closes
from steervote.core.motion import CastingVote, Committee, Member, Motion, Observer, Threshold
from steervote.core.motion_file import load_motion
from steervote.core.slug import is_slug, slugify
from steervote.errors import ExitCode, MotionInvalid

EXAMPLES = Path(__file__).resolve().parent.parent / "motions"
NOW = datetime(2026, 1, 10, 19, 39, tzinfo=UTC)

MOTION = """\
id: budget-2026
title: Approve the budget
committee: board
text: That the board approves the budget.
proposer: ada-lovelace
threshold: majority-of-votes-cast
quorum: 2
closes: 48h
"""

COMMITTEE = """\
name: The Board
timezone: Europe/London
members:
  - name: Ada Lovelace
    email: ada@example.org
    role: chair
  - name: Charles Babbage
    email: charles@example.org
    aliases: [cb@example.net]
  - name: Mary Somerville
    email: mary@example.org
observers:
  - Grace Hopper <grace@example.org>
"""


def write(
    folder: Path,
    motion: str = MOTION,
    committee: str | None = COMMITTEE,
    files: dict[str, str] | None = None,
) -> Path:
    """Write a motion (and its committee and other files) into folder; the motion's path."""
    (folder / "committees").mkdir(exist_ok=True)
    if committee is not None:
        (folder / "committees" / "board.yaml").write_text(committee, encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "budget-2026.yaml"
    path.write_text(motion, encoding="utf-8")
    return path


def edit(text: str, old: str, new: str) -> str:
    """The text with one exact line fragment replaced (failing loudly if it is not there)."""
    assert old in text, old
    return text.replace(old, new, 1)


def error_of(path: Path) -> str:
    """The message of the MotionInvalid that loading the motion raises."""
    with pytest.raises(MotionInvalid) as caught:
        load_motion(path, now=NOW)
    message = str(caught.value)
    assert "\n" not in message
    return message


# The example motion, true to the seed email.


def test_example_motion_loads() -> None:
    motion = load_motion(EXAMPLES / "new-constitution.yaml", now=NOW)

    assert motion.id == "new-constitution"
    assert motion.title == "Adopt the new constitution"
    assert motion.text.startswith("That the National Steering Group")
    assert "individual" in motion.text and "consent" in motion.text
    assert motion.threshold is Threshold.MAJORITY_OF_MEMBERS
    assert motion.quorum == 7
    assert motion.closes == NOW + timedelta(days=7)
    assert motion.closes.tzinfo is UTC
    assert motion.closes_spec == "7d"  # as written: propose keeps the first run's deadline
    assert motion.proposer == "jon-lansman"
    assert motion.casting_vote is CastingVote.NONE
    assert motion.require_token is False
    assert motion.authority
    assert motion.electorate == 12
    assert motion.member("jon-lansman").role == "chair"
    assert motion.member("cecile-wright").name == "Professor Cecile Wright"
    assert motion.member("sam-tarry").addresses() == (
        "sam.tarry@momentum.example",
        "sam@tarry.example",
    )
    assert [o.name for o in motion.committee.observers] == ["Emma Rees", "Adam Klug"]
    assert all(a.is_file() and a.suffix == ".pdf" for a in motion.attachments)
    assert "papers/momentum-constitution.pdf" in [
        a.relative_to(EXAMPLES).as_posix() for a in motion.attachments
    ]
    assert motion.source == EXAMPLES / "new-constitution.yaml"


def test_example_papers_are_small_pdfs() -> None:
    for paper in (EXAMPLES / "papers").glob("*.pdf"):
        data = paper.read_bytes()
        assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
        assert len(data) < 1024


def test_example_committee_loads() -> None:
    committee = load_committee(EXAMPLES / "committees" / "steering-group.yaml")

    assert committee.id == "steering-group"
    assert committee.name == "National Steering Group"
    assert committee.timezone == "Europe/London"
    assert len(committee.members) == 12
    assert committee.observers[0] == Observer("Emma Rees", "emma.rees@momentum.example")
    assert all(m.email.endswith("@momentum.example") for m in committee.members)


# Valid variations.


def test_small_motion_loads(tmp_path: Path) -> None:
    motion = load_motion(write(tmp_path), now=NOW)

    assert motion == Motion(
        id="budget-2026",
        title="Approve the budget",
        text="That the board approves the budget.",
        committee=Committee(
            id="board",
            name="The Board",
            timezone="Europe/London",
            members=(
                Member("ada-lovelace", "Ada Lovelace", "ada@example.org", (), "chair"),
                Member(
                    "charles-babbage", "Charles Babbage", "charles@example.org", ("cb@example.net",)
                ),
                Member("mary-somerville", "Mary Somerville", "mary@example.org"),
            ),
            observers=(Observer("Grace Hopper", "grace@example.org"),),
        ),
        proposer="ada-lovelace",
        threshold=Threshold.MAJORITY_OF_VOTES_CAST,
        quorum=2,
        closes=NOW + timedelta(hours=48),
    )


def test_quorum_defaults_to_a_majority_of_the_voting_members(tmp_path: Path) -> None:
    motion = load_motion(write(tmp_path, edit(MOTION, "quorum: 2\n", "")), now=NOW)
    assert motion.quorum == 2  # 3 members // 2 + 1


@pytest.mark.parametrize("written", ["Ada Lovelace", "ADA@example.org", "ada lovelace"])
def test_proposer_by_name_or_address_resolves_to_the_member_id(
    tmp_path: Path, written: str
) -> None:
    path = write(tmp_path, edit(MOTION, "proposer: ada-lovelace", f"proposer: {written}"))
    assert load_motion(path, now=NOW).proposer == "ada-lovelace"


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        ("90m", NOW + timedelta(minutes=90)),
        ("3d", NOW + timedelta(days=3)),
        ("1w", NOW + timedelta(weeks=1)),
        ("1d 12h", NOW + timedelta(hours=36)),
        # Naive: the committee's timezone (London is on GMT in January, BST in July).
        ("2026-01-17T19:00", datetime(2026, 1, 17, 19, 0, tzinfo=UTC)),
        ("'2026-07-17 19:00'", datetime(2026, 7, 17, 18, 0, tzinfo=UTC)),
        ("2026-01-17T19:00:00+01:00", datetime(2026, 1, 17, 18, 0, tzinfo=UTC)),
        ("2026-01-17T19:00Z", datetime(2026, 1, 17, 19, 0, tzinfo=UTC)),
    ],
)
def test_closes(tmp_path: Path, closes: str, expected: datetime) -> None:
    path = write(tmp_path, edit(MOTION, "closes: 48h", f"closes: {closes}"))
    assert load_motion(path, now=NOW).closes == expected


def test_inline_committee(tmp_path: Path) -> None:
    motion = MOTION.replace("committee: board\n", "") + (
        "name: Budget working group\n"
        "members:\n"
        "  - {name: Ada Lovelace, email: ada@example.org}\n"
        "  - {name: Ángel Núñez, email: angel@example.org, role: Chair}\n"
        "observers:\n"
        "  - {name: Grace Hopper, email: grace@example.org}\n"
        "  - hopper@example.org\n"
    )
    loaded = load_motion(write(tmp_path, motion, committee=None), now=NOW)

    assert loaded.committee.id == "budget-2026"
    assert loaded.committee.name == "Budget working group"
    assert loaded.committee.timezone == "UTC"
    assert [m.id for m in loaded.committee.members] == ["ada-lovelace", "angel-nunez"]
    assert loaded.member("angel-nunez").role == "chair"
    assert loaded.committee.observers == (
        Observer("Grace Hopper", "grace@example.org"),
        Observer("", "hopper@example.org"),
    )


def test_members_from_a_csv_named_by_the_motion(tmp_path: Path) -> None:
    motion = MOTION.replace("committee: board\n", "") + "name: Members\nmembers: members.csv\n"
    members = (
        "Name,Email,Aliases,id\n"
        "Ada Lovelace,ada@example.org,ada@home.example; a.l@example.net,\n"
        "Charles Babbage,charles@example.org,cb@example.net cb2@example.net,cb\n"
        "\n"
        'Mary Somerville,mary@example.org,"",\n'
    )
    loaded = load_motion(write(tmp_path, motion, None, {"members.csv": members}), now=NOW)

    assert loaded.committee.members == (
        Member(
            "ada-lovelace",
            "Ada Lovelace",
            "ada@example.org",
            ("ada@home.example", "a.l@example.net"),
        ),
        Member(
            "cb", "Charles Babbage", "charles@example.org", ("cb@example.net", "cb2@example.net")
        ),
        Member("mary-somerville", "Mary Somerville", "mary@example.org"),
    )


def test_committee_file_names_a_members_csv(tmp_path: Path) -> None:
    committee = "name: The Board\nmembers_csv: board.csv\n"
    write(
        tmp_path,
        committee=committee,
        files={"committees/board.csv": "name,email\nAda Lovelace,ada@example.org\n"},
    )
    loaded = load_committee(tmp_path / "committees" / "board.yaml")
    assert loaded.members == (Member("ada-lovelace", "Ada Lovelace", "ada@example.org"),)


def test_twenty_thousand_members_load_fast(tmp_path: Path) -> None:
    first = ["Ada", "Bücher", "Chloé", "Dáithí", "Eamon", "Fatima", "Grzegorz", "Hélène"]
    last = ["Lovelace", "Núñez", "O'Brien", "Smith", "Øster", "Wright"]
    rows = ["name,email,aliases"]
    for n in range(20_000):
        name = f"{first[n % len(first)]} {last[n // len(first) % len(last)]} {n}"
        rows.append(f"{name},member{n}@example.org,m{n}@home.example")
    committee = "name: Momentum\ntimezone: Europe/London\nmembers_csv: members.csv\n"
    write(tmp_path, committee=committee, files={"committees/members.csv": "\n".join(rows) + "\n"})

    started = time.process_time()
    motion = load_motion(
        write(tmp_path, edit(MOTION, "ada-lovelace", "ada-lovelace-0"), committee), now=NOW
    )
    elapsed = time.process_time() - started

    print(f"20,000 members loaded in {elapsed:.3f} s of CPU")
    assert motion.electorate == 20_000
    assert motion.member("chloe-oster-34").email == "member34@example.org"
    assert motion.member("bucher-obrien-17").aliases == ("m17@home.example",)
    # Aim: < 1 s. CPU time with a loose bound: it catches a quadratic load, not a busy machine.
    assert elapsed < 10


# Invalid motions: each with its whole message. {m} is the motion file, {c} the committee file.

INVALID_MOTIONS = [
    pytest.param(
        edit(MOTION, "title: Approve the budget\n", ""),
        COMMITTEE,
        "{m}:1: title: missing required field",
        id="missing-title",
    ),
    pytest.param(
        edit(MOTION, "title:", "titel:"),
        COMMITTEE,
        "{m}:2: titel: unknown field (did you mean 'title'?)",
        id="unknown-field",
    ),
    pytest.param(
        edit(MOTION, "title: Approve the budget", "title:"),
        COMMITTEE,
        "{m}:2: title: must not be empty",
        id="empty-title",
    ),
    pytest.param(
        edit(MOTION, "id: budget-2026", "id: Budget 2026"),
        COMMITTEE,
        "{m}:1: id: bad motion id 'Budget 2026': use lowercase letters, digits and single hyphens, "
        "e.g. 'budget-2026'",
        id="bad-motion-id",
    ),
    pytest.param(
        edit(MOTION, "committee: board", "committee: The Board"),
        COMMITTEE,
        "{m}:3: committee: bad committee id 'The Board': use lowercase letters, digits and single "
        "hyphens, e.g. 'the-board'",
        id="bad-committee-id",
    ),
    pytest.param(
        edit(MOTION, "committee: board", "committee: bored"),
        COMMITTEE,
        "{m}:3: committee: no committee 'bored': {d}/committees/bored.yaml does not exist "
        "(did you mean 'board'?)",
        id="no-committee-file",
    ),
    pytest.param(
        MOTION + "members: []\n",
        COMMITTEE,
        "{m}:9: members: the committee is 'board': write members in its file, "
        "or leave out committee: to write the committee here",
        id="committee-and-inline-members",
    ),
    pytest.param(
        edit(MOTION, "committee: board\n", ""),
        COMMITTEE,
        "{m}:1: committee: missing required field (the id of a file in committees/, or members: "
        "inline)",
        id="no-committee",
    ),
    pytest.param(
        edit(MOTION, "proposer: ada-lovelace", "proposer: alan-turing"),
        COMMITTEE,
        "{m}:5: proposer: 'alan-turing' is not a member of The Board",
        id="proposer-not-a-member",
    ),
    pytest.param(
        edit(MOTION, "proposer: ada-lovelace", "proposer: ada-lovelase"),
        COMMITTEE,
        "{m}:5: proposer: 'ada-lovelase' is not a member of The Board (did you mean "
        "'ada-lovelace'?)",
        id="proposer-misspelt",
    ),
    pytest.param(
        edit(MOTION, "proposer: ada-lovelace", "proposer: Grace Hopper"),
        COMMITTEE,
        "{m}:5: proposer: 'Grace Hopper' is an observer, not a member of The Board",
        id="proposer-is-an-observer",
    ),
    pytest.param(
        edit(MOTION, "threshold: majority-of-votes-cast", "threshold: majority"),
        COMMITTEE,
        "{m}:6: threshold: unknown threshold 'majority' (expected one of: majority-of-votes-cast, "
        "majority-of-members, two-thirds-of-votes-cast, two-thirds-of-members, unanimous)",
        id="unknown-threshold",
    ),
    pytest.param(
        edit(MOTION, "quorum: 2", "quorum: two"),
        COMMITTEE,
        "{m}:7: quorum: expected a whole number, got text",
        id="quorum-text",
    ),
    pytest.param(
        edit(MOTION, "quorum: 2", "quorum: 2.5"),
        COMMITTEE,
        "{m}:7: quorum: expected a whole number, got the number 2.5",
        id="quorum-fraction",
    ),
    pytest.param(
        edit(MOTION, "quorum: 2", "quorum: 0"),
        COMMITTEE,
        "{m}:7: quorum: must be at least 1, got 0",
        id="quorum-zero",
    ),
    pytest.param(
        edit(MOTION, "quorum: 2", "quorum: 4"),
        COMMITTEE,
        "{m}:7: quorum: 4 is more than the 3 voting members",
        id="quorum-above-electorate",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: next week"),
        COMMITTEE,
        "{m}:8: closes: cannot read 'next week': expected a duration (48h, 3d, 90m, 1w) "
        "or an ISO 8601 date-time (2017-01-17T19:00)",
        id="closes-unreadable",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: 2017-01-17T19:00Z"),
        COMMITTEE,
        "{m}:8: closes: '2017-01-17T19:00Z' is in the past (now is 2026-01-10 19:39 UTC)",
        id="closes-in-the-past",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: 0h"),
        COMMITTEE,
        "{m}:8: closes: '0h' is not in the future",
        id="closes-zero-duration",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: 2026-01-17"),
        COMMITTEE,
        "{m}:8: closes: '2026-01-17' has no time of day (write e.g. 2026-01-17T23:59)",
        id="closes-date-only",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: 2026-01-17T19:00"),
        edit(COMMITTEE, "timezone: Europe/London\n", ""),
        "{m}:8: closes: '2026-01-17T19:00' has no UTC offset and the committee has no timezone "
        "(add an offset such as +00:00, or timezone: to the committee)",
        id="closes-naive-without-timezone",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: 2026-03-29T01:30"),
        COMMITTEE,
        "{m}:8: closes: '2026-03-29T01:30' does not exist in Europe/London (the clocks change); "
        "add a UTC offset",
        id="closes-in-the-spring-gap",
    ),
    pytest.param(
        edit(MOTION, "closes: 48h", "closes: 2026-10-25T01:30"),
        COMMITTEE,
        "{m}:8: closes: '2026-10-25T01:30' happens twice in Europe/London (the clocks change); "
        "add a UTC offset",
        id="closes-in-the-autumn-repeat",
    ),
    pytest.param(
        MOTION + "require_token: 'false'\n",
        COMMITTEE,
        "{m}:9: require_token: expected true or false, got text",
        id="require-token-not-a-bool",
    ),
    pytest.param(
        MOTION + "casting_vote: president\n",
        COMMITTEE,
        "{m}:9: casting_vote: unknown casting vote 'president' (expected none or chair)",
        id="unknown-casting-vote",
    ),
    pytest.param(
        MOTION + "casting_vote: chair\n",
        edit(COMMITTEE, "    role: chair\n", ""),
        "{m}:9: casting_vote: 'chair' needs exactly one chair, but no member has role: chair",
        id="casting-vote-without-a-chair",
    ),
    pytest.param(
        MOTION + "attachments:\n  - papers/budget.pdf\n",
        COMMITTEE,
        "{m}:10: attachments: 'papers/budget.pdf': no such file (looked for {d}/papers/budget.pdf)",
        id="attachment-missing",
    ),
    pytest.param(
        MOTION + "links: [www.example.org/budget]\n",
        COMMITTEE,
        "{m}:9: links: 'www.example.org/budget' is not an http:// or https:// address",
        id="link-not-a-web-address",
    ),
    pytest.param(
        edit(MOTION, "title: Approve the budget", "title: [Approve the budget"),
        COMMITTEE,
        "{m}:2: YAML syntax error: a value that starts with [ is read as a YAML list and "
        "this one is not closed: if it is text, put the whole value in quotes",
        id="yaml-syntax-error",
    ),
    pytest.param(
        MOTION + "quorum: 3\n",
        COMMITTEE,
        "{m}:9: YAML syntax error: 'quorum' is given twice (first on line 7)",
        id="yaml-duplicate-key",
    ),
    pytest.param(
        "- id: budget-2026\n- title: Approve the budget\n",
        COMMITTEE,
        "{m}:1: expected a mapping of fields (name: value), got a list",
        id="yaml-not-a-mapping",
    ),
    pytest.param("", COMMITTEE, "{m}: the file is empty", id="empty-file"),
    # The committee file.
    pytest.param(
        MOTION,
        edit(COMMITTEE, "timezone: Europe/London", "timezone: Europe/Londn"),
        "{c}:2: timezone: unknown timezone 'Europe/Londn' (did you mean 'Europe/London'?)",
        id="unknown-timezone",
    ),
    pytest.param(
        MOTION,
        "name: The Board\nmembers: []\n",
        "{c}:2: members: no voting members",
        id="empty-electorate",
    ),
    pytest.param(
        MOTION,
        "name: The Board\nmembers: Ada, Charles\n",
        "{c}:2: members: no such file 'Ada, Charles' (looked for {d}/committees/Ada, Charles)",
        id="members-text-is-a-csv-name",
    ),
    pytest.param(
        MOTION,
        "name: The Board\nmembers:\n  name: Ada Lovelace\n  email: ada@example.org\n",
        "{c}:2: members: expected a list of members or the name of a CSV file, got a mapping "
        "(key: value)",
        id="members-not-a-list",
    ),
    pytest.param(
        MOTION,
        "members:\n  - {name: Ada Lovelace, email: ada@example.org}\n"
        "  - {name: Mary Somerville, email: mary@example.org}\n",
        "{c}:1: name: missing required field",
        id="committee-without-name",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "  - name: Mary Somerville\n", "  - nmae: Mary Somerville\n"),
        "{c}:10: members[3].nmae: unknown field (did you mean 'name'?)",
        id="member-unknown-field",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "    email: mary@example.org\n", ""),
        "{c}:10: members[3].email: missing required field",
        id="member-without-email",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "    role: chair\n", "    id: Ada\n"),
        "{c}:6: members[1].id: bad member id 'Ada': use lowercase letters, digits and single "
        "hyphens, "
        "e.g. 'ada'",
        id="bad-member-id",
    ),
    pytest.param(
        MOTION,
        edit(
            edit(COMMITTEE, "    role: chair\n", "    id: ada\n"),
            "    email: mary@example.org\n",
            "    email: mary@example.org\n    id: ada\n",
        ),
        "{c}:12: members[3].id: duplicate member id 'ada' (also line 4)",
        id="duplicate-member-id",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "Mary Somerville", "Ada  Lovelace"),
        "{c}:10: members[3].name: member id 'ada-lovelace' is also the id of Ada Lovelace (line "
        "4); "
        "give one of them an explicit id",
        id="clashing-generated-ids",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "email: mary@example.org", "email: Charles@Example.org"),
        "{c}:11: members[3].email: 'Charles@Example.org' is also an address of Charles Babbage "
        "(line 7)",
        id="duplicate-email",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "aliases: [cb@example.net]", "aliases: [MARY@example.org]"),
        "{c}:11: members[3].email: 'mary@example.org' is also an address of Charles Babbage (line "
        "7)",
        id="alias-is-another-members-email",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "email: mary@example.org", "email: mary@example"),
        "{c}:11: members[3].email: invalid email address 'mary@example': the domain 'example' has "
        "no dot",
        id="invalid-email",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "aliases: [cb@example.net]", "aliases: [Charles <cb@example.net>]"),
        "{c}:9: members[2].aliases: invalid email address 'Charles <cb@example.net>': an email "
        "address has no spaces or control characters",
        id="invalid-alias",
    ),
    pytest.param(
        MOTION,
        edit(
            COMMITTEE, "aliases: [cb@example.net]", "aliases: cb@example.net\n    role: [treasurer]"
        ),
        "{c}:10: members[2].role: expected text, got a list (put it in quotes)",
        id="role-not-text",
    ),
    pytest.param(
        MOTION,
        COMMITTEE + "  - Ada L <ADA@example.org>\n",
        "{c}:14: observers[2]: 'ADA@example.org' is the address of member Ada Lovelace "
        "(ada-lovelace); "
        "a member votes and cannot also be an observer",
        id="observer-is-a-member",
    ),
    pytest.param(
        MOTION,
        COMMITTEE + "  - Grace <grace@example>\n",
        "{c}:14: observers[2]: invalid email address 'grace@example': the domain 'example' has no "
        "dot",
        id="observer-invalid-email",
    ),
    pytest.param(
        MOTION,
        COMMITTEE + "  - Grace Hopper <grace@example.org\n",
        "{c}:14: observers[2]: cannot read 'Grace Hopper <grace@example.org': expected \"Name "
        '<address>"',
        id="observer-unreadable",
    ),
    pytest.param(
        MOTION,
        edit(COMMITTEE, "name: The Board\n", "name: The Board\nmembers_csv: board.csv\n"),
        "{c}:2: members_csv: give members or members_csv, not both",
        id="members-and-members-csv",
    ),
]


@pytest.mark.parametrize(("motion", "committee", "expected"), INVALID_MOTIONS)
def test_invalid_motion(tmp_path: Path, motion: str, committee: str, expected: str) -> None:
    path = write(tmp_path, motion, committee)
    committee_path = tmp_path / "committees" / "board.yaml"
    assert error_of(path) == expected.format(m=path, c=committee_path, d=tmp_path)


def test_motion_invalid_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(MotionInvalid) as caught:
        load_motion(tmp_path / "nowhere.yaml", now=NOW)
    assert str(caught.value) == f"{tmp_path}/nowhere.yaml: no such file"
    assert caught.value.exit_code is ExitCode.USAGE


def test_attachment_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "papers").mkdir()
    path = write(tmp_path, MOTION + "attachments: papers\n")
    assert error_of(path) == (
        f"{path}:9: attachments: 'papers': is a folder, not a file (looked for {tmp_path}/papers)"
    )


def test_committee_file_name_must_be_a_slug(tmp_path: Path) -> None:
    path = tmp_path / "Steering Group.yaml"
    path.write_text(COMMITTEE, encoding="utf-8")
    with pytest.raises(MotionInvalid) as caught:
        load_committee(path)
    assert str(caught.value) == (
        f"{path}: bad committee id 'Steering Group': the file name must be a lowercase slug "
        "such as 'steering-group'.yaml"
    )


def test_naive_now_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        load_motion(write(tmp_path), now=datetime(2026, 1, 10, 19, 39))


# Member CSV files: {f} is the CSV file.

INVALID_CSVS = [
    pytest.param("", "{f}: the file is empty (expected a header row: name,email)", id="empty"),
    pytest.param(
        "name,mail\nAda Lovelace,ada@example.org\n",
        "{f}:1: header: unknown column 'mail' (did you mean 'email'?) (expected "
        "name,email,aliases,id,role)",
        id="unknown-column",
    ),
    pytest.param(
        "name,aliases\nAda Lovelace,ada@example.org\n",
        "{f}:1: header: missing column 'email' (the header row must name name,email)",
        id="missing-column",
    ),
    pytest.param("name,email\n", "{c}:2: members_csv: no voting members", id="no-rows"),
    pytest.param(
        "name,email\nAda Lovelace,ada@example.org\nCharles Babbage,charles@example\n",
        "{f}:3: email: invalid email address 'charles@example': the domain 'example' has no dot",
        id="invalid-email",
    ),
    pytest.param(
        "name,email\nAda Lovelace,ada@example.org\nAda Lovelace,lovelace@example.org\n",
        "{f}:3: name: member id 'ada-lovelace' is also the id of Ada Lovelace (board.csv line 2); "
        "give one of them an explicit id",
        id="clashing-generated-ids",
    ),
    pytest.param(
        "name,email,aliases\nAda Lovelace,ada@example.org,\nCharles "
        "Babbage,charles@example.org,ADA@EXAMPLE.ORG\n",
        "{f}:3: aliases: 'ADA@EXAMPLE.ORG' is also an address of Ada Lovelace (board.csv line 2)",
        id="duplicate-address",
    ),
    pytest.param(
        "name,email\nAda Lovelace,\nMary Somerville,mary@example.org\n",
        "{f}:2: email: missing",
        id="missing-email",
    ),
    pytest.param(
        "name,email\nAda Lovelace,ada@example.org,extra\nMary Somerville,mary@example.org\n",
        "{f}:2: 3 fields but the header names 2",
        id="too-many-fields",
    ),
    pytest.param(
        "name,email,id\n李白,li@example.org,\nAda,ada@example.org,\n",
        "{f}:2: name: cannot make an id from the name '李白'; give an id",
        id="name-without-ascii",
    ),
]


@pytest.mark.parametrize(("csv_text", "expected"), INVALID_CSVS)
def test_invalid_members_csv(tmp_path: Path, csv_text: str, expected: str) -> None:
    committee = "name: The Board\nmembers_csv: board.csv\n"
    path = write(tmp_path, committee=committee, files={"committees/board.csv": csv_text})
    csv_path, committee_path = (
        tmp_path / "committees" / "board.csv",
        tmp_path / "committees" / "board.yaml",
    )
    assert error_of(path) == expected.format(f=csv_path, c=committee_path)


# Properties of the slug, the address check and the deadline.


@given(st.text())
def test_slugify_gives_a_slug_or_nothing(name: str) -> None:
    slug = slugify(name)
    assert slug == "" or is_slug(slug)
    assert slugify(slug) == slug


@given(st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)*", fullmatch=True))
def test_a_slug_is_its_own_slug(slug: str) -> None:
    assert is_slug(slug) and slugify(slug) == slug


@given(st.text(alphabet=st.characters(codec="latin-1", categories=["L"]), min_size=1))
def test_every_latin_name_has_an_id(name: str) -> None:
    assert is_slug(slugify(name))


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Jon Lansman", "jon-lansman"),
        ("Professor Cécile Wright", "professor-cecile-wright"),
        ("Mary-Ann O'Brien", "mary-ann-obrien"),
        ("Søren Åberg-Straße", "soren-aberg-strasse"),
        ("  Łukasz   Dąbrowski ", "lukasz-dabrowski"),
    ],
)
def test_slugify_examples(name: str, slug: str) -> None:
    assert slugify(name) == slug


_ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=10
)
_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_ADDRESSES = st.builds(
    lambda local, domain, tld: f"{'.'.join(local)}@{'.'.join(domain)}.{tld}",
    st.lists(_ATOM, min_size=1, max_size=3),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)


@given(_ADDRESSES)
def test_sound_addresses_pass(address: str) -> None:
    assert is_email_address(address)


@given(_ADDRESSES, st.sampled_from(' <>()[],;:"\\@\t\n'), st.data())
def test_a_forbidden_character_anywhere_fails(address: str, bad: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(address)))
    assert not is_email_address(address[:at] + bad + address[at:])


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ada",
        "@example.org",
        "ada@",
        "ada@example",
        "ada@@example.org",
        ".ada@example.org",
        "ada.@example.org",
        "a..da@example.org",
        "ada@example..org",
        "ada@-example.org",
        "ada@example.org.",
        "ada@10.0.0.1",
        "Ada <ada@example.org>",
        "ada@exam_ple.org",
    ],
)
def test_unsound_addresses_fail(address: str) -> None:
    assert not is_email_address(address)


@given(
    st.integers(1, 10_000), st.sampled_from([("m", 60), ("h", 3600), ("d", 86400), ("w", 604800)])
)
def test_a_duration_closes_that_long_after_now(n: int, unit: tuple[str, int]) -> None:
    closes = parse_closes(f"{n}{unit[0]}", now=NOW, timezone=None)
    assert closes == NOW + timedelta(seconds=n * unit[1])
    assert closes.tzinfo is UTC


@given(st.one_of(_ADDRESSES, st.text(max_size=80), st.from_regex(r"[a-z.]{0,70}@[a-z0-9.-]{0,70}")))
def test_the_fast_address_check_accepts_nothing_the_full_check_refuses(address: str) -> None:
    assert (address_problem(address) is None) == (_problem(address) is None)


def test_a_duration_is_elapsed_time_across_a_change_of_the_clocks() -> None:
    # London's clocks go forward at 01:00 UTC on 29 March 2026.
    before = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("Europe/London"))
    assert parse_closes("48h", now=before, timezone=None) == datetime(
        2026, 3, 30, 12, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        ("48", "{m}:8: closes: 48 has no unit (write e.g. 48h or 48d)"),
        ("true", "{m}:8: closes: expected text, got true/false (put it in quotes)"),
        ("9999999w", "{m}:8: closes: '9999999w' is too far in the future"),
    ],
)
def test_closes_of_the_wrong_kind(tmp_path: Path, closes: str, expected: str) -> None:
    path = write(tmp_path, edit(MOTION, "closes: 48h", f"closes: {closes}"))
    assert error_of(path) == expected.format(m=path)


def test_threshold_and_casting_vote_are_read_in_any_case(tmp_path: Path) -> None:
    motion = (
        edit(MOTION, "majority-of-votes-cast", "Two-Thirds-of-Members") + "casting_vote: Chair\n"
    )
    loaded = load_motion(write(tmp_path, motion), now=NOW)
    assert loaded.threshold is Threshold.TWO_THIRDS_OF_MEMBERS
    assert loaded.casting_vote is CastingVote.CHAIR


def test_a_member_written_as_text(tmp_path: Path) -> None:
    committee = (
        "name: The Board\nmembers:\n  - Ada Lovelace <ada@example.org>\n"
        "  - {name: Mary Somerville, email: mary@example.org}\n"
    )
    path = write(tmp_path, committee=committee)
    assert error_of(path) == (
        f"{tmp_path}/committees/board.yaml:3: members[1]: write a member as name: and email: "
        "fields, not as text 'Ada Lovelace <ada@example.org>'"
    )


def test_every_latin_1_letter_has_an_id() -> None:
    # Found by hypothesis: the micro sign decomposes to Greek mu, leaving no slug.
    letters = [chr(c) for c in range(256) if chr(c).isalpha()]
    assert [c for c in letters if not is_slug(slugify(c))] == []
