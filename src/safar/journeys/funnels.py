"""Funnels: strict or any order, per step counts, conversion, times, dropped cohorts, breakdowns.

The levels of each customer run in the engine: the query objects of ``queries_funnel``
(ClickHouse, and DuckDB with ``accelerate=False``) or the journey index (DuckDB). A
breakdown asks the engine for each customer's value (the channel or an event property of the
entry event, a trait of the latest identify, or the rule-based persona of those traits), and
groups the customers' levels and first times per value with the same counts and linear
quantiles as the SQL (docs/journeys.md, "Funnels").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safar.errors import ValidationFailed
from safar.journeys import index_ops as ops
from safar.journeys import queries as q
from safar.journeys.analysis import Engine, index_of
from safar.journeys.params import FunnelMode
from safar.journeys.personas import PersonaRule, first_rule
from safar.journeys.queries_funnel import (
    EntryValues,
    FunnelCases,
    FunnelDropped,
    FunnelSpec,
    FunnelSummary,
    LatestTraits,
)
from safar.kit.query import run

MAX_STEPS = 10
MODES: tuple[FunnelMode, ...] = ("strict", "any")
BREAKDOWN_KINDS = ("channel", "property", "trait", "persona")
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


@dataclass
class FunnelStep:
    level: int
    activity: str | None  # the step (strict order); None for the levels of any order
    cases: int
    conversion_from_start: float | None
    conversion_from_previous: float | None
    dropped: int
    median_seconds_from_previous: float | None = None
    p90_seconds_from_previous: float | None = None


@dataclass
class BreakdownGroup:
    value: str | None  # None: customers without a value (or the "other" bucket)
    other: bool  # the values beyond the top N, together
    customers: int
    steps: list[FunnelStep]
    dropped_sample: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "other": self.other,
            "customers": self.customers,
            "steps": [s.__dict__ for s in self.steps],
            "dropped_sample": self.dropped_sample,
        }


@dataclass
class Funnel:
    steps: list[FunnelStep]
    window_seconds: float
    dropped_sample: dict[str, list[str]] = field(default_factory=dict)
    mode: FunnelMode = "strict"
    breakdown: dict[str, Any] | None = None
    groups: list[BreakdownGroup] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "window_seconds": self.window_seconds,
            "steps": [s.__dict__ for s in self.steps],
            "dropped_sample": self.dropped_sample,
        }
        if self.breakdown is not None:
            out["breakdown"] = {
                **self.breakdown,
                "groups": [g.as_dict() for g in self.groups or []],
            }
        return out


@dataclass(frozen=True)
class Breakdown:
    """What to break a funnel down by: ``channel`` or ``property`` (of the entry event),
    ``trait`` (of the latest identify), ``persona`` (first rule whose conditions hold)."""

    kind: str
    key: str | None = None
    personas: tuple[PersonaRule, ...] = ()
    limit: int = 5

    @classmethod
    def parse(
        cls, text: str, *, personas: list[PersonaRule] | None = None, limit: int = 5
    ) -> Breakdown:
        """``channel``, ``persona``, ``property:KEY`` or ``trait:KEY``."""
        kind, _, key = text.strip().partition(":")
        if kind not in BREAKDOWN_KINDS:
            raise ValidationFailed(
                f"breakdown: {text!r} is not one of channel, persona, property:KEY, trait:KEY",
                field="breakdown",
            )
        if kind in ("property", "trait") and not _KEY.match(key):
            raise ValidationFailed(
                f"breakdown: {kind} needs a key of letters, digits, _ or -, e.g. {kind}:city",
                field="breakdown",
            )
        if kind in ("channel", "persona") and key:
            raise ValidationFailed(f"breakdown: {kind} takes no key", field="breakdown")
        if kind == "persona" and not personas:
            raise ValidationFailed(
                "personas: a persona breakdown needs persona rules", field="personas"
            )
        if not 1 <= limit <= 50:
            raise ValidationFailed("breakdown_limit: between 1 and 50", field="breakdown_limit")
        return cls(kind, key or None, tuple(personas or ()) if kind == "persona" else (), limit)

    def label(self) -> str:
        return f"{self.kind}:{self.key}" if self.key else self.kind


@dataclass(frozen=True)
class BreakdownSources:
    """Sources of a breakdown's values: the funnel's period with details, and all events up to
    the period's end (a trait told before the period still describes the customer)."""

    details: q.Source
    traits: q.Source


def spec_of(steps: list[str], window_seconds: float, mode: str) -> FunnelSpec:
    """A funnel's steps, window and order, checked (4xx naming the field otherwise)."""
    if mode not in MODES:
        raise ValidationFailed(f"mode: {mode!r} is not 'strict' or 'any'", field="mode")
    if len(steps) < 2:
        raise ValidationFailed("steps: a funnel needs at least two steps", field="steps")
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(f"steps: at most {MAX_STEPS} steps", field="steps")
    if mode == "any" and len(set(steps)) != len(steps):
        raise ValidationFailed(
            "steps: an any-order funnel counts distinct steps; name each step once",
            field="steps",
        )
    if not window_seconds or window_seconds <= 0:
        raise ValidationFailed("window: the conversion window must be positive", field="window")
    return FunnelSpec(tuple(steps), int(window_seconds * 1_000_000), mode)


