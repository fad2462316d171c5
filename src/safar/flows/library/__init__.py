"""The journeys Safar ships, as YAML definitions (fa and en texts), ready to install."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import yaml

from safar.errors import NotFound


def names() -> list[str]:
    files = resources.files(__name__)
    return sorted(f.name.removesuffix(".yaml") for f in files.iterdir() if f.name.endswith(".yaml"))


def load(name: str) -> dict[str, Any]:
    if name not in names():
        raise NotFound(
            f"template: no journey template {name!r}; see `safar flows templates`", field="template"
        )
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def localized(name: str, gettext: Callable[[str], str]) -> dict[str, Any]:
    """A template in the reader's language: its name, description, step, rule and path labels
    and a case's subject go through ``gettext`` (the texts of messages carry both languages)."""
    data = load(name)
    data["name"] = gettext(data["name"])
    if data.get("description"):
        data["description"] = gettext(data["description"])
    for node in data["nodes"]:
        for item in (node, *node.get("rules", ()), *node.get("paths", ())):
            if item.get("label"):
                item["label"] = gettext(item["label"])
        if node["type"] == "case":
            node["subject"] = gettext(node["subject"])
    return data
