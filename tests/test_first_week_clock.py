"""Issue 13, item 2: a failed send does not start the clock (tests/test_propose.py), and
`status` and `tally` say plainly when members have no ballot."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from propose_kit import NOW, REPLY_TO, SENDER, CrashableServers, copy_example, toml_config
from steervote.adapters.smtp import SmtpTransport
from steervote.adapters.store import Store
from steervote.core.ballot import Addressing
from steervote.core.motion_file import load_motion
from steervote.services.propose import plan, propose


def test_status_and_tally_name_the_members_with_no_ballot(
    cli: Any, isolated: Path, database_url: str
) -> None:
    motion_file = copy_example(isolated)
    toml_config(isolated, database_url=database_url)
    servers = CrashableServers()
    store = Store(database_url)
    try:
        down = servers.new()
        the_plan = plan(load_motion(motion_file, now=NOW), store, _addressing(), now=NOW)
        with closing(SmtpTransport(down.host, down.port, "none", timeout=5)) as smtp:
            result = propose(
                the_plan,
                store,
                smtp,
                _addressing(),
                now=lambda: NOW,
                progress=lambda b: down.stop(),
            )
        assert result.sent_now == 1 and result.error is not None
    finally:
        store.close()
        servers.close()

    status = cli("status")
    assert status.code == 0, status.err
    said = " ".join(status.out.split())
    assert "sent 1 ballot" in said
    assert "11 members have no ballot (11 pending)" in said
    assert "steervote propose MOTION.yaml` (the motion's file) to send them" in said
    offline = cli("tally", "new-constitution", "--offline")
    assert "11 members have no ballot (11 pending)" in " ".join(offline.out.split())


def _addressing() -> Addressing:
    return Addressing(SENDER, REPLY_TO, True)
