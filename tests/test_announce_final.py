"""An announcement calls a result final only when it is final in every sense the tally
knows (found by a blind tester of issue 12), through the CLI with the real SMTP server,
Dovecot and both stores.

Final means: the deadline has passed, no ruling on a reply in review could change it, no
casting vote is awaited, and the motion is not withdrawn. Otherwise `announce` refuses
(exit 2, nothing sent, saying why and what to do) unless --provisional, and a provisional
announcement says so and why. No notice to members carries a command for the secretary,
and none says "final" beside "not final" or "provisional".
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from election import Election, Run
from propose_kit import EVERYONE, MEMBERS, parse, plain_text
from steervote.adapters.store import Store
from steervote.core.records import NoticeKind

MOTION = "new-constitution"
JON, MARSHA, CHRISTINE, SAM = MEMBERS[0], MEMBERS[1], MEMBERS[2], MEMBERS[3]
WHEELER = MEMBERS[8]
CONDITIONAL = "Yes if the budget is agreed first."
# Anything addressed to the secretary: a steervote command or one of its options.
SECRETARY_WORDS = re.compile(r"\bsteervote\s+[a-z]|(?<!\w)--[a-z]")


def ok(run: Run) -> Run:
    assert run.code == 0, (run.out, run.err)
    return run


def sent_since(e: Election, before: int, kind: str) -> dict[str, list[EmailMessage]]:
    """The notices of one kind ("receipt", "ask", "reminder", "result") received after
    the server's first `before` messages, by envelope recipient."""
    out: dict[str, list[EmailMessage]] = defaultdict(list)
    for m in e.smtp.messages[before:]:
        msg = parse(m.content)
        if " ".join(str(msg["Message-ID"]).split()).startswith(f"<{kind}.{MOTION}."):
            [recipient] = m.recipients
            out[recipient.lower()].append(msg)
    return dict(out)


def words_of(msg: EmailMessage) -> str:
    return " ".join(plain_text(msg).split())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    return "" if part is None else str(part.get_content())


def assert_for_members(msg: EmailMessage) -> None:
    """No secretary's command and no contradiction about finality, in either part."""
    for body in (words_of(msg), " ".join(html_of(msg).split())):
        assert not SECRETARY_WORDS.search(body), body
        assert "not final" not in body, body
        assert not ("This result is final" in body and "This result is provisional" in body)


def closing_soon(e: Election, *edits: tuple[str, str]) -> datetime:
    """Edit the example motion, make it close in a few seconds and propose it."""
    closes = datetime.now(UTC) + timedelta(seconds=6)
    for old, new in (*edits, ("closes: 7d", f"closes: {closes.isoformat()}")):
        e.edit_motion(old, new)
    e.propose()
    return closes


def after(closes: datetime) -> None:
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)


def nothing_sent(e: Election, before: int, database_url: str) -> None:
    assert len(e.smtp.messages) == before
    store = Store(database_url)
    try:
        assert store.notices(MOTION, NoticeKind.ANNOUNCEMENT) == []
    finally:
        store.close()


VOTES_CAST = ("threshold: majority-of-members", "threshold: majority-of-votes-cast")
CASTING = ("casting_vote: none", "casting_vote: chair")


def test_a_tie_awaiting_the_casting_vote_after_the_deadline_is_not_final(
    fresh_election: Election, database_url: str
) -> None:
    e = fresh_election
    closes = closing_soon(e, VOTES_CAST, CASTING, ("quorum: 7", "quorum: 2"))
    e.reply(JON, "For")
    e.reply(MARSHA, "Against")
    after(closes)
    assert e.tally()["result"] == "tied"
    before = len(e.smtp.messages)

    for flags in (("--yes",), ("--dry-run",)):
        refused = e.cli("announce", MOTION, *flags)
        assert refused.code == 2, (refused.out, refused.err)
        err = " ".join(refused.err.split())
        assert "cannot be announced as final" in err
        assert "the tie awaits the chair's casting vote" in err
        assert f'steervote rule {MOTION} --casting for --reason "…" (or against)' in err
        assert "--provisional" in err
    nothing_sent(e, before, database_url)

    ok(e.cli("announce", MOTION, "--provisional", "--yes"))

    results = sent_since(e, before, "result")
    assert sorted(results) == sorted(EVERYONE)
    msg = results[JON][0]
    assert " ".join(str(msg["Subject"]).split()).startswith(f"[{MOTION}] Provisional result")
    text = words_of(msg)
    assert "This result is provisional: voting closed on" in text
    assert "the tie awaits the chair's casting vote" in text
    assert "Result: TIED (awaiting the chair's casting vote) — 1 for, 1 against" in text
    assert "final" not in text.lower() and "final" not in html_of(msg).lower()
    assert_for_members(msg)

    ok(e.cli("rule", MOTION, "--casting", "for", "--reason", "the chair's call"))
    ok(e.cli("announce", MOTION, "--yes"))  # Now final: no --provisional needed.

    corrections = sent_since(e, before + 14, "result")
    assert sorted(corrections) == sorted(EVERYONE)
    text = words_of(corrections[JON][0])
    assert "CARRIED on the chair's casting vote" in text
    assert "This result is final: voting closed on" in text
    assert "What changed: the result, TIED → CARRIED; provisional → final." in text
    assert_for_members(corrections[JON][0])


