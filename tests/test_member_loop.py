"""The member loop (issue 12) through the CLI: `acknowledge`, `ask`, `remind` and
`announce` send through the real test SMTP server, members' answers arrive through real
Dovecot, and the store is SQLite and PostgreSQL.

Each notice is counted by the envelope recipient the server received it for and by the
kind its Message-ID names (`<receipt|ask|reminder|result.MOTION.TOKEN@domain>`), so a
member who got the same notice twice shows up as two messages.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

import pytest

from election import Election, Run, header
from propose_kit import (
    EVERYONE,
    MEMBERS,
    OBSERVERS,
    CrashableServers,
    Steervote,
    parse,
    plain_text,
)
from servers import Received, SmtpServer
from steervote.adapters.store import Store
from steervote.core.records import BallotStatus, NoticeKind, NoticeRecord

MOTION = "new-constitution"
TITLE = "Adopt the new constitution"
SENDER = "Helen Marsh <chair@steering-group.example.org>"
DOMAIN = "steering-group.example.org"
JON, MARSHA, CHRISTINE, SAM = MEMBERS[0], MEMBERS[1], MEMBERS[2], MEMBERS[3]
WHEELER = MEMBERS[8]
SAM_ALIAS = "sam@tarry.example"  # motions/committees/steering-group.yaml
CONDITIONAL = "Yes if the budget is agreed first."
TOKEN = r"[a-z2-7]{24}"


@pytest.fixture
def servers() -> Iterator[CrashableServers]:
    started = CrashableServers()
    yield started
    started.close()


# --- Helpers ---------------------------------------------------------------------------


def ok(run: Run) -> Run:
    assert run.code == 0, (run.out, run.err)
    return run


def flat(value: object) -> str:
    """A header's value unfolded."""
    return " ".join(str(value).split())


def sent(messages: Iterable[Received], kind: str) -> dict[str, list[EmailMessage]]:
    """The notices of one kind ("receipt", "ask", "reminder", "result") a server
    received, by envelope recipient (each message has one)."""
    out: dict[str, list[EmailMessage]] = defaultdict(list)
    for m in messages:
        msg = parse(m.content)
        if flat(msg["Message-ID"]).startswith(f"<{kind}.{MOTION}."):
            [recipient] = m.recipients
            out[recipient.lower()].append(msg)
    return dict(out)


def one_each(notices: dict[str, list[EmailMessage]]) -> dict[str, EmailMessage]:
    """The notices by recipient, asserting that nobody got two."""
    assert all(len(v) == 1 for v in notices.values()), {k: len(v) for k, v in notices.items()}
    return {k: v[0] for k, v in notices.items()}


def since(e: Election, before: int, kind: str) -> dict[str, list[EmailMessage]]:
    """The notices of a kind the session server received after its first `before` messages."""
    return sent(e.smtp.messages[before:], kind)


def text_of(msg: EmailMessage) -> str:
    """The text part with its lines as the member's client shows them."""
    return "\n".join(plain_text(msg).splitlines())


def words_of(msg: EmailMessage) -> str:
    """The text part with every run of white space (line breaks too) as one space."""
    return " ".join(plain_text(msg).split())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def to_address(msg: EmailMessage) -> str:
    [(_, address)] = getaddresses([str(msg["To"])])
    return address.lower()


def message_id(raw: bytes) -> str:
    return flat(parse(raw)["Message-ID"])


def answer(
    e: Election, notice: EmailMessage, text: str, *, sender: str, at: datetime | None = None
) -> bytes:
    """A member's reply to a notice as a mail client writes it (To its Reply-To, In-Reply-To
    its Message-ID, References its References and Message-ID, the notice quoted), APPENDed
    to the secretary's inbox in Dovecot."""
    quoted = "\n".join(f"> {line}".rstrip() for line in text_of(notice).splitlines())
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = flat(notice["Reply-To"])
    msg["Subject"] = "Re: " + flat(notice["Subject"])
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="member.example")
    msg["In-Reply-To"] = flat(notice["Message-ID"])
    msg["References"] = f"{flat(notice['References'])} {flat(notice['Message-ID'])}"
    msg.set_content(f"{text}\n\nOn 20 Jan 2027, Helen Marsh wrote:\n{quoted}\n")
    raw = msg.as_bytes()
    e.append(raw, at=at)
    return raw


def member_line(result: dict[str, object], address: str) -> dict[str, object]:
    members = result["members"]
    assert isinstance(members, list)
    return next(m for m in members if m["email"] == address)


def recorded(database_url: str, kind: NoticeKind | None = None) -> list[NoticeRecord]:
    store = Store(database_url)
    try:
        return store.notices(MOTION, kind)
    finally:
        store.close()


