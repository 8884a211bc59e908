"""One inbound message, analysed: parsed once, hashed, matched to a ballot, its vote read.

Pure and picklable, so a tally can run it on every core: the result carries no parsed
message, only the values the store and the tally need.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from email.message import Message

from steervote.core.ballot import subject_tag
from steervote.core.match import Directory, Matched, Unmatched, match
from steervote.core.mime import decode_words
from steervote.core.parse import parse_bytes
from steervote.core.reply import Reading, decoded_subject, read_reply

HEADER_LIMIT = 300  # characters of a sender, subject or Message-ID kept
EVIDENCE_LIMIT = 500
OWN_TEXT_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one message is, before it is checked against what the store already holds."""

    sha256: str
    message_id: str
    sender: str
    subject: str
    tie: Matched | Unmatched | None  # None: not read (too large)
    reading: Reading | None  # None: not matched, so not read


def header_text(msg: Message, name: str) -> str:
    """A header decoded from RFC 2047 (as it stands when it cannot be decoded), bounded."""
    value = msg.get(name)
    return "" if value is None else _no_nul(decode_words(str(value))[:HEADER_LIMIT])


def _no_nul(text: str) -> str:
    # NUL cannot be stored (PostgreSQL) and must not split one key into two.
    return text.replace("\x00", "\ufffd")


def analyse(raw: bytes | None, uid: int, size: int, directory: Directory) -> Analysis:
    """Parse, hash, match and read one message; never raises on hostile input."""
    if raw is None:
        return Analysis(f"oversize:{uid}:{size}", "", "", "", None, None)
    # compat32 parsing is several times faster than policy.default and never raises.
    msg = parse_bytes(raw)
    sha = hashlib.sha256(raw).hexdigest()
    message_id = header_text(msg, "Message-ID")
    sender = header_text(msg, "From")
    subject = _no_nul(decoded_subject(msg)[:HEADER_LIMIT])
    tie = match(msg, directory)
    if not isinstance(tie, Matched):
        return Analysis(sha, message_id, sender, subject, tie, None)
    title = directory.titles.get(tie.motion_id, "")
    reading = read_reply(
        msg, ballot_subject=f"{subject_tag(tie.motion_id)} {title}", motion_title=title
    )
    if "\x00" in reading.own_text or "\x00" in reading.evidence:
        reading = replace(
            reading, own_text=_no_nul(reading.own_text), evidence=_no_nul(reading.evidence)
        )
    return Analysis(sha, message_id, sender, subject, tie, reading)
