"""Hostile and unusual mail in the pure core: MIME bombs, addresses as mail writes them, fuzz.

Nothing here may raise: one message must never stop a count.
"""

from __future__ import annotations

import email
import random
import time
from email.message import Message
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_fill import fill
from hostile import BOMBS, multipart_bomb, rfc822_bomb
from steervote.core.address import mailbox_addresses, normalize_address
from steervote.core.inbound import analyse, analyse_head
from steervote.core.match import Directory, How, Matched, Unmatched, match, sender_address
from steervote.core.parse import MAX_NESTING, header_key, parse_bytes, parse_message
from steervote.core.strength import Strength

CORPUS = Path(__file__).parent / "corpus"
TOKEN = "a" * 24
DIRECTORY = Directory(
    tokens={TOKEN: ("m", "ann")},
    members={
        "m": {
            "ann@x.example": "ann",
            "bob@x.example": "bob",
            normalize_address("jürgen@münchen.example"): "jurgen",
            normalize_address("zoe@xn--bcher-kva.example"): "zoe",
        }
    },
    titles={"m": "Approve it"},
)
HEAD = b"From: ann@x.example\r\nSubject: Re: [m] Approve it\r\nMessage-ID: <bomb@x.example>\r\n"


def structure(msg: Message) -> object:
    # Without epilogues: the feed parser's rule for the line break before an outer
    # boundary, in a multipart nested in a multipart, depends on its parse order (an empty
    # epilogue becomes None or not); nothing reads an epilogue.
    payload = msg.get_payload()
    inner = [structure(p) for p in payload] if isinstance(payload, list) else payload
    return (list(msg.items()), msg.get_content_type(), msg.preamble, inner)


def depth(msg: Message) -> int:
    payload = msg.get_payload()
    if not isinstance(payload, list) or not payload:
        return 1
    return 1 + max(depth(p) for p in payload if isinstance(p, Message))


# --- MIME bombs ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_the_stdlib_parser_cannot_read_a_bomb(kind: str) -> None:
    with pytest.raises(RecursionError):
        email.message_from_bytes(BOMBS[kind](HEAD))


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_bomb_is_parsed_cut_off_and_marked(kind: str) -> None:
    started = time.monotonic()
    parsed = parse_message(BOMBS[kind](HEAD))
    assert time.monotonic() - started < 2
    assert "MIME nested" in parsed.problem
    assert parsed.message["Message-ID"] == "<bomb@x.example>"
    assert depth(parsed.message) <= MAX_NESTING + 1
    assert any("X-Steervote-Cut" in p for p in _parts(parsed.message))


def test_a_well_formed_multipart_bomb_is_cut_at_the_limit() -> None:
    parsed = parse_message(multipart_bomb(HEAD, closed=True))
    assert parsed.problem == f"MIME nested more than {MAX_NESTING} levels deep"
    assert depth(parsed.message) == MAX_NESTING


def _parts(msg: Message) -> list[Message]:
    out, todo = [], [msg]
    while todo:
        part = todo.pop()
        out.append(part)
        payload = part.get_payload()
        if isinstance(payload, list):
            todo.extend(p for p in payload if isinstance(p, Message))
    return out


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_bomb_from_a_member_is_tied_to_them_and_unreadable(kind: str) -> None:
    raw = BOMBS[kind](HEAD)
    a = analyse(raw, 1, len(raw), DIRECTORY)
    assert a.tie == Matched("m", "ann", How.SUBJECT, strength=Strength.SUBJECT)
    assert a.reading is None
    assert a.problem.startswith("unreadable: MIME nested")
    assert a.message_id == "<bomb@x.example>"


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_bomb_inside_a_normal_multipart_is_cut_where_it_starts(kind: str) -> None:
    bomb = BOMBS[kind](b"")
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n'
        b"Content-Type: text/plain\r\n\r\nFor.\r\n--outer\r\n" + bomb + b"\r\n--outer--\r\n"
    )
    a = analyse(raw, 1, len(raw), DIRECTORY)
    assert isinstance(a.tie, Matched) and a.problem.startswith("unreadable: ")


def test_structures_within_the_limit_are_parsed_as_the_stdlib_does() -> None:
    # Deep enough to leave the fast path (many container headers), not too deep to read.
    for kind, raw in (
        ("rfc822", rfc822_bomb(HEAD, MAX_NESTING - 4)),
        ("multipart", multipart_bomb(HEAD, MAX_NESTING - 4, closed=True)),
    ):
        parsed = parse_message(raw)
        assert parsed.problem == "", kind
        assert structure(parsed.message) == structure(email.message_from_bytes(raw)), kind