def use_server(e: Election, server: SmtpServer) -> None:
    """Point the election's steervote.toml at another SMTP server."""
    path = e.root / "steervote.toml"
    text = path.read_text(encoding="utf-8")
    old = re.search(r'(\[smtp\]\nhost = "[^"]*"\nport = )(\d+)', text)
    assert old is not None, text
    path.write_text(text.replace(old.group(0), old.group(1) + str(server.port)), "utf-8")


def earlier(hours: float) -> datetime:
    """A receipt time in the past: Dovecot keeps INTERNALDATE to the second, so a later
    reply must be clearly later to be the member's latest."""
    return datetime.now(UTC) - timedelta(hours=hours)


# --- acknowledge -------------------------------------------------------------------------


def test_a_receipt_goes_to_the_roll_address_even_for_a_reply_from_an_alias(
    election: Election,
) -> None:
    e = election
    from_alias = e.reply(SAM, "For.", sender=f"Sam Tarry <{SAM_ALIAS}>")
    e.reply(JON, "FOR")
    tally = e.tally()
    assert member_line(tally, SAM)["vote"] == "for"
    before = len(e.smtp.messages)

    run = ok(e.cli("acknowledge", MOTION, "--yes"))

    assert "Sent now: 2; failed: 0" in run.out
    shown = ok(e.cli("show", MOTION, "sam-tarry"))
    assert f"receipt sent to {SAM}" in shown.out
    receipts = one_each(since(e, before, "receipt"))
    assert sorted(receipts) == sorted([JON, SAM])  # Never to sam@tarry.example.
    assert all(SAM_ALIAS not in m.recipients for m in e.smtp.messages)
    assert {m.sender for m in e.smtp.messages[before:]} == {f"chair@{DOMAIN}"}
    receipt, ballot = receipts[SAM], e.ballots[SAM]
    assert to_address(receipt) == SAM
    assert flat(receipt["From"]) == SENDER
    assert flat(receipt["Reply-To"]) == header(ballot, "Reply-To")
    assert re.fullmatch(rf"votes\+{TOKEN}@{re.escape(DOMAIN)}", flat(receipt["Reply-To"]))
    assert flat(receipt["In-Reply-To"]) == message_id(from_alias)
    references = flat(receipt["References"]).split()
    assert references == [header(ballot, "Message-ID"), message_id(from_alias)]
    assert flat(receipt["Auto-Submitted"]) == "auto-generated"
    assert flat(receipt["Subject"]) == f"[{MOTION}] Your vote is recorded: {TITLE}"
    own = re.fullmatch(
        rf"<receipt\.{MOTION}\.({TOKEN})@{re.escape(DOMAIN)}>", flat(receipt["Message-ID"])
    )
    assert own is not None and own.group(1) not in header(ballot, "Reply-To")
    text = words_of(receipt)
    assert "Dear Sam Tarry," in text
    assert f"Your vote on “{TITLE}” is recorded as FOR, read from your reply received" in text
    assert "your words: > For." in text
    assert "reply to this message with FOR, AGAINST or ABSTAIN before" in text

    again = ok(e.cli("acknowledge", MOTION, "--yes"))

    assert "Receipts to send: 0; already sent: 2" in again.out
    assert "Nothing to send." in again.out
    assert len(e.smtp.messages) == before + 2


def test_a_changed_vote_gets_exactly_one_new_receipt_and_only_its_member(
    election: Election,
) -> None:
    e = election
    e.reply(JON, "For", at=earlier(2))
    e.reply(MARSHA, "Against", at=earlier(2))
    e.reply(CHRISTINE, "Abstain", at=earlier(2))
    e.tally()
    before = len(e.smtp.messages)
    ok(e.cli("acknowledge", MOTION, "--yes"))
    first = one_each(since(e, before, "receipt"))
    assert sorted(first) == sorted([JON, MARSHA, CHRISTINE])

    # Jon answers his receipt ("if this is not what you meant, reply to this message"):
    # matched to him by the receipt's own token, and the vote changes.
    change = answer(e, first[JON], "Against, sorry.", sender=JON)
    assert member_line(e.tally(), JON)["vote"] == "against"
    before = len(e.smtp.messages)
    ok(e.cli("acknowledge", MOTION, "--yes"))

    [new] = one_each(since(e, before, "receipt")).items()
    assert new[0] == JON and len(e.smtp.messages) == before + 1
    assert "is recorded as AGAINST" in words_of(new[1])
    assert flat(new[1]["In-Reply-To"]) == message_id(change)
    assert flat(new[1]["References"]).split()[0] == header(e.ballots[JON], "Message-ID")
    assert flat(new[1]["Message-ID"]) != flat(first[JON]["Message-ID"])

    # A ruling changes Marsha's vote: one receipt, naming the ruling and its reason.
    ok(e.cli("rule", MOTION, "marsha-jane-thompson", "for", "--reason", "confirmed by phone"))
    before = len(e.smtp.messages)
    ok(e.cli("acknowledge", MOTION, "--yes"))

    [ruled] = one_each(since(e, before, "receipt")).items()
    assert ruled[0] == MARSHA and len(e.smtp.messages) == before + 1
    text = words_of(ruled[1])
    assert "is recorded as FOR by a ruling of the secretary" in text
    assert "confirmed by phone" in text
    assert flat(ruled[1]["References"]).split()[0] == header(e.ballots[MARSHA], "Message-ID")

    last = ok(e.cli("acknowledge", MOTION, "--yes"))
    assert "Nothing to send." in last.out and len(e.smtp.messages) == before + 1


