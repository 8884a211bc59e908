"""When a motion closes: a duration from now ("48h", "3d") or an ISO 8601 date-time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Lowercase units only: "1M" could as well mean a month as a minute.
_DURATION_RE = re.compile(r"(?:\s*\d+\s*[wdhm]\s*)+")
_PART_RE = re.compile(r"(\d+)\s*([wdhm])")
_UNIT = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_DATE_ONLY_RE = re.compile(r"\d{4}-?\d{2}-?\d{2}")
# A deadline must stay a date in every timezone it is shown in (UTC+14 adds most of a
# day; year 9999 has no next day) and in every store: anything later is a typing slip.
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def timezone_named(name: str) -> ZoneInfo:
    """The IANA timezone of this name; ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def parse_duration(text: str) -> timedelta | None:
    """ "48h", "3d", "90m", "1w", "1d 12h" as a timedelta; None if the text is not a duration."""
    if _DURATION_RE.fullmatch(text) is None:
        return None
    total = timedelta()
    for number, unit in _PART_RE.findall(text):
        total += int(number) * _UNIT.get(unit, timedelta(minutes=1))
    return total


def parse_closes(text: str, *, now: datetime, timezone: str | None) -> datetime:
    """The closing time (timezone-aware, UTC) of a `closes` value; ValueError saying why not.

    A naive date-time is read in the committee's timezone; with none given it is refused
    rather than guessed. A local time that the clocks skip or repeat is refused too.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise TypeError("now must be timezone-aware")
    text = text.strip()
    try:
        duration = parse_duration(text)
        if duration is not None:
            if duration <= timedelta():
                raise ValueError(f"{text!r} is not in the future")
            # In UTC: a duration is elapsed time, even across a change of the clocks.
            return _in_range(now.astimezone(UTC) + duration, text)
    except OverflowError:
        raise ValueError(f"{text!r} is too far in the future") from None
    if _DATE_ONLY_RE.fullmatch(text):
        raise ValueError(f"{text!r} has no time of day (write e.g. {text}T23:59)")
    try:
        written = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"cannot read {text!r}: expected a duration (48h, 3d, 90m, 1w) "
            "or an ISO 8601 date-time (2017-01-17T19:00)"
        ) from None
    try:
        if written.tzinfo is None:
            written = _localise(written, text, timezone)
        closes = written.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None
    if closes <= now:
        raise ValueError(
            f"{text!r} is in the past (now is {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    return _in_range(closes, text)


def _in_range(closes: datetime, text: str) -> datetime:
    if closes >= LATEST:
        raise ValueError(f"{text!r} is too far in the future (it must be before {LATEST:%Y-%m-%d})")
    return closes


def _localise(naive: datetime, text: str, timezone: str | None) -> datetime:
    if timezone is None:
        raise ValueError(
            f"{text!r} has no UTC offset and the committee has no timezone "
            "(add an offset such as +00:00, or timezone: to the committee)"
        )
    zone = timezone_named(timezone)
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        # fold=0 and fold=1 differ only for a local time the clocks skip or repeat.
        round_trip = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        what = "does not exist" if round_trip != naive else "happens twice"
        raise ValueError(f"{text!r} {what} in {timezone} (the clocks change); add a UTC offset")
    return early