def test_a_closed_result_that_a_ruling_on_a_review_can_change_is_not_final(
    fresh_election: Election, database_url: str
) -> None:
    e = fresh_election
    closes = closing_soon(e, VOTES_CAST, ("quorum: 7", "quorum: 3"))
    e.reply(JON, "For")
    e.reply(MARSHA, "For")
    e.reply(CHRISTINE, "Against")
    e.reply(WHEELER, CONDITIONAL)  # AGAINST by a ruling would make it a tie, which fails.
    after(closes)
    tally = e.tally()
    assert (tally["result"], tally["counts"]["needs_review"]) == ("carried", 1), tally["counts"]
    before = len(e.smtp.messages)

    refused = e.cli("announce", MOTION, "--yes")

    assert refused.code == 2
    err = " ".join(refused.err.split())
    assert "rulings on the replies of the 1 member in review can change it" in err
    assert f"steervote review {MOTION}" in err and f"steervote rule {MOTION} MEMBER VOTE" in err
    assert "--provisional" in err
    nothing_sent(e, before, database_url)

    ok(e.cli("announce", MOTION, "--provisional", "--yes"))

    msg = sent_since(e, before, "result")[SAM][0]
    text = words_of(msg)
    assert "This result is provisional: voting closed on" in text
    assert "the secretary has still to rule on the replies of 1 member, which could change" in text
    assert "Result: CARRIED — 2 for, 1 against" in text
    assert "final" not in text.lower()
    assert_for_members(msg)

    ok(e.cli("rule", MOTION, "sam-wheeler", "against", "--reason", "said so by phone"))
    ok(e.cli("announce", MOTION, "--yes"))

    msg = sent_since(e, before + 14, "result")[SAM][0]
    text = words_of(msg)
    assert "This result is final: voting closed on" in text
    assert "DEFEATED (a tie fails)" in text
    assert_for_members(msg)

    ok(e.cli("acknowledge", MOTION, "--yes"))
    receipts = sent_since(e, before + 28, "receipt")
    assert sorted(receipts) == sorted([JON, MARSHA, CHRISTINE, WHEELER])
    for [receipt] in receipts.values():
        assert_for_members(receipt)


def test_a_tie_with_every_member_voted_before_the_deadline_is_not_decided(
    fresh_election: Election, database_url: str
) -> None:
    e = fresh_election
    for old, new in (VOTES_CAST, CASTING):
        e.edit_motion(old, new)
    e.propose()
    for address in MEMBERS[:6]:
        e.reply(address, "For")
    for address in MEMBERS[6:]:
        e.reply(address, "Against")
    tally = e.tally()
    assert (tally["result"], tally["decided"]) == ("tied", True)
    before = len(e.smtp.messages)

    refused = e.cli("announce", MOTION, "--yes")

    assert refused.code == 2
    err = " ".join(refused.err.split())
    assert "cannot be announced as decided" in err and "casting vote" in err
    nothing_sent(e, before, database_url)

    ok(e.cli("announce", MOTION, "--provisional", "--yes"))
    msg = sent_since(e, before, "result")[JON][0]
    text = words_of(msg)
    assert "This result is provisional: voting is open until" in text
    assert "the tie awaits the chair's casting vote" in text
    assert "decided" not in text and "final" not in text.lower()
    assert_for_members(msg)


def test_no_notice_to_members_carries_a_command_or_a_contradiction(election: Election) -> None:
    e = election
    e.reply(JON, "For")
    e.reply(MARSHA, "Against")
    e.reply(WHEELER, CONDITIONAL)
    e.tally()
    before = len(e.smtp.messages)

    ok(e.cli("acknowledge", MOTION, "--yes"))
    ok(e.cli("ask", MOTION, "--yes"))
    ok(e.cli("remind", MOTION, "--include-review", "--yes"))
    ok(e.cli("announce", MOTION, "--provisional", "--yes"))

    kinds = {k: sent_since(e, before, k) for k in ("receipt", "ask", "reminder", "result")}
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}
    for notices in kinds.values():
        for messages in notices.values():
            for msg in messages:
                assert_for_members(msg)


def test_announcing_a_withdrawn_motion_is_refused_saying_what_to_do(
    election: Election, database_url: str
) -> None:
    e = election
    e.reply(JON, "For")
    e.tally()
    ok(e.cli("withdraw", MOTION, "--reason", "moved to the AGM"))
    before = len(e.smtp.messages)

    for flags in (("--yes",), ("--provisional", "--yes"), ("--dry-run",)):
        refused = e.cli("announce", MOTION, *flags)
        assert refused.code == 2
        err = " ".join(refused.err.split())
        assert "was withdrawn" in err and "moved to the AGM" in err
        assert "no result to announce" in err
        assert f"steervote members {MOTION}" in err
    nothing_sent(e, before, database_url)
