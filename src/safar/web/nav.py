"""The navigation registry: a page appears in the menu by registering one ``NavEntry``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    key: str
    path: str
    #: English message id, marked with ``N_`` where it is defined and translated when shown.
    label: str
    icon: str
    permission: str = "view"
    order: int = 100


NAV: dict[str, NavEntry] = {}


def register_nav(entry: NavEntry) -> NavEntry:
    NAV[entry.key] = entry
    return entry


def entries() -> list[NavEntry]:
    return sorted(NAV.values(), key=lambda e: (e.order, e.key))
