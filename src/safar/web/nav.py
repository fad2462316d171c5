"""The navigation registry: a page appears in the menu by registering one ``NavEntry``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

#: Query parameters every menu link carries on (the shared filters, ``safar.web.filters``).
KEPT = ("period", "from", "to", "channel", "segment", "compare")


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


def kept_query(pairs: list[tuple[str, str]]) -> str:
    """The part of a query string that menu links carry on: the filters, nothing else."""
    return urlencode([(k, v[:80]) for k, v in pairs if k in KEPT and v])
