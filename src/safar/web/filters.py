"""The dashboard's filters: one date range, channel, segment and comparison, kept in the URL.

Every page that shows numbers over time reads the same ``PageFilters`` from the query string
(``period``, ``from``, ``to``, ``channel``, ``segment``, ``compare``), so a link, a bookmark or
the browser's back button shows the same view, and the menu carries them from page to page
(``nav.KEPT``). Days are the workspace's local days (``Settings.timezone``); months and years
are Jalali when the reader uses the Jalali calendar. A wrong value never fails the page: it is
reported next to the filter, naming the field, and the default is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import jdatetime
from fastapi import Depends, Request

from safar.errors import ValidationFailed
from safar.kit import calendar
from safar.kit.channels import CHANNELS
from safar.kit.deps import ContainerDep
from safar.web.i18n import N_
from safar.web.nav import KEPT
from safar.web.render import PageDep

#: Preset periods, in the order the period menu offers them.
PRESETS: dict[str, str] = {
    "7d": N_("Last 7 days"),
    "30d": N_("Last 30 days"),
    "90d": N_("Last 90 days"),
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "this_year": N_("This year"),
    "custom": N_("Custom range"),
}
ALL_TIME = "all"
ALL_TIME_LABEL = N_("All time")
DEFAULT_PERIOD = "30d"
MAX_DAYS = 3660
_ROLLING = {"7d": 7, "30d": 30, "90d": 90}
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_DAY = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_SEGMENT = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_YES = {"1", "on", "true", "yes"}
_NO = {"0", "off", "false", "no"}


def parse_day(text: str, field_name: str) -> date:
    """A day typed or sent as ``yyyy-mm-dd``; a year before 1700 is read as a Jalali date.

    Persian and Arabic digits are accepted, and ``/`` as the separator, so ``۱۴۰۵/۰۹/۱۶`` and
    ``2026-12-07`` name the same day.
    """
    match = _DAY.fullmatch(text.strip().translate(_DIGITS))
    try:
        if match is None:
            raise ValueError(text)
        y, m, d = (int(g) for g in match.groups())
        if y < 1700:
            return jdatetime.date(y, m, d).togregorian()  # type: ignore[no-any-return]
        return date(y, m, d)
    except ValueError:
        raise ValidationFailed(
            f"{field_name}: not a date; use yyyy-mm-dd (Jalali: yyyy/mm/dd)", field=field_name
        ) from None


@dataclass(frozen=True)
class FilterError:
    """A filter value that was refused: the query parameter and why (an English message id)."""

    field: str
    message: str
    value: str = ""

    def text(self, gettext: Callable[[str], str]) -> str:
        """The message in the reader's language, naming the field."""
        return gettext(self.message) % {"field": self.field}


@dataclass(frozen=True)
class PageFilters:
    """One reader's view: local days ``start``..``end`` (inclusive), channel, segment, compare.

    ``period`` is a key of ``PRESETS`` (or ``"all"`` on pages that allow everything); ``start``
    and ``end`` are the days it resolved to, in ``tz``. ``segment`` is a saved segment's id,
    carried through links for the pages that apply segments.
    """

    period: str
    start: date
    end: date
    tz: str
    jalali: bool = False
    channel: str | None = None
    segment: str | None = None
    compare: bool = True
    today: date | None = None
    errors: tuple[FilterError, ...] = field(default=())
    #: The page's period when the URL names none (``"all"`` also offers "all time").
    default: str = DEFAULT_PERIOD

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(period, English label) the period menu offers on this page."""
        extra = [(ALL_TIME, ALL_TIME_LABEL)] if self.default == ALL_TIME else []
        return [*extra, *PRESETS.items()]

    @property
    def all_time(self) -> bool:
        return self.period == ALL_TIME

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def range(self) -> tuple[datetime, datetime]:
        """The UTC instants ``[since, until)`` of the local days in the range."""
        return calendar.day_range(self.start, self.end, self.tz)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Like ``range``, but open (None, None) for "all time"."""
        return (None, None) if self.all_time else self.range()

    def previous(self) -> PageFilters:
        """The period of the same number of days that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return replace(self, period="custom", start=end - timedelta(days=self.days - 1), end=end)

    def params(self) -> dict[str, str]:
        """The query parameters that rebuild these filters (defaults left out)."""
        out: dict[str, str] = {}
        if self.period != self.default:
            out["period"] = self.period
        if self.period == "custom":
            out["from"], out["to"] = self.start.isoformat(), self.end.isoformat()
        if self.channel:
            out["channel"] = self.channel
        if self.segment:
            out["segment"] = self.segment
        if not self.compare:
            out["compare"] = "0"
        return out

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes`` (None drops a parameter).

        ``from`` is a Python keyword: pass ``from_=`` for it.
        """
        values: dict[str, Any] = dict(self.params())
        for key, value in changes.items():
            name = key.rstrip("_")
            if value is None:
                values.pop(name, None)
            else:
                values[name] = "1" if value is True else "0" if value is False else str(value)
        return urlencode(values)


