"""When messages may go out under a mailbox's sending limits, and when the last one will.

Providers cap what one mailbox sends: so many a minute, and so many in any 24 hours (a
rolling window: Google Workspace, Exchange Online). Messages are spaced evenly, 60 /
per_minute seconds apart, and never more than per_day go in any 24 hours; the messages
already sent in the window (from earlier runs) count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Limits:
    """Messages one mailbox may send a minute and in any 24 hours (None: no limit)."""

    per_minute: int | None = None
    per_day: int | None = None

    @property
    def spacing(self) -> timedelta:
        """The time between two messages."""
        return timedelta(seconds=60 / self.per_minute) if self.per_minute else timedelta(0)

    def __bool__(self) -> bool:
        return bool(self.per_minute or self.per_day)


class Window:
    """The messages sent in the last 24 hours, and when the next one may go."""

    def __init__(self, limits: Limits, sent: Iterable[datetime]) -> None:
        self.limits = limits
        self._sent: deque[datetime] = deque(sorted(sent))

    def __len__(self) -> int:
        return len(self._sent)

    def day_allows(self, at: datetime) -> datetime:
        """The earliest time at or after `at` when the daily limit lets one more go."""
        self._forget(at)
        cap = self.limits.per_day
        if cap is None or len(self._sent) < cap:
            return at
        return max(at, self._sent[len(self._sent) - cap] + DAY)

    def next_slot(self, at: datetime) -> datetime:
        """The earliest time at or after `at` when one more message may go."""
        if self._sent and self.limits.per_minute:
            at = max(at, self._sent[-1] + self.limits.spacing)
        return self.day_allows(at)

    def record(self, at: datetime) -> None:
        """A message went at `at` (not before the last recorded one)."""
        self._sent.append(max(at, self._sent[-1]) if self._sent else at)

    def _forget(self, at: datetime) -> None:
        while self._sent and self._sent[0] <= at - DAY:
            self._sent.popleft()


@dataclass(frozen=True, slots=True)
class Schedule:
    """When `count` messages, sent from `start`, will all have gone."""

    count: int
    start: datetime
    last: datetime  # when the last one goes (start when there are none)
    runs: int  # the runs it takes: a run stops at the daily limit, the next resumes

    @property
    def duration(self) -> timedelta:
        return self.last - self.start


def schedule(count: int, limits: Limits, sent: Iterable[datetime], now: datetime) -> Schedule:
    """When `count` messages sent from `now` go, under `limits`, after those already `sent`
    (their times, any order; only the last 24 hours matter)."""
    window = Window(limits, sent)
    at = now
    runs = 1 if count else 0
    for _ in range(count):
        slot = window.next_slot(at)
        if window.day_allows(at) > at:
            runs += 1  # This run stops at the daily limit; a later run goes on.
        at = slot
        window.record(at)
    return Schedule(count, now, at, runs)
