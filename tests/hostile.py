"""Hostile mail for tests: MIME bombs nested about a thousand levels deep (~32 KB)."""

from __future__ import annotations


def rfc822_bomb(head: bytes, levels: int = 1000) -> bytes:
    """A message holding a message/rfc822 holding a message/rfc822 ... LEVELS deep."""
    inner = b"Subject: deepest\r\n\r\nFor.\r\n"
    wrapper = b"Content-Type: message/rfc822\r\n\r\n"
    return head + b"MIME-Version: 1.0\r\n" + wrapper * levels + inner


def multipart_bomb(head: bytes, levels: int = 1000, *, closed: bool = False) -> bytes:
    """A multipart/mixed holding a multipart/mixed ... LEVELS deep, each with one part.

    Every level has its own boundary (with one boundary for all, the stdlib would end
    every inner part at the outer boundary: no nesting). The close boundaries are left
    out unless CLOSED, as a bomb need not close anything; the stdlib nests all the same.
    """
    body = b"Content-Type: text/plain\r\n\r\nFor.\r\n"
    for level in reversed(range(levels)):
        b = f"{level:x}".encode()
        close = b"\r\n--" + b + b"--\r\n" if closed else b""
        opening = b"Content-Type: multipart/mixed;boundary=" + b + b"\r\n\r\n--" + b + b"\r\n"
        body = opening + body + close
    return head + b"MIME-Version: 1.0\r\n" + body


BOMBS = {"rfc822": rfc822_bomb, "multipart": multipart_bomb}
