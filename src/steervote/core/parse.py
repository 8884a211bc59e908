"""Parse a message exactly as `email.message_from_bytes` (compat32) does, only faster.

The stdlib's feed parser compiles a fresh regular expression for every multipart
boundary it meets (about 0.35 ms, a third of the whole parse of a typical reply: every
message has its own boundary, so the regex cache never helps). Here the headers are
parsed by the stdlib, and a well-formed multipart body is split on its boundary lines
by plain string tests; every part is again parsed by the stdlib. Anything irregular (no
start or end boundary, doubled boundaries, message/* parts, a part that is a multipart
whose structure is irregular) is parsed by `email.message_from_bytes` itself, so the
result is always the stdlib's. tests/test_parse.py checks the equivalence on the corpus
and on generated messages.

The stdlib parser recurses once per level of MIME nesting, so a small message nested a
thousand levels deep (message/rfc822 in message/rfc822, multipart in multipart) raises
RecursionError. `parse_message` therefore hands the stdlib only text whose nesting is
bounded, counted from its container headers; deeper structures are split here, level by
level, down to MAX_NESTING, where the rest is cut off and marked, and the message is
reported unreadable.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser
from email.policy import compat32

_BYTES_HEADERS = BytesHeaderParser(policy=compat32)
_HEADERS = HeaderParser(policy=compat32)
_LINES = re.compile(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)")
# str.splitlines also breaks at these, which the feed parser does not.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_EOL = re.compile(r"(\r\n|\r|\n)\Z")
_MAX_DEPTH = 8
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")  # the feed parser's headerRE

MAX_NESTING = 32  # MIME levels read; legitimate mail rarely nests ten
HEAD_LIMIT = 65_536  # bytes of a header block read where the message is not
CUT_MARK = "X-Steervote-Cut"  # on a part whose body was cut off unread
# A part nests only where a Content-Type names a container (lower-cased text searched).
_CONTAINER = re.compile(r"content-type[ \t]*:\s*(?:multipart|message)/")
_TOO_DEEP = f"MIME nested more than {MAX_NESTING} levels deep"
_TANGLED = "MIME nested deeply in an irregular structure"


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed message and why part of it was cut off unread ("" when it is whole)."""

    message: Message
    problem: str


class _Irregular(Exception):
    """The structure is not the simple, well-formed case: let the stdlib parse it."""


def parse_message(raw: bytes) -> Parsed:
    """Parse raw message bytes without ever recursing deeper than MAX_NESTING levels.

    Within that depth the message is exactly email.message_from_bytes(raw) (compat32).
    Below it, each cut-off part keeps its headers, has an empty body and the header
    CUT_MARK, and `problem` says why; the stdlib never sees the deep text.
    """
    text = raw.decode("ascii", "surrogateescape")
    if _nesting_bound(text) <= MAX_NESTING:
        return Parsed(parse_bytes(raw), "")
    problems: list[str] = []
    msg = _limited(text, 0, problems)
    return Parsed(msg, problems[0] if problems else "")


def head_of(raw: bytes, limit: int = HEAD_LIMIT) -> bytes:
    """The header block of a message (up to and with the empty line), at most limit bytes."""
    start = raw[:limit]
    ends = [i + len(eol) for eol in (b"\r\n\r\n", b"\n\n") if (i := start.find(eol)) >= 0]
    return start[: min(ends)] if ends else start


def header_key(raw: bytes) -> str:
    """A digest of a message's header block, whatever its line breaks (CRLF over IMAP).

    It ties a message that was too large to read (only its headers were) to the same
    message read in full later. Takes the whole message or its headers alone.
    """
    head = head_of(raw).replace(b"\r\n", b"\n").rstrip(b"\n")
    return hashlib.sha256(head).hexdigest()


def _nesting_bound(text: str, depth: int = 0) -> int:
    """How deep the stdlib could nest parsing this text at this depth, at most.

    Every level needs a Content-Type naming a container, or two levels for a
    multipart/digest, whose parts are message/rfc822 unless they say otherwise.
    """
    lowered = text.lower()
    containers = lowered.count("content-type")
    if depth + 2 * containers + 1 > MAX_NESTING:
        containers = len(_CONTAINER.findall(lowered))
    return depth + 2 * containers + 1


def _limited(text: str, depth: int, problems: list[str], digest_part: bool = False) -> Message:
    """Parse one level here and the levels below by this rule; the stdlib where shallow."""
    if not digest_part and _nesting_bound(text, depth) <= MAX_NESTING:
        return email.message_from_string(text)
    msg = _headers_and_body(text)
    if digest_part:
        msg.set_default_type("message/rfc822")
    if depth + 1 >= MAX_NESTING:
        return _cut(msg, _TOO_DEEP, problems)
    body = getattr(msg, "_payload", None)
    maintype = msg.get_content_maintype()
    if maintype == "message" and isinstance(body, str):
        msg.set_payload([_limited(body, depth + 1, problems)])
    elif maintype == "multipart":
        try:
            preamble, parts, epilogue = _split(msg)
        except _Irregular:
            return _cut(msg, _TANGLED, problems)
        if preamble is not None:
            msg.preamble = preamble
        digest = msg.get_content_subtype() == "digest"
        payload = [_limited(_EOL.sub("", p), depth + 1, problems, digest) for p in parts]
        msg.set_payload(payload)  # type: ignore[arg-type]
        msg.epilogue = epilogue
    return msg


