"""Personas in words: the library gives facts only; English by default and Persian through the
dashboard's catalogue say them, with the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from safar.journeys import persona_findings as words
from safar.journeys.personas import Customers, Persona, PersonaReport, PersonaRule, by_rules
from safar.web.i18n import Formatter, translations


@pytest.fixture(scope="module")
def report() -> PersonaReport:
    """Ten app customers in their 30s who spend, ten on the web who spend little, five minors."""
    n = 25
    app = np.arange(n) < 10
    web = (np.arange(n) >= 10) & (np.arange(n) < 20)
    traits = [{"age": 34, "goal": "save time"} if a else {"age": 55} if w else {"age": 15}
              for a, w in zip(app, web, strict=True)]  # fmt: skip
    customers = Customers(
        ids=[f"c{i}" for i in range(n)],
        events=np.where(app, 20.0, np.where(web, 3.0, 1.0)),
        days=np.where(app, 9.0, 2.0),
        value=np.where(app, 1200.0, np.where(web, 50.0, 0.0)),
        traits=traits,
        channels=["app", "web"],
        mix=np.column_stack([app * 1.0, 1.0 - app]),
    )
    rules = [
        PersonaRule.model_validate({"name": "savers", "all_of": [{"trait": "goal", "op": "exists"}]}),
        PersonaRule.model_validate({"name": "minors", "all_of": [{"trait": "age", "op": "lt", "value": 18}]}),
    ]  # fmt: skip
    return PersonaReport("rules", by_rules(customers, rules))


def test_library_returns_facts_not_prose(report: PersonaReport) -> None:
    savers, minors, other = report.personas
    assert isinstance(savers, Persona) and "summary" not in savers.as_dict()
    assert (savers.customers, savers.share, savers.channel_mix) == (10, 0.4, {"app": 1.0})
    assert (savers.activity, savers.value_level, savers.age_band) == ("high", "high", "30-39")
    assert savers.goals == {"save time": 10} and savers.median_value == 1200.0
    assert (minors.activity, minors.value_level, minors.age_band) == ("low", "low", "0-17")
    assert other.name == "other" and other.age_band == "50-59"
    text = json.dumps(report.as_dict())
    for prose in ("customers (", "mostly", "activity (", "value (", "age ", "goal:", "under"):
        assert prose not in text


def test_english_sentences(report: PersonaReport) -> None:
    savers, minors, _ = report.personas
    assert words.summary(savers) == (
        "10 customers (40%); mostly app 100%; high activity (20 events); "
        "high value (1,200); age 30-39; goal: save time"
    )
    assert words.summary(minors) == (
        "5 customers (20%); mostly web 100%; low activity (1 events); low value (0); age under 18"
    )
    api = words.report_dict(report)
    assert api["method"] == "rules" and api["personas"][0]["summary"] == words.summary(savers)
    assert api["personas"][0]["activity"] == "high"


def test_persian_sentences(report: PersonaReport) -> None:
    fa = translations("fa").gettext
    fmt = Formatter("fa", "jalali", "Asia/Tehran")
    savers, minors, _ = report.personas
    assert words.summary(savers, fa, fmt.digits) == (
        "۱۰ مشتری (۴۰٪)؛ بیشتر app ۱۰۰٪؛ فعالیت زیاد (۲۰ رویداد)؛ "
        "ارزش زیاد (۱٬۲۰۰)؛ سن ۳۰ تا ۳۹؛ هدف: save time"
    )
    text = words.summary(minors, fa, fmt.digits)
    assert text.endswith("ارزش کم (۰)؛ سن زیر ۱۸") and "فعالیت کم (۱ رویداد)" in text
    assert not any(ch.isascii() and ch.isdigit() for ch in text)  # Persian digits only
