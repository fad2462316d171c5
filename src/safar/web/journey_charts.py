"""Chart specs of the Journeys page, built from the journeys metrics' results.

Each function turns a result into the small spec ``static/app.js`` draws with ECharts
(``{kind, ...}``): a process map laid out in layers from the start activities (so it reads
left to right, or right to left in Persian, instead of a force-directed tangle), a funnel whose
labels carry the share that reached each step, a Sankey whose folded nodes are "Other", and an
emotion curve with NPS and text sentiment on axes of their own. Text is already translated and
numbers already in the reader's digits; the numbers themselves come from the metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from safar.web.i18n import N_

#: Distance between the layers of the process map, and between nodes of one layer.
LAYER_GAP, ROW_GAP = 200, 80
NPS_AXIS = (-100, 100)
SENTIMENT_AXIS = (-1, 1)
SLOW = "#dc2626"
EDGE = "#1f6feb"
OTHER_GREY = "#94a3b8"


def layers(edges: list[dict[str, Any]], starts: dict[str, int]) -> dict[str, int]:
    """Each activity's layer, so the map reads from where customers start to where they end.

    Loops are broken first: a depth-first walk from the activities nothing leads to (else the
    most frequent start) marks the edges back to an activity still on its path; on the rest,
    an acyclic graph, an activity's layer is one more than its latest predecessor's.
    """
    nexts: dict[str, list[str]] = {}
    into: Counter[str] = Counter()
    for e in sorted(edges, key=lambda e: (-e["frequency"], e["source"], e["target"])):
        if e["source"] != e["target"]:
            nexts.setdefault(e["source"], []).append(e["target"])
            into[e["target"]] += 1
    present = sorted({a for e in edges for a in (e["source"], e["target"])})
    rank = sorted(present, key=lambda a: (into[a] > 0, -starts.get(a, 0), a))
    forward: dict[str, list[str]] = {}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    order: list[str] = []
    for root in rank:
        if root in state:
            continue
        stack = [(root, iter(nexts.get(root, [])))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif child not in state:
                forward.setdefault(node, []).append(child)
                state[child] = 1
                stack.append((child, iter(nexts.get(child, []))))
            elif state[child] == 2:
                forward.setdefault(node, []).append(child)  # a cross edge, not a loop
    out = dict.fromkeys(present, 0)
    for node in reversed(order):  # a topological order of the forward edges
        for child in forward.get(node, []):
            out[child] = max(out[child], out[node] + 1)
    return out


def process_chart(
    edges: list[dict[str, Any]],
    starts: dict[str, int],
    *,
    performance: bool,
    label: Callable[[dict[str, Any]], str],
    rtl: bool,
) -> dict[str, Any]:
    """The process map: nodes in layers, edges as wide as they are frequent and labelled
    with ``label(edge)`` (a count, or a median time in the performance view, where the slowest
    quarter of the edges is drawn red)."""
    layer = layers(edges, starts)
    through: Counter[str] = Counter()
    for e in edges:
        through[e["source"]] += e["frequency"]
        through[e["target"]] += e["frequency"]
    rows: dict[int, list[str]] = {}
    for a in sorted(layer, key=lambda a: (layer[a], -through[a], a)):
        rows.setdefault(layer[a], []).append(a)
    top = max(through.values(), default=1)
    nodes = []
    for depth, names in rows.items():
        for i, a in enumerate(names):
            nodes.append(
                {
                    "name": a,
                    "value": through[a],
                    "x": (-1 if rtl else 1) * depth * LAYER_GAP,
                    "y": (i - (len(names) - 1) / 2) * ROW_GAP,
                    "symbolSize": 14 + 26 * through[a] / top,
                }
            )
    widest = max((e["frequency"] for e in edges), default=1)
    medians = sorted(e["median_seconds"] for e in edges if e["median_seconds"] is not None)
    slow = medians[(3 * len(medians)) // 4] if len(medians) >= 4 else None
    links = []
    for e in edges:
        back = layer[e["target"]] <= layer[e["source"]]
        red = performance and slow is not None and (e["median_seconds"] or 0) >= slow
        links.append(
            {
                "source": e["source"],
                "target": e["target"],
                "value": e["frequency"],
                "label": {"show": True, "formatter": label(e)},
                "lineStyle": {
                    "width": 1 + 6 * e["frequency"] / widest,
                    "curveness": 0.35 if back else 0.08,
                    "color": SLOW if red else EDGE,
                },
            }
        )
    return {"kind": "graph", "layout": "layers", "nodes": nodes, "links": links}


def funnel_chart(name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A funnel of the step rows (``label``, ``cases``, ``share`` text, ``href`` of the
    customers who dropped after the step); drawn as SVG so its labels are page text."""
    return {
        "kind": "funnel",
        "renderer": "svg",
        "series": [
            {
                "name": name,
                "data": [
                    {
                        "name": s["label"],
                        "value": s["cases"],
                        "share": s.get("share", ""),
                        "href": s.get("href"),
                    }
                    for s in steps
                ],
            }
        ],
    }


def sankey_chart(result: dict[str, Any], other: str) -> dict[str, Any]:
    """The Sankey of a paths result; nodes folded together are labelled ``other``."""
    nodes: list[dict[str, Any]] = []
    for n in result["sankey"]["nodes"]:
        node: dict[str, Any] = {"name": n["id"], "label": n["activity"]}
        if n.get("other"):
            node.update(label=other, itemStyle={"color": OTHER_GREY})
        nodes.append(node)
    return {"kind": "sankey", "nodes": nodes, "links": result["sankey"]["links"]}


def emotion_chart(stages: list[dict[str, Any]], tr: Callable[[str], str]) -> dict[str, Any] | None:
    """NPS (-100..100) and text sentiment (-1..1) per stage, each on its own axis; CSAT and
    CES means, when answered, on a third axis of their answer scale."""
    names = [s["stage"] for s in stages]
    series: list[dict[str, Any]] = []
    axes: list[dict[str, Any]] = []

    def add(axis: dict[str, Any], items: list[tuple[str, list[float | None]]]) -> None:
        shown = [(n, v) for n, v in items if any(x is not None for x in v)]
        if not shown:
            return
        axes.append(axis)
        for n, v in shown:
            series.append({"name": n, "data": v, "yAxisIndex": len(axes) - 1})

    nps = [s["emotion"]["nps"].get("score") for s in stages]
    senti = [s["emotion"]["sentiment"]["mean"] for s in stages]
    add({"name": tr(N_("NPS (−100 to 100)")), "min": NPS_AXIS[0], "max": NPS_AXIS[1]},
        [(tr(N_("Net Promoter Score")), nps)])  # fmt: skip
    add({"name": tr(N_("Sentiment (−1 to 1)")), "min": SENTIMENT_AXIS[0],
         "max": SENTIMENT_AXIS[1]}, [(tr(N_("Text sentiment")), senti)])  # fmt: skip
    scores = [
        (tr(N_("Satisfaction (CSAT)")), [s["emotion"]["csat"]["mean"] for s in stages]),
        (tr(N_("Effort (CES)")), [s["emotion"]["ces"]["mean"] for s in stages]),
    ]
    add({"name": tr(N_("CSAT / CES answer")), "min": 1, "max": None}, scores)
    if not series:
        return None
    return {"kind": "line", "categories": names, "series": series, "axes": axes}