def test_many_sibling_containers_are_not_too_deep() -> None:
    parts = b"".join(
        b"--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
        b"--i\r\nContent-Type: text/plain\r\n\r\nx" + str(n).encode() + b"\r\n--i--\r\n"
        for n in range(3 * MAX_NESTING)
    )
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=o\r\n\r\n" + parts + b"--o--\r\n"
    parsed = parse_message(raw)
    assert parsed.problem == ""
    assert structure(parsed.message) == structure(email.message_from_bytes(raw))


def test_a_digest_is_parsed_as_the_stdlib_does() -> None:
    # In multipart/digest a part without Content-Type is a message/rfc822 (RFC 2046 5.1.5).
    raw = b"Content-Type: multipart/digest; boundary=b\n\n--b\n\nFrom: a@x\n\nhello\n--b--\n"
    assert structure(parse_bytes(raw)) == structure(email.message_from_bytes(raw))
    assert structure(parse_message(raw).message) == structure(email.message_from_bytes(raw))


# --- addresses as mail writes them ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "addresses"),
    [
        ("Member, One <m1@x.example>", ["m1@x.example"]),
        ('"Member, One" <M1@X.example>', ["m1@x.example"]),
        ("m1@x.example (Member, One)", ["m1@x.example"]),
        ("m1@x.example", ["m1@x.example"]),
        ("<m1@x.example>", ["m1@x.example"]),
        ("Member One <m1@x.example>, eve@evil.example", ["m1@x.example", "eve@evil.example"]),
        ("m1@x.example, eve@evil.example", ["m1@x.example", "eve@evil.example"]),
        ("Member <m1@x.example> <eve@evil.example>", ["m1@x.example", "eve@evil.example"]),
        ("Member <m1@x.example>, Member <m1@x.example>", ["m1@x.example"]),
        ('"Unclosed, name <m1@x.example>', ["m1@x.example"]),
        ("=?utf-8?q?Member=2C_One?= <m1@x.example>", ["m1@x.example"]),
        ("", []),
        ("undisclosed-recipients:;", []),
    ],
)
def test_mailbox_addresses(value: str, addresses: list[str]) -> None:
    assert mailbox_addresses(value) == addresses


def test_internationalised_addresses_compare_with_the_roll() -> None:
    nfd = "ju\u0308rgen@mu\u0308nchen.example"
    assert normalize_address(nfd) == normalize_address("jürgen@münchen.example")
    assert normalize_address("JÜRGEN@xn--mnchen-3ya.example") == normalize_address(
        "jürgen@münchen.example"
    )
    assert normalize_address("zoe@bücher.example") == normalize_address("zoe@XN--BCHER-KVA.example")
    raw_utf8 = "From: Jürgen <jürgen@xn--mnchen-3ya.example>\nSubject: [m] x\n\nFor.\n"
    msg = parse_bytes(raw_utf8.encode())
    assert match(msg, DIRECTORY) == Matched("m", "jurgen", How.SUBJECT, strength=Strength.SUBJECT)
    msg = parse_bytes(b"From: zoe@b\xc3\xbccher.example\nSubject: [m] x\n\nFor.\n")
    assert match(msg, DIRECTORY) == Matched("m", "zoe", How.SUBJECT, strength=Strength.SUBJECT)


def make(*headers: str) -> Message:
    return parse_bytes(("\n".join(headers) + "\n\nFor.\n").encode())


def test_an_unquoted_comma_in_the_display_name_still_matches() -> None:
    msg = make("From: Bob, Member <bob@x.example>", "Subject: Re: [m] Approve it")
    assert sender_address(msg) == "bob@x.example"
    assert match(msg, DIRECTORY) == Matched("m", "bob", How.SUBJECT, strength=Strength.SUBJECT)


