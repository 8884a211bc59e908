"""Which motions a message's thread names, so that a conflict goes to review before reading.

A reply names its motion up to four ways: the ballot token (core.match), the `[motion-id]`
tag in its subject, the ballot it quotes (every ballot ends with a `Fingerprint:` line
unique to its motion), and In-Reply-To (a ballot's Message-ID carries its token; a
member's reply is looked up in the store by services.collect). When they disagree, which
motion the member meant is for a person to decide (DESIGN.md, Matching).
"""

from __future__ import annotations

import re
from email.message import Message

from steervote.core.mime import decode_words, header

# `[motion-id]`, also with spaces inside (`[ m1 ]`) or in full-width or CJK brackets
# (`【m1】`, `［m1］`), as input methods and some clients write them.
_SUBJECT_TAG = re.compile(
    r"[\[\uff3b\u3010]\s*([a-z0-9][a-z0-9-]{0,80})\s*[\]\uff3d\u3011]", re.IGNORECASE
)
# A fingerprint line as a ballot prints it, under any quote prefix, in text or HTML.
_FINGERPRINT = re.compile(
    rb"Fingerprint:(?:\s|&nbsp;|&#160;|<[^>]{0,40}>){0,12}([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})",
    re.IGNORECASE,
)
_PARTS_READ = 20  # text parts searched for a quoted ballot
_PART_BYTES = 2_000_000  # of each part


def subject_tags(msg: Message) -> set[str]:
    """Every `[tag]` in the Subject, lowercase (known motion or not)."""
    # The raw header: Message.get turns raw 8-bit text (a full-width bracket) into U+FFFD.
    subject = decode_words(header(msg, "subject"))[:1000]
    return {t.lower() for t in _SUBJECT_TAG.findall(subject)}


def quoted_motions(msg: Message, fingerprints: dict[str, str]) -> set[str]:
    """Motions whose ballot the message's text quotes, by the ballot's Fingerprint line.

    fingerprints: fingerprint (`3f9a-c2d1-77b0`) -> motion id. Text parts are decoded from
    their transfer encoding (base64, quoted-printable); a part that cannot be decoded
    is skipped. Returns motion ids; empty when the message quotes no known ballot.
    """
    if not fingerprints:
        return set()
    found: set[str] = set()
    parts = 0
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        parts += 1
        if parts > _PARTS_READ:
            break
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # noqa: S112 - a broken part says nothing about the thread
            continue
        if not isinstance(payload, bytes):
            continue
        for m in _FINGERPRINT.finditer(payload[:_PART_BYTES]):
            motion = fingerprints.get(m.group(1).decode("ascii").lower())
            if motion is not None:
                found.add(motion)
    return found
