"""How a domain declares itself: one ``Domain`` object in ``safar/<domain>/module.py``.

Parts are named by reference (``"package.module:attribute"``) and loaded when the app, the CLI or
the migrations need them, so declaring a domain imports neither FastAPI routers nor Typer apps,
and listing every domain in ``safar.domains.DOMAINS`` costs the CLI nothing at start-up.
Adding a domain is one folder with a ``module.py`` plus one line in that list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safar.kit.privacy import PrivacyHandler

#: ``"package.module:attribute"`` (or just ``"package.module"`` for a module).
Ref = str
#: Called with the runtime; returns the part (a task, an action, an ingest hook or None).
Factory = Callable[[Any], Any]


def load(ref: Ref) -> Any:
    """The object a reference names (a module when it has no ``:attribute``)."""
    module_name, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Domain:
    """What a domain adds to the installation.

    - ``routers``: FastAPI routers of its HTTP API (and public pages it serves itself)
    - ``pages``: dashboard page modules (``safar.web.pages.*``), mounted by the web router
    - ``models``: modules defining its ORM tables (the migrations' metadata)
    - ``tasks`` / ``actions``: job name -> factory of the scheduler's task or message action
    - ``ingest_hooks``: factories of the hooks that see every batch of newly stored events
    - ``cli``: command name -> a Typer app (a group) or a function (one command)
    - ``privacy``: export and erase what the domain holds about one person
    """

    name: str
    routers: tuple[Ref, ...] = ()
    pages: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tasks: Mapping[str, Ref] = field(default_factory=dict)
    actions: Mapping[str, Ref] = field(default_factory=dict)
    ingest_hooks: tuple[Ref, ...] = ()
    cli: Mapping[str, Ref] = field(default_factory=dict)
    privacy: Ref | None = None

    def load_models(self) -> None:
        for name in self.models:
            importlib.import_module(name)

    def privacy_handler(self) -> PrivacyHandler | None:
        if self.privacy is None:
            return None
        handler: PrivacyHandler = load(self.privacy)
        return handler
