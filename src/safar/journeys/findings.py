"""Key-driver findings in words, for people: the sentences of the dashboard, the API and the CLI.

The analysis (``drivers``) returns numbers and the groups it compared; this module says them
the way a manager would ("late_delivery: -1.8 stars (95% CI -1.92 to -1.76; 512 with vs 3072
without)"), in the reader's language: callers pass their ``gettext`` and a ``digits`` function
that localises an already formatted number (the dashboard's ``Formatter.digits``); the
defaults give English. The strings are marked with ``N_`` and live in the dashboard's
catalogue (``safar.web.catalog`` extracts this file too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safar.journeys.drivers import Driver, DriverReport, SkipReason

Translate = Callable[[str], str]
Digits = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a message for the catalogue; translated where it is shown."""
    return message


def _same(text: str) -> str:
    return text


SKIPPED: dict[SkipReason, str] = {
    "one_side_small": N_("fewer than 20 rows on one side"),
    "few_values": N_("too few values or no variation"),
    "many_levels": N_("too many distinct values or too few per value"),
    "no_variation": N_("no variation"),
}
DEFAULT_UNIT = N_("points")


def signed(value: float) -> str:
    """An effect as text: two decimals below 0.1 in size, else one, always with its sign."""
    return f"{value:+.2f}" if abs(value) < 0.1 else f"{value:+.1f}"


def contrast_text(d: Driver, gettext: Translate = _same, digits: Digits = _same) -> str:
    """What the effect compares, in words ("yes vs no", "12 -> 40", "reza vs the rest")."""
    c = d.contrast
    if c.kind == "binary":
        return gettext(N_("yes vs no"))
    if c.kind == "numeric":
        return digits(f"{c.low:.4g} -> {c.high:.4g}")
    return gettext(N_("%(level)s vs the rest")) % {"level": c.level}


def sentence(
    d: Driver,
    unit: str | None = None,
    gettext: Translate = _same,
    digits: Digits = _same,
    *,
    factor: str | None = None,
) -> str:
    """One finding in words, with its effect in the target's unit and its 95% interval.

    ``factor`` is how the reader's page names the factor (translated, isolated); by default
    its column name.
    """
    c = d.contrast
    values = {
        "factor": d.factor if factor is None else factor,
        "effect": digits(signed(d.effect)),
        "unit": unit if unit else gettext(DEFAULT_UNIT),
        "lo": digits(f"{d.effect_ci[0]:+.2f}"),
        "hi": digits(f"{d.effect_ci[1]:+.2f}"),
    }
    if c.kind == "binary":
        text = N_(
            "%(factor)s: %(effect)s %(unit)s (95%% CI %(lo)s to %(hi)s; "
            "%(with)s with vs %(without)s without)"
        )
        values.update({"with": digits(str(c.rows_with)), "without": digits(str(c.rows_without))})
    elif c.kind == "numeric":
        text = N_(
            "%(factor)s from %(low)s to %(high)s: %(effect)s %(unit)s (95%% CI %(lo)s to %(hi)s)"
        )
        values.update({"low": digits(f"{c.low:.4g}"), "high": digits(f"{c.high:.4g}")})
    else:
        text = N_(
            "%(factor)s = %(level)s: %(effect)s %(unit)s vs the rest "
            "(95%% CI %(lo)s to %(hi)s; %(rows)s rows)"
        )
        values.update({"level": str(c.level), "rows": digits(str(c.level_rows))})
    return gettext(text) % values


def skipped_text(reason: SkipReason, gettext: Translate = _same) -> str:
    """Why a factor was left out, in words."""
    return gettext(SKIPPED[reason])


def report_dict(
    report: DriverReport,
    unit: str | None = None,
    gettext: Translate = _same,
    digits: Digits = _same,
) -> dict[str, Any]:
    """The report as the API returns it: the numbers, plus each finding and skip in words."""
    out = report.as_dict()
    for row, d in zip(out["drivers"], report.drivers, strict=True):
        row["contrast"] = contrast_text(d, gettext, digits)
        row["summary"] = sentence(d, unit, gettext, digits)
    out["skipped"] = {k: skipped_text(v, gettext) for k, v in report.skipped.items()}
    return out
