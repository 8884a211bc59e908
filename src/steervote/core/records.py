"""Frozen records that cross from the store to the core: ballots, replies, rulings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from steervote.core.strength import Strength
from steervote.core.vote import Vote


class BallotStatus(StrEnum):
    """Where a ballot's delivery stands."""

    PENDING = "pending"
    # Handed to the server (committed before DATA), its reply not yet recorded. Found by a
    # later run, the run sending it stopped: it may have been delivered (RFC 5321 makes the
    # server responsible once it has the final "."), so it is never sent again on its own.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Disposition(StrEnum):
    """What a received message was recorded as."""

    VOTE = "vote"
    NEEDS_REVIEW = "needs_review"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class BallotRecord:
    """One ballot (or an observer's copy) and its send status."""

    motion_id: str
    recipient: str  # a member id, or the observer's address for a copy
    name: str
    address: str
    voting: bool
    token: str | None
    message_id: str
    status: BallotStatus
    detail: str
    sent_at: datetime | None


class NoticeKind(StrEnum):
    """A message to a member after their ballot (issue 12's member loop)."""

    RECEIPT = "receipt"  # their vote as it now stands, and the words it was read from
    ASK = "ask"  # a request for one word about a reply that could not be counted
    REMINDER = "reminder"  # to a member who has not voted, before the deadline
    ANNOUNCEMENT = "announcement"  # the result (or its correction), to members and observers


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """One notice and its send status (sent, resumed and settled exactly as ballots are).

    recipient: a member id, or an observer's address (announcements); key: what it is
    about — one notice per (motion, kind, recipient, key), so a member never gets the
    same notice twice; token: its own token, in its Message-ID, so a reply to it is
    matched to the member (None for an observer); refers_to: the Message-ID of the reply
    it concerns, or ""; summary: what it said, in one line; times aware UTC.
    """

    motion_id: str
    kind: NoticeKind
    recipient: str
    key: str
    name: str
    address: str
    token: str | None
    message_id: str
    refers_to: str
    summary: str
    status: BallotStatus
    detail: str
    created_at: datetime
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddressChange:
    """One member's addresses before and after an amendment (`propose --amend-member`)."""

    member_id: str
    old_email: str
    new_email: str
    old_aliases: tuple[str, ...] = ()
    new_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Amendment:
    """A motion's electorate amended after its ballots went out: members added (`propose
    --add-member`) and members' addresses changed (`propose --amend-member`, the old and
    new addresses in `changed`); who, why, when (aware UTC), and the digests before and
    after. `amended` names the members whose addresses are to change (before planning)."""

    added: tuple[str, ...]  # member ids
    reason: str
    by: str
    at: datetime
    old_digest: str = ""
    new_digest: str = ""
    amended: tuple[str, ...] = ()  # member ids
    changed: tuple[AddressChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Received:
    """A recorded message that matched a motion and a member.

    strength: how firmly it is the member's own (core.strength); dated: its Date header
    (RFC 5322 origination date, aware UTC, None when absent); received_from: how
    received_at is known (core.receipt); read_at: when the tally recorded it (aware UTC).
    """

    ref: int
    motion_id: str
    member_id: str
    received_at: datetime
    disposition: Disposition
    vote: Vote | None
    evidence: str
    own_text: str
    reason: str
    how: str
    message_id: str
    sender: str
    strength: Strength = Strength.WEAK
    dated: datetime | None = None
    received_from: str = "internaldate"
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IgnoredMessage:
    """A message that is not counted, with the reason."""

    ref: int
    message_id: str
    sender: str
    subject: str
    reason: str
    motion_id: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """Everything recorded of one message read, for `show` and `audit`.

    ref: the store's own row number (Message-IDs repeat or are missing); mailbox, uid and
    uidvalidity: where it was read (uid 0 for a local file); times aware UTC; size in
    bytes; member_id None for a message tied to no member; kept: whether its raw bytes are
    stored (every message tied to a motion and read in full; Store.raw_message).
    """

    ref: int
    mailbox: str
    uidvalidity: int
    uid: int
    message_id: str
    sha256: str
    sender: str
    subject: str
    size: int
    received_at: datetime
    received_from: str
    motion_id: str | None
    member_id: str | None
    how: str
    disposition: Disposition
    vote: Vote | None
    evidence: str
    own_text: str
    reason: str
    recorded_at: datetime
    strength: str
    dated: datetime | None
    kept: bool


@dataclass(frozen=True, slots=True)
class Undo:
    """The secretary's undoing of a ruling, and why (times aware UTC). An undone ruling
    stays in the audit trail; the tally passes over it as if it had not been made."""

    reason: str
    undone_by: str
    undone_at: datetime


@dataclass(frozen=True, slots=True)
class Ruling:
    """The secretary's ruling on a member's vote (vote None: counted as no vote).

    undone: the undo of this ruling (`rule --undo`), or None while it holds.
    """

    motion_id: str
    member_id: str
    vote: Vote | None
    reason: str
    ruled_by: str
    ruled_at: datetime
    undone: Undo | None = None


CASTING = "(casting)"  # the member id under which the chair's casting ruling is recorded
