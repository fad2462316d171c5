"""The journeys Safar ships, as YAML definitions (fa and en texts), ready to install."""

from __future__ import annotations

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
