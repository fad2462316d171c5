"""Calendars: local periods, quiet hours and business hours, at fixed instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from safar.errors import ValidationFailed
from safar.kit.calendar import (
    BusinessHours,
    QuietHours,
    local_day,
    period_key,
    period_start,
    week_start,
    zone,
)

TEHRAN = "Asia/Tehran"  # UTC+03:30, no daylight saving since 2022


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_unknown_zone_is_a_400_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        zone("Mars/Olympus")
    assert caught.value.status_code == 400
    assert caught.value.field == "timezone"


def test_the_local_day_follows_the_zone() -> None:
    late = utc(2026, 3, 20, 21, 0)  # 00:30 on 21 March in Tehran: Nowruz 1405
    assert local_day(late, "UTC") == date(2026, 3, 20)
    assert local_day(late, TEHRAN) == date(2026, 3, 21)


@pytest.mark.parametrize(
    ("day", "period", "key"),
    [
        (date(2026, 3, 21), "jalali_month", "1405-01"),
        (date(2026, 3, 20), "jalali_month", "1404-12"),
        # Jalali weeks start on Saturday: Friday 27 March belongs to Saturday 21 March's week.
        (date(2026, 3, 27), "jalali_week", "1405-01-01"),
        (date(2026, 3, 28), "jalali_week", "1405-01-08"),
        (date(2026, 3, 25), "week", "2026-03-23"),
        (date(2026, 3, 25), "month", "2026-03"),
    ],
)
def test_periods_in_both_calendars(day: date, period: str, key: str) -> None:
    assert period_key(day, period) == key


def test_quiet_hours_that_wrap_past_midnight() -> None:
    quiet = QuietHours(22, 8, TEHRAN)
    # 23:30 Tehran -> resume at 08:00 Tehran next day = 04:30 UTC.
    assert quiet.until(utc(2026, 5, 1, 20, 0)) == utc(2026, 5, 2, 4, 30)
    # 07:00 Tehran -> resume at 08:00 the same day.
    assert quiet.until(utc(2026, 5, 2, 3, 30)) == utc(2026, 5, 2, 4, 30)
    assert quiet.until(utc(2026, 5, 2, 6, 0)) is None  # 09:30: sending is fine
    assert QuietHours(9, 9).until(utc(2026, 5, 2, 9, 30)) is None  # empty window


def test_quiet_hours_refuse_an_hour_out_of_range() -> None:
    with pytest.raises(ValidationFailed) as caught:
        QuietHours(25, 8)
    assert caught.value.field == "quiet_start"


def test_business_hours_skip_the_iranian_weekend() -> None:
    hours = BusinessHours(time(9), time(17), tz=TEHRAN)
    thursday_evening = utc(2026, 5, 7, 13, 0)  # Thursday 16:30 Tehran; Thursday is off
    assert not hours.is_open(thursday_evening)
    # Next opening: Saturday 9 May, 09:00 Tehran = 05:30 UTC.
    assert hours.next_open(thursday_evening) == utc(2026, 5, 9, 5, 30)
    wednesday_afternoon = utc(2026, 5, 6, 12, 30)  # Wednesday 16:00 Tehran
    assert hours.is_open(wednesday_afternoon)
    # Four open hours from Wednesday 16:00: one on Wednesday, three from Saturday 09:00.
    assert hours.add(wednesday_afternoon, timedelta(hours=4)) == utc(2026, 5, 9, 8, 30)


def test_business_hours_validate_their_fields() -> None:
    with pytest.raises(ValidationFailed) as caught:
        BusinessHours(time(17), time(9))
    assert caught.value.field == "closes"
    with pytest.raises(ValidationFailed) as caught:
        BusinessHours(time(9), time(17), days=frozenset({7}))
    assert caught.value.field == "days"


def test_weeks_start_on_saturday_in_tehran_and_monday_elsewhere() -> None:
    assert week_start(TEHRAN) == 5 and week_start("Europe/Berlin") == 0
    assert week_start("Europe/Berlin", "saturday") == 5 and week_start(TEHRAN, "monday") == 0
    friday_night = utc(2026, 12, 4, 19, 30)  # Friday 23:00 in Tehran
    saturday = utc(2026, 12, 4, 20, 30)  # Saturday 00:00 in Tehran
    assert period_start(friday_night, TEHRAN, "week", first_weekday=5) == utc(2026, 11, 27, 20, 30)
    assert period_start(saturday, TEHRAN, "week", first_weekday=5) == saturday
    assert period_start(saturday, "Europe/Berlin", "week") == utc(2026, 11, 29, 23, 0)
    assert period_start(friday_night, TEHRAN, "day") == utc(2026, 12, 3, 20, 30)
    assert period_start(friday_night, TEHRAN, "month") == utc(2026, 11, 30, 20, 30)
    with pytest.raises(ValidationFailed) as caught:
        period_start(friday_night, TEHRAN, "fortnight")
    assert caught.value.field == "period"
