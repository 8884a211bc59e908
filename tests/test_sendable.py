"""What validate accepts, propose can send: every case of the issue through the CLI.

Each invalid input exits 2 with one line naming file, line and field, from `validate` and
from `propose --yes` alike, and propose then leaves nothing behind: no steervote.db, no
outbox, no message on the (real) SMTP server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from propose_kit import EVERYONE, copy_example, edit, parse, received, toml_config
from servers import SmtpServer, start_smtp

COMMITTEE = Path("motions/committees/steering-group.yaml")
MOTION = "motions/new-constitution.yaml"
FIRST_PAPER = "  - papers/momentum-constitution.pdf"


@pytest.fixture
def example(isolated: Path) -> Path:
    return copy_example(isolated)


def nothing_written(directory: Path) -> None:
    assert not (directory / "steervote.db").exists()
    assert not (directory / "mail").exists()


def refused_by_both(cli, directory: Path, *expected: str) -> str:
    """validate and propose --yes both exit 2 with one line holding `expected`; no writes."""
    for command in (("validate", MOTION), ("propose", MOTION, "--yes")):
        run = cli(*command)
        assert run.code == 2, (command, run.out, run.err)
        assert run.err.count("\n") == 1, run.err
        for text in expected:
            assert text in run.err, (text, run.err)
        assert "\x1b" not in run.err and "Traceback" not in run.err
    nothing_written(directory)
    return run.err


# --- 1. attachments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("/etc/hostname", "not an absolute one"),
        ("/proc/self/environ", "not an absolute one"),
        ("../../../../etc/passwd", "'..' leaves the motion's folder"),
        ("papers/../../steervote.toml", "'..' leaves the motion's folder"),
        ("~/.ssh/id_rsa", "not an absolute one"),
    ],
)
def test_an_attachment_outside_the_motions_folder_is_refused(
    cli, example: Path, isolated: Path, written: str, says: str
) -> None:
    edit(example, FIRST_PAPER, f"  - {written}")
    refused_by_both(cli, isolated, f"{MOTION}:30: attachments: {written!r}: ", says)


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("/proc/self/environ", "outside the motion's folder"),
        ("/etc/hostname", "outside the motion's folder"),
        ("/dev/zero", "outside the motion's folder"),
        ("/etc", "outside the motion's folder"),
    ],
)
def test_a_link_leading_outside_the_folder_is_refused(
    cli, example: Path, isolated: Path, target: str, says: str
) -> None:
    link = isolated / "motions" / "papers" / "link"
    link.symlink_to(target)
    written = "papers/link/hostname" if target == "/etc" else "papers/link"
    edit(example, FIRST_PAPER, f"  - {written}")
    refused_by_both(cli, isolated, f"{MOTION}:30: attachments:", says)


def test_a_fifo_or_device_inside_the_folder_is_refused(cli, example: Path, isolated: Path) -> None:
    os.mkfifo(isolated / "motions" / "papers" / "pipe")
    edit(example, FIRST_PAPER, "  - papers/pipe")
    refused_by_both(cli, isolated, "'papers/pipe': is not a regular file")


def test_a_huge_attachment_is_refused_by_its_size_without_reading_it(
    cli, example: Path, isolated: Path
) -> None:
    with (isolated / "motions" / "papers" / "huge.pdf").open("wb") as f:
        f.truncate(2_000_000_000)  # Sparse: 2 GB that take no disk, and must not be read.
    edit(example, FIRST_PAPER, "  - papers/huge.pdf")
    refused_by_both(
        cli,
        isolated,
        f"{MOTION}:30: attachments: 'papers/huge.pdf': is 2000.0 MB; a ballot carries at most "
        "20.0 MB of attachments ([ballot] max_attachment_bytes",
    )


def test_the_attachment_limit_is_per_ballot_and_configurable(
    cli, example: Path, isolated: Path
) -> None:
    sizes = [p.stat().st_size for p in sorted((isolated / "motions" / "papers").iterdir())]
    toml_config(isolated)
    text = (isolated / "steervote.toml").read_text()
    limit = sum(sizes) - 1
    (isolated / "steervote.toml").write_text(
        text.replace("[ballot]\n", f"[ballot]\nmax_attachment_bytes = {limit}\n")
    )
    run = cli("validate", MOTION)
    assert run.code == 2
    assert f"{MOTION}:33: attachments: 'papers/momentum-members-survey-16-17.pdf': brings" in (
        run.err
    )
    (isolated / "steervote.toml").write_text(
        text.replace("[ballot]\n", f"[ballot]\nmax_attachment_bytes = {limit + 1}\n")
    )
    assert cli("validate", MOTION).code == 0


def test_a_server_whose_size_limit_the_ballot_exceeds_is_refused_before_recording(
    cli, example: Path, isolated: Path, smtp_server: SmtpServer
) -> None:
    # aiosmtpd announces SIZE 33554432 (32 MiB); 30 MB of papers are 40 MB in base64.
    with (isolated / "motions" / "papers" / "big.pdf").open("wb") as f:
        f.truncate(30_000_000)
    edit(example, FIRST_PAPER, "  - papers/big.pdf")
    smtp = f'host = "{smtp_server.host}"\nport = {smtp_server.port}\nsecurity = "none"'
    toml_config(isolated, smtp=smtp)
    text = (isolated / "steervote.toml").read_text()
    (isolated / "steervote.toml").write_text(
        text.replace("[ballot]\n", "[ballot]\nmax_attachment_bytes = 50000000\n")
    )
    assert cli("validate", MOTION).code == 0
    run = cli("propose", MOTION, "--yes")
    assert run.code == 2, run.err
    assert "takes messages of at most 33554432 bytes" in run.err
    assert "nothing was recorded" in run.err
    nothing_written(isolated)
    assert smtp_server.messages == []


# --- 2. header fields ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("escape", "what"),
    [
        ("\\r", "U+000D CARRIAGE RETURN"),
        ("\\N", "U+0085 NEXT LINE"),
        ("\\L", "U+2028 LINE SEPARATOR"),
        ("\\P", "U+2029 PARAGRAPH SEPARATOR"),
        ("\\x1b[2J", "U+001B ESCAPE"),
        ("\\0", "U+0000 NUL"),
    ],
)
def test_a_title_that_is_not_one_header_line_is_refused(
    cli, example: Path, isolated: Path, escape: str, what: str
) -> None:
    edit(example, "title: Adopt the new constitution", f'title: "Adopt the{escape} constitution"')
    refused_by_both(cli, isolated, f"{MOTION}:5: title: must be one line", what)


@pytest.mark.parametrize("escape", ["\\r", "\\N", "\\L", "\\P", "\\0", "\\t"])
def test_a_member_name_that_is_not_one_header_line_is_refused(
    cli, example: Path, isolated: Path, escape: str
) -> None:
    edit(isolated / COMMITTEE, "name: Martyn Cook", f'name: "Martyn{escape}Cook"')
    refused_by_both(cli, isolated, f"{COMMITTEE}:19: members[6].name: must be one line")


def test_a_nul_in_a_member_name_is_refused_before_either_store(
    cli, example: Path, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEERVOTE_DATABASE_URL", database_url)
    edit(isolated / COMMITTEE, "name: Martyn Cook", 'name: "Martyn\\0Cook"')
    run = cli("propose", MOTION, "--yes")
    assert run.code == 2 and "U+0000 NUL" in run.err
    assert not (isolated / "mail").exists()


@pytest.mark.parametrize("character", ["\r", "\x85", "\u2028", "\u2029", "\x1b"])
def test_a_csv_member_name_that_is_not_one_header_line_is_refused(
    cli, example: Path, isolated: Path, character: str
) -> None:
    members = "name,email\nAda Lovelace,ada@example.org\n" + (
        f'"Charles{character}Babbage",charles@example.org\n'
    )
    (isolated / "motions" / "members.csv").write_text(members, encoding="utf-8", newline="")
    edit(example, "committee: steering-group            # committees/steering-group.yaml", "")
    edit(example, "proposer: jon-lansman", "proposer: ada-lovelace\nname: Board")
    edit(example, "quorum: 7 ", "quorum: 1 ")
    with (example).open("a", encoding="utf-8") as f:
        f.write("members_csv: members.csv\n")
    refused_by_both(cli, isolated, "members.csv:3: name: must be one line")


@pytest.mark.parametrize("escape", ["\\r", "\\u0085", "\\u2028", "\\u0000"])
def test_a_ballot_from_that_is_not_one_header_line_is_refused(
    cli, example: Path, isolated: Path, escape: str
) -> None:
    toml_config(isolated)
    config = isolated / "steervote.toml"
    text = config.read_text()
    config.write_text(text.replace('from = "Momentum', f'from = "Mom{escape}entum'))
    refused_by_both(cli, isolated, "steervote.toml: [ballot] from:", "must be one line")


def test_a_deadline_in_year_9999_in_a_far_east_timezone_is_refused(
    cli, example: Path, isolated: Path
) -> None:
    edit(isolated / COMMITTEE, "timezone: Europe/London", "timezone: Pacific/Kiritimati")
    edit(example, "closes: 7d ", "closes: 9999-12-31T23:00 ")
    refused_by_both(cli, isolated, f"{MOTION}:24: closes:", "too far in the future")


def test_a_title_holding_the_internal_placeholder_is_sent_like_any_title(
    cli, example: Path, isolated: Path
) -> None:
    title = "Adopt to.7f3c@placeholder.invalid and <id.7f3c@placeholder.invalid>"
    edit(example, "title: Adopt the new constitution", f'title: "{title}"')
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    messages = [parse(p.read_bytes()) for p in (isolated / "mail" / "outbox" / "new").iterdir()]
    assert len(messages) == len(EVERYONE)
    assert all(m["Subject"] == f"[new-constitution] {title}" for m in messages)


def test_paths_holding_rich_markup_are_printed_as_written(cli, isolated: Path) -> None:
    folder = isolated / "x[/]y [bold]"
    folder.mkdir(parents=True)
    copy_example(folder)
    run = cli("validate", f"x[/]y [bold]/{MOTION}")
    assert run.code == 0, run.err
    assert f"OK: x[/]y [bold]/{MOTION} is a valid motion." in run.out
    os.chdir(folder)  # The outbox's path, printed by propose, holds the markup too.
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    # Piped, a line wrapped between words keeps no space at its end: compare words.
    said = f"Transport: local outbox {folder / 'mail' / 'outbox'}"
    assert " ".join(said.split()) in " ".join(run.out.split())


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("name: Martyn Cook", "name: Casting", "members[6].name: the id 'casting'"),
        ("name: Martyn Cook", "name: Martyn Cook\n    id: Casting", "members[6].id: 'Casting'"),
        ("name: Martyn Cook", "name: Martyn Cook\n    id: casting", "members[6].id: 'casting'"),
    ],
)
def test_casting_is_a_reserved_member_id(
    cli, example: Path, isolated: Path, old: str, new: str, says: str
) -> None:
    edit(isolated / COMMITTEE, old, new)
    err = refused_by_both(cli, isolated, says, "reserved for the chair's casting vote")
    assert "another id" in err


def test_file_text_reaches_the_terminal_escaped(cli, example: Path, isolated: Path) -> None:
    # A bidi control in a title or a name would show it in another order than it is read,
    # on a terminal and in every member's mail client: refused, named, never echoed raw.
    edit(example, "title: Adopt the new constitution", 'title: "Adopt \\u202Enoitutitsnoc"')
    edit(isolated / COMMITTEE, "name: Martyn Cook", 'name: "Martyn \\u2066Cook"')
    run = cli("validate", MOTION)
    assert run.code == 2
    assert "\u202e" not in run.err and "\u2066" not in run.err
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in run.err


# --- 3. internationalised addresses --------------------------------------------------

IDN = "jürgen@bücher.example"


@pytest.fixture
def idn_member(example: Path, isolated: Path) -> Path:
    edit(isolated / COMMITTEE, "email: martyn.cook@momentum.example", f"email: {IDN}")
    return example


def test_an_internationalised_address_goes_to_the_outbox(
    cli, idn_member: Path, isolated: Path
) -> None:
    run = cli("validate", MOTION)
    assert run.code == 0 and "SMTPUTF8" in run.out
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    assert "Sent now: 14; failed: 0; pending: 0" in run.out
    raws = [p.read_bytes() for p in (isolated / "mail" / "outbox" / "new").iterdir()]
    [raw] = [r for r in raws if IDN.encode() in r.partition(b"\r\n\r\n")[0]]
    assert b"\r\nTo: Martyn Cook <j\xc3\xbcrgen@b\xc3\xbccher.example>\r\n" in raw


def smtp_config(directory: Path, server: SmtpServer) -> None:
    toml_config(directory, smtp=f'host = "{server.host}"\nport = {server.port}\nsecurity = "none"')


def test_a_server_without_smtputf8_is_refused_before_anything_is_recorded(
    cli, idn_member: Path, isolated: Path, smtp_server: SmtpServer
) -> None:
    smtp_config(isolated, smtp_server)
    run = cli("propose", MOTION, "--yes")
    assert run.code == 2
    assert run.err.count("\n") == 1
    assert "does not offer SMTPUTF8" in run.err and repr(IDN) in run.err
    nothing_written(isolated)
    assert smtp_server.messages == []


@pytest.fixture
def smtputf8_server() -> Iterator[SmtpServer]:
    server = start_smtp(smtputf8=True)
    yield server
    server.close()


def test_a_server_with_smtputf8_delivers_to_an_internationalised_address(
    cli, idn_member: Path, isolated: Path, smtputf8_server: SmtpServer
) -> None:
    smtp_config(isolated, smtputf8_server)
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    got = received(smtputf8_server)
    assert len(got) == len(EVERYONE)
    # aiosmtpd takes a non-ASCII recipient only in a MAIL FROM ... SMTPUTF8 transaction.
    [utf8] = [m for m in smtputf8_server.messages if m.recipients == (IDN,)]
    assert b"\r\nTo: Martyn Cook <j\xc3\xbcrgen@b\xc3\xbccher.example>\r\n" in utf8.content
    again = cli("propose", MOTION, "--yes")
    assert again.code == 0 and "already been sent" in again.out


def test_an_ascii_name_at_an_internationalised_domain_needs_no_smtputf8(
    cli, example: Path, isolated: Path, smtp_server: SmtpServer
) -> None:
    edit(
        isolated / COMMITTEE,
        "email: martyn.cook@momentum.example",
        "email: martyn@bücher.example",
    )
    smtp_config(isolated, smtp_server)
    run = cli("propose", MOTION, "--yes")
    assert run.code == 0, run.err
    [message] = received(smtp_server)["martyn@xn--bcher-kva.example"]
    assert str(message["To"]) == "Martyn Cook <martyn@xn--bcher-kva.example>"