def parse_filters(
    raw: dict[str, str],
    *,
    today: date,
    tz: str,
    jalali: bool,
    default: str = DEFAULT_PERIOD,
) -> PageFilters:
    """Read the filters of one request; every refused value becomes a ``FilterError``."""
    errors: list[FilterError] = []

    def refuse(name: str, message: str) -> None:
        errors.append(FilterError(name, message, raw.get(name, "")[:60]))

    allowed = {*PRESETS, ALL_TIME} if default == ALL_TIME else set(PRESETS)
    period = raw.get("period", "").strip()
    if period == ALL_TIME and period not in allowed:
        period = ""  # carried from a page that shows all time: this one shows its default
    elif period and period not in allowed:
        refuse("period", N_("period: choose one of the periods offered"))
        period = ""
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if raw.get(name, "").strip():
            try:
                days[name] = parse_day(raw[name], name)
            except ValidationFailed:
                refuse(name, N_("%(field)s: not a date; use yyyy-mm-dd (Jalali: yyyy/mm/dd)"))
    if not period:
        period = "custom" if days else default
    if period == "custom":
        first, last = days.get("from"), days.get("to", today)
        if first is None:
            if "from" not in {e.field for e in errors}:
                refuse("from", N_("from: a custom range needs its first day"))
            period = default
        elif first > last:
            refuse("to", N_("to: the last day comes before the first"))
            period = default
        elif (last - first).days >= MAX_DAYS:
            refuse("to", N_("to: a range of at most ten years"))
            period = default
    start, end = _resolve(period, today, jalali, days)
    channel = raw.get("channel", "").strip() or None
    if channel is not None and channel not in CHANNELS:
        refuse("channel", N_("channel: not one of Safar's channels"))
        channel = None
    segment = raw.get("segment", "").strip() or None
    if segment is not None and not _SEGMENT.fullmatch(segment):
        refuse("segment", N_("segment: not a segment id"))
        segment = None
    compare = raw.get("compare", "").strip().lower() or "1"
    if compare not in _YES | _NO:
        refuse("compare", N_("compare: use 1 (on) or 0 (off)"))
        compare = "1"
    return PageFilters(period, start, end, tz, jalali, channel, segment, compare in _YES, today,
                       tuple(errors), default)  # fmt: skip


def _resolve(period: str, today: date, jalali: bool, days: dict[str, date]) -> tuple[date, date]:
    if period in _ROLLING:
        return today - timedelta(days=_ROLLING[period] - 1), today
    if period == "this_month":
        return calendar.month_start(today, jalali=jalali), today
    if period == "last_month":
        last = calendar.month_start(today, jalali=jalali) - timedelta(days=1)
        return calendar.month_start(last, jalali=jalali), last
    if period == "this_year":
        return calendar.year_start(today, jalali=jalali), today
    if period == "custom":
        return days["from"], days.get("to", today)
    return date(1970, 1, 1), today  # all time: only ``bounds`` is used, which is open


def filters_dependency(default: str = DEFAULT_PERIOD) -> Any:
    """A dependency reading ``PageFilters``; ``default="all"`` also offers "all time"."""

    def read(request: Request, page: PageDep, container: ContainerDep) -> PageFilters:
        tz = container.settings.timezone
        today = calendar.local_day(container.clock(), tz)
        raw = {k: request.query_params.get(k, "")[:80] for k in KEPT}
        return parse_filters(raw, today=today, tz=tz, jalali=page.fmt.jalali, default=default)

    return Depends(read)


#: The filters of a page whose default is the last 30 days.
FiltersDep = Annotated[PageFilters, filters_dependency()]
#: The filters of a page that shows everything unless a range is chosen.
AllTimeFiltersDep = Annotated[PageFilters, filters_dependency(ALL_TIME)]
