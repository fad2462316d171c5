"""When a journey's clock-bound steps fall due, in the profile's own time zone and calendar.

A birthday kept as a Gregorian date recurs on a different Gregorian day every year when the
person keeps it by the Jalali calendar, so the yearly date is taken in the calendar the journey
(or the profile) names. Days that a year lacks (Esfand 30, 29 February) fall on the last day of
the month. Everything takes ``now`` as an argument.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import jdatetime

from safar.kit.calendar import zone

_JALALI_TEXT = re.compile(r"^(1[2-4]\d\d)[/-](\d{1,2})[/-](\d{1,2})")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def parse_date(value: Any) -> date | None:
    """A date trait as a Gregorian date: ISO ``1990-05-17`` (or a timestamp), a Jalali
    ``1369/02/27`` (Persian digits too); None when it is not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip().translate(_DIGITS)
    m = _JALALI_TEXT.match(text)
    if m:
        try:
            day: date = jdatetime.date(int(m[1]), int(m[2]), int(m[3])).togregorian()
            return day
        except ValueError:
            return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def hhmm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def profile_calendar(calendar: str, traits: dict[str, Any], language: str) -> str:
    """``profile`` resolves to the profile's ``calendar`` trait, else by language."""
    if calendar != "profile":
        return calendar
    chosen = str(traits.get("calendar") or "").lower()
    if chosen in ("jalali", "gregorian"):
        return chosen
    return "jalali" if language == "fa" else "gregorian"


def _in_year(born: date, year: int, calendar: str) -> date:
    """The anniversary of ``born`` in (the calendar's) ``year``, as a Gregorian date."""
    if calendar == "jalali":
        j = jdatetime.date.fromgregorian(date=born)
        day = j.day
        while True:
            try:
                found: date = jdatetime.date(year, j.month, day).togregorian()
                return found
            except ValueError:
                day -= 1  # Esfand 30 in a common year
    day = born.day
    while True:
        try:
            return date(year, born.month, day)
        except ValueError:
            day -= 1  # 29 February in a common year


def next_yearly(
    value: Any,
    *,
    now: datetime,
    tz: str,
    at: str,
    calendar: str,
    offset_days: int = 0,
) -> datetime | None:
    """The next instant (UTC, after ``now``) of the yearly date ``value`` + ``offset_days`` at
    ``at`` local time; None when ``value`` is not a date."""
    born = parse_date(value)
    if born is None:
        return None
    z = zone(tz)
    today = now.astimezone(z).date()
    year = jdatetime.date.fromgregorian(date=today).year if calendar == "jalali" else today.year
    for y in (year - 1, year, year + 1, year + 2):
        day = _in_year(born, y, calendar) + timedelta(days=offset_days)
        instant = datetime.combine(day, hhmm(at), z).astimezone(UTC)
        if instant > now:
            return instant
    return None


def next_time_of_day(now: datetime, *, tz: str, at: str) -> datetime:
    """The next ``at`` local time after ``now`` (today when still ahead, else tomorrow)."""
    z = zone(tz)
    local = now.astimezone(z)
    candidate = datetime.combine(local.date(), hhmm(at), z)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), hhmm(at), z)
    return candidate.astimezone(UTC)