def test_a_refused_receipt_is_recorded_and_only_it_is_sent_again(
    election: Election, database_url: str
) -> None:
    e = election
    for address in (JON, MARSHA, CHRISTINE):
        e.reply(address, "For")
    e.tally()
    e.smtp.refuse[MARSHA] = f"550 5.1.1 <{MARSHA}>: no such user"
    before = len(e.smtp.messages)

    first = e.cli("acknowledge", MOTION, "--yes")

    assert first.code == 1, (first.out, first.err)
    assert "Sent now: 2; failed: 1" in first.out
    assert sorted(since(e, before, "receipt")) == sorted([JON, CHRISTINE])
    [failed] = [n for n in recorded(database_url) if n.status is BallotStatus.FAILED]
    assert failed.address == MARSHA and "no such user" in failed.detail

    e.smtp.refuse.clear()
    second = ok(e.cli("acknowledge", MOTION, "--yes"))
    assert "Receipts to send: 1; already sent: 2" in second.out
    receipts = since(e, before, "receipt")
    assert sorted(receipts) == sorted([JON, MARSHA, CHRISTINE])
    assert all(len(v) == 1 for v in receipts.values())
    [retried] = receipts[MARSHA]
    assert flat(retried["Message-ID"]) == failed.message_id  # The same notice, retried.
    assert {n.status for n in recorded(database_url)} == {BallotStatus.SENT}


# --- ask -------------------------------------------------------------------------------


def test_a_one_word_answer_to_an_ask_is_counted_and_a_conditional_one_stays_in_review(
    election: Election,
) -> None:
    e = election
    sam_reply = e.reply(SAM, CONDITIONAL, at=earlier(1))
    e.reply(CHRISTINE, "Yes, provided clause 4 is amended first.", at=earlier(1))
    e.reply(JON, "For", at=earlier(1))
    tally = e.tally()
    assert member_line(tally, SAM)["status"] == "needs_review"
    assert member_line(tally, CHRISTINE)["status"] == "needs_review"
    before = len(e.smtp.messages)

    ok(e.cli("ask", MOTION, "--yes"))

    asks = one_each(since(e, before, "ask"))
    assert sorted(asks) == sorted([SAM, CHRISTINE])
    ask = asks[SAM]
    assert to_address(ask) == SAM
    assert flat(ask["From"]) == SENDER
    assert flat(ask["Reply-To"]) == header(e.ballots[SAM], "Reply-To")
    assert flat(ask["In-Reply-To"]) == message_id(sam_reply)
    assert flat(ask["References"]).split()[0] == header(e.ballots[SAM], "Message-ID")
    assert flat(ask["Auto-Submitted"]) == "auto-generated"
    assert flat(ask["Subject"]) == f"[{MOTION}] Please confirm your vote: {TITLE}"
    assert re.fullmatch(rf"<ask\.{MOTION}\.{TOKEN}@{re.escape(DOMAIN)}>", flat(ask["Message-ID"]))
    text = words_of(ask)
    assert "it sets a condition" in text and f"> {CONDITIONAL}" in text
    assert "Please reply to this message with one word: FOR, AGAINST or ABSTAIN." in text

    again = ok(e.cli("ask", MOTION, "--yes"))
    assert "Nothing to send." in again.out and len(e.smtp.messages) == before + 2

    # A forwarded ask answered by someone else is never the member's vote.
    answer(e, ask, "Against", sender="eve@elsewhere.example", at=earlier(0.5))
    assert member_line(e.tally(), SAM)["vote"] is None
    sam_answer = answer(e, ask, "For", sender=SAM)
    answer(e, asks[CHRISTINE], "For, if clause 9 changes", sender=CHRISTINE)
    tally = e.tally()

    sam = member_line(tally, SAM)
    assert (sam["status"], sam["vote"], sam["replies"]) == ("counted", "for", 3)
    assert sam["message_id"] == message_id(sam_answer)
    assert sam["strength"] == "token+sender"
    assert tally["counts"]["for"] == 2
    christine = member_line(tally, CHRISTINE)
    assert (christine["status"], christine["vote"]) == ("needs_review", None)
    assert "For, if clause 9 changes" in str(christine["evidence"])
    assert christine["replies"] == 2
    review = ok(e.cli("review", MOTION))
    assert "clause 9 changes" in review.out

    # Her answer is a new reply: she is asked about it once, with her new words.
    before = len(e.smtp.messages)
    ok(e.cli("ask", MOTION, "--yes"))
    [(who, second)] = one_each(since(e, before, "ask")).items()
    assert who == CHRISTINE and len(e.smtp.messages) == before + 1
    assert "> For, if clause 9 changes" in text_of(second)


