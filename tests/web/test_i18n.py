"""Every visible string is marked and translated; Persian formatting is right."""

from __future__ import annotations

import gettext
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safar.web import catalog
from safar.web.i18n import Formatter, translations

TEMPLATES = Path(catalog.WEB) / "templates"
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
CODE = re.compile(r"<(pre|code|script|style|svg)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
WORD = re.compile(r"[A-Za-z\u0600-\u06FF]{2,}")
ATTR = re.compile(r'\b(placeholder|title|aria-label|alt|data-confirm|data-copied)="([^"]*)"')


def test_every_marked_string_has_a_persian_translation() -> None:
    assert catalog.missing("fa") == []


def test_compiled_catalogue_matches_the_po() -> None:
    mo = catalog.po_path("fa").with_suffix(".mo")
    with mo.open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    po = catalog.load("fa")
    for message in po:
        if message.id and message.string:
            assert shipped.gettext(str(message.id)) == message.string, (
                f"{message.id!r}: run python -m safar.web.catalog"
            )


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_unmarked_visible_text(template: str) -> None:
    source = (TEMPLATES / template).read_text()
    bad = [value for _, value in ATTR.findall(source) if WORD.search(JINJA.sub("", value))]
    text = TAG.sub(" ", CODE.sub(" ", JINJA.sub(" ", source)))
    bad += WORD.findall(text)
    assert bad == [], f"{template}: wrap in _(...): {bad}"


def test_persian_formatting() -> None:
    fa = Formatter("fa", "jalali", "Asia/Tehran")
    moment = datetime(2026, 3, 20, 20, 45, tzinfo=UTC)  # Nowruz 1405 in Tehran (00:15 +03:30)
    assert fa.date(moment) == "۱ فروردین ۱۴۰۵"
    assert fa.datetime(moment) == "۱ فروردین ۱۴۰۵، ۰۰:۱۵"
    assert fa.number(1234567) == "۱٬۲۳۴٬۵۶۷"
    greg = Formatter("fa", "gregorian", "Asia/Tehran")
    assert "۲۰۲۶" in greg.date(moment)
    en = Formatter("en", "gregorian", "UTC")
    assert en.date(moment) == "20 Mar 2026" and en.number(1234567) == "1,234,567"
    assert Formatter("en", "jalali", "Asia/Tehran").date(moment) == "1 Farvardin 1405"


def test_translations_load() -> None:
    assert translations("fa").gettext("Overview") == "نمای کلی"
    assert translations("en").gettext("Overview") == "Overview"
