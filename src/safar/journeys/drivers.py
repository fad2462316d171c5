"""Key-driver analysis: which factors move a target score, by how much, and how sure we are.

Importance is Johnson's relative weights: the model R² of all factors together, split into
each factor's share even when factors are correlated (late delivery and delivery days are).
Each factor also gets an effect in the target's own unit with a 95% confidence interval.
Binary factors compare the two groups; numeric ones compare the typical low (25th percentile)
with the typical high (75th) value on a fitted line; categorical ones name the level that
differs most from the rest. Importance intervals come from a bootstrap over rows.

The result is structured findings (numbers and the groups compared); the sentences a manager
reads ("late delivery: -1.8 stars") are written by the presentation layer in the reader's
language (``journeys.findings``). Factors are columns of a table or SQL expressions over it
(``late=delivered > promised``), evaluated by the event store's local engine.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from safar.errors import ValidationFailed
from safar.events.store import analytics

Kind = Literal["binary", "numeric", "categorical"]
#: Why a factor was left out (``findings.skipped_text`` says it in words).
SkipReason = Literal["one_side_small", "few_values", "many_levels", "no_variation"]
MAX_LEVELS = 40
MIN_GROUP = 20
Z95 = 1.959963984540054
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,62}$")


@dataclass
class FactorSpec:
    """A candidate driver: a column, or a SQL expression given a name."""

    name: str
    expr: str | None = None

    @classmethod
    def parse(cls, text: str) -> FactorSpec:
        """``column`` or ``name=SQL expression``."""
        if "=" in text and not text.strip().startswith("="):
            name, expr = text.split("=", 1)
            name = name.strip()
            if not _NAME.match(name):
                raise ValidationFailed(
                    f"factor: {name!r} is not a usable factor name", field="factor"
                )
            # ``a=b`` with no comparison intended still parses as an equality; `==` is explicit.
            return cls(name, expr.strip())
        return cls(text.strip())


@dataclass(frozen=True)
class Contrast:
    """What a factor's effect compares: with/without (binary), the typical low and high value
    (numeric), or one level against the rest (categorical)."""

    kind: Kind
    rows_with: int | None = None
    rows_without: int | None = None
    low: float | None = None
    high: float | None = None
    level: str | None = None
    level_rows: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.kind == "binary":
            return {"with": self.rows_with, "without": self.rows_without}
        if self.kind == "numeric":
            return {"low": self.low, "high": self.high}
        return {"level": self.level, "rows": self.level_rows}


@dataclass
class Driver:
    factor: str
    kind: Kind
    importance: float
    importance_ci: tuple[float, float]
    effect: float
    effect_ci: tuple[float, float]
    n: int
    contrast: Contrast

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "kind": self.kind,
            "importance": round(self.importance, 4),
            "importance_ci": [round(x, 4) for x in self.importance_ci],
            "effect": round(self.effect, 3),
            "effect_ci": [round(x, 3) for x in self.effect_ci],
            "n": self.n,
            "compared": self.contrast.as_dict(),
        }


@dataclass
class DriverReport:
    target: str
    rows: int
    r_squared: float
    mean_target: float
    drivers: list[Driver]
    skipped: dict[str, SkipReason] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "rows": self.rows,
            "mean_target": round(self.mean_target, 4),
            "r_squared": round(self.r_squared, 4),
            "drivers": [d.as_dict() for d in self.drivers],
            "skipped": dict(self.skipped),
        }


def load_table(path: Path) -> pa.Table:
    """A CSV or Parquet file as an Arrow table (DuckDB's type detection)."""
    return analytics.read_table_file(path)


def _evaluate(table: pa.Table, target: str, factors: list[FactorSpec]) -> pa.Table:
    if target not in table.column_names:
        raise ValidationFailed(
            f"target: no column {target!r} (columns: {', '.join(table.column_names)})",
            field="target",
        )
    quote = analytics.quote_identifier
    cols = [("__target", f"TRY_CAST({quote(target)} AS DOUBLE)")]
    for f in factors:
        if f.expr is None and f.name not in table.column_names:
            raise ValidationFailed(
                f"factor: no column {f.name!r} (columns: {', '.join(table.column_names)})",
                field="factor",
            )
        cols.append((f.name, f.expr or quote(f.name)))
    return analytics.evaluate(table, cols)


def _auto_factors(table: pa.Table, target: str) -> list[FactorSpec]:
    """Every column that could be a driver: numbers, booleans and few-valued text."""
    out = []
    for name in table.column_names:
        if name == target:
            continue
        col = table.column(name)
        t = col.type
        if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t):
            out.append(FactorSpec(name))
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
            distinct = len(set(col.to_pylist()))
            if 2 <= distinct <= MAX_LEVELS:
                out.append(FactorSpec(name))
    return out


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a minus mean of b, with a normal-approximation 95% interval."""
    diff = float(a.mean() - b.mean())
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return diff, diff - Z95 * se, diff + Z95 * se


def _relative_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's relative weights (they sum to the model R²) and that R²."""
    xs = (x - x.mean(0)) / x.std(0)
    ys = (y - y.mean()) / y.std()
    n = len(y)
    rxx = xs.T @ xs / n
    rxy = xs.T @ ys / n
    vals, vecs = np.linalg.eigh(rxx)
    vals = np.clip(vals, 1e-12, None)
    lam = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
    beta = np.linalg.solve(lam, rxy)
    weights = (lam**2) @ (beta**2)
    return weights, float(weights.sum())


