"""The shared page filters: presets in Tehran's days and Jalali months, typed dates, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qsl

import pytest

from safar.errors import ValidationFailed
from safar.web.filters import PageFilters, parse_day, parse_filters

TODAY = date(2026, 12, 7)  # 16 Azar 1405
TZ = "Asia/Tehran"


def read(jalali: bool = True, default: str = "30d", **raw: str) -> PageFilters:
    return parse_filters(raw, today=TODAY, tz=TZ, jalali=jalali, default=default)


@pytest.mark.parametrize(
    ("period", "jalali", "start", "end"),
    [
        ("7d", True, date(2026, 12, 1), TODAY),
        ("30d", True, date(2026, 11, 8), TODAY),
        ("90d", False, date(2026, 9, 9), TODAY),
        ("this_month", True, date(2026, 11, 22), TODAY),  # 1 Azar 1405
        ("this_month", False, date(2026, 12, 1), TODAY),
        ("last_month", True, date(2026, 10, 23), date(2026, 11, 21)),  # all of Aban 1405
        ("last_month", False, date(2026, 11, 1), date(2026, 11, 30)),
        ("this_year", True, date(2026, 3, 21), TODAY),  # Nowruz 1405
        ("this_year", False, date(2026, 1, 1), TODAY),
    ],
)
def test_presets(period: str, jalali: bool, start: date, end: date) -> None:
    f = read(jalali, period=period)
    assert (f.period, f.start, f.end, f.errors) == (period, start, end, ())


def test_default_is_the_last_30_days_up_to_today_in_tehran() -> None:
    f = read()
    assert f.period == "30d" and f.end == TODAY and f.days == 30
    since, until = f.range()
    # Tehran is UTC+3:30: its 8 November starts at 20:30 UTC on the 7th.
    assert since == datetime(2026, 11, 7, 20, 30, tzinfo=UTC)
    assert until == datetime(2026, 12, 7, 20, 30, tzinfo=UTC)
    assert f.query() == "" and f.compare
    # What a request without filters reads: every parameter empty, no complaint.
    empty = read(period="", **{"from": "", "to": ""}, channel="", segment="", compare="")
    assert empty == f


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    f = read(period="last_month")
    prev = f.previous()
    assert prev.days == f.days == 30
    assert (prev.start, prev.end) == (date(2026, 9, 23), date(2026, 10, 22))
    assert prev.range()[1] == f.range()[0]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-22", date(2026, 11, 22)),
        ("1405/09/01", date(2026, 11, 22)),
        ("۱۴۰۵/۰۹/۰۱", date(2026, 11, 22)),
        ("١٤٠٥-٩-١", date(2026, 11, 22)),
        ("1404/12/29", date(2026, 3, 20)),
    ],
)
def test_days_typed_in_either_calendar(text: str, day: date) -> None:
    assert parse_day(text, "from") == day


def test_jalali_range_from_the_picker_is_a_custom_range() -> None:
    f = read(**{"from": "۱۴۰۵/۰۸/۰۱", "to": "۱۴۰۵/۰۸/۳۰"})
    assert f.period == "custom" and f.errors == ()
    assert (f.start, f.end) == (date(2026, 10, 23), date(2026, 11, 21))
    # Links rebuild the range in ISO dates, and read back to the same filters.
    again = read(**dict(parse_qsl(f.query())))
    assert (again.period, again.start, again.end) == (f.period, f.start, f.end)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"period": "custom", "from": "yesterday"}, "from"),
        ({"period": "custom"}, "from"),
        ({"from": "2026-12-05", "to": "2026-12-01"}, "to"),
        ({"from": "1990-01-01", "to": "2026-01-01"}, "to"),
        ({"period": "fortnight"}, "period"),
        ({"channel": "pigeon"}, "channel"),
        ({"segment": "a b;drop"}, "segment"),
        ({"compare": "maybe"}, "compare"),
    ],
)
def test_bad_input_names_the_field_and_falls_back(raw: dict[str, str], field: str) -> None:
    f = read(**raw)
    assert [e.field for e in f.errors] == [field]
    assert f.errors[0].text(str).startswith(f"{field}: ")
    if field in ("from", "to", "period"):
        assert (f.period, f.start, f.end) == ("30d", date(2026, 11, 8), TODAY)


def test_parse_day_raises_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_day("31/31/31", "to")
    assert err.value.field == "to"


def test_query_keeps_filters_and_applies_changes() -> None:
    f = read(period="7d", channel="email", segment="seg_42", compare="0")
    assert dict(parse_qsl(f.query())) == {
        "period": "7d",
        "channel": "email",
        "segment": "seg_42",
        "compare": "0",
    }
    changed = dict(parse_qsl(f.query(channel=None, compare=True, period="90d")))
    assert changed == {"period": "90d", "segment": "seg_42", "compare": "1"}
    custom = dict(parse_qsl(f.query(period="custom", from_="2026-01-01", to="2026-01-31")))
    assert custom["from"] == "2026-01-01" and custom["to"] == "2026-01-31"


def test_all_time_only_where_the_page_offers_it() -> None:
    everything = read(default="all")
    assert everything.all_time and everything.bounds() == (None, None)
    assert ("all", "All time") in everything.choices
    week = read(default="all", period="7d")
    assert week.bounds() == week.range() and week.query() == "period=7d"
    # "All time" carried from such a page to one without it: that page's default, no error.
    carried = read(period="all")
    assert carried.period == "30d" and carried.errors == ()