def _cut(msg: Message, problem: str, problems: list[str]) -> Message:
    problems.append(problem)
    msg.set_payload("")
    msg[CUT_MARK] = problem
    return msg


def parse_bytes(raw: bytes) -> Message:
    """The message as email.message_from_bytes(raw) would give it.

    Recurses as deep as the message nests: use parse_message for mail from outside.
    """
    # As BytesParser does: bytes that are not ASCII become surrogate escapes.
    msg = _headers_and_body(raw.decode("ascii", "surrogateescape"))
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return email.message_from_bytes(raw)
    if maintype != "multipart":
        return msg
    try:
        _split_into(msg, 0)
    except _Irregular:
        return email.message_from_bytes(raw)
    return msg


def _split_into(msg: Message, depth: int) -> None:
    # A digest's parts default to message/rfc822: the stdlib knows that rule.
    if depth > _MAX_DEPTH or msg.get_content_subtype() == "digest":
        raise _Irregular
    preamble, parts, epilogue = _split(msg)
    if preamble is not None:
        msg.preamble = preamble
    payload = [_part(p, depth) for p in parts]
    msg.set_payload(payload)  # type: ignore[arg-type]
    msg.epilogue = epilogue


def _split(msg: Message) -> tuple[str | None, list[str], str]:
    """(preamble or None, the text of each part, epilogue) of a well-formed multipart."""
    boundary = msg.get_boundary()
    # The raw body, surrogate escapes and all: get_payload() would decode them away.
    body = getattr(msg, "_payload", None)
    if boundary is None or not isinstance(body, str):
        raise _Irregular
    separator = "--" + boundary
    lines = _lines(body)
    preamble: list[str] = []
    parts: list[list[str]] = []
    current: list[str] | None = None
    closed_at = -1
    for i, line in enumerate(lines):
        kind = _boundary_kind(line, separator)
        if kind is None:
            (preamble if current is None else current).append(line)
            continue
        if kind == "close":
            if current is None or not current:
                raise _Irregular
            closed_at = i
            break
        if current is not None and not current:
            raise _Irregular  # doubled boundary lines: the stdlib has a rule for that
        current = []
        parts.append(current)
    if closed_at < 0 or not parts:
        raise _Irregular
    found_preamble = None
    if preamble:
        preamble[-1] = _EOL.sub("", preamble[-1])
        found_preamble = "".join(preamble)
    return found_preamble, ["".join(p) for p in parts], _epilogue(lines[closed_at + 1 :])


def _lines(text: str) -> list[str]:
    if _OTHER_BREAKS.search(text):
        return [line for line in _LINES.split(text) if line]
    return text.splitlines(keepends=True)


def _headers_and_body(text: str) -> Message:
    """Headers parsed by the stdlib; the body taken as the text after them, unread.

    The feed parser, even for headers only, reads every body line through its line
    reader and joins them again. Where the header block is plain (one kind of line
    break, every line a header or a continuation, ended by an empty line), the body it
    would keep is exactly the text after that empty line. Anything else: the stdlib.
    """
    crlf = text.find("\r\n\r\n")
    lf = text.find("\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        eol, end = "\r\n", crlf
    elif lf >= 0:
        eol, end = "\n", lf
    else:
        return _HEADERS.parsestr(text, headersonly=True)
    head = text[:end]
    lines = head.split(eol)
    bare = head.replace("\r\n", "") if eol == "\r\n" else head
    plain = bool(head) and "\r" not in bare and ("\n" not in bare or eol == "\n")
    if (
        not plain
        or lines[0][:1] in (" ", "\t")
        or any(not _HEADER_LINE.match(line) or line.startswith("From ") for line in lines)
    ):
        return _HEADERS.parsestr(text, headersonly=True)
    split = end + 2 * len(eol)
    msg = _HEADERS.parsestr(text[:split], headersonly=True)
    msg.set_payload(text[split:])
    return msg


def _boundary_kind(line: str, separator: str) -> str | None:
    if not line.startswith(separator):
        return None
    rest = _EOL.sub("", line[len(separator) :])
    close = rest.startswith("--")
    if close:
        rest = rest[2:]
    if rest.strip(" \t"):
        return None
    return "close" if close else "separator"


def _part(text: str, depth: int) -> Message:
    # RFC 2046: the line break before a boundary belongs to the boundary.
    text = _EOL.sub("", text)
    part = _headers_and_body(text)
    maintype = part.get_content_maintype()
    if maintype == "message":
        return email.message_from_string(text)
    if maintype == "multipart":
        _split_into(part, depth + 1)
    return part


def _epilogue(rest: list[str]) -> str:
    # The feed parser joins what follows the close boundary as it stands; its rule for a
    # line break "at the front" only ever meets the empty string it starts with.
    return "".join(rest)
