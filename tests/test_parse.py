"""parse_bytes gives exactly what email.message_from_bytes (compat32) gives."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_fill import fill
from steervote.core.mime import decode_bytes
from steervote.core.parse import parse_bytes

CORPUS = Path(__file__).parent / "corpus"
BALLOT = "Motion x: Adopt it\n\nReply FOR, AGAINST or ABSTAIN.\n--\n-- \nFingerprint: 1\n"


def structure(msg: Message) -> Any:
    """Everything a reader can see of a parsed message, as plain values."""
    payload = msg.get_payload()
    inner: Any = [structure(p) for p in payload] if isinstance(payload, list) else payload
    return (
        list(msg.items()),
        msg.get_content_type(),
        msg.is_multipart(),
        msg.preamble,
        msg.epilogue,
        inner,
    )


def same(raw: bytes) -> None:
    assert structure(parse_bytes(raw)) == structure(email.message_from_bytes(raw))


def test_every_corpus_message() -> None:
    for path in sorted(CORPUS.glob("*.eml")):
        raw = fill(
            path.read_bytes(),
            from_="A <a@x.example>",
            to="votes+abc@x.example",
            subject="[m] Adopt it",
            message_id="r@x.example",
            in_reply_to="<b@x.example>",
            references="<b@x.example>",
            date="Wed, 4 Jan 2017 10:15:00 +0000",
            ballot_text=BALLOT,
        )
        same(raw)
        same(raw.replace(b"\n", b"\r\n"))


_LINE = st.sampled_from(
    [
        "text",
        "",
        " ",
        "--b",
        "--b--",
        "--b  ",
        "--b--\t",
        "--bx",
        "--c",
        "--c--",
        "Content-Type: text/plain",
        "Content-Type: multipart/alternative; boundary=c",
        "Content-Type: message/rfc822",
        "Subject: hi",
        "> quoted --b",
        "odd\x0cbreak\u2028here\x85",
    ]
)
_EOL = st.sampled_from(["\n", "\r\n", "\r", ""])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(_LINE, _EOL), max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_generated_multipart_bodies(lines: list[tuple[str, str]], eol: str) -> None:
    head = f"From: a@x{eol}Content-Type: multipart/mixed; boundary=b{eol}{eol}"
    body = "".join(text + end for text, end in lines)
    same((head + body).encode("utf-8", "surrogateescape"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_a_multipart_header(body: bytes) -> None:
    same(b"Content-Type: multipart/alternative; boundary=b\n\n" + body)


_HEADER = st.sampled_from(
    [
        "From: a@x",
        "From a@x Mon Jan  1 00:00:00 2024",
        "Subject: hi",
        " continued",
        "\tcontinued",
        "X-Weird:",
        ":empty name",
        "no colon here",
        "Content-Type: multipart/mixed; boundary=b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: message/rfc822",
        "",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.tuples(_HEADER, _EOL), max_size=8),
    st.lists(st.tuples(_LINE, _EOL), max_size=12),
)
def test_generated_header_blocks(head: list[tuple[str, str]], body: list[tuple[str, str]]) -> None:
    text = "".join(a + b for a, b in head) + "".join(a + b for a, b in body)
    same(text.encode("utf-8", "surrogateescape"))


def test_python_only_codecs_are_read_as_unknown_charsets() -> None:
    # Not charsets of mail: escapes are not turned into characters, rot13 is not applied.
    assert decode_bytes(b"For \\ud800", "unicode_escape") == "For \\ud800"
    assert decode_bytes(b"For \\u00e9", "raw_unicode_escape") == "For \\u00e9"
    assert decode_bytes(b"Sbe", "rot13") == "Sbe"
    assert decode_bytes(b"466f72", "hex_codec") == "466f72"
    assert decode_bytes(b"xn--for-", "punycode") == "xn--for-"
    assert decode_bytes("Für".encode("latin-1"), "base64_codec") == "Für"  # the fallback


@given(st.binary(max_size=60), st.sampled_from(["utf-7", "utf-16", "utf-16-le", "utf-32"]))
def test_decoded_text_is_always_valid_unicode(data: bytes, charset: str) -> None:
    decode_bytes(data, charset).encode("utf-8")
    assert decode_bytes(b"+2AA-", "utf-7") == "\ufffd"
