"""Schedule ticks in the workspace's zone: cron expressions and Jalali days (Nowruz)."""

from __future__ import annotations

from datetime import UTC, datetime

from safar.flows.dates import next_time_of_day, next_yearly, parse_date
from safar.flows.definition import ScheduleTrigger
from safar.flows.schedules import last_tick


def test_cron_ticks_in_tehran_time() -> None:
    every_morning = ScheduleTrigger(cron="0 9 * * *")
    # 07:00 UTC is 10:30 in Tehran: today's 09:00 tick (05:30 UTC) is the last one
    now = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert last_tick(every_morning, now, "Asia/Tehran") == datetime(2026, 12, 7, 5, 30, tzinfo=UTC)
    early = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # 08:30 in Tehran: yesterday's
    assert last_tick(every_morning, early, "Asia/Tehran") == datetime(
        2026, 12, 6, 5, 30, tzinfo=UTC
    )


def test_first_of_each_jalali_month_and_nowruz() -> None:
    monthly = ScheduleTrigger(jalali_day=1, at="09:00")
    # 1 Dey 1405 is 22 December 2026
    now = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert last_tick(monthly, now, "Asia/Tehran") == datetime(2026, 12, 22, 5, 30, tzinfo=UTC)
    nowruz = ScheduleTrigger(jalali_day=1, jalali_month=1, at="08:00")
    # 1 Farvardin 1405 was 21 March 2026 (Iran keeps +03:30 all year since 2022)
    assert last_tick(nowruz, now, "Asia/Tehran") == datetime(2026, 3, 21, 4, 30, tzinfo=UTC)


def test_yearly_dates_keep_their_calendar_and_short_years() -> None:
    assert parse_date("۱۳۶۹/۰۲/۲۷") == parse_date("1990-05-17")
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    # 30 Esfand 1399 (2021-03-20) recurs on 29 Esfand in the common year 1405 (2027-03-20)
    jalali = next_yearly("2021-03-20", now=now, tz="Asia/Tehran", at="10:00", calendar="jalali")
    assert jalali == datetime(2027, 3, 20, 6, 30, tzinfo=UTC)
    # 29 February falls on 28 February in a common year
    leap = next_yearly("2024-02-29", now=now, tz="UTC", at="09:00", calendar="gregorian")
    assert leap == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
    # the day before, in New York
    eve = next_yearly(
        "2010-12-25",
        now=now,
        tz="America/New_York",
        at="09:00",
        calendar="gregorian",
        offset_days=-1,
    )
    assert eve == datetime(2026, 12, 24, 14, 0, tzinfo=UTC)
    assert next_yearly("soon", now=now, tz="UTC", at="09:00", calendar="gregorian") is None


def test_time_of_day_is_today_when_still_ahead() -> None:
    now = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # 08:30 Tehran
    assert next_time_of_day(now, tz="Asia/Tehran", at="10:00") == datetime(
        2026, 12, 7, 6, 30, tzinfo=UTC
    )
    assert next_time_of_day(now, tz="Asia/Tehran", at="08:00") == datetime(
        2026, 12, 8, 4, 30, tzinfo=UTC
    )
