"""Personas in words, for people: the summary sentence of the API (and any page or CLI).

The library (``personas``) returns facts: sizes, channel shares, medians, level codes, age band
and goals. This module says them the way a manager would ("30 customers (33%); mostly app 100%;
high activity (20 events); high value (1,000); age 30-39; goal: save time"), in the reader's
language, with the same ``gettext`` and ``digits`` conventions as ``journeys.findings``: the
defaults give English, the strings are marked with ``N_`` and live in the dashboard's catalogue.
"""

from __future__ import annotations

from typing import Any

from safar.journeys.findings import N_, Digits, Translate
from safar.journeys.personas import Level, Persona, PersonaReport

ACTIVITY: dict[Level, str] = {
    "high": N_("high activity (%(events)s events)"),
    "typical": N_("typical activity (%(events)s events)"),
    "low": N_("low activity (%(events)s events)"),
}
VALUE: dict[Level, str] = {
    "high": N_("high value (%(value)s)"),
    "typical": N_("typical value (%(value)s)"),
    "low": N_("low value (%(value)s)"),
}
#: Between the parts of a summary, between listed channels, and between thousands.
PART_SEPARATOR = N_("; ")
LIST_SEPARATOR = N_(", ")
THOUSANDS = N_(",")


def _same(text: str) -> str:
    return text


def _percent(share: float, digits: Digits) -> str:
    return digits(f"{share * 100:.0f}")


def _age(band: str, gettext: Translate, digits: Digits) -> str:
    low, high = band.split("-")
    if low == "0":
        return gettext(N_("age under %(age)s")) % {"age": digits(str(int(high) + 1))}
    return gettext(N_("age %(low)s-%(high)s")) % {"low": digits(low), "high": digits(high)}


def parts(p: Persona, gettext: Translate = _same, digits: Digits = _same) -> list[str]:
    """The phrases of one persona's summary, in order: size, channels, activity, value, age, goal."""
    out = [
        gettext(N_("%(count)s customers (%(share)s%%)"))
        % {"count": digits(str(p.customers)), "share": _percent(p.share, digits)}
    ]
    if p.channel_mix:
        channels = gettext(LIST_SEPARATOR).join(
            gettext(N_("%(channel)s %(share)s%%"))
            % {"channel": channel, "share": _percent(share, digits)}
            for channel, share in p.channel_mix.items()
        )
        out.append(gettext(N_("mostly %(channels)s")) % {"channels": channels})
    out.append(gettext(ACTIVITY[p.activity]) % {"events": digits(f"{p.median_events:g}")})
    if p.value_level is not None:
        value = f"{p.median_value:,.0f}".replace(",", gettext(THOUSANDS))
        out.append(gettext(VALUE[p.value_level]) % {"value": digits(value)})
    if p.age_band:
        out.append(_age(p.age_band, gettext, digits))
    if p.goals:
        out.append(gettext(N_("goal: %(goal)s")) % {"goal": next(iter(p.goals))})
    return out


def summary(p: Persona, gettext: Translate = _same, digits: Digits = _same) -> str:
    """One persona in a sentence."""
    return gettext(PART_SEPARATOR).join(parts(p, gettext, digits))


def report_dict(
    report: PersonaReport, gettext: Translate = _same, digits: Digits = _same
) -> dict[str, Any]:
    """The personas as the API returns them: the facts, plus each persona's summary in words."""
    out = report.as_dict()
    for row, p in zip(out["personas"], report.personas, strict=True):
        row["summary"] = summary(p, gettext, digits)
    return out
