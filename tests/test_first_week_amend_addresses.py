"""Issue 13, found by a blind tester: nothing in the committee file is lost after the
ballots went out. A member whose ballot bounced is given a corrected address by an explicit,
recorded amendment (`propose --amend-member ID --reason TEXT`), and so is an alias; every
other change to the file is refused, named, never silently dropped. A copied workspace is
not refused for ballots it holds itself; the hints name the motion file as given."""

from __future__ import annotations

import json
import mailbox
import shutil
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
import yaml

from propose_kit import (
    EXAMPLE,
    MEMBERS,
    OBSERVERS,
    copy_example,
    edit,
    smtp_lines,
    toml_config,
)
from servers import SmtpServer
from steervote.terminal import this_program

MOTION = "motions/new-constitution.yaml"
SAM = "sam.tarry@momentum.example"
FIXED = "sam.tarry@fixed.example"
NEW_ALIAS = "sam.t@new.example"


def _one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def workspace(
    isolated: Path, database_url: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The example motion, a config sending through the test SMTP server, on each store."""
    copy_example(isolated)
    toml_config(isolated, smtp=smtp_lines(smtp_server), database_url=database_url)
    monkeypatch.chdir(isolated)
    return isolated


def _committee(workspace: Path) -> Path:
    return workspace / "motions" / "committees" / "steering-group.yaml"


def _sent_to(server: SmtpServer) -> list[str]:
    """Each message's envelope recipient, in the order the server took them."""
    return [m.recipients[0].lower() for m in server.messages]


def _vote_from(workspace: Path, sender: str, text: str) -> None:
    """A reply with no token, no thread: only the sender's address says whose vote it is.
    Delivered a second after now: in the second a ballot went out, a reply with nothing of
    the ballot in it may have come first (core.tally), and would go to review."""
    time.sleep(1.1)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "votes@momentum.example"
    msg["Subject"] = "[new-constitution] my vote"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="member.example")
    msg.set_content(f"{text}\n")
    (workspace / "mail").mkdir(exist_ok=True)
    mailbox.Maildir(workspace / "mail" / "inbox", create=True).add(msg.as_bytes())


def _counted(cli: Any) -> dict[str, Any]:
    run = cli("tally", "new-constitution", "--json")
    assert run.code in (0, 1), run.err
    return json.loads(run.out)


def _verified(cli: Any, folder: str) -> None:
    assert cli("audit", "new-constitution", "--out", folder).code == 0
    verified = cli("verify", folder)
    assert verified.code == 0, verified.out + verified.err


