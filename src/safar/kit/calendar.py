"""Calendars: time zones, local days and periods (Gregorian and Jalali), quiet and business hours.

Everything takes the instant to reason about (or a ``Clock``) as an argument, so rules that
depend on the time of day are tested with fixed instants instead of waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jdatetime

from safar.errors import ValidationFailed

PERIODS = ("all", "day", "week", "month", "jalali_week", "jalali_month")
#: Iran's working week: Saturday (5 in ``date.weekday()``) to Wednesday, Thursday half-day.
IRAN_WORKDAYS = frozenset({5, 6, 0, 1, 2})


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a 400 naming ``timezone`` when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"timezone: unknown time zone {name[:60]!r}", field="timezone"
        ) from None


def local_day(at: datetime, tz: str) -> date:
    """The calendar day an instant falls on in ``tz``."""
    return at.astimezone(zone(tz)).date()


def period_key(day: date, period: str) -> str:
    """The period a local day falls in; Jalali weeks start on Saturday."""
    if period == "all":
        return "all"
    if period == "day":
        return day.isoformat()
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "jalali_week":
        start = day - timedelta(days=(day.weekday() + 2) % 7)
        j = jdatetime.date.fromgregorian(date=start)
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    if period == "jalali_month":
        j = jdatetime.date.fromgregorian(date=day)
        return f"{j.year:04d}-{j.month:02d}"
    raise ValidationFailed(f"period: use one of {', '.join(PERIODS)}", field="period")


def day_range(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` covering local days ``first`` to ``last`` in ``tz``.

    Local midnights, not UTC ones: a Tehran day starts at 20:30 UTC the evening before, and a
    day on which the clocks change is 23 or 25 hours long.
    """
    z = zone(tz)
    start = datetime.combine(first, time(), z).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), z).astimezone(UTC)
    return start, end


def month_start(day: date, *, jalali: bool) -> date:
    """The first day of the (Jalali or Gregorian) month ``day`` falls in."""
    if not jalali:
        return day.replace(day=1)
    j = jdatetime.date.fromgregorian(date=day)
    return jdatetime.date(j.year, j.month, 1).togregorian()  # type: ignore[no-any-return]


def year_start(day: date, *, jalali: bool) -> date:
    """The first day of the year: 1 Farvardin (Nowruz) in the Jalali calendar, else 1 January."""
    if not jalali:
        return day.replace(month=1, day=1)
    j = jdatetime.date.fromgregorian(date=day)
    return jdatetime.date(j.year, 1, 1).togregorian()  # type: ignore[no-any-return]


#: ``date.weekday()`` of the first day of a week, by name.
WEEKDAYS = {"monday": 0, "saturday": 5, "sunday": 6}
#: Zones whose week starts on Saturday (Iran's week runs Saturday to Friday).
SATURDAY_ZONES = frozenset({"Asia/Tehran", "Iran"})


def week_start(tz: str, setting: str = "auto") -> int:
    """The weekday a week starts on: the setting, or by zone (Saturday in Iran, else Monday)."""
    if setting != "auto":
        return WEEKDAYS[setting]
    return 5 if tz in SATURDAY_ZONES else 0


def period_start(at: datetime, tz: str, period: str, *, first_weekday: int = 0) -> datetime:
    """The instant (UTC) the local ``day``, ``week`` or ``month`` containing ``at`` began."""
    z = zone(tz)
    day = at.astimezone(z).date()
    if period == "week":
        day -= timedelta(days=(day.weekday() - first_weekday) % 7)
    elif period == "month":
        day = day.replace(day=1)
    elif period != "day":
        raise ValidationFailed("period: use day, week or month", field="period")
    return datetime.combine(day, time(0), z).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours ``[start, end)`` in which nobody is contacted; may wrap past midnight."""

    start: int
    end: int
    tz: str = "UTC"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if not 0 <= getattr(self, name) <= 23:
                raise ValidationFailed(f"quiet_{name}: an hour from 0 to 23", field=f"quiet_{name}")
        zone(self.tz)

    def until(self, now: datetime) -> datetime | None:
        """End of the quiet period ``now`` falls in (UTC), or None when sending is fine."""
        if self.start == self.end:
            return None
        local = now.astimezone(zone(self.tz))
        hour = local.hour
        if self.start < self.end:
            inside = self.start <= hour < self.end
        else:
            inside = hour >= self.start or hour < self.end
        if not inside:
            return None
        resume = local.replace(hour=self.end, minute=0, second=0, microsecond=0)
        if resume <= local:
            resume += timedelta(days=1)
        return resume.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Opening hours on working days in one zone (for SLAs: time counts only while open)."""

    opens: time
    closes: time
    days: frozenset[int] = IRAN_WORKDAYS
    tz: str = "Asia/Tehran"

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValidationFailed("closes: must be later than opens", field="closes")
        if not self.days or not self.days <= set(range(7)):
            raise ValidationFailed("days: weekday numbers 0 (Monday) to 6", field="days")
        zone(self.tz)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days:
            return None
        z = zone(self.tz)
        return datetime.combine(day, self.opens, z), datetime.combine(day, self.closes, z)

    def is_open(self, at: datetime) -> bool:
        window = self._window(at.astimezone(zone(self.tz)).date())
        return window is not None and window[0] <= at < window[1]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the next opening (UTC)."""
        day = at.astimezone(zone(self.tz)).date()
        for offset in range(8):
            window = self._window(day + timedelta(days=offset))
            if window is not None and at < window[1]:
                return max(at, window[0]).astimezone(UTC)
        raise AssertionError("a week always has a working day")  # guarded by __post_init__

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of open time after ``start`` (an SLA deadline)."""
        at, left = self.next_open(start), duration
        while True:
            window = self._window(at.astimezone(zone(self.tz)).date())
            assert window is not None  # next_open lands inside a window
            room = window[1] - at
            if left <= room:
                return (at + left).astimezone(UTC)
            left -= room
            at = self.next_open(window[1])
