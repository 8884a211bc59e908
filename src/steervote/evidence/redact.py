"""Ballot and notice tokens cut out of an audit folder, in a way `verify` can still match.

A token can still cast a vote while a motion is open, and a reply carries its member's
token (in To: votes+TOKEN@…, and in In-Reply-To/References <ballot.MOTION.TOKEN@…>). In
the folder every token in those places becomes its placeholder: the first 24 letters of
the base32 SHA-256 of the token — the same length and alphabet, so the message keeps its
size and shape, and anyone holding the token's SHA-256 (ballots.json, notices.json) can
compute it, but nobody can go back from it to the token. `verify` matches replies by
placeholders exactly as `tally` matched them by tokens.
"""

from __future__ import annotations

import base64
import hashlib
import re

from steervote.core.ballot import TOKEN_LENGTH
from steervote.core.match import NOTICE_PREFIXES

_PREFIXES = "|".join(NOTICE_PREFIXES).encode("ascii")
_IN_ADDRESS = re.compile(rb"(\+)([a-z2-7]{%d})(@)" % TOKEN_LENGTH, re.IGNORECASE)
_IN_MESSAGE_ID = re.compile(
    rb"(<(?:%s)\.[a-z0-9-]+\.)([a-z2-7]{%d})(@)" % (_PREFIXES, TOKEN_LENGTH), re.IGNORECASE
)


def token_digest(token: str) -> str:
    """SHA-256 hex of a ballot or notice token (lower case)."""
    return hashlib.sha256(token.lower().encode("ascii")).hexdigest()


def placeholder(digest: str) -> str:
    """The placeholder of a token, from its SHA-256 hex: 24 base32 letters, lower case."""
    return base64.b32encode(bytes.fromhex(digest)).decode("ascii").lower()[:TOKEN_LENGTH]


def redact(raw: bytes) -> bytes:
    """The message with every token in a reply address or a steervote Message-ID replaced
    by its placeholder (the same length: sizes and offsets do not change).

    Tokens inside encoded parts (base64, quoted-printable) are not seen and stay.
    """

    def swap(found: re.Match[bytes]) -> bytes:
        token = found.group(2).decode("ascii").lower()
        return found.group(1) + placeholder(token_digest(token)).encode("ascii") + found.group(3)

    return _IN_MESSAGE_ID.sub(swap, _IN_ADDRESS.sub(swap, raw))
