"""Compose a notice (receipt, ask, reminder, announcement): its headers and parts.

Every notice threads with the member's ballot and carries a token of its own, so a
reply to any notice is matched to its member and motion as strongly as a reply to the
ballot (DESIGN.md, Matching): From `[ballot] from`; To the member's address on the
roll, never a reply's From (a forger must not learn that a forgery worked, and the
member must learn of it); Reply-To the member's personal reply address; Message-ID
under the notice's token; In-Reply-To the reply concerned (else the ballot) and
References the ballot then that reply; Auto-Submitted: auto-generated (RFC 3834:
responders must not answer it); Subject "[motion-id] what it is: title".
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from steervote.core.ballot import (
    MOTION_HEADER,
    Addressing,
    mailbox_header,
    new_token,
    reply_address,
)
from steervote.core.motion import Motion
from steervote.core.records import BallotRecord, BallotStatus, NoticeKind, NoticeRecord

# The Message-ID prefix of each kind; core.match recognises them (NOTICE_PREFIXES).
PREFIX = {
    NoticeKind.RECEIPT: "receipt",
    NoticeKind.ASK: "ask",
    NoticeKind.REMINDER: "reminder",
    NoticeKind.ANNOUNCEMENT: "result",
}


# A Message-ID from a member's mail is untrusted: threaded on only when it is a plain
# RFC 5322 msg-id of printable ASCII (no space, no line break, bounded).
_MSG_ID = re.compile(r"<[!-;=?-~]{1,250}>")


def _domain(addressing: Addressing) -> str:
    return parseaddr(addressing.sender)[1].rpartition("@")[2] or "localhost"


def safe_msg_id(value: str) -> str:
    """The Message-ID if it can go in a header as it is, else ""."""
    return value if _MSG_ID.fullmatch(value) else ""


def draft(
    motion: Motion,
    kind: NoticeKind,
    ballot: BallotRecord,
    addressing: Addressing,
    *,
    key: str,
    refers_to: str = "",
    summary: str = "",
    now: datetime,
) -> NoticeRecord:
    """A new, pending notice to the recipient of `ballot` (a member's, or an observer's
    copy), with a token of its own when the recipient votes."""
    token = new_token() if ballot.voting else None
    tail = token or new_token()  # an observer's notice needs a unique id, not a token
    return NoticeRecord(
        motion_id=motion.id,
        kind=kind,
        recipient=ballot.recipient,
        key=key,
        name=ballot.name,
        address=ballot.address,
        token=token,
        message_id=f"<{PREFIX[kind]}.{motion.id}.{tail}@{_domain(addressing)}>",
        refers_to=safe_msg_id(refers_to),
        summary=summary,
        status=BallotStatus.PENDING,
        detail="",
        created_at=now,
    )


def compose_notice(
    motion: Motion,
    notice: NoticeRecord,
    ballot: BallotRecord,
    addressing: Addressing,
    *,
    subject: str,
    text: str,
    html: str | None,
    now: datetime,
) -> EmailMessage:
    """The message of one notice. subject: what it is ("Your vote is recorded"); text and
    html: its parts (html None: text only). `ballot` is the recipient's ballot or copy."""
    msg = EmailMessage()
    msg["From"] = addressing.sender
    msg["To"] = mailbox_header(notice.name, notice.address)
    if ballot.voting and ballot.token:
        msg["Reply-To"] = reply_address(addressing, ballot.token)
    else:
        msg["Reply-To"] = addressing.reply_to
    msg["Subject"] = f"[{motion.id}] {subject}: {motion.title}"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = notice.message_id
    thread = [ballot.message_id, *([notice.refers_to] if notice.refers_to else [])]
    msg["In-Reply-To"] = thread[-1]
    msg["References"] = " ".join(thread)
    msg[MOTION_HEADER] = motion.id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