def test_an_answer_to_an_ask_is_held_to_one_word(election: Election) -> None:
    # "I vote for it." counts as a reply to the ballot; as the answer to a request for one
    # word it is a statement, and a secretary reads it.
    e = election
    e.reply(SAM, CONDITIONAL, at=earlier(1))
    e.reply(JON, "I vote for it.", at=earlier(1))
    e.tally()
    before = len(e.smtp.messages)
    ok(e.cli("ask", MOTION, "--yes"))
    [(who, ask)] = one_each(since(e, before, "ask")).items()
    assert who == SAM

    answer(e, ask, "I vote for it.", sender=f"Sam Tarry <{SAM_ALIAS}>", at=earlier(0.5))
    tally = e.tally()

    assert member_line(tally, JON)["vote"] == "for"
    sam = member_line(tally, SAM)
    assert (sam["status"], sam["vote"]) == ("needs_review", None)
    assert sam["evidence"] == "I vote for it."

    answer(e, ask, "Hi Helen,\n\nFOR!\n\nThanks,\nSam", sender=f"Sam Tarry <{SAM_ALIAS}>")
    sam = member_line(e.tally(), SAM)
    assert (sam["status"], sam["vote"]) == ("counted", "for"), sam


def test_ask_member_asks_only_the_member_named(election: Election) -> None:
    e = election
    e.reply(SAM, CONDITIONAL, at=earlier(1))
    e.reply(CHRISTINE, "Yes, provided clause 4 is amended first.", at=earlier(1))
    e.reply(JON, "For", at=earlier(1))
    e.tally()
    before = len(e.smtp.messages)

    # By alias, without --yes and with no terminal: the plan is shown, nothing is sent.
    shown = e.cli("ask", MOTION, "--member", SAM_ALIAS)
    assert shown.code == 2 and "Requests to send: 1; already sent: 0" in shown.out
    ok(e.cli("ask", MOTION, "--member", "Sam Tarry", "--reason", "please say it plainly", "--yes"))

    [(who, asked)] = one_each(since(e, before, "ask")).items()
    assert who == SAM and len(e.smtp.messages) == before + 1
    assert "please say it plainly" in text_of(asked)
    assert "it sets a condition" not in text_of(asked)

    # A named member whose vote is counted is not asked (telling them "we could not count
    # your reply" would be false); one with no reply cannot be.
    both = e.cli("ask", MOTION, "--member", "jon-lansman", "--member", "maggie-simpson", "--yes")
    assert "skipped maggie-simpson: no reply to ask about" in both.out
    assert "skipped jon-lansman: counted" in both.out
    assert len(e.smtp.messages) == before + 1
    unknown = e.cli("ask", MOTION, "--member", "nobody@elsewhere.example", "--yes")
    assert unknown.code == 2 and "no member 'nobody@elsewhere.example'" in unknown.err

    ok(e.cli("ask", MOTION, "--yes"))  # Everyone in review not yet asked: Christine.
    [(who, _)] = one_each(since(e, before + 1, "ask")).items()
    assert who == CHRISTINE and len(e.smtp.messages) == before + 2


# --- remind ------------------------------------------------------------------------------


