"""Identity helpers: stable names for random profile ids, a profile's identities as a set."""

from __future__ import annotations

from typing import Any


class Labels:
    """Stable names (P1, P2, ...) for random profile ids, in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, profile_id: str) -> str:
        return self.names.setdefault(profile_id, f"P{len(self.names) + 1}")


def identity_set(profile: dict[str, Any]) -> list[str]:
    return sorted(f"{i['type']}:{i['value']}" for i in profile["identities"])