def check_steps(engine: Engine, src: q.Source, spec: FunnelSpec, index: object | None) -> None:
    """Refuse steps that name no event of the source (a typo would otherwise read as 0)."""
    known = run(engine, q.Activities(src), index=index)
    if not known:
        raise ValidationFailed("steps: there are no events in the chosen period", field="steps")
    unknown = [s for s in spec.steps if s not in known]
    if unknown:
        raise ValidationFailed(
            f"steps: no events named {', '.join(map(repr, unknown))} in the chosen period",
            field="steps",
            details={"unknown": unknown},
        )


def _make_steps(
    labels: list[str | None], reached: list[int], meds: list[Any], p90s: list[Any]
) -> list[FunnelStep]:
    n = len(labels)
    out = []
    for i, label in enumerate(labels):
        cases = reached[i]
        prev = reached[i - 1] if i else None
        out.append(
            FunnelStep(
                level=i + 1,
                activity=label,
                cases=cases,
                conversion_from_start=round(cases / reached[0], 4) if reached[0] else None,
                conversion_from_previous=(round(cases / prev, 4) if prev else None) if i else None,
                dropped=cases - (reached[i + 1] if i + 1 < n else cases),
                median_seconds_from_previous=q.rounded(meds[i]) if i and cases else None,
                p90_seconds_from_previous=q.rounded(p90s[i]) if i and cases else None,
            )
        )
    return out


def _labels(steps: tuple[str, ...], mode: str) -> list[str | None]:
    return list(steps) if mode == "strict" else [None] * len(steps)


def _dropped_key(steps: tuple[str, ...], mode: str, level: int) -> str:
    return steps[level - 1] if mode == "strict" else str(level)


def funnel(
    engine: Engine,
    src: q.Source,
    steps: list[str],
    *,
    window_seconds: float,
    dropped_limit: int = 0,
    mode: str = "strict",
    breakdown: Breakdown | None = None,
    breakdown_sources: BreakdownSources | None = None,
    accelerate: bool = True,
) -> Funnel:
    """Cases reaching each step (strict order) or level (any order) within the window."""
    spec = spec_of(steps, window_seconds, mode)
    idx = index_of(engine, src, accelerate)
    check_steps(engine, src, spec, idx)
    n = len(spec.steps)
    labels = _labels(spec.steps, spec.mode)
    if breakdown is not None and breakdown_sources is None:
        raise ValidationFailed(
            "breakdown: this source has no channels, properties or traits", field="breakdown"
        )
    if breakdown is not None or (idx is None and dropped_limit > 0):
        # One pass for the levels of every customer; the whole funnel, its dropped cohorts and
        # the groups are counted from those rows (on SQL engines this replaces a levels query
        # per dropped step).
        ids, lv, firsts = run(engine, FunnelCases(src, spec), index=idx)
        key = lambda lvl: _dropped_key(spec.steps, spec.mode, lvl)  # noqa: E731
        whole = _group(None, False, ids, lv, firsts, np.ones(len(lv), dtype=bool), labels, key,
                       dropped_limit)  # fmt: skip
        result = Funnel(whole.steps, window_seconds, whole.dropped_sample, spec.mode)
        if breakdown is None or breakdown_sources is None:
            return result
        values = _values(engine, breakdown, breakdown_sources, spec)
        codes, names = _codes(ids, values, breakdown)
        result.breakdown = {"by": breakdown.label(), "limit": breakdown.limit}
        result.groups = _groups(
            ids, lv, firsts, codes, names, breakdown.limit, labels, key, dropped_limit
        )
        return result
    row = run(engine, FunnelSummary(src, spec), index=idx)
    reached = [int(row[f"n{k}"]) for k in range(1, n + 1)]
    meds = [None] + [row[f"med{k}"] for k in range(2, n + 1)]
    p90s = [None] + [row[f"p90_{k}"] for k in range(2, n + 1)]
    result = Funnel(_make_steps(labels, reached, meds, p90s), window_seconds, mode=spec.mode)
    for level in range(1, n) if dropped_limit > 0 else ():
        dkey = _dropped_key(spec.steps, spec.mode, level)
        cohort = FunnelDropped(src, spec, level, dropped_limit)
        result.dropped_sample[dkey] = run(engine, cohort, index=idx)
    return result


