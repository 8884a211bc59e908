"""Issue 13, items 8 and 9: the report a person reads, at 80 and at 200 columns, and a
result sentence that never contradicts itself.

Through the CLI on SQLite and PostgreSQL, ballots through the local outbox and replies
into the local Maildir inbox (no mail server): a 12-member motion, a 3,000-member one,
and the sentence of each kind of result (pending, decided, tied with the command that
records the casting vote, carried on the chair's casting vote, no quorum).
"""

from __future__ import annotations

import json
import mailbox
import re
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from election import reply_to
from propose_kit import MEMBERS, big_motion, copy_example, edit, toml_config
from steervote.render import FULL_TABLE_LIMIT

MOTION = "new-constitution"
NAMES = {
    "jon.lansman": "Jon Lansman",
    "marsha-jane.thompson": "Marsha Jane Thompson",
    "christine.shawcroft": "Christine Shawcroft",
    "sam.tarry": "Sam Tarry",
    "jacqueline.walker": "Jacqueline Walker",
    "martyn.cook": "Martyn Cook",
    "michael.chessum": "Michael Chessum",
    "matt.wrack": "Matt Wrack",
    "sam.wheeler": "Sam Wheeler",
    "cecile.wright": "Professor Cecile Wright",
    "jill.mountford": "Jill Mountford",
    "maggie.simpson": "Maggie Simpson",
}
LONG = "I support adopting the constitution, and I thank the chair for the consultation."
CONDITIONAL = "Yes, provided clause 9 is amended first."
DAY_TIME = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d:\d\d\b")
TIME_LEFT = re.compile(
    r" \((\d+ (day|hour|minute)s?( \d+ (hour|minute)s?)?|less than a minute) left\)"
)


def propose(cli: Any, isolated: Path, database_url: str, *edits: tuple[str, str]) -> None:
    """The example motion, edited, proposed through the local outbox."""
    motion = copy_example(isolated)
    for old, new in edits:
        edit(motion, old, new)
    toml_config(isolated, database_url=database_url)
    run = cli("propose", str(motion), "--yes")
    assert run.code == 0, run.err


def ballots(isolated: Path) -> dict[str, Message]:
    """Each voting member's ballot in the outbox, by address."""
    out: dict[str, Message] = {}
    outbox = mailbox.Maildir(isolated / "mail" / "outbox", create=False)
    for key in outbox.iterkeys():
        msg = message_from_bytes(outbox.get_bytes(key))
        if "votes+" in str(msg["Reply-To"]):
            to = str(msg["To"])
            out[to[to.index("<") + 1 : to.index(">")] if "<" in to else to] = msg
    return out


def answer(isolated: Path, said: dict[str, str]) -> None:
    """Replies into the local inbox: member address -> their words."""
    sent = ballots(isolated)
    inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
    for address, words in said.items():
        inbox.add(reply_to(sent[address], words, sender=address))


def sentence(out: str) -> str:
    """The result sentence: the line that starts with a result in capitals."""
    [line] = [x for x in out.splitlines() if re.match(r"[A-Z][A-Z ]+\b.* — \d", x)]
    return line


def member_rows(out: str) -> dict[str, list[str]]:
    """The table's lines, by the member name each starts with."""
    return {
        name: [x for x in out.splitlines() if x.startswith(name + " ")] for name in NAMES.values()
    }


def laid_out(out: str, width: int) -> None:
    """Every line fits the width and carries no padding at its end; the result sentence,
    piped, is one line (on a terminal it is wrapped between words), and so is a command
    to paste (steervote by its full path may be longer than the width)."""
    for line in out.splitlines():
        one_line = re.match(r"[A-Z][A-Z ]+\b.* — \d|Their words in full: ", line)
        assert cell_len(line) <= width or one_line, line
        assert line == line.rstrip(), repr(line)


