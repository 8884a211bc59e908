"""When a message was received, how that is known, and when a person must judge lateness.

Only the receiving side can show a vote arrived in time (DESIGN.md, Matching). From the
best evidence down: IMAP INTERNALDATE; the delivery time a Maildir file name starts with
(Dovecot and qmail name a delivered file `1483524600.M123P456.host,S=…`, Unix seconds);
a Received: header (RFC 5322 section 3.6.7) added by a receiving server named in
`[tally] trusted_received_by`; the file's mtime; an mbox `From ` line that carries a
UTC offset. Not proven: an mbox `From ` line without one (delivery agents write local
time), the sender's own Date header, or nothing at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime

from steervote.core.address import normalize_domain

# received_from values, best first, as the mail sources and services.collect record them.
PROVEN = ("internaldate", "maildir-name", "received-header", "file-time", "from-line")
UNPROVEN = {
    "from-line-local": "receipt time only from an mbox From line without a time zone",
    "date-header": "receipt time only from the sender's Date header",
    "unknown": "receipt time unknown",
}
# Local time is UTC-12:00 to UTC+14:00: a local time this close to the deadline may be after it.
ZONE_SPREAD = timedelta(hours=14)
_BY = re.compile(r"\bby\s+\[?([^\s;()\]]+)", re.IGNORECASE)
_RECEIVED_READ = 30  # Received headers looked at, from the top


def is_proven(received_from: str) -> bool:
    """Whether a receipt time of this provenance was set by the receiving side."""
    return received_from in PROVEN


def trusted_received_time(msg: Message, received_by: tuple[str, ...]) -> datetime | None:
    """The date-time of the topmost Received: header added `by` a trusted host, as UTC.

    received_by: lowercase host names of the receiving servers ([tally]
    trusted_received_by). None when none is trusted, none was added by one, or its date
    (after the last ';', RFC 5322 section 3.6.7) cannot be read or has no UTC offset.
    """
    if not received_by:
        return None
    for value in (msg.get_all("Received") or [])[:_RECEIVED_READ]:
        text = " ".join(str(value)[:2000].split())
        by = _BY.search(text.rpartition(";")[0])
        if by is None or normalize_domain(by.group(1)) not in received_by:
            continue
        try:
            when = parsedate_to_datetime(text.rpartition(";")[2].strip())
        except (TypeError, ValueError, IndexError):
            return None
        return None if when.tzinfo is None else when.astimezone(UTC)
    return None


def doubtful_receipt(
    received_from: str, received_at: datetime, read_at: datetime | None, closes: datetime
) -> str | None:
    """Why this reply's lateness is for a person to judge, or None when it is known.

    A time that is not proven cannot show a reply came in time; but a reply read before
    the deadline certainly did, and an mbox From line more than 14 hours before the
    deadline is before it in every time zone. received_at and closes are aware UTC;
    read_at is when the tally read it (None: not known, treated as after the deadline).
    """
    if is_proven(received_from):
        return None
    if read_at is not None and read_at <= closes:
        return None
    if received_from == "from-line-local" and received_at + ZONE_SPREAD <= closes:
        return None
    words = UNPROVEN.get(received_from, f"receipt time only from {received_from}")
    return f"{words}, and read after the deadline: late?"
