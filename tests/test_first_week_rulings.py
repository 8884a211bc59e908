"""Issue 13, points 5, 10 and 11, as a blind tester broke them, through the CLI on SQLite
and PostgreSQL: the word `casting` where a member has that name, a rulings file (or one
ruling) recorded again, the letters of `review --interactive`, and a ruling or an undo
that changes a result after the deadline.

The workspace, the pseudo-terminal and the time format are those of
test_first_week_review.py: one way to propose the example motion and deliver replies.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from propose_kit import MEMBERS, ballots_went_out_earlier, copy_example, edit, toml_config
from steervote.core.vote import Vote
from test_first_week_review import MOTION, Terminal, Workspace, hm, one_line

HOUR = timedelta(hours=1)
ADDRESS = {address.removesuffix("@momentum.example"): address for address in MEMBERS}
SEVEN_FOR = list(ADDRESS.values())[:7]  # a majority of the 12: CARRIED
MATT, MAGGIE = ADDRESS["matt.wrack"], ADDRESS["maggie.simpson"]
MAGGIE_YAML = "  - name: Maggie Simpson\n    email: maggie.simpson@momentum.example\n"


def workspace(
    cli: Any, root: Path, database_url: str, edits: dict[str, str] | None = None
) -> Workspace:
    """The example motion, edited (motion file, then committee file), proposed."""
    motion = copy_example(root)
    committee = root / "motions" / "committees" / "steering-group.yaml"
    for old, new in (edits or {}).items():
        edit(committee if old == MAGGIE_YAML else motion, old, new)
    toml_config(root, database_url=database_url)
    w = Workspace(root, cli, database_url)
    w.ok("propose", "motions/new-constitution.yaml", "--yes")
    ballots_went_out_earlier(database_url, timedelta(days=1))  # replies come hours back
    return w


def casting_member(cli: Any, root: Path, database_url: str, casting_vote: str) -> Workspace:
    """Maggie Simpson renamed "Casting" (her id maggie-casting: "casting" is reserved)."""
    return workspace(
        cli,
        root,
        database_url,
        {
            "casting_vote: none": f"casting_vote: {casting_vote}",
            MAGGIE_YAML: "  - name: Casting\n    id: maggie-casting\n"
            "    email: maggie.simpson@momentum.example\n",
        },
    )


def closed(cli: Any, root: Path, database_url: str, edits: dict[str, str]) -> Workspace:
    """A motion whose deadline passes a few seconds after proposing; `edits` sends the
    replies (address: words) before the deadline and waits until it has passed."""
    closes = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    w = workspace(cli, root, database_url, {"closes: 7d": f"closes: {closes.isoformat()}"})
    t0 = datetime.now(UTC) - HOUR
    for address, words in edits.items():
        w.reply(address, words, t0)
    w.tally()  # read in time
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    return w


def result_of(w: Workspace) -> str:
    return str(w.tally()["result"])


# --- 1: "casting" where a member has that name -----------------------------------------


@pytest.mark.parametrize("typed", ["casting", "CASTING", "  Casting "])
def test_casting_that_also_names_a_member_is_refused_with_both_ways_to_say_it(
    cli: Any, isolated: Path, database_url: str, typed: str
) -> None:
    w = casting_member(cli, isolated, database_url, "chair")
    run = w.run("rule", MOTION, typed, "for", "--reason", "x")
    err = one_line(run.err)
    assert run.code == 2 and run.out == ""
    assert "is ambiguous on motion new-constitution" in err
    assert "the member Casting (maggie-casting)" in err
    assert "also means the chair's casting vote" in err
    assert f"maggie-casting or {MAGGIE}" in err  # the member, said without doubt
    assert "steervote rule new-constitution --casting VOTE --reason TEXT" in err
    assert w.rulings() == []

    # Each reading, said so that it has one.
    run = w.ok("rule", MOTION, "maggie-casting", "for", "--reason", "by phone", "--by", "sec")
    assert one_line(run.out).startswith("Recorded FOR for Casting (maggie-casting) on")
    run = w.ok("rule", MOTION, MAGGIE, "against", "--reason", "by letter", "--by", "sec")
    assert one_line(run.out).startswith("Recorded AGAINST for Casting (maggie-casting) on")
    run = w.ok("rule", MOTION, "--casting", "for", "--reason", "the chair's call", "--by", "c")
    assert one_line(run.out).startswith(f"Recorded the chair's casting vote FOR on {MOTION};")
    run = w.ok("rule", MOTION, "abstain", "--casting", "--reason", "on reflection", "--by", "c")
    assert "the chair's casting vote ABSTAIN" in one_line(run.out)
    run = w.ok("rule", MOTION, "--casting", "--undo", "--reason", "misheard", "--by", "c")
    assert "on the chair's casting vote: kept in the audit trail" in one_line(run.out)
    assert [(r.member_id, r.vote) for r in w.rulings()] == [
        ("maggie-casting", Vote.FOR),
        ("maggie-casting", Vote.AGAINST),
        ("(casting)", Vote.FOR),
        ("(casting)", Vote.ABSTAIN),
    ]
    assert w.tally()["casting_vote"]["vote"] == "for"
    assert w.member("maggie-casting")["vote"] == "against"

    # The word in a rulings file is refused the same way, with its line.
    (w.root / "r.csv").write_text("member,vote,reason\ncasting,for,x\n", encoding="utf-8")
    run = w.run("rule", MOTION, "--from-csv", "r.csv")
    assert run.code == 2 and "r.csv:2: member: 'casting' is ambiguous" in one_line(run.err)
    assert len(w.rulings()) == 4

    # --casting takes VOTE alone, and only on a motion that has a casting vote.
    for args in (("--casting", "maggie-casting", "for"), ("--casting", "maybe"), ("--casting",)):
        run = w.run("rule", MOTION, *args, "--reason", "x")
        assert run.code == 2 and run.out == "", args
    assert "--casting" in one_line(cli("rule", "-h").out)


def test_casting_that_names_a_member_on_a_motion_without_casting_vote(
    cli: Any, isolated: Path, database_url: str
) -> None:
    """Refused the same way (the same word means the same thing on every motion), saying
    that this motion has no casting vote; --casting there is refused as before."""
    w = casting_member(cli, isolated, database_url, "none")
    run = w.run("rule", MOTION, "casting", "for", "--reason", "x")
    err = one_line(run.err)
    assert run.code == 2 and "the member Casting (maggie-casting)" in err
    assert "this motion has no casting vote" in err and "--casting VOTE" not in err
    run = w.run("rule", MOTION, "--casting", "for", "--reason", "x")
    assert run.code == 2 and "there is no casting vote" in run.err
    run = w.run("rule", MOTION, "casting", "--undo", "--reason", "x")
    assert run.code == 2 and "is ambiguous" in run.err
    assert w.rulings() == []


# --- 2: the same ruling twice is recorded once ------------------------------------------


@pytest.fixture
def ws(cli: Any, isolated: Path, database_url: str) -> Workspace:
    return workspace(cli, isolated, database_url)


def test_a_rulings_file_run_twice_records_each_ruling_once(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - 2 * HOUR
    ws.reply(ADDRESS["sam.tarry"], "Yes if the budget is agreed first.", t0)
    ws.reply(ADDRESS["christine.shawcroft"], "Against.", t0)
    ws.tally()
    rows = (
        "member,vote,reason\n"
        "Sam Tarry,for,phoned\n"
        "christine-shawcroft,abstain,letter\n"
        "maggie-simpson,none,not voting\n"
    )
    (ws.root / "r.csv").write_text(rows, encoding="utf-8")
    run = ws.ok("rule", MOTION, "--from-csv", "r.csv", "--by", "sec")
    assert "3 recorded, 0 already recorded." in one_line(run.out)
    assert len(ws.rulings()) == 3

    # Again, by another login: nothing new, each row said, and counted.
    run = ws.ok("rule", MOTION, "--from-csv", "r.csv", "--by", "clerk")
    out = one_line(run.out)
    assert "Recorded" not in out and "Already recorded on new-constitution" in out
    first = {r.member_id: r for r in ws.rulings()}
    assert (
        "FOR for Sam Tarry (sam-tarry): the ruling of "
        f"{hm(first['sam-tarry'].ruled_at)} (FOR, by sec) stands, for the same reason"
    ) in out
    assert "0 recorded, 3 already recorded." in out and len(ws.rulings()) == 3
    run = ws.ok("rule", MOTION, "--from-csv", "r.csv", "--dry-run")
    assert "0 would be recorded, 3 already recorded." in one_line(run.out)

    # A changed reason is a new ruling; a ruling a later reply replaced stands no more.
    time.sleep(1.1)  # receipt times are whole seconds: the reply comes after the ruling
    ws.reply(ADDRESS["christine.shawcroft"], "For.", datetime.now(UTC))
    ws.tally()
    assert ws.member("christine-shawcroft")["vote"] == "for"
    (ws.root / "r.csv").write_text(rows.replace("phoned", "phoned twice"), encoding="utf-8")
    run = ws.ok("rule", MOTION, "--from-csv", "r.csv", "--by", "sec")
    out = one_line(run.out)
    assert "Recorded 2 rulings on new-constitution from r.csv:" in out
    assert "ABSTAIN for Christine Shawcroft (christine-shawcroft): replaces FOR from" in out
    assert "no vote for Maggie Simpson (maggie-simpson): the ruling of" in out  # already
    assert "2 recorded, 1 already recorded." in out
    assert len(ws.rulings()) == 5


def test_the_same_ruling_twice_in_a_row_is_recorded_once(ws: Workspace) -> None:
    """Recording it again would put a second copy in the audit trail, and an undo would
    then take back one copy and leave the ruling standing: the secretary would think it
    undone. A new reason is new information and is recorded."""
    ws.reply(ADDRESS["sam.tarry"], "Against.", datetime.now(UTC) - HOUR)
    ws.tally()
    ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "phoned", "--by", "sec")
    [ruled] = ws.rulings()
    run = ws.ok("rule", MOTION, "Sam Tarry", "for", "--reason", "phoned", "--by", "clerk")
    assert one_line(run.out).startswith(
        f"FOR for Sam Tarry (sam-tarry) already stands on {MOTION}: the ruling of "
        f"{hm(ruled.ruled_at)} (FOR, by sec) stands, for the same reason; nothing recorded."
    )
    assert "PENDING" in run.out and ws.rulings() == [ruled]
    run = ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "phoned", "--dry-run")
    assert "already stands" in run.out and ws.rulings() == [ruled]
    # Another vote, or another reason: recorded.
    run = ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "confirmed by letter")
    assert f"replaces the ruling of {hm(ruled.ruled_at)}" in one_line(run.out)
    assert len(ws.rulings()) == 2
    # After an undo the earlier ruling stands again: ruling it again is nothing new.
    ws.ok("rule", MOTION, "sam-tarry", "--undo", "--reason", "the letter was not hers")
    run = ws.ok("rule", MOTION, "sam-tarry", "for", "--reason", "phoned")
    assert "already stands" in run.out and len(ws.rulings()) == 2


# --- 3: review --interactive takes letters ------------------------------------------------


def test_review_interactive_takes_a_letter_or_the_word_in_any_case(ws: Workspace) -> None:
    t0 = datetime.now(UTC) - HOUR
    for name in ("jon.lansman", "sam.tarry", "matt.wrack", "jill.mountford"):
        ws.reply(ADDRESS[name], "Yes, provided clause 9 is amended.", t0)
    ws.tally()
    term = Terminal(ws.root, "review", MOTION, "--interactive", "--by", "sec")
    term.expect(r"4 awaiting review\. Answer each with a letter or the word:")
    choices = r"\[f\]or, \[a\]gainst, a\[b\]stain, \[n\]one, \[s\]kip, \[q\]uit"
    term.expect(rf"\[1/4\] Ruling on jon-lansman: {choices}:")
    term.type("x")
    term.expect(
        r"'x' is not an answer: give f \(for\), a \(against\), b \(abstain\), n \(none\), "
        r"s \(skip\), q \(quit\)"
    )
    term.type("F")
    term.expect("Reason")
    term.type("phoned")
    term.expect("Recorded FOR for Jon Lansman")
    term.expect(rf"\[2/4\] Ruling on sam-tarry: {choices}:")
    term.type("b")
    term.expect("Reason")
    term.type("phoned")
    term.expect("Recorded ABSTAIN for Sam Tarry")
    term.expect(r"\[3/4\] Ruling on matt-wrack")
    term.type("S")
    term.expect(r"\[4/4\] Ruling on jill-mountford")
    term.type("Q")
    term.expect(r"2 recorded, 1 skipped, 1 not reached\.")
    assert term.wait() == 0, term.text
    assert {(r.member_id, r.vote) for r in ws.rulings()} == {
        ("jon-lansman", Vote.FOR),
        ("sam-tarry", Vote.ABSTAIN),
    }

    term = Terminal(ws.root, "review", MOTION, "--interactive", "--by", "sec")
    term.expect(r"\[1/2\] Ruling on matt-wrack")
    term.type("a")
    term.expect("Reason")
    term.type("phoned")
    term.expect("Recorded AGAINST for Matt Wrack")
    term.expect(r"\[2/2\] Ruling on jill-mountford")
    term.type("None")
    term.expect("Reason")
    term.type("phoned")
    term.expect("Recorded no vote for Jill Mountford")
    term.expect(r"2 recorded, 0 skipped, 0 not reached\.")
    assert term.wait() == 0, term.text


# --- 4: a ruling after the deadline that changes the result -------------------------------


def test_a_ruling_or_undo_that_changes_a_final_result_says_so_and_needs_yes(
    cli: Any, isolated: Path, database_url: str
) -> None:
    w = closed(cli, isolated, database_url, dict.fromkeys(SEVEN_FOR, "For."))
    late = w.reply(MATT, "Against.", datetime.now(UTC))
    assert result_of(w) == "carried" and w.member("matt-wrack")["status"] == "late"

    # Without a terminal and without --yes: refused, nothing recorded.
    run = w.run("rule", MOTION, "sam-tarry", "against", "--reason", "withdrew by phone")
    err = one_line(run.err)
    assert run.code == 2 and run.out == ""
    assert "this overturns the final result of new-constitution after its deadline" in err
    assert "CARRIED → DEFEATED" in err and "pass --yes" in err
    assert w.rulings() == []
    run = w.ok("rule", MOTION, "sam-tarry", "against", "--reason", "withdrew", "--dry-run")
    out = one_line(run.out)
    assert "Would record AGAINST for Sam Tarry (sam-tarry)" in out
    assert "This would change the final result: CARRIED → DEFEATED (voting closed" in out
    assert "Dry run: nothing recorded (recording it asks first, or needs --yes)." in out
    assert w.rulings() == []

    run = w.ok("rule", MOTION, "sam-tarry", "against", "--reason", "withdrew", "--yes")
    out = one_line(run.out)
    assert "Recorded AGAINST for Sam Tarry (sam-tarry) on new-constitution; replaces FOR" in out
    assert "This changes the final result: CARRIED → DEFEATED (voting closed" in out
    assert result_of(w) == "defeated"

    # The late reply is named, not "nothing": it existed, and it never counted.
    run = w.ok("rule", MOTION, "matt-wrack", "for", "--reason", "accepted late", "-y")
    out = one_line(run.out)
    assert (
        f"Recorded FOR for Matt Wrack (matt-wrack) on {MOTION}; no vote stood before: the "
        f"reply of {hm(late)} (AGAINST) came after the deadline and is not counted."
    ) in out
    assert "This changes the final result: DEFEATED → CARRIED" in out

    # An undo that changes it is held the same way.
    run = w.run("rule", MOTION, "matt-wrack", "--undo", "--reason", "not accepted")
    assert run.code == 2 and "CARRIED → DEFEATED" in run.err and len(w.rulings()) == 2
    assert result_of(w) == "carried"
    run = w.ok("rule", MOTION, "matt-wrack", "--undo", "--reason", "not accepted", "--yes")
    assert "This changes the final result: CARRIED → DEFEATED" in one_line(run.out)
    assert result_of(w) == "defeated"

    # A ruling that leaves the result as it is needs nothing more, and says nothing of it.
    run = w.ok("rule", MOTION, "maggie-simpson", "abstain", "--reason", "at the meeting")
    assert "final result" not in run.out

    # A file that changes it: refused whole without --yes.
    (w.root / "r.csv").write_text(
        "member,vote,reason\nsam-tarry,for,phoned again\njill-mountford,abstain,x\n",
        encoding="utf-8",
    )
    run = w.run("rule", MOTION, "--from-csv", "r.csv")
    assert run.code == 2 and "DEFEATED → CARRIED" in run.err and len(w.rulings()) == 3
    run = w.ok("rule", MOTION, "--from-csv", "r.csv", "--yes")
    out = one_line(run.out)
    assert "2 recorded, 0 already recorded." in out
    assert "This changes the final result: DEFEATED → CARRIED" in out
    assert result_of(w) == "carried"


def test_a_change_to_a_final_result_is_asked_about_on_a_terminal(
    cli: Any, isolated: Path, database_url: str
) -> None:
    replies = dict.fromkeys(SEVEN_FOR[:6], "For.")
    replies[MAGGIE] = "Yes, provided clause 9 is amended."
    w = closed(cli, isolated, database_url, replies)
    assert result_of(w) == "no_quorum"  # 6 counted of the 7 needed; Maggie in review

    term = Terminal(w.root, "rule", MOTION, "jill-mountford", "for", "--reason", "phoned")
    term.expect("Would record FOR for Jill Mountford")
    term.expect("This would change the final result: NO QUORUM → CARRIED")
    term.expect(r"Record it and change the final result\? \[y/N\]:")
    term.type("n")
    term.expect("Nothing recorded.")
    assert term.wait() == 0 and w.rulings() == []
    term = Terminal(w.root, "rule", MOTION, "jill-mountford", "for", "--reason", "phoned")
    term.expect(r"Record it and change the final result\? \[y/N\]:")
    term.type("y")
    term.expect("Recorded FOR for Jill Mountford")
    term.expect("This changes the final result: NO QUORUM → CARRIED")
    assert term.wait() == 0
    term = Terminal(w.root, "rule", MOTION, "jill-mountford", "--undo", "--reason", "misheard")
    term.expect("Would undo the ruling of")
    term.expect("Then: not voted")
    term.expect("This would change the final result: CARRIED → NO QUORUM")
    term.expect(r"Undo it and change the final result\? \[y/N\]:")
    term.type("y")
    term.expect("Undid the ruling of")
    # Maggie is still in review: a ruling on her can change it again, so it is not final.
    term.expect("This changes the result after the deadline: CARRIED → NO QUORUM")
    assert term.wait() == 0

    # A reply in review is what the final result awaited: ruling on it settles the result,
    # said so, and is recorded as it is given.
    term = Terminal(w.root, "review", MOTION, "--interactive", "--by", "sec")
    term.expect(r"\[1/1\] Ruling on maggie-simpson")
    term.type("f")
    term.expect("Reason")
    term.type("phoned")
    term.expect("Recorded FOR for Maggie Simpson")
    term.expect("This settles the final result: NO QUORUM → CARRIED")
    term.expect(r"1 recorded, 0 skipped, 0 not reached\.")
    term.expect("CARRIED")
    assert term.wait() == 0, term.text
    assert "final result?" not in term.text
    assert [(r.member_id, r.vote) for r in w.rulings()] == [
        ("jill-mountford", Vote.FOR),
        ("maggie-simpson", Vote.FOR),
    ]


def test_the_casting_vote_that_settles_a_final_tie_needs_no_confirming(
    cli: Any, isolated: Path, database_url: str
) -> None:
    """A final tie awaits the chair's casting vote: recording it is what the tie waits for,
    said as settling the result; changing it afterwards overturns a final result."""
    closes = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    w = workspace(
        cli,
        isolated,
        database_url,
        {
            "closes: 7d": f"closes: {closes.isoformat()}",
            "casting_vote: none": "casting_vote: chair",
            "threshold: majority-of-members": "threshold: majority-of-votes-cast",
            "quorum: 7": "quorum: 6",
        },
    )
    t0 = datetime.now(UTC) - HOUR
    voters = list(ADDRESS.values())
    for i, address in enumerate(voters[:6]):
        w.reply(address, "For." if i % 2 == 0 else "Against.", t0)
    w.tally()
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    assert result_of(w) == "tied"
    run = w.ok("rule", MOTION, "--casting", "for", "--reason", "the chair's casting vote")
    assert "This settles the final result: TIED → CARRIED" in one_line(run.out)
    run = w.run("rule", MOTION, "casting", "against", "--reason", "changed her mind")
    assert run.code == 2 and "CARRIED → DEFEATED" in run.err and len(w.rulings()) == 1