def test_remind_skips_voters_and_never_reminds_within_the_interval(election: Election) -> None:
    e = election
    e.reply(JON, "For")
    e.reply(MARSHA, "Against")
    e.reply(SAM, CONDITIONAL)
    e.tally()
    before = len(e.smtp.messages)

    run = ok(e.cli("remind", MOTION, "--yes"))

    reminded = one_each(since(e, before, "reminder"))
    assert sorted(reminded) == sorted(set(MEMBERS) - {JON, MARSHA, SAM})
    assert "Sent now: 9; failed: 0" in run.out
    nudge = reminded[MEMBERS[11]]
    assert flat(nudge["Subject"]) == f"[{MOTION}] Reminder: voting closes in 6 days: {TITLE}"
    assert flat(nudge["Reply-To"]) == header(e.ballots[MEMBERS[11]], "Reply-To")
    assert flat(nudge["In-Reply-To"]) == header(e.ballots[MEMBERS[11]], "Message-ID")
    assert flat(nudge["Auto-Submitted"]) == "auto-generated"
    text = words_of(nudge)
    assert "we have no vote from you yet" in text and "HOW TO VOTE" in text
    assert "(Europe/London)" in text

    again = ok(e.cli("remind", MOTION, "--yes"))
    assert "Reminders to send: 0; already sent: 0; skipped: 9" in again.out
    assert "reminded within the interval" in again.out
    assert len(e.smtp.messages) == before + 9

    review = ok(e.cli("remind", MOTION, "--include-review", "--yes"))
    assert "Sent now: 1" in review.out
    [(who, msg)] = one_each(since(e, before + 9, "reminder")).items()
    assert who == SAM
    assert "We have a reply from you that we could not count" in words_of(msg)

    # Everyone was reminded seconds ago: within a shorter interval too.
    shortly = ok(e.cli("remind", MOTION, "--include-review", "--min-interval", "1h", "--yes"))
    assert "Nothing to send." in shortly.out and len(e.smtp.messages) == before + 10

    # A reply to the reminder, quoting it, is the member's vote, matched by its token.
    answer(e, nudge, "Against.", sender=MEMBERS[11])
    maggie = member_line(e.tally(), MEMBERS[11])
    assert (maggie["status"], maggie["vote"]) == ("counted", "against")
    assert maggie["strength"] == "token+sender"


def test_remind_refuses_an_interval_that_is_none_or_not_a_duration(election: Election) -> None:
    # No interval would remind again everyone a run just before reminded, even one re-run
    # to finish after a dropped connection.
    e = election
    ok(e.cli("remind", MOTION, "--yes"))
    before = len(e.smtp.messages)
    for interval, says in (
        ("0m", "at least 1h between reminders"),
        ("0h 0m", "at least 1h between reminders"),
        ("1m", "at least 1h between reminders"),
        ("59m", "at least 1h between reminders"),
        ("soon", "expected a duration like 24h"),
        ("99999999999w", "too long"),
    ):
        run = e.cli("remind", MOTION, "--min-interval", interval, "--yes")
        assert run.code == 2, (interval, run.out, run.err)
        assert f"--min-interval {interval!r}: {says}" in run.err
        assert "Traceback" not in run.err and run.err.count("\n") == 1
    assert len(e.smtp.messages) == before

    for interval in ("52w", "999999999d"):  # As long as the calendar goes: nobody twice.
        run = ok(e.cli("remind", MOTION, "--min-interval", interval, "--yes"))
        assert "Nothing to send." in run.out
    assert len(e.smtp.messages) == before


# --- announce ----------------------------------------------------------------------------


def test_announce_refuses_while_pending_and_sends_a_provisional_result_to_everyone(
    election: Election, database_url: str
) -> None:
    e = election
    e.reply(JON, "For")
    e.reply(MARSHA, "Against")
    e.reply(SAM, "<b>For</b> if <script>clause 9</script> changes")
    e.tally()
    before = len(e.smtp.messages)

    pending = e.cli("announce", MOTION, "--yes")

    assert pending.code == 2
    assert "still pending before the deadline" in pending.err and "--provisional" in pending.err
    assert len(e.smtp.messages) == before and recorded(database_url) == []

    run = ok(e.cli("announce", MOTION, "--provisional", "--yes"))

    assert "Sent now: 14; failed: 0" in run.out
    results = one_each(since(e, before, "result"))
    assert sorted(results) == sorted(EVERYONE)  # 12 members and 2 observers
    for address, msg in results.items():
        assert to_address(msg) == address
        assert flat(msg["From"]) == SENDER
        assert flat(msg["Subject"]) == f"[{MOTION}] Provisional result: {TITLE}"
        assert flat(msg["Auto-Submitted"]) == "auto-generated"
        assert msg.get_content_type() == "multipart/alternative"
    member, observer = results[MARSHA], results[OBSERVERS[0]]
    assert flat(member["Reply-To"]) == header(e.ballots[MARSHA], "Reply-To")
    assert flat(member["In-Reply-To"]) == header(e.ballots[MARSHA], "Message-ID")
    assert re.fullmatch(
        rf"<result\.{MOTION}\.{TOKEN}@{re.escape(DOMAIN)}>", flat(member["Message-ID"])
    )
    assert flat(observer["Reply-To"]) == f"votes@{DOMAIN}"  # No member's token.
    text = text_of(member)
    assert "This is a provisional count" in text
    assert "Result: PENDING" in text
    assert "  Jon Lansman: FOR\n" in text and "  Marsha Jane Thompson: AGAINST\n" in text
    assert "  Sam Tarry: in review\n" in text and "  Maggie Simpson: not voted\n" in text
    page = html_of(member)
    assert "<script" not in page and "<img" not in page and "http" not in page.lower()
    assert "Marsha Jane Thompson" in page

    # A reply to the announcement is the member's vote too.
    answer(e, results[MEMBERS[11]], "Abstain", sender=MEMBERS[11])
    # An observer's copy carries no token: an observer's answer is no vote.
    answer(e, observer, "For", sender=OBSERVERS[0])
    tally = e.tally()
    maggie = member_line(tally, MEMBERS[11])
    assert (maggie["vote"], maggie["strength"]) == ("abstain", "token+sender")
    assert tally["counts"]["for"] == 1
    [ignored] = [i for i in tally["ignored"] if i["from"] == OBSERVERS[0]]
    assert "is not a member" in ignored["reason"]

    again = ok(e.cli("announce", MOTION, "--provisional", "--yes"))
    assert "Announcements to send: 14; already sent: 0" in again.out
    before += 14
    again = ok(e.cli("announce", MOTION, "--provisional", "--yes"))
    assert "Announcements to send: 0; already sent: 14" in again.out
    assert "Nothing to send." in again.out and len(e.smtp.messages) == before + 14


