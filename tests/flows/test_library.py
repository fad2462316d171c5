"""The journeys Safar ships: each YAML is a valid definition whose every step is named, and the
Persian install (``library.localized``) names every step, rule and path in Persian while the
graph stays the same."""

from __future__ import annotations

import re

import pytest

from safar.flows import library
from safar.flows.definition import parse
from safar.web.i18n import translations

LATIN = re.compile("[A-Za-z]")
#: What stays as it is in Persian: template code ({{ first_name | default(...) }}), a trait's
#: name in backticks and acronyms.
KEPT = re.compile(r"\{\{.*?\}\}|`[^`]*`|\bNPS\b")


def _labels(data: dict[str, object]) -> list[str]:
    """The texts a reader sees on the canvas: steps' labels, rules' and paths' labels, subjects."""
    out = []
    for node in data["nodes"]:  # type: ignore[attr-defined]
        out += [node.get("label", "")]
        out += [item["label"] for item in (*node.get("rules", ()), *node.get("paths", ())) if item.get("label")]  # fmt: skip
        if node["type"] == "case":
            out.append(node["subject"])
    return out


@pytest.mark.parametrize("name", library.names())
def test_every_template_is_valid_and_names_its_steps(name: str) -> None:
    data = library.load(name)
    flow = parse(data)
    assert [n.id for n in flow.nodes] == [n["id"] for n in data["nodes"]]
    unnamed = [n["id"] for n in data["nodes"] if n["type"] != "exit" and not n.get("label")]
    assert unnamed == [], name


@pytest.mark.parametrize("name", library.names())
def test_a_persian_install_says_every_label_in_persian(name: str) -> None:
    english = library.load(name)
    persian = library.localized(name, translations("fa").gettext)
    parse(persian)  # still a valid journey
    texts = [persian["name"], persian.get("description", ""), *_labels(persian)]
    left = [t for t in texts if LATIN.search(KEPT.sub("", t))]
    assert left == [], (name, left)
    # Only the words change: the same steps, edges and texts of the messages.
    strip = {"label", "subject"}

    def graph(data: dict[str, object]) -> list[object]:
        return [
            {k: v for k, v in n.items() if k not in strip and k not in ("rules", "paths")}
            | {k: [{**r, "label": None} for r in n[k]] for k in ("rules", "paths") if k in n}
            for n in data["nodes"]  # type: ignore[attr-defined]
        ]

    assert graph(persian) == graph(english)


def test_the_english_install_is_the_yaml() -> None:
    for name in library.names():
        assert library.localized(name, translations("en").gettext) == library.load(name)
