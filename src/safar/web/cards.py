"""KPI cards: a value, its 95 % interval and its change against the previous period, formatted
for one reader. The numbers come from the domains (survey metrics, text analyses, event counts)
and their significance tests (``surveys.kpis``, ``kit.stats``); this module only words them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from safar.kit.stats import count_change, share_change
from safar.web.i18n import N_, Formatter
from safar.web.labels import EMOTION_LABELS as EMOTION_LABELS
from safar.web.labels import SENTIMENT_LABELS as SENTIMENT_LABELS

#: The tests of change the domains name (``ScoreMetric.compare``, ``kit.stats``), in words.
TEST_LABELS = {
    "z (difference of two NPS, trinomial variance)": N_("z-test on the difference of two NPS"),
    "two-proportion z (top-2-box)": N_("two-proportion z-test on the top two boxes"),
    "welch t (mean)": N_("Welch's t-test on the means"),
    "fisher exact": N_("Fisher's exact test"),
    "poisson E-test": N_("Poisson E-test"),
}


@dataclass(frozen=True)
class Change:
    """A change against the previous period, worded: value, direction, significance."""

    text: str
    direction: str  # "up" | "down" | "flat"
    significant: bool | None  # None: not tested
    good: bool | None  # is the direction an improvement? None when neither
    detail: str  # the test and its p-value, for the tooltip


@dataclass(frozen=True)
class Card:
    id: str
    label: str
    value: str
    interval: tuple[str, str] | None = None  # low and high, each isolated when shown
    base: str | None = None  # how many answers / texts / invitations the value rests on
    change: Change | None = None


Tr = Callable[[str], str]


def _change(
    fmt: Formatter,
    tr: Tr,
    result: dict[str, Any] | None,
    *,
    text: Callable[[float], str],
    higher_is_better: bool | None = True,
    tested: bool = True,
    places: int = 1,
) -> Change | None:
    if result is None or result.get("diff") is None:
        return None
    diff = float(result["diff"])
    shown = round(diff, places)  # a change that shows as 0 points neither up nor down
    direction = "up" if shown > 0 else "down" if shown < 0 else "flat"
    significant = bool(result.get("significant")) if tested else None
    good = None
    if higher_is_better is not None and direction != "flat":
        good = (direction == "up") == higher_is_better
    detail = tr(N_("not tested: events of one customer are not independent"))
    if tested and result.get("p_value") is not None:
        detail = tr(N_("%(test)s, p = %(p)s")) % {
            "test": tr(TEST_LABELS.get(result["test"], result["test"])),
            "p": fmt.number(round(float(result["p_value"]), 3)),
        }
    return Change(text(diff), direction, significant, good, detail)


def _points(fmt: Formatter, tr: Tr) -> Callable[[float], str]:
    """A change of a score or a share in points (percentage points for shares), signed."""
    label = tr(N_("%(n)s pts"))
    return lambda d: label % {"n": fmt.signed(d)}


def _interval(
    fmt: Formatter, low: Any, high: Any, show: Callable[[float], str]
) -> tuple[str, str] | None:
    if low is None or high is None:
        return None
    return show(float(low)), show(float(high))


def survey_cards(fmt: Formatter, tr: Tr, k: dict[str, Any]) -> list[Card]:
    """NPS, CSAT (top-2-box), CES (mean) and response rate from ``surveys.service.kpis``."""
    answers = tr(N_("Answers: %(n)s"))
    points = _points(fmt, tr)

    def num(x: float) -> str:
        return fmt.number(round(x, 1))

    def mean(x: float) -> str:
        return fmt.number(round(x, 2))

    nps, csat, ces, rate = k["nps"], k["csat"], k["ces"], k["response_rate"]
    cards = [
        Card(
            "nps",
            tr(N_("NPS")),
            num(nps["current"]["score"]) if nps["current"]["n"] else "–",
            _interval(fmt, nps["current"]["ci_low"], nps["current"]["ci_high"], num),
            answers % {"n": fmt.number(nps["current"]["n"])},
            _change(fmt, tr, nps["change"], text=points),
        ),
        Card(
            "csat",
            tr(N_("CSAT")),
            fmt.percent(csat["current"]["top2_pct"]) if csat["current"]["n"] else "–",
            _interval(
                fmt,
                csat["current"].get("top2_ci_low"),
                csat["current"].get("top2_ci_high"),
                fmt.percent,
            ),
            answers % {"n": fmt.number(csat["current"]["n"])},
            _change(fmt, tr, csat["change"], text=points),
        ),
        Card(
            "ces",
            tr(N_("CES")),
            mean(ces["current"]["mean"]) if ces["current"]["n"] else "–",
            _interval(
                fmt, ces["current"].get("mean_ci_low"), ces["current"].get("mean_ci_high"), mean
            ),
            answers % {"n": fmt.number(ces["current"]["n"])},
            _change(fmt, tr, ces["change"], text=lambda d: fmt.signed(d, 2), places=2),
        ),
        Card(
            "response-rate",
            tr(N_("Response rate")),
            fmt.percent(rate["current"]["rate_pct"]),
            _interval(fmt, rate["current"]["ci_low"], rate["current"]["ci_high"], fmt.percent),
            tr(N_("Invitations: %(n)s")) % {"n": fmt.number(rate["current"]["sent"])},
            _change(fmt, tr, rate["change"], text=points),
        ),
    ]
    return cards


def share_cards(
    fmt: Formatter,
    tr: Tr,
    kind: str,
    labels: dict[str, str],
    current: tuple[int, dict[str, int]],
    previous: tuple[int, dict[str, int]] | None,
    worse: frozenset[str] = frozenset(),
) -> list[Card]:
    """One card per label: its share of the analysed texts, and the change of that share."""
    total, counts = current
    out = []
    for key in sorted(counts, key=lambda c: (-counts[c], c)):
        x = counts[key]
        change = None
        if previous is not None:
            p_total, p_counts = previous
            result = share_change(p_counts.get(key, 0), p_total, x, total)
            higher = None if key in ("neutral", "other") else key not in worse
            change = _change(fmt, tr, result, text=_points(fmt, tr), higher_is_better=higher)
        out.append(
            Card(
                f"{kind}-{key}",
                tr(labels.get(key, key)),
                fmt.percent(100 * x / total) if total else "–",
                base=tr(N_("Texts: %(n)s")) % {"n": fmt.number(x)},
                change=change,
            )
        )
    return out


def count_card(
    fmt: Formatter, tr: Tr, id: str, label: str, current: int, previous: int | None, tested: bool
) -> Card:
    """A count (events, active customers) and its relative change."""
    change = None
    if previous is not None:
        result = count_change(previous, current)
        if result["pct"] is not None:
            result = {**result, "diff": result["pct"]}
            change = _change(
                fmt,
                tr,
                result,
                text=lambda d: fmt.signed_percent(d),
                higher_is_better=True,
                tested=tested,
            )
    return Card(id, label, fmt.number(current), change=change)