@pytest.mark.parametrize(
    "froms",
    [
        ["From: bob@x.example, eve@evil.example"],
        ["From: Bob <bob@x.example>, Eve <eve@evil.example>"],
        ["From: bob@x.example", "From: eve@evil.example"],
        ["From: eve@evil.example", "From: bob@x.example"],
    ],
)
def test_several_senders_are_never_a_match_by_sender(froms: list[str]) -> None:
    msg = make(*froms, "Subject: Re: [m] Approve it")
    assert sender_address(msg) == ""
    tie = match(msg, DIRECTORY)
    assert isinstance(tie, Unmatched) and "several" in tie.reason
    with_token = make(*froms, f"To: votes+{TOKEN}@v.example", "Subject: Re: [m] Approve it")
    tie = match(with_token, DIRECTORY)
    assert isinstance(tie, Matched) and tie.member_id == "ann"
    assert tie.review is not None and "several" in tie.review


def test_two_from_headers_of_the_same_member_are_still_that_member() -> None:
    msg = make("From: bob@x.example", "From: Bob <BOB@x.example>", "Subject: Re: [m] Approve it")
    assert match(msg, DIRECTORY) == Matched("m", "bob", How.SUBJECT, strength=Strength.SUBJECT)


# --- oversize: the headers alone -------------------------------------------------------


def test_oversize_headers_tie_the_message_to_its_member() -> None:
    head = b"From: Bob, Member <bob@x.example>\r\nSubject: Re: [m] Approve it\r\n\r\n"
    a = analyse_head(head, 3, 12_500_000, DIRECTORY)
    assert a.tie == Matched("m", "bob", How.SUBJECT, strength=Strength.SUBJECT)
    assert a.problem.startswith("too large to read: 12.5 MB")
    assert "max_message_bytes" in a.problem and "--rescan" in a.problem
    assert a.sha256 == "oversize:" + header_key(head)
    assert a.sender == "Bob, Member <bob@x.example>"


def test_the_header_key_of_a_message_does_not_depend_on_line_endings_or_body() -> None:
    lf = b"From: a@x\nSubject: s\n\nbody\n"
    assert header_key(lf) == header_key(lf.replace(b"\n", b"\r\n")) == header_key(lf[:22])
    assert header_key(lf) != header_key(lf.replace(b"Subject: s", b"Subject: t"))


# --- fuzz: analyse never raises --------------------------------------------------------

BALLOT = "Motion m: Approve it\n\nReply FOR, AGAINST or ABSTAIN.\n"
TEMPLATES = [
    fill(
        path.read_bytes(),
        from_="Ann <ann@x.example>",
        to=f"votes+{TOKEN}@v.example",
        subject="[m] Approve it",
        message_id="r@x.example",
        in_reply_to="<b@x.example>",
        references="<b@x.example>",
        date="Wed, 4 Jan 2017 10:15:00 +0000",
        ballot_text=BALLOT,
    )
    for path in sorted(CORPUS.glob("*.eml"))
]
_SNIPPETS = [
    b"\r\n",
    b"\n\n",
    b"--",
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
    b"Content-Type: message/rfc822\n\n",
    b"Content-Transfer-Encoding: base64\n",
    b"=?utf-8?b?////?=",
    b"From: a, b <c@d>, e@f\n",
    b"\x00\xff\xfe",
    b"charset=x-unknown",
    b"\x1b[31m",
]


def mutate(raw: bytes, seed: int, steps: int) -> bytes:
    rng = random.Random(seed)
    data = bytearray(raw)
    for _ in range(steps):
        at = rng.randrange(len(data) + 1)
        action = rng.randrange(5)
        if action == 0:
            data[at:at] = rng.choice(_SNIPPETS)
        elif action == 1:
            del data[at : at + rng.randrange(1, 200)]
        elif action == 2 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif action == 3:
            end = at + rng.randrange(1, 400)
            data[at:at] = data[at:end] * rng.randrange(1, 4)
        else:
            data = bytearray(rng.choice(_SNIPPETS) * rng.randrange(1, 60)) + data
    return bytes(data[:200_000])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.builds(
            mutate,
            st.sampled_from(TEMPLATES),
            st.integers(0, 2**32),
            st.integers(0, 30),
        ),
        st.binary(max_size=2000),
    )
)
def test_analyse_never_raises_on_random_and_mutated_mime(raw: bytes) -> None:
    a = analyse(raw, 1, len(raw), DIRECTORY)
    # The guard must not be what saved us: a failure inside is a bug to fix, not to hide.
    assert "while reading it" not in a.problem, a.problem
    assert "\x00" not in a.sender + a.subject + a.message_id
    if a.reading is not None:
        assert "\x00" not in a.reading.own_text + a.reading.evidence
