"""`steervote tally` end to end against mail written to break it (adversarial round 9).

Each test is one kind of failure a blind tester found, reproduced through the CLI with
the real servers (Dovecot, SMTP, SQLite and PostgreSQL): text that is not valid Unicode,
links in a Maildir, addresses that are one address spelled two ways, a reply older than
the ruling it would displace, a mailing list's copy read before the member's own, comments
in Authentication-Results, what authentication may raise a match to, and replies that
name two motions.
"""

from __future__ import annotations

import os
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from election import Election, reply_to
from test_cli import steervote
from test_match_authority import (
    ANN,
    BOB,
    MOTION_2,
    SOURCES,
    Box,
    add_tally_settings,
    both,
    propose_second_motion,
    set_date,
    tokenless,
    with_headers,
)
from test_tally_e2e import MEMBERS, member

CAROL = MEMBERS[2]
MX = "mx.steering-group.example.org"


def stranger(subject: bytes, sender: bytes = b"Someone <someone@elsewhere.example>") -> bytes:
    return (
        b"From: " + sender + b"\r\nTo: votes@steering-group.example.org\r\n"
        b"Subject: " + subject + b"\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
        b"Message-ID: <x1@elsewhere.example>\r\n\r\nhello\r\n"
    )


def with_body(raw: bytes, content_type: bytes, body: bytes) -> bytes:
    """The message's header block over a new single-part body."""
    kept: list[bytes] = []
    dropping = False
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith((b" ", b"\t")):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith((b"content-type:", b"content-transfer-encoding:"))
        if not dropping:
            kept.append(line)
    return b"\n".join([*kept, b"Content-Type: " + content_type]) + b"\n\n" + body + b"\n"


def with_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    """The message with the first header of this name given this raw value."""
    head, _, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + b":"))
    end = at + 1
    while end < len(lines) and lines[end].startswith((b" ", b"\t")):
        end += 1
    lines[at:end] = [name + b": " + value]
    return b"\n".join(lines) + b"\n\n" + body


# --- 1. text that is not valid Unicode never stops a count ------------------------------


@pytest.mark.parametrize("where", SOURCES)
def test_a_utf7_lone_surrogate_from_a_stranger_stops_no_count(
    election: Election, where: str
) -> None:
    box = Box(where, election)
    box.deliver(reply_to(election.ballots[ANN], "For.", sender=ANN))
    box.deliver(stranger(b"=?utf-7?q?+2AA-?=", b"=?utf-7?q?+2AA-?= <evil@x.example>"))
    for _ in range(2):  # and on every re-run
        result = box.tally()
        assert member(result, ANN)["vote"] == "for"
        subjects = [i["subject"] for i in result["ignored"]]
        assert "\ufffd" in subjects
    shown = election.cli("tally", "new-constitution", "--offline")
    assert shown.code == 0, shown.err


# Each decodes to a lone surrogate with Python's codecs: UTF-7 may, and the Python-only
# codecs (unicode_escape, raw_unicode_escape) are not text encodings at all.
SURROGATE_BODIES = {
    "utf-7 body": (b"text/plain; charset=utf-7", b"For. +2AA-"),
    "utf-7 html": (b"text/html; charset=utf-7", b"<p>For. +2AA-</p>"),
    "unicode_escape body": (b"text/plain; charset=unicode_escape", b"For. \\ud800"),
    "raw_unicode_escape body": (b"text/plain; charset=raw_unicode_escape", b"For. \\ud800"),
    "rot13 body": (b"text/plain; charset=rot13", b"For."),
}


@pytest.mark.parametrize("kind", sorted(SURROGATE_BODIES))
def test_a_member_body_in_a_surrogate_charset_is_recorded(election: Election, kind: str) -> None:
    content_type, body = SURROGATE_BODIES[kind]
    raw = with_body(reply_to(election.ballots[ANN], "x", sender=ANN), content_type, body)
    election.append(raw)
    bob = reply_to(election.ballots[BOB], "For.", sender=BOB)
    election.append(with_header(bob, b"Subject", b"Re: =?utf-7?q?+2AA-?="))
    carol = reply_to(election.ballots[CAROL], "For.", sender=CAROL)
    carol = with_header(carol, b"From", b"=?unicode_escape?q?=5Cud800?= <" + CAROL.encode() + b">")
    carol = with_header(carol, b"Subject", b"Re: [new-constitution] =?unicode_escape?q?=5Cud800?=")
    election.append(carol)
    result = election.tally()
    assert "\ud800" not in str(result)
    for address in (ANN, BOB, CAROL):  # each read: counted, or for a person to see
        assert member(result, address)["status"] in ("counted", "needs_review")
    assert election.cli("review", "new-constitution").code == 0