def test_a_bounced_ballot_goes_to_the_corrected_address_by_an_amendment(
    cli: Any, workspace: Path, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse[SAM] = "550 5.1.1 mailbox unavailable"
    first = cli("propose", MOTION, "--yes", "--no-check")
    assert first.code == 1
    said = _one_line(first.err)
    assert f"{this_program()} propose {MOTION} --amend-member MEMBER --reason TEXT" in said
    smtp_server.refuse.clear()
    sent = len(smtp_server.messages)
    assert sent == 13
    edit(_committee(workspace), f"email: {SAM}", f"email: {FIXED}")

    silent = cli("propose", MOTION, "--yes", "--no-check")
    assert silent.code == 2
    said = _one_line(silent.err)
    assert f"sam-tarry's email from {SAM} to {FIXED}" in said, said
    assert "--amend-member ID --reason TEXT" in said
    no_reason = cli("propose", MOTION, "--yes", "--no-check", "--amend-member", "sam-tarry")
    assert no_reason.code == 2 and "--reason" in no_reason.err
    assert len(smtp_server.messages) == sent

    run = cli(
        "propose", MOTION, "--yes", "--no-check", "--amend-member", "sam-tarry", "--reason",
        "bounced: address mistyped",
    )  # fmt: skip
    assert run.code == 0, run.err
    said = _one_line(run.out)
    assert (
        f"Amendment of the electorate: changes sam-tarry's email from {SAM} to {FIXED} "
        "(bounced: address mistyped)" in said
    ), said
    assert "fingerprint changes from" in said
    assert _sent_to(smtp_server)[sent:] == [FIXED]
    again = cli("propose", MOTION, "--yes", "--no-check")
    assert again.code == 0 and "already been sent" in again.out, again.err
    assert len(smtp_server.messages) == sent + 1

    shown = cli("show", "new-constitution", "sam-tarry")
    assert shown.code == 0 and FIXED in shown.out
    members = cli("members", "new-constitution")
    assert "sam.tarry@fixed" in members.out  # the column may be cut to the width
    _vote_from(workspace, FIXED, "For")
    result = _counted(cli)
    assert result["counts"]["for"] == 1
    _verified(cli, "folder")
    electorate = json.loads((workspace / "folder" / "electorate.json").read_text("utf-8"))
    assert [m["email"] for m in electorate if m["id"] == "sam-tarry"] == [FIXED]
    motion = yaml.safe_load((workspace / "folder" / "motion.yaml").read_text("utf-8"))
    [amendment] = motion["amendments"]
    assert amendment["reason"] == "bounced: address mistyped"
    assert amendment["old_digest"] != amendment["new_digest"] == motion["digest"]


def test_a_ballot_that_went_out_keeps_its_address_but_aliases_can_change(
    cli: Any, workspace: Path, smtp_server: SmtpServer
) -> None:
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    sent = len(smtp_server.messages)
    committee = _committee(workspace)
    edit(committee, f"email: {SAM}", f"email: {FIXED}")
    args = ("propose", MOTION, "--yes", "--no-check", "--amend-member", "sam-tarry")
    refused = cli(*args, "--reason", "new address")
    assert refused.code == 2
    said = _one_line(refused.err)
    assert f"their ballot already went to {SAM}" in said, said
    assert f"they can reply from {SAM}" in said and f"add {FIXED} under aliases" in said
    edit(committee, f"email: {FIXED}", f"email: {SAM}")

    edit(committee, "aliases: [sam@tarry.example]", f"aliases: [sam@tarry.example, {NEW_ALIAS}]")
    silent = cli("propose", MOTION, "--yes", "--no-check")
    assert silent.code == 2
    said = _one_line(silent.err)
    assert f"sam-tarry's aliases: adds {NEW_ALIAS}" in said, said
    assert "--amend-member ID --reason TEXT" in said

    run = cli(*args, "--reason", "writes from home")
    assert run.code == 0, run.err
    said = _one_line(run.out)
    assert (
        f"changes sam-tarry's aliases from sam@tarry.example to sam@tarry.example, {NEW_ALIAS} "
        "(writes from home)" in said
    ), said
    assert "fingerprint stays" in said
    assert len(smtp_server.messages) == sent  # nobody gets a second ballot
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    _vote_from(workspace, NEW_ALIAS, "For")
    assert _counted(cli)["counts"]["for"] == 1

    edit(committee, f"aliases: [sam@tarry.example, {NEW_ALIAS}]", f"aliases: [{NEW_ALIAS}]")
    removed = cli(*args, "--reason", "old mailbox closed")
    assert removed.code == 0, removed.err
    assert "aliases from sam@tarry.example, " in _one_line(removed.out)
    assert len(smtp_server.messages) == sent
    _verified(cli, "folder")


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        (
            "name: Professor Cecile Wright",
            "name: Prof. Cecile Wright",
            "cecile-wright's name from Professor Cecile Wright to Prof. Cecile Wright",
        ),
        (
            "    email: martyn.cook@momentum.example\n",
            "    email: martyn.cook@momentum.example\n    role: treasurer\n",
            "martyn-cook's role from none to treasurer",
        ),
        ("name: National Steering Group", "name: Steering Group", "committee"),
        (OBSERVERS[0], "emma@elsewhere.example", "observers"),
    ],
    ids=["name", "role", "committee", "observer"],
)
def test_any_other_change_to_the_file_after_the_ballots_went_out_is_refused_and_named(
    cli: Any, workspace: Path, smtp_server: SmtpServer, old: str, new: str, named: str
) -> None:
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    sent = len(smtp_server.messages)
    edit(_committee(workspace), old, new)
    run = cli("propose", MOTION, "--yes", "--no-check")
    assert run.code == 2
    said = _one_line(run.err)
    assert named in said and "changed after 14 ballots went out" in said, said
    assert "propose it under a new id" in said
    # Nor does an amendment of something else take it along.
    edit(_committee(workspace), "aliases: [sam@tarry.example]", f"aliases: [{NEW_ALIAS}]")
    amend = cli(
        "propose", MOTION, "--yes", "--no-check", "--amend-member", "sam-tarry", "--reason", "x"
    )
    assert amend.code == 2 and named in _one_line(amend.err), amend.err
    assert len(smtp_server.messages) == sent


