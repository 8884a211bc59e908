"""Issue 13, item 7: a motion can be withdrawn; it is reported as such, its later replies
are ignored, and nothing recorded is lost (the audit carries it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from election import Election


def test_a_withdrawn_motion_has_no_result_and_ignores_later_replies(election: Election) -> None:
    election.reply("jon.lansman@momentum.example", "FOR")
    election.tally()
    run = election.cli(
        "withdraw", "new-constitution", "--reason", "moved to the members' meeting", "--by", "chair"
    )
    assert run.code == 0, run.err
    # Received two seconds after the withdrawal (receipt times are whole seconds).
    election.reply(
        "sam.tarry@momentum.example", "Against", at=datetime.now(UTC) + timedelta(seconds=2)
    )
    result = election.tally()
    assert result["result"] == "withdrawn"
    assert result["withdrawn"]["reason"] == "moved to the members' meeting"
    assert result["withdrawn"]["by"] == "chair"
    assert result["result_text"].startswith("WITHDRAWN by chair")
    assert result["counts"]["for"] == 1 and result["counts"]["against"] == 0
    [late] = [i for i in result["ignored"] if "withdrawn" in i["reason"]]
    assert "sam.tarry" in late["from"]
    text = " ".join(election.cli("tally", "new-constitution", "--offline").out.split())
    assert "WITHDRAWN by chair" in text

    again = election.cli("withdraw", "new-constitution", "--reason", "twice")
    assert again.code == 2 and "withdrawn already" in again.err
    for command in ("acknowledge", "remind", "ask", "announce"):
        refused = election.cli(command, "new-constitution", "--yes")
        assert refused.code == 2 and "withdrawn" in refused.err, command
    unknown = election.cli("withdraw", "no-such", "--reason", "x")
    assert unknown.code == 2
    status = " ".join(election.cli("status").out.split())
    assert "withdrawn" in status and "pending" not in status
    resent = election.cli("propose", "motions/new-constitution.yaml", "--yes")
    assert resent.code == 2 and "withdrawn" in resent.err
    ruled = election.cli("rule", "new-constitution", "sam-tarry", "for", "--reason", "x")
    assert ruled.code == 2 and "withdrawn" in ruled.err


def test_a_withdrawn_motion_audits_and_verifies(election: Election) -> None:
    election.reply("jon.lansman@momentum.example", "FOR")
    election.tally()
    assert election.cli("withdraw", "new-constitution", "--reason", "error").code == 0
    out = election.root / "folder"
    assert election.cli("audit", "new-constitution", "--out", str(out)).code == 0
    recorded = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert recorded["result"] == "withdrawn"
    run = election.cli("verify", str(out))
    assert run.code == 0, run.out
