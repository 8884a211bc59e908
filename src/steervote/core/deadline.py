"""When a motion closes: a duration from now ("48h", "3d") or an ISO 8601 date-time."""

from __future__ import annotations

import calendar
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
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder of the zone database ("Europe"), a name too long for a file.
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
    impossible = _impossible(text)
    if impossible is not None:
        raise ValueError(impossible)
    if _DATE_ONLY_RE.fullmatch(text):
        raise ValueError(f"{text!r} has no time of day (write e.g. {text}T23:59)")
    try:
        written = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _unit_advice(text)
            or f"cannot read {text!r}: expected a duration (48h, 3d, 90m, 1w) "
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


# A date and time as people write them, read part by part so that an impossible part is
# named ("month 13") where datetime.fromisoformat would refuse the whole.
_DATE_TIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[T ] *(?P<hour>\d{1,2})(?::(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:[.,]\d+)?)?)?)?"
    r" *(?:(?P<offset>[+-]\d{1,2}(?::?\d{2})?)|(?P<zone>Z|[A-Za-z][\w/+-]*))?"
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _impossible(text: str) -> str | None:
    """Why a date-time of the usual shape names no moment (month 13, 31 June, 29 February
    of a common year, hour 25, an offset past 23:59, a zone name), or None."""
    m = _DATE_TIME.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m["year"]), int(m["month"]), int(m["day"])
    not_a_date = f"{text!r} is not a date:"
    if not 1 <= month <= 12:
        return f"{not_a_date} month {month} (months are 1 to 12)"
    last = calendar.monthrange(year, month)[1] if year else 31
    if year == 0:
        return f"{not_a_date} year 0 (years start at 1)"
    if day == 0:
        return f"{not_a_date} day 0 (days start at 1)"
    if day > last:
        if month == 2 and day == 29:
            return f"{not_a_date} 29 February {year} ({year} is not a leap year)"
        return f"{not_a_date} day {day} ({_MONTHS[month - 1]} has {last} days)"
    return _impossible_time(text, m)


def _impossible_time(text: str, m: re.Match[str]) -> str | None:
    not_a_time = f"{text!r} is not a time:"
    for part, top in (("hour", 23), ("minute", 59), ("second", 59)):
        value = int(m[part]) if m[part] is not None else 0
        if value > top:
            advice = (
                "; write 23:59, or 00:00 of the next day" if part == "hour" and value == 24 else ""
            )
            return f"{not_a_time} {part} {value} ({part}s are 0 to {top}{advice})"
    offset = m["offset"]
    if offset is not None:
        hours, minutes = int(offset[1:3].rstrip(":")), int(offset[-2:]) if len(offset) > 3 else 0
        if hours > 23 or minutes > 59:
            return (
                f"{text!r}: the UTC offset {offset} is impossible (an offset is at most 23:59 "
                "ahead of or behind UTC, e.g. +01:00)"
            )
    if m["zone"] is not None and m["zone"].upper() != "Z":
        return (
            f"{text!r}: a timezone name after the time is not read: write a UTC offset "
            "(e.g. +01:00), or leave it out to use the committee's timezone"
        )
    if len(m["month"]) == 1 or len(m["day"]) == 1 or (m["hour"] and len(m["hour"]) == 1):
        date = f"{m['year']}-{int(m['month']):02d}-{int(m['day']):02d}"
        time = f"T{int(m['hour']):02d}:{int(m['minute'] or 0):02d}" if m["hour"] else "T23:59"
        return f"cannot read {text!r}: write each part with two digits (e.g. {date}{time})"
    return None


# Unit words people write for the four units, in lowercase; "M" alone could be months.
_UNIT_WORDS = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
}
_NO_UNIT = ("mo", "mon", "month", "months", "y", "yr", "yrs", "year", "years")
_WORDED = re.compile(r"(?: *\d+ *[^\d\s]+)+ *")
_WORD = re.compile(r"(\d+) *([^\d\s]+)")


def _unit_advice(text: str) -> str | None:
    """How to write a duration given with other units ("7 days", "48H", "1y"), or None."""
    if _WORDED.fullmatch(text) is None:
        return None
    parts = []
    for number, word in _WORD.findall(text):
        unit = _UNIT_WORDS.get(word.lower().rstrip("."))
        if word == "M":
            return (
                f"cannot read {text!r}: M could be months or minutes: write {number}m for minutes"
            )
        if word.lower() in _NO_UNIT:
            return (
                f"cannot read {text!r}: a duration is counted in weeks, days, hours and minutes "
                "(w, d, h, m), not months or years: write e.g. 4w, or the date and time"
            )
        if unit is None:
            return (
                f"cannot read {text!r}: {word!r} is not a unit (write w, d, h or m for "
                "weeks, days, hours or minutes, e.g. 7d)"
            )
        parts.append(f"{number}{unit}")
    return f"cannot read {text!r}: write {' '.join(parts)} (units are w, d, h and m)"