# --- 2. a Maildir entry that is not a plain file is not a message ------------------------


def test_links_and_odd_entries_in_a_maildir_are_skipped_and_counted(
    election: Election, tmp_path: Path
) -> None:
    box = Box("maildir", election)
    box.deliver(reply_to(election.ballots[ANN], "For.", sender=ANN))
    new = box.path / "new"
    loop = new / "1795965623.M11P1.loop"
    loop.symlink_to(loop)  # a link to itself: stat() fails with ELOOP
    # A link to a file outside the Maildir, holding a valid vote by token: not a message.
    outside = tmp_path / "outside.eml"
    outside.write_bytes(reply_to(election.ballots[BOB], "For.", sender=BOB))
    (new / "1795965624.M12P1.outside").symlink_to(outside)
    (new / "1795965625.M13P1.dir").mkdir()
    os.mkfifo(new / "1795965626.M14P1.fifo")
    run = election.cli("tally", "new-constitution", *box.source())
    assert run.code == 0, run.err
    assert "4 entries not read" in run.err, run.err
    assert "symbolic link" in run.err
    result = box.tally()
    assert member(result, ANN)["vote"] == "for"
    assert member(result, BOB)["status"] == "not_voted"


def test_an_mbox_that_is_a_symbolic_link_is_refused(election: Election, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.mbox"
    outside.write_bytes(b"From x@y Sun Nov 29 12:00:00 2026\n" + stranger(b"hi") + b"\n")
    link = election.root / "replies.mbox"
    link.symlink_to(outside)
    run = election.cli("tally", "new-constitution", "--source", f"mbox:{link}")
    assert run.code == 2
    assert "symbolic link" in run.err and len(run.err.strip().splitlines()) == 1


# --- 3. one address spelled two ways is one address ----------------------------------------


def committee_with(tmp_path: Path, members: str, observers: str = "") -> Path:
    motions = tmp_path / "motions"
    (motions / "committees").mkdir(parents=True)
    (motions / "committees" / "c.yaml").write_text(
        f"name: C\ntimezone: UTC\nmembers:\n{members}{observers}", encoding="utf-8"
    )
    path = motions / "m.yaml"
    path.write_text(
        "id: m\ntitle: T\ncommittee: c\ntext: That.\nproposer: one\n"
        "threshold: majority-of-votes-cast\ncloses: 7d\n",
        encoding="utf-8",
    )
    return path


NFC = unicodedata.normalize("NFC", "zoë@club.example")
NFD = unicodedata.normalize("NFD", "zoë@club.example")
SPELLINGS = {
    "nfc-nfd": (NFC, NFD),
    "u-label-a-label": ("jürgen@bücher.example", "jürgen@xn--bcher-kva.example"),
    "case": ("Zoe@Club.example", "zoe@club.example"),
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("where", ["email", "alias", "observer", "csv"])
def test_validate_refuses_one_address_spelled_twice(
    tmp_path: Path, spelling: str, where: str
) -> None:
    first, second = SPELLINGS[spelling]
    one = f"  - name: One\n    email: {first}\n"  # the committee file's lines 4 and 5
    observers = ""
    if where == "email":
        two = f"  - name: Two\n    email: {second}\n"
    elif where == "alias":
        two = f"  - name: Two\n    email: two@club.example\n    aliases: [{second}]\n"
    else:
        two = "  - name: Two\n    email: two@club.example\n"
    if where == "observer":
        observers = f"observers:\n  - Obs <{second}>\n"
    path = committee_with(tmp_path, one + two, observers)
    if where == "csv":
        (tmp_path / "motions" / "committees" / "c.csv").write_text(
            f"name,email\nOne,{first}\nTwo,{second}\n", encoding="utf-8"
        )
        (tmp_path / "motions" / "committees" / "c.yaml").write_text(
            "name: C\ntimezone: UTC\nmembers_csv: c.csv\n", encoding="utf-8"
        )
    run = steervote("validate", str(path), cwd=tmp_path)
    assert run.returncode == 2, run.stdout
    error = run.stderr.strip()
    assert len(error.splitlines()) == 1, error
    # Both lines are named: where the second spelling is, and the first's.
    if where == "csv":
        assert "c.csv:3" in error and "line 2" in error, error
    elif where == "observer":
        assert "c.yaml:9" in error and "One" in error, error
    else:
        assert ("c.yaml:7" in error or "c.yaml:8" in error) and "line 4" in error, error


# --- 4. a reply older than the ruling it would displace --------------------------------------


def test_a_reply_dated_before_the_ruling_goes_to_review(election: Election) -> None:
    earlier = datetime.now(UTC) - timedelta(days=1)
    election.append(
        set_date(
            reply_to(election.ballots[ANN], "Yes, if clause 2 is amended first.", sender=ANN),
            earlier,
        ),
        at=earlier,
    )
    assert member(election.tally(), ANN)["status"] == "needs_review"
    ruled = election.cli("rule", "new-constitution", "jon-lansman", "against", "--reason", "phone")
    assert ruled.code == 0, ruled.err
    time.sleep(1.1)  # INTERNALDATE has whole seconds: this copy arrives after the ruling
    old = set_date(reply_to(election.ballots[ANN], "For.", sender=ANN), earlier)
    election.append(old)
    ann = member(election.tally(), ANN)
    assert ann["status"] == "needs_review" and ann["vote"] is None
    assert "ruled AGAINST by" in ann["reason"] and "phone" in ann["reason"]
    assert "is older than the ruling it would replace" in ann["reason"]
    # The same reply dated after the ruling replaces it, as the member's word by token.
    election.reply(ANN, "For.")
    assert member(election.tally(), ANN)["vote"] == "for"


# --- 5. a mailing list's copy read before the member's own ---------------------------------


def list_copy(raw: bytes, *, from_: str | None = None) -> bytes:
    """The list's copy of a reply: to the list, no ballot token, tagged by the list."""
    out = raw
    for line in raw.split(b"\n"):
        if line.startswith(b"To:"):
            out = out.replace(line, b"To: Steering <steering@lists.example>", 1)
        if from_ is not None and line.startswith(b"From:"):
            out = out.replace(line, f"From: {from_}".encode(), 1)
    return with_headers(out, "List-Id: Steering <steering.lists.example>")


@pytest.mark.parametrize("where", SOURCES)
def test_a_list_copy_read_first_does_not_weaken_the_members_own(
    election: Election, where: str
) -> None:
    box = Box(where, election)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    direct = set_date(reply_to(election.ballots[ANN], "For.", sender=ANN), t0)
    direct = direct.replace(b"In-Reply-To:", b"X-In-Reply-To:").replace(
        b"References:", b"X-References:"
    )
    box.deliver(list_copy(direct), at=t0 + timedelta(minutes=1))
    box.deliver(direct, at=t0 + timedelta(minutes=2))
    result = box.tally()
    ann = member(result, ANN)
    assert ann["vote"] == "for" and ann["how"] == "token", ann
    assert ann["strength"] == "token+sender"
    # A later tokenless AGAINST cannot displace the vote by token.
    box.deliver(tokenless(election, ANN, "Against."), at=t0 + timedelta(hours=1))
    ann = member(box.tally(), ANN)
    assert ann["status"] == "needs_review" and "earlier: FOR by token" in ann["reason"]


def test_a_list_copy_with_the_same_words_is_a_duplicate_not_a_forgery(
    election: Election,
) -> None:
    direct = reply_to(election.ballots[ANN], "For.", sender=ANN)
    election.append(direct)
    copy = list_copy(direct, from_=f'"Jon Lansman (via Steering)" <{ANN}>')
    copy = copy.replace(b"Subject: Re: ", b"Subject: [Steering] Re: ", 1)
    election.append(copy)
    result = election.tally()
    ann = member(result, ANN)
    assert ann["status"] == "counted" and ann["vote"] == "for"
    reasons = [i["reason"] for i in result["ignored"]]
    assert any(r.startswith("duplicate: same Message-ID") for r in reasons), reasons


# --- 6 and 7. Authentication-Results: comments, and what may raise a match -----------------


def test_a_dmarc_failure_after_a_comment_is_a_failure(election: Election) -> None:
    election.append(
        with_headers(
            reply_to(election.ballots[ANN], "For.", sender=ANN),
            f"Authentication-Results: {MX}; dmarc=(p=reject) fail header.from=momentum.example",
        )
    )
    ann = member(election.tally(), ANN)
    assert ann["status"] == "needs_review" and ann["strength"] == "weak"
    assert "DMARC fail" in ann["reason"]


def test_without_authentication_results_a_token_is_not_authenticated(
    election: Election,
) -> None:
    election.reply(ANN, "For.")
    ann = member(election.tally(), ANN)
    assert ann["vote"] == "for" and ann["strength"] == "token+sender"


def test_without_trusted_ids_a_pass_the_sender_wrote_raises_nothing(election: Election) -> None:
    passed = f"{MX}; dkim=pass header.d=momentum.example; dmarc=pass"
    election.append(
        with_headers(
            reply_to(election.ballots[ANN], "For.", sender=ANN),
            f"Authentication-Results: {passed}",
        )
    )
    ann = member(election.tally(), ANN)
    assert ann["vote"] == "for" and ann["strength"] == "token+sender"


def test_a_trusted_pass_aligned_with_the_sender_authenticates(election: Election) -> None:
    add_tally_settings(election, f'trusted_authserv_ids = ["{MX}"]')
    election.append(
        with_headers(
            reply_to(election.ballots[ANN], "For.", sender=ANN),
            f"Authentication-Results: {MX}; dkim=pass header.d=momentum.example",
        )
    )
    # A pass for another domain is not the sender's.
    election.append(
        with_headers(
            reply_to(election.ballots[BOB], "For.", sender=BOB),
            f"Authentication-Results: {MX}; dkim=pass header.d=elsewhere.example",
        )
    )
    result = election.tally()
    assert member(result, ANN)["strength"] == "token+sender+auth"
    assert member(result, BOB)["strength"] == "token+sender"


def test_a_forged_failing_message_does_not_hold_up_a_token_vote(election: Election) -> None:
    add_tally_settings(election, f'trusted_authserv_ids = ["{MX}"]')
    passed = f"Authentication-Results: {MX}; dkim=pass header.d=momentum.example; dmarc=pass"
    t0 = datetime.now(UTC) - timedelta(hours=1)
    election.append(
        with_headers(reply_to(election.ballots[ANN], "For.", sender=ANN), passed), at=t0
    )
    assert member(election.tally(), ANN)["vote"] == "for"
    failed = f"Authentication-Results: {MX}; dmarc=fail header.from=momentum.example"
    election.append(with_headers(tokenless(election, ANN, "Against."), failed))
    result = election.tally()
    ann = member(result, ANN)
    assert ann["status"] == "counted" and ann["vote"] == "for"
    reasons = [i["reason"] for i in result["ignored"]]
    assert any("failed authentication; the standing vote is stronger" in r for r in reasons)
    # With no token vote standing, the same failure is for a person to see.
    election.append(with_headers(tokenless(election, BOB, "Against."), failed))
    assert member(election.tally(), BOB)["status"] == "needs_review"


# --- 8. a reply naming two motions ----------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        f"Re: [new-constitution] [{MOTION_2}] both",
        f"Re: 【new-constitution】 [ {MOTION_2} ] both",
    ],
)
def test_a_tokenless_reply_naming_two_motions_is_reviewed_on_each(
    fresh_election: Election, subject: str
) -> None:
    e = fresh_election
    propose_second_motion(e)
    raw = tokenless(e, ANN, "Against.")
    e.append(with_header(raw, b"Subject", subject.encode()))
    m1, m2 = both(e)
    for result in (m1, m2):
        ann = member(result, ANN)
        assert ann["status"] == "needs_review", ann
        assert "several motions" in ann["reason"]