def test_announce_counts_only_leaves_out_the_members(election: Election) -> None:
    e = election
    e.reply(JON, "For")
    e.tally()
    before = len(e.smtp.messages)

    ok(e.cli("announce", MOTION, "--provisional", "--counts-only", "--yes"))

    results = one_each(since(e, before, "result"))
    assert len(results) == 14
    msg = results[OBSERVERS[1]]
    text = text_of(msg)
    page = html_of(msg)
    assert "For:       1" in text
    for body in (text, page):
        assert "Votes" not in body and "Jon Lansman" not in body and "Maggie Simpson" not in body

    # The same result announced again, with or without the list, is not a new result.
    for flags in ((), ("--counts-only",)):
        run = ok(e.cli("announce", MOTION, "--provisional", *flags, "--yes"))
        assert "Nothing to send." in run.out, run.out
    assert len(e.smtp.messages) == before + 14


def test_a_ruling_that_changes_the_result_is_announced_as_a_correction(
    election: Election,
) -> None:
    e = election
    for address in MEMBERS[:7]:
        e.reply(address, "For")
    for address in MEMBERS[7:]:
        e.reply(address, "Against")
    tally = e.tally()
    assert (tally["result"], tally["decided"]) == ("carried", True)
    before = len(e.smtp.messages)

    ok(e.cli("announce", MOTION, "--yes"))  # Decided: no --provisional needed.

    first = one_each(since(e, before, "result"))
    assert len(first) == 14
    assert flat(first[JON]["Subject"]) == f"[{MOTION}] Result: {TITLE}"
    assert "This result was decided before the deadline" in text_of(first[JON])
    nothing = ok(e.cli("announce", MOTION, "--yes"))
    assert "Nothing to send." in nothing.out and len(e.smtp.messages) == before + 14

    ruled = ok(e.cli("rule", MOTION, "jon-lansman", "against", "--reason", "wrote to withdraw"))
    assert ruled.code == 0
    ok(e.cli("announce", MOTION, "--yes"))

    corrections = one_each(since(e, before + 14, "result"))
    assert sorted(corrections) == sorted(EVERYONE)
    msg = corrections[OBSERVERS[0]]
    assert flat(msg["Subject"]) == f"[{MOTION}] Correction to the result: {TITLE}"
    text = words_of(msg)
    assert "This corrects the result announced earlier: CARRIED — 7 for, 5 against" in text
    assert "What changed: the result, CARRIED → DEFEATED; for 7 → 6; against 5 → 6." in text
    assert "Jon Lansman: AGAINST (by ruling)" in text
    assert "What changed: the result, CARRIED → DEFEATED" in html_of(msg)

    final = ok(e.cli("announce", MOTION, "--yes"))
    assert "Nothing to send." in final.out and len(e.smtp.messages) == before + 28


