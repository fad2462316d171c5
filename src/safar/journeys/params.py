"""Parameter types of the journey metrics at the boundaries (API, CLI, dashboard): the funnel
modes and path directions as ``Literal`` types, and conversion windows as text ("7d").

Kept free of heavy imports so the CLI can type its options without loading the engines.
"""

from __future__ import annotations

import re
from typing import Literal

from safar.errors import ValidationFailed

FunnelMode = Literal["strict", "any"]
Direction = Literal["after", "before"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_window(text: str | float) -> float:
    """``7d``, ``12h``, ``30m``, ``45s`` or plain seconds, as seconds."""
    if isinstance(text, int | float):
        return float(text)
    m = _DURATION.match(text.lower())
    if not m or float(m.group(1)) <= 0:
        raise ValidationFailed(
            f"window: {text!r} is not a positive duration like 7d, 12h, 30m or 45s", field="window"
        )
    return float(m.group(1)) * _UNITS[m.group(2)]
