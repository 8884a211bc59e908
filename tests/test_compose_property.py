"""Whatever validate accepts, propose can compose: generated motion files (hypothesis) either
fail validation with MotionInvalid, or every ballot and copy of them is made, and is mail
a server takes (header lines end in CRLF only, none longer than 998 bytes)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email.policy import SMTPUTF8
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from steervote import render
from steervote.core.ballot import Addressing, compose_ballot, fingerprint, new_token
from steervote.core.motion_file import load_motion
from steervote.core.press import BallotPress
from steervote.errors import MotionInvalid
from steervote.services.propose import read_attachments

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
TRICKY = [
    "\r",
    "\n",
    "\x85",
    "\u2028",
    "\u2029",
    "\x00",
    "\t",
    "\x1b[2J",
    "\ud800",
    "\u202e",
    "\u061c",
    "to.7f3c@placeholder.invalid",
    "<id.7f3c@placeholder.invalid>",
    "[/]",
    "[bold]",
    "=?utf-8?q?x?=",
    '"',
    ",",
    "<a@b.c>",
    "Zoë",
    "日本語",
    " " * 3,
]
_sound = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
_tricky = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=12)), max_size=8)
# Mostly text that validates (the composing is what is under test), some that must not.
text = st.integers(0, 9).flatmap(lambda n: _tricky.map("".join) if n == 0 else _sound)
emails = st.one_of(
    st.sampled_from(
        [
            "ada@example.org",
            "jürgen@bücher.example",
            "martyn@bücher.example",
            "x@" + "ü" * 70 + ".de",
            "日本@例え.jp",
        ]
    ),
    st.from_regex(r"[a-z]{1,10}@[a-z]{1,10}\.(org|example)", fullmatch=True),
)
senders = st.sampled_from(
    [
        Addressing("Chair <chair@example.org>", "votes@example.org", True),
        Addressing("Zoë, Chair <zoë@exämple.org>", "Votes <votes@exämple.org>", False),
        Addressing("chair@bücher.example", "votes@bücher.example", True),
    ]
)
closes = st.sampled_from(
    ["48h", "1w", "2030-01-01T00:00", "8999-12-31T23:00", "8999-12-31T23:59+14:00", "9999999w"]
)
zones = st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/London"])


def q(value: str) -> str:
    """A YAML double-quoted scalar holding exactly this text (every other character escaped)."""
    return (
        '"'
        + "".join(c if " " <= c <= "~" and c not in '"\\' else f"\\U{ord(c):08x}" for c in value)
        + '"'
    )


def sound_mail(raw: bytes) -> None:
    head = raw.partition(b"\r\n\r\n")[0]
    for line in head.split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line and b"\x00" not in line, line
        assert len(line) <= 998, len(line)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=text,
    body=text,
    authority=text,
    names=st.lists(text, min_size=1, max_size=3),
    addresses=st.lists(emails, min_size=3, max_size=3, unique=True),
    observer=text,
    closes=closes,
    zone=zones,
    addressing=senders,
)
def test_a_motion_that_validates_can_be_composed(
    tmp_path: Path,
    title: str,
    body: str,
    authority: str,
    names: list[str],
    addresses: list[str],
    observer: str,
    closes: str,
    zone: str,
    addressing: Addressing,
) -> None:
    members = "".join(
        f"  - name: {q(name + 'M')}\n    email: {q(address)}\n    id: m{n}\n"
        for n, (name, address) in enumerate(zip(names, addresses, strict=False))
    )
    path = tmp_path / "m.yaml"
    path.write_text(
        f"id: m\ntitle: {q(title + 'T')}\ntext: {q(body + 'B')}\nauthority: {q(authority + 'A')}\n"
        f"proposer: m0\nthreshold: majority-of-votes-cast\ncloses: {q(closes)}\n"
        f"name: Board\ntimezone: {zone}\nmembers:\n{members}"
        f"observers:\n  - name: {q(observer or 'Obs')}\n    email: {q('o' + addresses[-1])}\n",
        encoding="utf-8",
    )
    try:
        motion = load_motion(path, now=NOW)
    except MotionInvalid:
        return
    papers = read_attachments(motion)
    press = BallotPress(motion, addressing, papers, NOW)
    for member in motion.committee.members:
        sound_mail(press.ballot(member, new_token()))
        msg = compose_ballot(motion, member, new_token(), addressing, papers, NOW)
        sound_mail(msg.as_bytes(policy=SMTPUTF8))
    for o in motion.committee.observers:
        sound_mail(press.copy(o, "<copy.m.1@example.org>"))
    out = io.StringIO()
    render.motion_summary(Console(file=out, width=80), motion, fingerprint(motion, papers))
    assert "\x1b" not in out.getvalue() and "\u202e" not in out.getvalue()
