"""Journey analytics: entered, waiting, reached, exits by reason, actions by outcome, and the
goal's conversion against the holdout with the uplift and its 95% interval.

The interval of the difference of two proportions is Newcombe's hybrid score interval (method
10 of Newcombe 1998) built on Wilson intervals (``kit.stats.wilson``): unlike the Wald
interval it stays inside [-1, 1] and keeps its coverage with the small control groups a
holdout of a few percent gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from safar.flows.repository import ActionRepository, InstanceRepository, StepRepository
from safar.kit.stats import wilson

#: (session, workspace, dedupe-key prefix) -> {(status, reason): count} of message jobs.
Outcomes = Callable[[Session, str, str], dict[tuple[str, str | None], int]]


def uplift(conv_t: int, n_t: int, conv_c: int, n_c: int) -> dict[str, Any]:
    """Conversion of treatment and control, the difference and its Newcombe 95% interval."""
    if n_t == 0 or n_c == 0:
        return {"treatment": _rate(conv_t, n_t), "control": _rate(conv_c, n_c), "uplift": None}
    p1, p2 = conv_t / n_t, conv_c / n_c
    l1, u1 = wilson(conv_t, n_t)
    l2, u2 = wilson(conv_c, n_c)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return {
        "treatment": _rate(conv_t, n_t),
        "control": _rate(conv_c, n_c),
        "uplift": {"difference": d, "low": low, "high": high, "significant": low > 0 or high < 0},
    }


def _rate(x: int, n: int) -> dict[str, Any]:
    low, high = wilson(x, n)
    return {"entered": n, "converted": x, "rate": x / n if n else None, "low": low, "high": high}


def _labelled(counts: dict[tuple[str, str | None], int]) -> dict[str, int]:
    """``{(status, reason): n}`` as ``{"status:reason": n}`` (``status`` alone without one)."""
    out: dict[str, int] = {}
    for (job_status, why), n in counts.items():
        label = f"{job_status}:{why}" if why else str(job_status)
        out[label] = out.get(label, 0) + n
    return out


def flow_stats(
    session: Session, *, workspace_id: str, flow_id: str, outcomes: Outcomes | None = None
) -> dict[str, Any]:
    steps = StepRepository(session).counts(workspace_id, flow_id)
    entered = {False: 0, True: 0}
    goals = {False: 0, True: 0}
    exits: dict[str, int] = {}
    nodes: dict[str, dict[str, Any]] = {}

    def node(node_id: str) -> dict[str, Any]:
        return nodes.setdefault(
            node_id, {"reached": 0, "waiting": 0, "actions": {}, "messages": {}}
        )

    for (kind, node_id, detail, control), n in steps.items():
        if kind == "entered":
            entered[control] += n
        elif kind == "reached" and node_id:
            node(node_id)["reached"] += n
        elif kind == "finished":
            reason = (detail or "").split(":")[0] or "completed"
            exits[reason] = exits.get(reason, 0) + n
            if reason == "goal":
                goals[control] += n
    counts = InstanceRepository(session).counts(workspace_id, flow_id)
    waiting = sum(n for (status, _), n in counts.items() if status == "waiting")
    for (status, node_id), n in counts.items():
        if status == "waiting" and node_id:
            node(node_id)["waiting"] += n
    for (node_id, status, _), n in ActionRepository(session).counts(workspace_id, flow_id).items():
        acts = node(node_id)["actions"]
        acts[status] = acts.get(status, 0) + n
    messages: dict[str, int] = {}
    if outcomes is not None:
        messages = _labelled(outcomes(session, workspace_id, f"flow:{flow_id}:"))
        for node_id, data in nodes.items():
            if data["actions"].get("queued"):
                prefix = f"flow:{flow_id}:{node_id}:"
                data["messages"] = _labelled(outcomes(session, workspace_id, prefix))
    return {
        "entered": entered[False] + entered[True],
        "entered_treatment": entered[False],
        "entered_control": entered[True],
        "waiting": waiting,
        "exits": exits,
        "nodes": nodes,
        "messages": messages,
        "goal": uplift(goals[False], entered[False], goals[True], entered[True]),
    }
