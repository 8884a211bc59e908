"""Issue 13, item 6: a source read by mistake can be forgotten, steervote's own messages
are never taken for replies, and a local folder's routine rescan is silent and cheap."""

from __future__ import annotations

import json
import mailbox
from email import message_from_bytes
from pathlib import Path
from typing import Any

from election import reply_to
from propose_kit import copy_example, toml_config


def _proposed(cli: Any, isolated: Path, database_url: str) -> mailbox.Maildir:
    copy_example(isolated)
    toml_config(isolated, database_url=database_url)
    assert cli("propose", "motions/new-constitution.yaml", "--yes").code == 0
    return mailbox.Maildir(isolated / "mail" / "outbox", create=False)


def _reply(isolated: Path, outbox: mailbox.Maildir, address: str, text: str) -> None:
    for key in outbox.iterkeys():
        ballot = message_from_bytes(outbox.get_bytes(key))
        if address in str(ballot["To"]) and "Reply-To" in ballot:
            inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
            inbox.add(reply_to(ballot, text, sender=address))
            return
    raise AssertionError(address)


def test_the_outbox_read_by_mistake_is_ignored_and_can_be_forgotten(
    cli: Any, isolated: Path, database_url: str
) -> None:
    outbox = _proposed(cli, isolated, database_url)
    _reply(isolated, outbox, "jon.lansman@momentum.example", "FOR")
    assert cli("tally", "new-constitution").code == 0

    wrong = cli("tally", "new-constitution", "--source", "maildir:mail/outbox", "--json")
    result = json.loads(wrong.out)
    ours = [i for i in result["ignored"] if i["reason"].startswith("sent by steervote itself")]
    assert len(ours) == 14  # 12 ballots and 2 observer copies, none taken for a reply
    assert result["counts"]["for"] == 1

    forgot = cli("tally", "--forget-source", "maildir:mail/outbox")
    assert forgot.code == 0 and "14 messages" in forgot.out
    after = json.loads(cli("tally", "new-constitution", "--offline", "--json").out)
    assert after["ignored"] == [] and after["counts"]["for"] == 1

    kept = cli("tally", "--forget-source", "maildir:mail/inbox")
    assert kept.code == 2 and "1 vote" in kept.err
    assert json.loads(cli("tally", "new-constitution", "--json").out)["counts"]["for"] == 1


def test_a_new_reply_in_a_maildir_is_read_without_a_rescan_notice(
    cli: Any, isolated: Path, database_url: str
) -> None:
    outbox = _proposed(cli, isolated, database_url)
    _reply(isolated, outbox, "jon.lansman@momentum.example", "FOR")
    first = cli("tally", "new-constitution")
    assert "Read 1 new message" in " ".join(first.err.split())
    _reply(isolated, outbox, "sam.tarry@momentum.example", "Against")
    second = cli("tally", "new-constitution")
    said = " ".join(second.err.split())
    assert "UIDVALIDITY" not in said and "rescan" not in said
    assert "Read 1 new message " in said and "1 read as a vote" in said
    assert "; 1 recorded before, skipped" in said
    counts = json.loads(cli("tally", "new-constitution", "--offline", "--json").out)["counts"]
    assert (counts["for"], counts["against"]) == (1, 1)
