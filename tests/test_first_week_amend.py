"""Issue 13, item 7: a member forgotten on the roll is added after the ballots went out
only by an explicit amendment (`propose --add-member --reason`), recorded, visible in the
fingerprint, and sent a ballot; never silently."""

from __future__ import annotations

import json
import mailbox
from email import message_from_bytes
from pathlib import Path
from typing import Any

from election import ballot_text, reply_to
from propose_kit import copy_example, toml_config

NEW = "  - name: Ann Other\n    email: ann.other@momentum.example\n"


def _ballots(isolated: Path) -> dict[str, Any]:
    out = {}
    for msg in mailbox.Maildir(isolated / "mail" / "outbox", create=False):
        ballot = message_from_bytes(msg.as_bytes())
        if " ".join(str(ballot["Message-ID"]).split()).startswith("<ballot."):
            out[str(ballot["To"])] = ballot
    return out


def _fingerprint(ballot: Any) -> str:
    [line] = [x for x in ballot_text(ballot).splitlines() if "ingerprint" in x]
    return line


def test_a_forgotten_member_is_added_by_an_amendment(
    cli: Any, isolated: Path, database_url: str
) -> None:
    motion = copy_example(isolated)
    toml_config(isolated, database_url=database_url)
    assert cli("propose", str(motion), "--yes").code == 0
    before = _ballots(isolated)
    assert len(before) == 12
    committee = isolated / "motions" / "committees" / "steering-group.yaml"
    text = committee.read_text(encoding="utf-8")
    committee.write_text(text.replace("observers:", NEW + "observers:"), encoding="utf-8")

    silent = cli("propose", str(motion), "--yes")
    assert silent.code == 2 and "electorate" in silent.err  # never added silently
    no_reason = cli("propose", str(motion), "--yes", "--add-member", "ann-other")
    assert no_reason.code == 2 and "--reason" in no_reason.err
    wrong = cli("propose", str(motion), "--yes", "--add-member", "bob", "--reason", "x")
    assert wrong.code == 2 and "bob" in wrong.err

    run = cli("propose", str(motion), "--yes", "--add-member", "ann-other", "--reason", "left off")
    assert run.code == 0, run.err
    said = " ".join(run.out.split())
    assert "Amendment of the electorate: adds ann-other (left off)" in said
    assert "fingerprint changes from" in said
    after = _ballots(isolated)
    assert len(after) == 13
    [ann] = [b for to, b in after.items() if "ann.other" in to]
    assert _fingerprint(ann) != _fingerprint(next(iter(before.values())))
    assert cli("propose", str(motion), "--yes").code == 0  # the file now matches: nothing to do

    inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
    inbox.add(reply_to(ann, "For", sender="ann.other@momentum.example"))
    jon = next(b for to, b in before.items() if "jon.lansman" in to)
    inbox.add(reply_to(jon, "Against", sender="jon.lansman@momentum.example"))
    result = json.loads(cli("tally", "new-constitution", "--json").out)
    assert result["electorate"] == 13
    assert (result["counts"]["for"], result["counts"]["against"]) == (1, 1)
    assert cli("audit", "new-constitution", "--out", "folder").code == 0
    verified = cli("verify", "folder")
    assert verified.code == 0, verified.out
