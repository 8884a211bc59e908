"""Where replies are read from: the MailSource protocol and the Fetched value it yields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

# How a receipt time is known, best first (core.receipt.PROVEN, then the unproven ones).
ReceivedFrom = Literal[
    "internaldate",
    "maildir-name",
    "received-header",
    "file-time",
    "from-line",
    "from-line-local",
    "date-header",
    "unknown",
]

# A received_at that says "we do not know": the epoch, always with received_from="unknown",
# which the caller must not treat as a real receipt time (lateness cannot be judged).
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message read from a mailbox, with when and how its receipt time is known."""

    uid: int  # IMAP UID; for local sources a stable ordinal
    raw: bytes | None  # None when larger than the size limit (not fetched)
    size: int
    received_at: datetime  # timezone-aware UTC
    received_from: ReceivedFrom
    head: bytes | None = None  # the header block of a message too large to fetch whole


class MailSource(Protocol):
    """A mailbox read in UID order, in batches, never changed by reading."""

    @property
    def key(self) -> str:
        """Identity of the mailbox for remembered state (never holds a password)."""
        ...

    def uidvalidity(self) -> int:
        """Changes whenever previously seen UIDs may no longer name the same messages."""
        ...

    def batches(
        self, *, after_uid: int, batch_size: int = 1000, max_size: int = 10_000_000
    ) -> Iterator[list[Fetched]]:
        """Messages with UID > after_uid, in ascending UID order, a bounded batch at a time.

        A message over max_size bytes comes with raw None and its header block in head.
        """
        ...

    def not_read(self) -> list[str]:
        """Entries passed over so far, each "WHERE: why" (a symbolic link, unreadable):
        things in the mailbox that are not messages or could not be read."""
        ...

    def close(self) -> None:
        """Release the connection or files."""
        ...


def date_header_time(raw: bytes) -> datetime | None:
    """The message's Date header as aware UTC, or None when absent or unreadable."""
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw).get("Date")
        if value is None:
            return None
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # RFC 5322 "-0000": the zone is unknown; read it as UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