def test_an_alias_added_before_any_ballot_went_out_is_kept(
    cli: Any, workspace: Path, smtp_server: SmtpServer
) -> None:
    for address in (*MEMBERS, *OBSERVERS):
        smtp_server.refuse[address] = "550 5.1.1 mailbox unavailable"
    assert cli("propose", MOTION, "--yes", "--no-check").code == 1
    smtp_server.refuse.clear()
    edit(
        _committee(workspace),
        "aliases: [sam@tarry.example]",
        f"aliases: [sam@tarry.example, {NEW_ALIAS}]",
    )
    run = cli("propose", MOTION, "--yes", "--no-check")
    assert run.code == 0, run.err
    assert len(smtp_server.messages) == 14
    _vote_from(workspace, NEW_ALIAS, "Against")
    assert _counted(cli)["counts"]["against"] == 1


def test_a_copied_workspace_sends_nothing_the_other_copy_may_send(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two copies of one workspace, each adding the same forgotten member, would send her
    two ballots with different tokens: the second copy is refused, saying so truly (not
    "every member"), until the copy is gone or --second-store says both are meant."""
    first = isolated / "ws1"
    first.mkdir()
    copy_example(first)
    toml_config(first)  # the store is ./steervote.db: a copy of the folder has its own
    monkeypatch.chdir(first)
    assert cli("propose", MOTION, "--yes").code == 0
    second = isolated / "ws2"
    shutil.copytree(first, second, symlinks=True)
    ann = "  - name: Ann Other\n    email: ann.other@momentum.example\nobservers:"
    args = ("propose", MOTION, "--yes", "--add-member", "ann-other", "--reason", "left off")
    for folder in (second, first):
        edit(_committee(folder), "observers:", ann)
    monkeypatch.chdir(second)
    run = cli(*args)
    assert run.code == 2, run.out
    said = _one_line(run.err)
    assert "is also held by another store" in said and "every member" not in said, said
    assert "a member gets two ballots with different tokens" in said
    outbox = mailbox.Maildir(second / "mail" / "outbox", create=False)
    assert sum("ann.other@momentum.example" in str(m["To"]) for m in outbox) == 0
    monkeypatch.chdir(isolated)
    shutil.rmtree(second)  # the copy not used is gone: the other sends
    monkeypatch.chdir(first)
    assert cli(*args).code == 0
    outbox = mailbox.Maildir(first / "mail" / "outbox", create=False)
    assert sum("ann.other@momentum.example" in str(m["To"]) for m in outbox) == 1


def test_the_resend_hint_names_the_motion_file_given(
    cli: Any, isolated: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE, isolated / "our motions")
    motion = "our motions/new-constitution.yaml"
    toml_config(isolated, smtp=smtp_lines(smtp_server))
    smtp_server.drop_after_data = {SAM}
    run = cli("propose", motion, "--yes", "--no-check")
    assert run.code == 1
    hint = f"`{this_program()} propose 'our motions/new-constitution.yaml' --resend MEMBER`"
    assert hint in _one_line(run.err), run.err
    smtp_server.drop_after_data = set()
    again = cli("propose", motion, "--yes", "--no-check")
    assert hint in _one_line(again.out), again.out


def test_a_vote_read_before_an_alias_was_added_is_read_again_as_the_members(
    cli: Any, workspace: Path
) -> None:
    """The tally never reads a message twice: a vote from an address that becomes the
    member's only by the amendment was read as no one's. Recording the amendment forgets
    it, `tally --rescan` reads it as the member's, and the audit of it verifies."""
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    _vote_from(workspace, f"Sam <{NEW_ALIAS}>", "Against")
    assert _counted(cli)["counts"]["against"] == 0  # not his address yet: ignored
    committee = _committee(workspace)
    edit(committee, "aliases: [sam@tarry.example]", f"aliases: [sam@tarry.example, {NEW_ALIAS}]")
    args = ("--amend-member", "sam-tarry", "--reason", "writes from home")
    run = cli("propose", MOTION, "--yes", "--no-check", *args)
    assert run.code == 0, run.err
    said = _one_line(run.out)
    assert (
        "Note: 1 message from the addresses this amendment gives sam-tarry was read before it "
        "as no member's. Recording the amendment forgets it" in said
    ), said
    assert "tally new-constitution --rescan` reads it again as the member's" in said
    assert cli("tally", "new-constitution", "--rescan").code == 0
    [sam] = [m for m in _counted(cli)["members"] if m["id"] == "sam-tarry"]
    assert (sam["status"], sam["vote"]) == ("counted", "against"), sam
    _verified(cli, "audit")


def test_an_address_a_counted_reply_came_from_is_not_moved_to_another_member(
    cli: Any, workspace: Path
) -> None:
    """Moving sam@tarry.example from Sam to Matt would leave Sam's counted vote from it
    credited to Sam in the store and to Matt in a recount: refused, with the way out."""
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    _vote_from(workspace, "Sam <sam@tarry.example>", "Against")
    assert _counted(cli)["counts"]["against"] == 1
    committee = _committee(workspace)
    edit(committee, "aliases: [sam@tarry.example]", "aliases: []")
    edit(
        committee,
        "email: matt.wrack@momentum.example",
        "email: matt.wrack@momentum.example\n    aliases: [sam@tarry.example]",
    )
    args = ("--amend-member", "sam-tarry", "--amend-member", "matt-wrack", "--reason", "x")
    run = cli("propose", MOTION, "--yes", "--no-check", *args)
    assert run.code == 2
    said = _one_line(run.err)
    assert "--amend-member sam-tarry: sam@tarry.example is an address their reply" in said, said
    assert "keep it in their aliases" in said
    assert _counted(cli)["counts"]["against"] == 1


def test_verify_agrees_after_adding_a_member_whose_vote_was_read_before(
    cli: Any, workspace: Path
) -> None:
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    _vote_from(workspace, "Ann Other <ann.other@momentum.example>", "For")
    assert _counted(cli)["counts"]["for"] == 0
    edit(
        _committee(workspace),
        "observers:",
        "  - name: Ann Other\n    email: ann.other@momentum.example\nobservers:",
    )
    run = cli(
        "propose", MOTION, "--yes", "--no-check", "--add-member", "ann-other", "--reason", "x"
    )
    assert run.code == 0, run.err
    assert "read before it as no member's" in _one_line(run.out)
    _verified(cli, "before-rescan")
    assert cli("tally", "new-constitution", "--rescan").code == 0
    [ann] = [m for m in _counted(cli)["members"] if m["id"] == "ann-other"]
    # Her vote came before her ballot went out: it answers no ballot, and a person rules.
    assert ann["status"] == "needs_review", ann
    _verified(cli, "after-rescan")


def test_the_dry_run_of_an_amendment_shows_the_ballot_it_would_send(
    cli: Any, workspace: Path
) -> None:
    assert cli("propose", MOTION, "--yes", "--no-check").code == 0
    edit(
        _committee(workspace),
        "observers:",
        "  - name: Ann Other\n    email: ann.other@momentum.example\nobservers:",
    )
    args = ("--add-member", "ann-other", "--reason", "left off", "--dry-run")
    run = cli("propose", MOTION, "--no-check", *args)
    assert run.code == 0, run.err
    preview = run.out[run.out.index("One ballot in full") :]
    assert "ann.other@momentum.example" in preview
    assert "jon.lansman@momentum.example" not in preview
