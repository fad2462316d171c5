"""The container as the events domain and its readers see it: the event store typed, and for
ingest and import the keys, the log and the pipeline, and the server's import worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends

from safar.events.committer import GroupCommitter
from safar.events.pipeline import Applier, Consumer
from safar.events.store import EventStore
from safar.kit.container import Container
from safar.kit.deps import get_container
from safar.workspaces.keys import KeyCache

if TYPE_CHECKING:
    from safar.events.import_worker import ImportWorker


class IngestParts(Container[EventStore], Protocol):
    @property
    def keys(self) -> KeyCache: ...
    @property
    def applier(self) -> Applier: ...
    @property
    def committer(self) -> GroupCommitter | None: ...
    @property
    def consumer(self) -> Consumer | None: ...


class ImportParts(IngestParts, Protocol):
    """A runtime that also runs imports in the background (the server's)."""

    @property
    def imports(self) -> ImportWorker: ...


#: The container with the event store typed, for endpoints and pages that read events (the
#: kit's one container dependency, resolved once per request).
EventsDep = Annotated[Container[EventStore], Depends(get_container)]

#: The same container dependency typed for ingest (keys, log, pipeline).
IngestDep = Annotated[IngestParts, Depends(get_container)]

#: The same container dependency typed for the import API and page (the import worker).
ImportDep = Annotated[ImportParts, Depends(get_container)]