def test_a_result_that_changes_back_is_announced_again(election: Election) -> None:
    # Members last read the changed result: the one announced first is news again.
    e = election
    e.reply(JON, "For", at=earlier(3))
    e.tally()
    before = len(e.smtp.messages)
    ok(e.cli("announce", MOTION, "--provisional", "--yes"))
    e.reply(JON, "Against", at=earlier(2))
    e.tally()
    ok(e.cli("announce", MOTION, "--provisional", "--yes"))
    e.reply(JON, "For", at=earlier(1))
    e.tally()

    run = ok(e.cli("announce", MOTION, "--provisional", "--yes"))

    assert "Sent now: 14" in run.out
    rounds = since(e, before, "result")
    assert sorted(rounds) == sorted(EVERYONE)
    assert all(len(v) == 3 for v in rounds.values())
    last = words_of(rounds[MARSHA][2])
    assert "This corrects the result announced earlier: PENDING — 0 for, 1 against" in last
    assert "What changed: for 0 → 1; against 1 → 0." in last
    again = ok(e.cli("announce", MOTION, "--provisional", "--yes"))
    assert "Nothing to send." in again.out and len(e.smtp.messages) == before + 42


# --- After the deadline -----------------------------------------------------------------


def test_after_the_deadline_ask_and_remind_refuse_and_an_unchanged_result_is_not_resent(
    fresh_election: Election,
) -> None:
    # Dovecot will not take an INTERNALDATE in the future, so the deadline comes first.
    e = fresh_election
    closes = datetime.now(UTC) + timedelta(seconds=6)
    e.edit_motion("closes: 7d", f"closes: {closes.isoformat()}")
    e.propose()
    for address in MEMBERS[:7]:
        e.reply(address, "For")
    e.reply(WHEELER, CONDITIONAL)
    e.tally()
    before = len(e.smtp.messages)
    ok(e.cli("announce", MOTION, "--yes"))  # Decided early: 7 of 12 for.
    assert datetime.now(UTC) < closes, "too slow: the deadline passed before the announcement"
    decided = one_each(since(e, before, "result"))
    assert len(decided) == 14
    assert "This result was decided before the deadline" in text_of(decided[JON])
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1.1)
    e.tally()
    before = len(e.smtp.messages)

    for command in ("ask", "remind"):
        for flags in (("--yes",), ("--dry-run",)):
            run = e.cli(command, MOTION, *flags)
            assert run.code == 2, (command, run.out, run.err)
            assert "voting has closed" in run.err
    ask = e.cli("ask", MOTION, "--member", "sam-wheeler", "--yes")
    assert ask.code == 2 and "voting has closed" in ask.err
    assert len(e.smtp.messages) == before

    # The result decided early stands at the deadline: it is not announced again.
    unchanged = ok(e.cli("announce", MOTION, "--yes"))
    assert "Nothing to send." in unchanged.out and len(e.smtp.messages) == before

    # A ruling after the deadline changes it: one correction each, now final.
    ok(e.cli("rule", MOTION, "sam-wheeler", "against", "--reason", "said so by phone"))
    ok(e.cli("announce", MOTION, "--yes"))
    corrections = one_each(since(e, before, "result"))
    assert len(corrections) == 14
    msg = corrections[JON]
    assert flat(msg["Subject"]) == f"[{MOTION}] Correction to the result: {TITLE}"
    text = words_of(msg)
    assert "What changed: against 0 → 1; in review 1 → 0; decided → final." in text
    assert "This result is final: voting closed on" in text

    ok(e.cli("acknowledge", MOTION, "--yes"))  # Receipts still go: each vote is final.
    receipts = one_each(since(e, before + 14, "receipt"))
    assert sorted(receipts) == sorted([*MEMBERS[:7], WHEELER])
    assert "this vote is final" in words_of(receipts[JON])


# --- Dropped connections and kills ------------------------------------------------------

COMMANDS = {  # what runs, the kind its Message-IDs name, who gets one
    "remind": (("remind", MOTION, "--yes"), "reminder", MEMBERS),
    "announce": (("announce", MOTION, "--provisional", "--yes"), "result", EVERYONE),
}
RECORDED_AS = {"reminder": NoticeKind.REMINDER, "result": NoticeKind.ANNOUNCEMENT}


