"""What a blind tester broke in validate and propose, each kind through the CLI.

Encoded words in header fields (the mail library decodes them, so an encoded CR LF would
become a header of the writer's choice), hard links to files elsewhere, two spellings of one
mailbox, a database password in a URL's query, an outbox made before input was refused, and
control characters from files in error messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from propose_kit import copy_example, edit
from test_sendable import MOTION, nothing_written, refused_by_both

INJECTION = "=?utf-8?q?Adopt=0D=0AReply-To=3A_evil=40attacker=2Eexample?="


@pytest.fixture
def example(isolated: Path) -> Path:
    return copy_example(isolated)


@pytest.mark.parametrize(
    "title",
    [INJECTION, "=?utf-8?b?aGkNCg0KRk9SR0VEIEJPRFk=?=", "Adopt =?iso-8859-1?Q?=1B[31m?= it"],
)
def test_a_title_holding_an_encoded_word_is_refused(
    cli, example: Path, isolated: Path, title: str
) -> None:
    edit(example, "title: Adopt the new constitution", f'title: "{title}"')
    refused_by_both(cli, isolated, "title: must not hold an RFC 2047 encoded word")


def test_an_attachment_named_as_an_encoded_word_is_refused(
    cli, example: Path, isolated: Path
) -> None:
    papers = isolated / "motions" / "papers"
    name = "=?utf-8?q?a=0D=0AContent-Type=3A_text=2Fhtml?=.pdf"
    (papers / name).write_bytes(b"%PDF-1.4\n")
    edit(example, "  - papers/momentum-constitution.pdf", f"  - 'papers/{name}'")
    refused_by_both(cli, isolated, "encoded word")


def test_an_attachment_that_is_a_hard_link_is_refused(
    cli, example: Path, isolated: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "secrets.txt"
    outside.write_text("SMTP_PASSWORD=hunter2\n")
    os.link(outside, isolated / "motions" / "papers" / "minutes.pdf")
    edit(example, "  - papers/momentum-constitution.pdf", "  - papers/minutes.pdf")
    refused_by_both(cli, isolated, "is a hard link")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("bob@straße.example", "bob@strasse.example"),  # IDNA 2003 maps ß to ss on the way out
        ("bob@ｅｘ.example", "bob@ex.example"),  # full-width letters
        ("ｂob@ex.example", "bob@ex.example"),
    ],
)
def test_two_spellings_of_one_mailbox_are_refused(
    cli, example: Path, isolated: Path, first: str, second: str
) -> None:
    committee = isolated / "motions" / "committees" / "steering-group.yaml"
    edit(committee, "email: jon.lansman@momentum.example", f"email: {first}")
    edit(committee, "email: marsha-jane.thompson@momentum.example", f"email: {second}")
    refused_by_both(cli, isolated, "is also an address of")


def test_a_password_in_the_database_url_query_is_never_printed(cli, example: Path) -> None:
    Path("steervote.toml").write_text(
        '[database]\nurl = "postgresql+psycopg://u@127.0.0.1:1/x?password=S3cretPW"\n'
    )
    run = cli("propose", MOTION, "--yes")
    assert run.code != 0 and "S3cretPW" not in run.err + run.out, run.err


def test_a_refused_database_url_leaves_no_outbox(cli, example: Path, isolated: Path) -> None:
    Path("steervote.toml").write_text('[database]\nurl = "nosuch://user:pw@host/db"\n')
    run = cli("propose", MOTION, "--yes")
    assert run.code == 2, run.err
    nothing_written(isolated)


def test_error_messages_escape_what_files_hold(cli, example: Path) -> None:
    edit(example, "title: Adopt the new constitution", 'title: ok\n"\\e]0;pwned\\a\\u202eevil": 1')
    run = cli("validate", MOTION)
    assert run.code == 2
    for ch in "\x1b\x07\u202e":
        assert ch not in run.err, run.err


@pytest.mark.parametrize(
    ("config", "says"),
    [
        (b"[ballot]\nmax_attachment_bytes = 9223372036854775807\n", "max_attachment_bytes"),
        (b'[ballot]\nfrom = "caf\xe9 <a@b.example>"\n', "not UTF-8"),
        (
            '[smtp]\nhost = "smtp\u202e.example"\n'.encode(),
            '[smtp] host: "smtp\\u202e.example" is not a host name',
        ),
    ],
)
def test_a_broken_config_is_one_line_and_exit_2(
    cli, example: Path, isolated: Path, config: bytes, says: str
) -> None:
    Path("steervote.toml").write_bytes(config)
    for command in (("validate", MOTION), ("propose", MOTION, "--yes")):
        run = cli(*command)
        assert run.code == 2, (command, run.err)
        assert says in run.err and "Traceback" not in run.err, run.err
    nothing_written(isolated)
