"""How a motion's ballots stand: counted from their recorded send status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from steervote.core.records import BallotRecord, BallotStatus


@dataclass(frozen=True, slots=True)
class BallotCounts:
    """Voting members' ballots by send status, and observers' information copies.

    unconfirmed: handed to the server but its reply never recorded (status `sending`):
    possibly delivered, never sent again on its own. copies: every non-voting record
    (an observer's copy), whatever its status.
    """

    sent: int
    failed: int
    unconfirmed: int
    pending: int
    copies: int


def count_ballots(records: Iterable[BallotRecord]) -> BallotCounts:
    """The counts of a motion's ballot records (Store.ballots)."""
    by_status = dict.fromkeys(BallotStatus, 0)
    copies = 0
    for b in records:
        if b.voting:
            by_status[b.status] += 1
        else:
            copies += 1
    return BallotCounts(
        sent=by_status[BallotStatus.SENT],
        failed=by_status[BallotStatus.FAILED],
        unconfirmed=by_status[BallotStatus.SENDING],
        pending=by_status[BallotStatus.PENDING],
        copies=copies,
    )