def _values(engine: Engine, bd: Breakdown, srcs: BreakdownSources, spec: FunnelSpec) -> pa.Table:
    """(case_id, value) of the customers with a value, computed in the engine (personas: the
    rules on the latest traits the engine found)."""
    if bd.kind in ("channel", "property"):
        return run(
            engine, EntryValues(srcs.details, spec, bd.key if bd.kind == "property" else None)
        )
    if bd.kind == "trait":
        return run(engine, LatestTraits(srcs.traits, bd.key))
    tbl = run(engine, LatestTraits(srcs.traits))
    personas = []
    for raw in tbl.column("traits").to_pylist():
        try:
            traits = json.loads(raw) if raw else {}
        except ValueError:
            traits = {}
        personas.append(persona_of(traits if isinstance(traits, dict) else {}, bd.personas))
    return pa.table({"case_id": tbl.column("case_id"), "value": pa.array(personas, pa.string())})


def persona_of(traits: dict[str, Any], rules: tuple[PersonaRule, ...]) -> str:
    """The first persona whose conditions all hold on the traits, else ``other`` (as the
    personas analysis assigns them)."""
    j = first_rule(traits, rules)
    return rules[j].name if j >= 0 else "other"


def _codes(ids: pa.Array, values: pa.Table, bd: Breakdown) -> tuple[np.ndarray, list[str]]:
    """Per customer of ``ids``: the code of its value in ``names`` (-1: no value)."""
    vals = values.column("value").combine_chunks().cast(pa.string())
    known = values.column("case_id").combine_chunks().cast(pa.string())
    at = pc.index_in(ids, value_set=known)  # null: the engine found no value
    per_case = pc.take(vals, at) if len(vals) else pa.nulls(len(ids), pa.string())
    if bd.kind == "persona":  # customers without an identify have no traits
        per_case = pc.fill_null(per_case, persona_of({}, bd.personas))
    enc = pc.dictionary_encode(per_case.cast(pa.string()))
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [str(x) for x in enc.dictionary.to_pylist()]


def _groups(
    ids: pa.Array,
    levels: np.ndarray,
    firsts: np.ndarray,
    codes: np.ndarray,
    names: list[str],
    limit: int,
    labels: list[str | None],
    dropped_key: Any,
    dropped_limit: int,
) -> list[BreakdownGroup]:
    """Per value (the ``limit`` values with most customers entering, ties by value, no value
    last; then the rest as one "other" group): the funnel of its customers. ``ids`` are sorted;
    levels are >= 1."""
    counts = np.bincount(codes + 1, minlength=len(names) + 1)  # slot 0: no value
    present = [c for c in range(-1, len(names)) if counts[c + 1]]
    ranked = sorted(present, key=lambda c: (-counts[c + 1], c == -1, names[c] if c >= 0 else ""))
    top = ranked[:limit]
    slot = np.full(len(names) + 1, len(top), dtype=np.int64)
    for i, c in enumerate(top):
        slot[c + 1] = i
    group_of = slot[codes + 1]
    keys: list[tuple[str | None, bool]] = [(names[c] if c >= 0 else None, False) for c in top]
    if len(ranked) > limit:
        keys.append((None, True))
    return [
        _group(value, other, ids, levels, firsts, group_of == g, labels, dropped_key,
               dropped_limit)
        for g, (value, other) in enumerate(keys)
    ]  # fmt: skip


def _group(
    value: str | None,
    other: bool,
    ids: pa.Array,
    levels: np.ndarray,
    firsts: np.ndarray,
    m: np.ndarray,
    labels: list[str | None],
    dropped_key: Any,
    dropped_limit: int,
) -> BreakdownGroup:
    """The funnel of the customers in mask ``m``: counts, and the linear quantiles of the
    times between first reaching consecutive levels (the definition of ``quantile_cont``)."""
    n = len(labels)
    lv, fs = levels[m], firsts[m]
    reached = [int(np.count_nonzero(lv >= k)) for k in range(1, n + 1)]
    meds: list[Any] = [None]
    p90s: list[Any] = [None]
    for k in range(2, n + 1):
        have = fs[:, k - 1] >= 0
        med, p90 = ops._quantiles(fs[have, k - 1] - fs[have, k - 2])
        meds.append(med / 1e6)
        p90s.append(p90 / 1e6)
    grp = BreakdownGroup(value, other, reached[0], _make_steps(labels, reached, meds, p90s))
    if dropped_limit > 0:
        for level in range(1, n):
            rows = np.flatnonzero(m & (levels == level))[:dropped_limit]
            grp.dropped_sample[dropped_key(level)] = ids.take(pa.array(rows)).to_pylist()
    return grp


def dropped_cases(
    engine: Engine,
    src: q.Source,
    steps: list[str],
    *,
    window_seconds: float,
    after_step: int,
    limit: int,
    mode: str = "strict",
    accelerate: bool = True,
) -> list[str]:
    """Cases that reached ``after_step`` (1-based) but not the next: a cohort to act on."""
    spec = spec_of(steps, window_seconds, mode)
    idx = index_of(engine, src, accelerate)
    check_steps(engine, src, spec, idx)
    if not 1 <= after_step < len(steps):
        raise ValidationFailed(
            f"after_step: must be between 1 and {len(steps) - 1}", field="after_step"
        )
    return run(engine, FunnelDropped(src, spec, after_step, limit), index=idx)
