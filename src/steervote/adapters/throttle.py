"""A Transport that keeps to a mailbox's sending limits: it spaces messages (sleeping),
stops the run at the daily limit, and stops it at a server's quota reply.

A stop is a SendingPaused raised before the message is handed over (or after the server
refused it), so the caller records the message as not sent and a later run sends it: the
run resumes where it stopped, and nothing is sent twice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from steervote.core.send_schedule import Limits, Window
from steervote.errors import SendingPaused

# What servers say when a mailbox is over its sending quota or rate. A 4xx with these
# words (RFC 5321: try later), or Gmail's "550 5.4.5 Daily user sending limit exceeded"
# (a 5xx, yet it lifts within a day: RFC 3463's 5.4.5 is "system congestion").
_QUOTA_WORDS = re.compile(
    r"quota|rate.?limit|too many|limit exceeded|exceeded|throttl|sending limit|"
    r"submission rate|try again later|\b4\.7\.28\b|\b5\.4\.5\b",
    re.IGNORECASE,
)


def quota_reply(code: int | None, reason: str) -> bool:
    """Whether an SMTP refusal says the mailbox is over its sending quota or rate."""
    if code is None:
        return False
    if 400 <= code < 500:
        return bool(_QUOTA_WORDS.search(reason))
    return "5.4.5" in reason or bool(re.search(r"sending (quota|limit)", reason, re.I))


class ThrottledTransport:
    """Wraps a Transport (services.propose.Transport) with sending limits.

    `sent` are the times of the messages already sent from this mailbox (the store's,
    Store.sent_since); `now` and `sleep` are the clock (tests pass their own).
    """

    def __init__(
        self,
        inner: Any,
        limits: Limits,
        sent: Iterable[datetime],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        what: str = "[smtp] max_per_day",
    ) -> None:
        self.inner = inner
        self.limits = limits
        self._window = Window(limits, sent)
        self._now = now
        self._sleep = sleep
        self._what = what

    def __repr__(self) -> str:
        return f"ThrottledTransport({self.inner!r}, {self.limits})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # extensions(), host, ...

    def wait_turn(self) -> None:
        """Wait for the next slot (SendingPaused at the daily limit). Called before a
        message is recorded as handed to the server: a run stopped while it waits leaves
        the message pending, to go out with the re-run, never 'unconfirmed'."""
        now = self._now()
        resume = self._window.day_allows(now)
        if resume > now:
            n = self.limits.per_day
            raise SendingPaused(
                f"the daily sending limit is reached ({n:,} message{'' if n == 1 else 's'} "
                f"in 24 hours, {self._what}); the rest go with a re-run after "
                f"{resume.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            )
        slot = self._window.next_slot(now)
        if slot > now:
            self._sleep((slot - now).total_seconds())

    def send(self, msg: EmailMessage | bytes, *, sender: str, recipients: Sequence[str]) -> Any:
        """Wait for the next slot, send, and stop the run (SendingPaused) at a limit."""
        self.wait_turn()
        result = self.inner.send(msg, sender=sender, recipients=recipients)
        if result.ok or result.delivery_unknown:
            self._window.record(self._now())
        elif quota_reply(result.code, result.reason):
            said = " ".join(x for x in (str(result.code or ""), result.reason) if x)
            raise SendingPaused(
                f"the server refused more mail from this mailbox for now ({said}); "
                "nothing more is sent in this run, and a later run resumes",
                detail=f"not sent: over the server's sending limit ({said}); a re-run sends it",
            )
        return result

    def close(self) -> None:
        self.inner.close()