@dataclass
class _Factor:
    """One analysed factor before importance: its effect, contrast and encoded column."""

    name: str
    kind: Kind
    effect: float
    ci: tuple[float, float]
    n: int
    contrast: Contrast
    encoded: np.ndarray


def _binary(name: str, y: np.ndarray, vals: list[Any], present: np.ndarray) -> _Factor | SkipReason:
    xv = np.array([float(v) if v is not None else np.nan for v in vals])
    on, off = y[present & (xv == 1)], y[present & (xv == 0)]
    if len(on) < MIN_GROUP or len(off) < MIN_GROUP:
        return "one_side_small"
    eff, lo, hi = _welch(on, off)
    contrast = Contrast("binary", rows_with=len(on), rows_without=len(off))
    enc = np.where(present, xv, np.nanmean(xv))
    return _Factor(name, "binary", eff, (lo, hi), int(present.sum()), contrast, enc)


def _numeric(
    name: str, y: np.ndarray, vals: list[Any], present: np.ndarray
) -> _Factor | SkipReason:
    xv = np.array([float(v) if v is not None else np.nan for v in vals])
    ok = present & ~np.isnan(xv)
    if ok.sum() < 2 * MIN_GROUP or np.nanstd(xv) == 0:
        return "few_values"
    xs, ys = xv[ok], y[ok]
    q25, q75 = (float(v) for v in np.percentile(xs, [25, 75]))
    if q75 == q25:
        # Most rows share one value (one seller per order): speak per unit instead.
        q75 = q25 + 1.0
    xm = xs.mean()
    sxx = float(((xs - xm) ** 2).sum())
    slope = float(((xs - xm) * (ys - ys.mean())).sum() / sxx)
    resid = ys - (ys.mean() + slope * (xs - xm))
    se = math.sqrt(float((resid**2).sum()) / (len(xs) - 2) / sxx)
    span = float(q75 - q25)
    eff, lo, hi = slope * span, (slope - Z95 * se) * span, (slope + Z95 * se) * span
    enc = np.where(ok, xv, np.nanmean(xv))
    contrast = Contrast("numeric", low=q25, high=q75)
    return _Factor(name, "numeric", eff, (lo, hi), int(ok.sum()), contrast, enc)


def _categorical(name: str, y: np.ndarray, vals: list[Any]) -> _Factor | SkipReason:
    labels = np.array(["(missing)" if v is None else str(v) for v in vals], dtype=object)
    levels, counts = np.unique(labels, return_counts=True)
    big = {lv for lv, c in zip(levels, counts, strict=True) if c >= MIN_GROUP}
    if len(levels) > MAX_LEVELS * 5 or len(big) < 2:
        return "many_levels"
    best: tuple[float, float, float, str, int] | None = None
    for lv in sorted(big):
        mask = labels == lv
        eff, lo, hi = _welch(y[mask], y[~mask])
        if best is None or abs(eff) > abs(best[0]):
            best = (eff, lo, hi, lv, int(mask.sum()))
    assert best is not None
    eff, lo, hi, lv, n_lv = best
    # Leave-one-out target means, so a level's own score does not explain itself.
    enc = np.empty(len(y))
    for level in levels:
        mask = labels == level
        s, c = y[mask].sum(), mask.sum()
        enc[mask] = (s - y[mask]) / (c - 1) if c > 1 else y.mean()
    contrast = Contrast("categorical", level=lv, level_rows=n_lv)
    return _Factor(name, "categorical", eff, (lo, hi), len(labels), contrast, enc)


