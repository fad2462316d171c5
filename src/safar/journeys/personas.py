"""Personas: rule-based on traits, or discovered by clustering customers, described in facts.

Features per customer come from the engine (events, active days, value, channel mix, latest
identify traits); clustering is scikit-learn's k-means on standardised features. Each persona
holds what a manager would want said: size, main channels, activity and value against everyone
(as level codes), age band and goals where customers told us. The sentences are written, in
the reader's language, by ``journeys.persona_findings``; this module has no prose.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from safar.errors import ValidationFailed
from safar.journeys import queries as q
from safar.journeys.queries_cx import CustomerChannels, CustomerProfiles
from safar.kit.query import QueryEngine, run

Level = Literal["low", "typical", "high"]
Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists"]


class Condition(BaseModel):
    trait: str = Field(min_length=1, max_length=80)
    op: Op = "eq"
    value: Any = None


class PersonaRule(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    all_of: list[Condition] = Field(min_length=1)


@dataclass
class Customers:
    ids: list[str]
    events: np.ndarray
    days: np.ndarray
    value: np.ndarray
    traits: list[dict[str, Any]]
    channels: list[str]
    mix: np.ndarray  # share of each customer's events per channel


def load_customers(engine: QueryEngine, src: q.Source) -> Customers:
    """Per-customer features, computed in the engine (``src`` needs ``details``)."""
    rows = run(engine, CustomerProfiles(src))
    if not rows:
        raise ValidationFailed(
            "since: no customers with events in the chosen period", field="since"
        )
    ids = [r[0] for r in rows]
    index = {c: i for i, c in enumerate(ids)}
    traits = []
    for r in rows:
        try:
            t = json.loads(r[4]) if r[4] else {}
        except ValueError:
            t = {}
        traits.append(t if isinstance(t, dict) else {})
    ch_rows = run(engine, CustomerChannels(src))
    channels = sorted({r[1] for r in ch_rows})
    cpos = {c: j for j, c in enumerate(channels)}
    mix = np.zeros((len(ids), len(channels)))
    for cid, ch, n in ch_rows:
        mix[index[cid], cpos[ch]] += n
    mix = mix / np.maximum(mix.sum(1, keepdims=True), 1)
    return Customers(
        ids=ids,
        events=np.array([float(r[1]) for r in rows]),
        days=np.array([float(r[2]) for r in rows]),
        value=np.array([float(r[3] or 0) for r in rows]),
        traits=traits,
        channels=channels,
        mix=mix,
    )


def _age(t: dict[str, Any]) -> float | None:
    age = t.get("age")
    if isinstance(age, int | float) and 0 < age < 120:
        return float(age)
    return None


def _band(age: float) -> str:
    """A decade ("30-39"), minors together as "0-17": numbers only, worded by the reader."""
    lo = int(age // 10 * 10)
    return "0-17" if age < 18 else f"{lo}-{lo + 9}"


def _level(x: float, all_x: np.ndarray) -> Level:
    q25, q50, q75 = np.percentile(all_x, [25, 50, 75])
    return "high" if x >= q75 and x > q50 else "low" if x <= q25 and x < q50 else "typical"


@dataclass(frozen=True)
class Persona:
    """One group of customers in numbers, names and level codes (no sentences)."""

    name: str
    customers: int
    share: float
    channel_mix: dict[str, float]  # up to three main channels, largest first
    median_events: float
    median_active_days: float
    median_value: float
    activity: Level  # median events against every customer's
    value_level: Level | None  # None when no customer has a value
    age_band: str | None
    goals: dict[str, int] = field(default_factory=dict)  # up to three, most common first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PersonaReport:
    """The personas found, and how: ``rules`` on traits or ``clustering`` into ``k`` groups."""

    method: Literal["rules", "clustering"]
    personas: list[Persona]
    k: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if self.k is not None:
            out["k"] = self.k
        out["personas"] = [p.as_dict() for p in self.personas]
        return out


def summarise(c: Customers, members: np.ndarray, name: str) -> Persona:
    """The facts about a group of customers (boolean mask over ``c``)."""
    n = int(members.sum())
    mix = c.mix[members].mean(0) if n else np.zeros(len(c.channels))
    top = [(c.channels[j], float(mix[j])) for j in np.argsort(-mix)[:3] if mix[j] > 0.05]
    ages = [a for a in (_age(c.traits[i]) for i in np.flatnonzero(members)) if a is not None]
    goals = Counter(
        str(c.traits[i]["goal"]) for i in np.flatnonzero(members) if c.traits[i].get("goal")
    )
    med_events = float(np.median(c.events[members])) if n else 0.0
    med_value = float(np.median(c.value[members])) if n else 0.0
    band = Counter(_band(a) for a in ages).most_common(1)
    return Persona(
        name=name,
        customers=n,
        share=round(n / len(c.ids), 4),
        channel_mix={ch: round(s, 4) for ch, s in top},
        median_events=med_events,
        median_active_days=float(np.median(c.days[members])) if n else 0.0,
        median_value=med_value,
        activity=_level(med_events, c.events),
        value_level=_level(med_value, c.value) if c.value.any() else None,
        age_band=band[0][0] if band else None,
        goals=dict(goals.most_common(3)),
    )


def cluster(c: Customers, *, k: int = 4, seed: int = 0) -> list[Persona]:
    """Discover ``k`` personas by k-means on activity, value and channel mix."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    if not 2 <= k <= 12:
        raise ValidationFailed("k: between 2 and 12 personas", field="k")
    if len(c.ids) < k * 5:
        raise ValidationFailed(f"k: {len(c.ids)} customers are too few for {k} personas", field="k")
    x = np.column_stack([np.log1p(c.events), np.log1p(c.days), np.log1p(c.value), c.mix])
    keep = x.std(0) > 0
    z = StandardScaler().fit_transform(x[:, keep])
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(z)
    found = sorted((summarise(c, labels == j, "") for j in range(k)), key=lambda p: -p.customers)
    return [replace(p, name=f"persona {i}") for i, p in enumerate(found, start=1)]


def _holds(cond: Condition, traits: dict[str, Any]) -> bool:
    v = traits.get(cond.trait)
    if cond.op == "exists":
        return v is not None
    if v is None:
        return False
    try:
        match cond.op:
            case "eq":
                return bool(v == cond.value)
            case "ne":
                return bool(v != cond.value)
            case "gt":
                return bool(v > cond.value)
            case "gte":
                return bool(v >= cond.value)
            case "lt":
                return bool(v < cond.value)
            case "lte":
                return bool(v <= cond.value)
            case "in":
                return v in (cond.value or [])
            case "contains":
                return str(cond.value).lower() in str(v).lower()
    except TypeError:
        return False
    return False


def first_rule(traits: dict[str, Any], rules: Sequence[PersonaRule]) -> int:
    """The position of the first persona rule whose conditions all hold on the traits, or -1
    (the customer is "other")."""
    for j, rule in enumerate(rules):
        if all(_holds(cond, traits) for cond in rule.all_of):
            return j
    return -1


def by_rules(c: Customers, rules: list[PersonaRule]) -> list[Persona]:
    """Assign each customer the first persona whose conditions all hold (else "other")."""
    if not rules:
        raise ValidationFailed("rules: give at least one persona rule", field="rules")
    assigned = np.array([first_rule(t, rules) for t in c.traits], dtype=np.int64)
    out = [summarise(c, assigned == j, rule.name) for j, rule in enumerate(rules)]
    if (assigned == -1).any():
        out.append(summarise(c, assigned == -1, "other"))
    return out