def stop_when(server: SmtpServer, stored: int) -> threading.Thread:
    """Stop the server like a crash as soon as it has stored `stored` messages."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while len(server.messages) < stored and time.monotonic() < deadline:
            time.sleep(0.0005)
        server.stop()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_connection_dropped_mid_run_is_resumed_with_no_duplicate(
    election: Election, database_url: str, servers: CrashableServers, command: str
) -> None:
    args, kind, everyone = COMMANDS[command]
    e = election
    down = servers.new()
    down.data_delay = 0.05  # The crash lands while a message waits for its "250".
    use_server(e, down)
    watcher = stop_when(down, 5)

    first = e.cli(*args)
    watcher.join()

    assert first.code == 1, (first.out, first.err)
    assert "re-run to send the rest" in first.err
    assert 5 <= len(down.messages) < len(everyone)
    use_server(e, servers.new())

    second = e.cli(*args)

    assert second.code == 0, (second.out, second.err)
    mail = sent((m for s in servers.started for m in s.messages), kind)
    assert all(len(v) == 1 for v in mail.values()), {k: len(v) for k, v in mail.items()}
    notices = recorded(database_url, RECORDED_AS[kind])
    assert {n.address for n in notices} == set(everyone) and len(notices) == len(everyone)
    assert {n.status for n in notices} == {BallotStatus.SENT}
    for n in notices:  # Only a notice whose delivery is unconfirmed may be missing.
        assert n.address in mail or n.detail.startswith("delivery unconfirmed"), n
    assert len(mail) >= len(everyone) - 1

    third = ok(e.cli(*args))
    assert "Nothing to send." in third.out
    assert sum(len(s.messages) for s in servers.started) == sum(len(v) for v in mail.values())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_run_killed_mid_send_is_resumed_with_no_duplicate(
    election: Election, database_url: str, command: str
) -> None:
    args, kind, everyone = COMMANDS[command]
    e = election
    ballots = len(e.smtp.messages)
    e.smtp.data_delay = 0.5
    running = Steervote(e.root, *args)
    while running.running() and len(e.smtp.messages) < ballots + 3:
        time.sleep(0.001)
    killed = running.kill()  # The 3rd notice is stored; its "250" is half a second away.
    e.smtp.data_delay = 0
    assert killed.code == -9 and len(e.smtp.messages) == ballots + 3, killed.err

    second = e.cli(*args)

    assert second.code == 1, (second.out, second.err)  # One notice's delivery is unsure.
    assert f"took over the lock of propose pid {killed.pid}" in second.out
    assert "Delivery unconfirmed: 1" in second.out
    assert f"Sent now: {len(everyone) - 3}; failed: 0" in second.out
    mail = one_each(since(e, ballots, kind))
    assert sorted(mail) == sorted(everyone)
    notices = recorded(database_url, RECORDED_AS[kind])
    assert sorted(n.address for n in notices) == sorted(everyone)
    assert {n.status for n in notices} == {BallotStatus.SENT}
    assert sum(n.detail.startswith("delivery unconfirmed") for n in notices) == 1

    third = ok(e.cli(*args))
    assert "Nothing to send." in third.out
    assert len(e.smtp.messages) == ballots + len(everyone)


def test_two_runs_at_once_give_each_member_one_notice(election: Election) -> None:
    e = election
    ballots = len(e.smtp.messages)
    e.smtp.data_delay = 0.15  # 14 announcements take 2 s: the two runs overlap.

    started = [Steervote(e.root, "announce", MOTION, "--provisional", "--yes") for _ in range(2)]
    winner, loser = sorted((run.wait() for run in started), key=lambda run: run.code)

    assert (winner.code, loser.code) == (0, 1), (winner.err, loser.err)
    assert "Sent now: 14; failed: 0" in winner.out
    assert f"is running (pid {winner.pid}," in loser.err
    assert sorted(one_each(since(e, ballots, "result"))) == sorted(EVERYONE)


# --- Dry runs and confirmation ----------------------------------------------------------

EACH = [
    (("acknowledge", MOTION), "receipt", "> For"),
    (("ask", MOTION), "ask", "> [bold red]Yes if[/] the budget is agreed"),
    (("remind", MOTION), "reminder", "we have no vote from you yet"),
    (("announce", MOTION, "--provisional"), "result", "This is a provisional count"),
]


def test_a_dry_run_sends_and_records_nothing_and_no_terminal_without_yes_refuses(
    election: Election, database_url: str
) -> None:
    e = election
    e.reply(JON, "For")
    # Words from mail reach the terminal as they are written: no markup, no escapes.
    e.reply(SAM, "[bold red]Yes if[/] the budget is agreed \x1b[31mfirst\x1b[0m.")
    e.tally()
    before = len(e.smtp.messages)

    for args, kind, says in EACH:
        dry = ok(e.cli(*args, "--dry-run"))
        assert "One message in full" in dry.out, args
        assert len(re.findall(r"^Message-ID:", dry.out, re.M)) == 1, dry.out
        assert len(re.findall(rf"<{kind}\.{MOTION}\.", dry.out)) == 1, dry.out
        assert len(re.findall(r"^Subject: \[new-constitution\]", dry.out, re.M)) == 1
        assert says in dry.out and "\x1b" not in dry.out, dry.out
        assert dry.out.rstrip().endswith("Dry run: nothing written, nothing sent.")

        refused = e.cli(*args)
        assert refused.code == 2, (args, refused.out, refused.err)
        assert "no terminal to confirm on: pass --yes" in refused.err
        assert "Nothing to send." not in refused.out

    assert len(e.smtp.messages) == before
    assert recorded(database_url) == []