def _analyse(data: pa.Table, name: str, y: np.ndarray, keep: np.ndarray) -> _Factor | SkipReason:
    """The factor's effect by its kind (booleans and 0/1 numbers are binary)."""
    col = data.column(name)
    vals = [v for v, k in zip(col.to_pylist(), keep, strict=True) if k]
    present = np.array([v is not None for v in vals])
    t = col.type
    numeric = pa.types.is_integer(t) or pa.types.is_floating(t)
    if pa.types.is_boolean(t) or (numeric and {v for v in vals if v is not None} <= {0, 1}):
        return _binary(name, y, vals, present)
    if numeric or pa.types.is_decimal(t):
        return _numeric(name, y, vals, present)
    return _categorical(name, y, vals)


def _importance(
    x: np.ndarray, y: np.ndarray, bootstrap: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Each factor's share of R² with its bootstrap 95% interval, and R²."""
    weights, r2 = _relative_weights(x, y)
    rng = np.random.default_rng(seed)
    boots = np.empty((bootstrap, x.shape[1]))
    for b in range(bootstrap):
        idx = rng.integers(0, len(y), len(y))
        xb, yb = x[idx], y[idx]
        if np.any(xb.std(0) == 0) or yb.std() == 0:
            boots[b] = np.nan
            continue
        wb, r2b = _relative_weights(xb, yb)
        boots[b] = wb / r2b if r2b > 0 else np.nan
    share = weights / r2 if r2 > 0 else np.zeros_like(weights)
    lo_s = np.nanpercentile(boots, 2.5, axis=0) if bootstrap else share
    hi_s = np.nanpercentile(boots, 97.5, axis=0) if bootstrap else share
    return share, lo_s, hi_s, r2


def key_drivers(
    table: pa.Table,
    *,
    target: str,
    factors: list[FactorSpec] | None = None,
    bootstrap: int = 200,
    seed: int = 0,
) -> DriverReport:
    """Rank candidate factors of ``target`` by relative importance, with effects in its unit."""
    specs = factors if factors else _auto_factors(table, target)
    if not specs:
        raise ValidationFailed("factor: no candidate factors to analyse", field="factor")
    names = [f.name for f in specs]
    if len(set(names)) != len(names):
        raise ValidationFailed("factor: factor names must be unique", field="factor")
    data = _evaluate(table, target, specs)
    y_all = np.asarray(data.column("__target").to_numpy(zero_copy_only=False), dtype=float)
    keep = ~np.isnan(y_all)
    if keep.sum() < 2 * MIN_GROUP:
        raise ValidationFailed(
            f"target: only {int(keep.sum())} rows have a numeric {target!r}; need {2 * MIN_GROUP}",
            field="target",
        )
    y = y_all[keep]
    found: list[_Factor] = []
    skipped: dict[str, SkipReason] = {}
    for spec in specs:
        res = _analyse(data, spec.name, y, keep)
        if isinstance(res, str):
            skipped[spec.name] = res
        elif np.std(res.encoded) == 0:
            skipped[spec.name] = "no_variation"
        else:
            found.append(res)
    if not found:
        raise ValidationFailed(
            "factor: none of the factors could be analysed", field="factor", details=skipped
        )
    share, lo_s, hi_s, r2 = _importance(
        np.column_stack([f.encoded for f in found]), y, bootstrap, seed
    )
    out = [
        Driver(
            factor=f.name,
            kind=f.kind,
            importance=float(share[i]),
            importance_ci=(float(lo_s[i]), float(hi_s[i])),
            effect=float(f.effect),
            effect_ci=(float(f.ci[0]), float(f.ci[1])),
            n=f.n,
            contrast=f.contrast,
        )
        for i, f in enumerate(found)
    ]
    out.sort(key=lambda d: -d.importance)
    return DriverReport(target=target, rows=len(y), r_squared=r2, mean_target=float(y.mean()),
                        drivers=out, skipped=skipped)  # fmt: skip