def test_the_tally_of_twelve_members_at_80_and_200_columns(
    cli: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    propose(cli, isolated, database_url)
    said = {a: "For." for a in MEMBERS[:6]}
    said[MEMBERS[1]] = LONG
    said[MEMBERS[6]] = CONDITIONAL
    said[MEMBERS[7]] = "Against."
    said[MEMBERS[8]] = "I abstain."
    said[MEMBERS[9]] = "For"
    answer(isolated, said)

    monkeypatch.setenv("COLUMNS", "80")
    run = cli("tally", MOTION)
    assert run.code == 0, run.err
    laid_out(run.out, 80)
    rows = member_rows(run.out)
    # One line per member, whole names, nothing folded onto a second line.
    assert all(len(lines) == 1 for lines in rows.values()), rows
    assert len(run.out.splitlines()) < 12 + 10
    assert "needs_revie" not in run.out and "not_voted" not in run.out
    [review] = rows["Michael Chessum"]
    assert re.search(r"\breview\b", review) and DAY_TIME.search(review)
    assert review.endswith('conditional: "Yes…')  # the words once, cut at a word's end
    [long] = rows["Marsha Jane Thompson"]
    assert "FOR" in long and "counted" in long and long.endswith("…")
    assert re.search(r"\w…$", long) and "the consultation." not in long  # cut at a word's end
    [none] = rows["Maggie Simpson"]
    assert none.split() == ["Maggie", "Simpson", "not", "voted"]
    assert "steervote review new-constitution" in run.out

    line = sentence(run.out)
    assert line.startswith("CARRIED — 7 for, 1 against, 1 abstention of 12 members;")
    assert "quorum 7 met" in line
    assert "decided before the deadline: the 3 members not yet counted cannot change it" in line
    assert "(1 awaiting review)" in line and "pending" not in line
    # The JSON's result_text is the same sentence; the terminal adds the time left.
    text = json.loads(cli("tally", MOTION, "--offline", "--json").out)["result_text"]
    assert line.startswith(text) and TIME_LEFT.fullmatch(line[len(text) :]), line
    assert re.search(r"; voting closes \w{3} \d{1,2} \w{3} \d{4} \d\d:\d\d GMT$", text)

    monkeypatch.setenv("COLUMNS", "200")
    wide = cli("tally", MOTION, "--offline")
    laid_out(wide.out, 200)
    rows = member_rows(wide.out)
    assert all(len(lines) == 1 for lines in rows.values()), rows
    header = next(x for x in wide.out.splitlines() if x.startswith("member "))
    assert header.split() == [
        *("member", "vote", "received", "status", "how", "strength", "replies", "evidence")
    ]
    assert f"“{LONG}”" in rows["Marsha Jane Thompson"][0]
    [review] = rows["Michael Chessum"]
    assert review.count("Yes, provided") == 1 and CONDITIONAL in review
    # Numbers right-aligned: each count ends where the "replies" header ends.
    end = header.index("replies") + len("replies")
    for lines in rows.values():
        assert lines[0][end - 1].isdigit() and lines[0][end : end + 1] in ("", " "), lines[0]
    assert sentence(wide.out) == sentence(run.out)


def test_status_keeps_the_id_and_the_result_whole(
    cli: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_id = "adopt-the-new-constitution-and-the-interim-governance-papers"
    propose(cli, isolated, database_url, (f"id: {MOTION}", f"id: {long_id}"))
    for width in (72, 80):
        # No room for the counts beside the id: the id on a line of its own, whole, then
        # the result and the deadline, then every count, none dropped.
        monkeypatch.setenv("COLUMNS", str(width))
        run = cli("status")
        assert run.code == 0, run.err
        laid_out(run.out, width)
        lines = run.out.splitlines()
        at = lines.index(long_id)
        assert lines[at + 1].startswith("  pending (closes ") and DAY_TIME.search(lines[at + 1])
        assert lines[at + 2] == "  0 for, 0 against, 0 abstain, 0 review, 12 not voted"
    monkeypatch.setenv("COLUMNS", "200")
    run = cli("status")
    laid_out(run.out, 200)
    lines = run.out.splitlines()
    header = next(x for x in lines if x.startswith("motion "))
    assert header.split() == [
        *("motion", "closes", "for", "against", "abstain", "review", "not", "voted", "result")
    ]
    [row] = [x for x in lines if x.startswith(long_id + " ")]
    assert DAY_TIME.search(row) and row.endswith("pending")
    # Counts right-aligned under their headers.
    for name in ("for", "against", "abstain", "review", "not voted"):
        end = header.index(f" {name} ") + 1 + len(name)
        assert row[end - 1].isdigit() and row[end] == " ", (name, row)


def test_a_3000_member_motion_lists_only_the_members_needing_attention(
    cli: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    motion = big_motion(isolated / "motions", 3000)
    toml_config(isolated, database_url=database_url)
    assert cli("propose", str(motion), "--yes").code == 0
    outbox = mailbox.Maildir(isolated / "mail" / "outbox", create=False)
    inbox = mailbox.Maildir(isolated / "mail" / "inbox", create=True)
    said = {"for": 0, "against": 0, "review": 0}
    for i, key in enumerate(sorted(outbox.keys())):
        ballot = message_from_bytes(outbox.get_bytes(key))
        to = str(ballot["To"])
        address = to[to.index("<") + 1 : to.index(">")]
        kind = "review" if i % 50 == 0 else ("for" if i % 3 else "against")
        said[kind] += 1
        words = {"review": "For, if the budget passes", "for": "FOR", "against": "Against"}
        inbox.add(reply_to(ballot, words[kind], sender=address))
    assert said["review"] == 60
    for width in (80, 200):
        monkeypatch.setenv("COLUMNS", str(width))
        run = cli("tally", "big-vote") if width == 80 else cli("tally", "big-vote", "--offline")
        assert run.code == 0, run.err
        if width == 80:
            assert "Read 3,000 new messages" in run.err
        laid_out(run.out, width)
        rows = [x for x in run.out.splitlines() if x.startswith("Member ")]
        assert len(rows) == 60 <= FULL_TABLE_LIMIT  # only the 60 awaiting review
        assert all(re.search(r"\breview\b", x) and DAY_TIME.search(x) for x in rows)
        assert "3,000 members: showing 60 awaiting review or late; 2,940 counted" in run.out
        line = sentence(run.out)
        assert line.startswith(
            f"CARRIED — {said['for']:,} for, {said['against']:,} against, 0 abstentions of "
            "3,000 members; majority of votes cast needs more for than against; quorum 1,501 met;"
        ), line
        assert "decided before the deadline: the 60 members not yet counted" in line


def test_the_sentence_of_a_tie_names_the_command_that_breaks_it(
    cli: Any, isolated: Path, database_url: str
) -> None:
    propose(
        cli,
        isolated,
        database_url,
        ("threshold: majority-of-members", "threshold: majority-of-votes-cast"),
        ("casting_vote: none", "casting_vote: chair"),
    )
    answer(
        isolated,
        {MEMBERS[0]: "For", MEMBERS[1]: "For", MEMBERS[2]: "Against", MEMBERS[3]: "Yes if"},
    )
    pending = sentence(cli("tally", MOTION).out)
    assert pending.startswith("PENDING — 2 for, 1 against, 0 abstentions of 12 members;")
    assert "pending" not in pending  # the result is named once
    assert "quorum 7 not yet met (3 counted)" in pending
    assert "9 members not yet counted (1 awaiting review)" in pending
    assert TIME_LEFT.search(pending) and "voting closes" in pending

    answer(isolated, {a: "For" for a in (*MEMBERS[4:6], MEMBERS[11])})
    answer(isolated, {a: "Against" for a in MEMBERS[6:11]})
    answer(isolated, {MEMBERS[3]: "For"})
    tied = sentence(cli("tally", MOTION).out)
    assert tied.startswith("TIED (awaiting the chair's casting vote) — 6 for, 6 against")
    assert "majority of votes cast: the chair's casting vote breaks a tie" in tied
    assert "every member has voted" in tied and "decided" not in tied
    command = 'steervote rule new-constitution --casting for --reason "…" (or against)'
    assert tied.endswith(f"; record the casting vote with: {command}")

    # The command, as printed, records it.
    run = cli("rule", MOTION, "casting", "for", "--reason", "the chair's casting vote")
    assert run.code == 0, run.err
    carried = sentence(cli("tally", MOTION, "--offline").out)
    assert carried.startswith("CARRIED on the chair's casting vote — 6 for, 6 against")
    assert "needs more for than against" not in carried and "(a tie)" not in carried
    assert "quorum 7 met" in carried and "every member has voted" in carried


def test_no_quorum_says_the_quorum_was_not_met_and_the_deadline_passed(
    cli: Any, isolated: Path, database_url: str
) -> None:
    closes = datetime.now(UTC) + timedelta(seconds=4)
    propose(cli, isolated, database_url, ("closes: 7d", f"closes: {closes.isoformat()}"))
    answer(isolated, {MEMBERS[0]: "For", MEMBERS[1]: "Against"})
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    line = sentence(cli("tally", MOTION).out)
    assert line.startswith("NO QUORUM — 1 for, 1 against, 0 abstentions of 12 members;")
    assert "quorum 7 not met (2 counted)" in line
    assert "; final: voting closed " in line and "left" not in line


def test_validate_and_the_ballot_state_the_casting_vote_rule(
    cli: Any, isolated: Path, database_url: str
) -> None:
    motion = copy_example(isolated)
    run = cli("validate", str(motion))
    assert run.code == 0, run.err
    none = "none; a tie (as many votes for as against) fails"
    assert none in " ".join(run.out.split()) and "Casting vote" in run.out
    edit(motion, "threshold: majority-of-members", "threshold: majority-of-votes-cast")
    edit(motion, "casting_vote: none", "casting_vote: chair")
    chair = "the chair's; a tie (as many votes for as against) is decided by the chair"
    assert chair in " ".join(cli("validate", str(motion)).out.split())
    toml_config(isolated, database_url=database_url)
    assert cli("propose", str(motion), "--yes").code == 0
    text = _plain(next(iter(ballots(isolated).values())))
    assert f"Casting vote: {chair}." in " ".join(text.split())


def _plain(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")
