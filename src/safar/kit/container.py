"""What a domain may ask of the running installation, as a protocol.

Domains type their dependencies against ``Container`` (or a protocol of their own that extends
it) instead of importing ``safar.runtime.Runtime``, so the composition root can sit above every
domain it wires. ``Runtime`` satisfies these protocols structurally; mypy checks that it does.
The event store's interface belongs to the events domain, so the store is a type parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from safar.config import Settings
from safar.kit.db import Database
from safar.kit.jobs import Jobs

#: The current UTC time; tests pass a fixed or stepping one instead of sleeping.
Clock = Callable[[], datetime]

StoreT_co = TypeVar("StoreT_co", covariant=True)


class Container(Protocol[StoreT_co]):
    """The parts every domain may use: settings, the state store, the event store, jobs, time."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def store(self) -> StoreT_co: ...
    @property
    def jobs(self) -> Jobs: ...
    @property
    def clock(self) -> Clock: ...
    def close(self) -> None:
        """Stop the parts and release the stores (whoever opened the container closes it)."""
        ...
