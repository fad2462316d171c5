"""Languages, calendars and locale-aware formatting for the dashboard.

Messages come from gettext catalogues (``locale/<lang>/LC_MESSAGES/messages.po``, compiled to
``.mo``); numbers and Gregorian dates from Babel; Jalali dates from jdatetime. Persian output
uses Persian digits throughout.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jdatetime
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, dict[str, str]] = {
    "fa": {"name": "فارسی", "dir": "rtl", "default_calendar": "jalali"},
    "en": {"name": "English", "dir": "ltr", "default_calendar": "gregorian"},
}
DEFAULT_LANGUAGE = "fa"
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_NUMBER_TEXT = re.compile(r"(?<![\w.])([+-]?)(\d+(?:\.\d+)?)")
_JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)

#: Weekday initials from Saturday, the first day of the Iranian week.
_WEEKDAYS = {
    "fa": ("ش", "ی", "د", "س", "چ", "پ", "ج"),
    "en": ("Sa", "Su", "Mo", "Tu", "We", "Th", "Fr"),
}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def pick_language(*candidates: str | None, accept: str | None = None) -> str:
    for c in candidates:
        if c in LANGUAGES:
            return c
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=8)
def _symbols(language: str) -> dict[str, str]:
    """The locale's number symbols in the digits it is shown in (Persian: Extended Arabic-Indic)."""
    system = "arabext" if language == "fa" else "latn"
    return dict(Locale.parse(language).number_symbols[system])


@dataclass(frozen=True)
class Formatter:
    """Formats numbers, dates and times for one reader (language, calendar, time zone)."""

    language: str = DEFAULT_LANGUAGE
    calendar: str = "jalali"
    timezone: str = "Asia/Tehran"

    @property
    def fa(self) -> bool:
        return self.language == "fa"

    @property
    def jalali(self) -> bool:
        return self.calendar == "jalali"

    def digits(self, value: Any) -> str:
        text = str(value)
        return text.translate(_FA_DIGITS) if self.fa else text

    def numerals(self, text: str) -> str:
        """Every number in an already formatted text (``+0.76``, ``-1.2``) in the reader's
        digits, decimal sign, plus and minus: what a library wrote in English, said in Persian."""
        if not self.fa:
            return text
        symbols = _symbols(self.language)

        def one(match: re.Match[str]) -> str:
            sign = {"-": symbols["minusSign"], "+": symbols["plusSign"]}.get(match[1], "")
            return sign + match[2].replace(".", symbols["decimal"]).translate(_FA_DIGITS)

        return _NUMBER_TEXT.sub(one, text)

    def number(self, value: float | int | None) -> str:
        """A number in the reader's digits, with the locale's own minus sign.

        Babel puts an ASCII hyphen in front of negatives whatever the locale; in a Persian (RTL)
        line that hyphen drifts to the far side of the digits (``۱۰۰-``). The CLDR minus for
        Persian starts with a left-to-right mark, which keeps it before the digits.
        """
        if value is None:
            return "–"
        if self.fa:
            body = babel_numbers.format_decimal(
                abs(value), locale="fa", numbering_system="arabext"
            ).translate(_FA_DIGITS)
        else:
            body = babel_numbers.format_decimal(abs(value), locale="en")
        if value < 0 and body.strip("0۰.,٫٬"):  # a value that rounds to zero gets no sign
            return _symbols(self.language)["minusSign"] + body
        return body

    def percent(self, value: float | int | None, places: int = 1) -> str:
        """A value already in percent (``42.5`` for 42.5 %) with the locale's percent sign.

        English takes ``%`` and Persian ``٪``; both CLDR patterns put the sign after the number.
        """
        if value is None:
            return "–"
        return self.number(round(value, places)) + _symbols(self.language)["percentSign"]

    def signed(self, value: float | int | None, places: int = 1) -> str:
        """A change: like ``number`` but with the locale's plus sign in front of a rise."""
        if value is None:
            return "–"
        rounded = round(value, places)
        text = self.number(rounded)
        return _symbols(self.language)["plusSign"] + text if rounded > 0 else text

    def signed_percent(self, value: float | int | None, places: int = 1) -> str:
        """A change in percent or percentage points, signed, with the locale's percent sign."""
        if value is None:
            return "–"
        return self.signed(value, places) + _symbols(self.language)["percentSign"]

    def input_date(self, value: dt.date) -> str:
        """A day as a date field holds it: ``yyyy-mm-dd``, or Jalali ``yyyy/mm/dd`` (fa digits)."""
        if not self.jalali:
            return value.isoformat()
        j = jdatetime.date.fromgregorian(date=value)
        return self.digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")

    def jalali_months(self) -> list[str]:
        """Jalali month names in the reader's language (for the date picker)."""
        return list(_JALALI_MONTHS) if self.fa else list(jdatetime.date.j_months_en)

    def weekdays(self) -> list[str]:
        """Weekday initials from Saturday, in the reader's language."""
        return list(_WEEKDAYS["fa" if self.fa else "en"])

    def _local(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(_zone(self.timezone))

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return "–"
        day = self._local(value).date() if isinstance(value, dt.datetime) else value
        if self.jalali:
            j = jdatetime.date.fromgregorian(date=day)
            if self.fa:
                return self.digits(f"{j.day} {_JALALI_MONTHS[j.month - 1]} {j.year}")
            return f"{j.day} {jdatetime.date.j_months_en[j.month - 1]} {j.year}"
        return self.digits(babel_dates.format_date(day, "d MMM y", locale=self.language))

    def short_date(self, value: dt.date | dt.datetime) -> str:
        """Day and month, for chart axes."""
        day = self._local(value).date() if isinstance(value, dt.datetime) else value
        if self.jalali:
            j = jdatetime.date.fromgregorian(date=day)
            if self.fa:
                return self.digits(f"{j.day} {_JALALI_MONTHS[j.month - 1]}")
            return f"{j.day} {jdatetime.date.j_months_en[j.month - 1]}"
        return self.digits(babel_dates.format_date(day, "d MMM", locale=self.language))

    def time(self, value: dt.datetime) -> str:
        return self.digits(self._local(value).strftime("%H:%M"))

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "–"
        sep = "، " if self.fa else ", "
        return f"{self.date(value)}{sep}{self.time(value)}"

    def from_micros(self, micros: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(micros / 1_000_000, tz=UTC)

    def iso(self, value: dt.datetime) -> str:
        return self._local(value).isoformat(timespec="seconds")
