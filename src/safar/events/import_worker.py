"""The server's import thread: queued runs, one at a time, through the runtime's ``Applier``.

The server is the one process that may write the embedded event store, so imports sent to it
(dashboard, ``POST /api/imports``, ``safar import`` while the server runs) run here, beside
ingest: the ``Applier``'s lock serialises their chunks with the log consumer's batches. Progress
is written to the run's row after each chunk. A server that stops mid-import stops between
chunks and marks the run failed; one that is killed leaves it running, and the next start
marks it failed (``recover``). Either way the run can be run again and stores nothing twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

from safar.errors import SafarError
from safar.events.import_runs import file_path, report_path, spec_of
from safar.events.importer import ImportSummary, run_import
from safar.events.models import ImportRun
from safar.events.repository import ImportRepository
from safar.kit.db import utcnow

if TYPE_CHECKING:
    from safar.events.deps import IngestParts

log = logging.getLogger("safar.imports")

INTERRUPTED = "the server stopped during the import; run it again (nothing is stored twice)"


class _Stopped(Exception):
    """The server is stopping: leave the import between two chunks."""


class ImportWorker:
    def __init__(self, runtime: IngestParts) -> None:
        self.runtime = runtime
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def recover(self) -> int:
        """Mark the runs a stopped server left queued or running as failed; how many."""
        with self.runtime.db.session() as session:
            return ImportRepository(session).fail_unfinished(reason=INTERRUPTED, now=utcnow())

    def submit(self, run_id: str) -> None:
        """Run this queued run after those before it (call after the commit that queued it)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="safar-imports", daemon=True
                )
                self._thread.start()
        self._queue.put(run_id)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the chunk in hand; the running import is marked failed."""
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            run_id = self._queue.get()
            if run_id is None:
                return
            try:
                self.run(run_id)
            except Exception:
                log.exception("import %s could not be recorded", run_id)

    def run(self, run_id: str) -> None:
        """Run one queued run to done or failed, on the caller's thread."""
        settings = self.runtime.settings
        with self.runtime.db.session() as session:
            run = ImportRepository(session).by_id(run_id)
            if run is None or run.state != "queued":
                return
            run.state, run.started_at = "running", utcnow()
            path, report = file_path(settings, run), report_path(settings, run)
            workspace_id, options = run.workspace_id, dict(run.options)
        try:
            spec = spec_of(path, workspace_id, options)
            summary = run_import(
                self.runtime, spec, report_path=report, on_chunk=self._recorder(run_id)
            )
        except _Stopped:
            self._finish(run_id, error=INTERRUPTED)
        except SafarError as exc:
            self._finish(run_id, error=exc.message)
        except Exception as exc:
            log.exception("import %s failed", run_id)
            self._finish(run_id, error=f"internal error ({type(exc).__name__}); see the server log")
        else:
            self._finish(run_id, summary=summary)

    def _recorder(self, run_id: str) -> _Record:
        return _Record(self, run_id)

    def _write(self, run_id: str, summary: ImportSummary, progress: float) -> None:
        with self.runtime.db.session() as session:
            run = ImportRepository(session).by_id(run_id)
            if run is not None:
                _copy(run, summary)
                run.progress = min(max(progress, 0.0), 1.0)

    def _finish(
        self, run_id: str, *, summary: ImportSummary | None = None, error: str | None = None
    ) -> None:
        with self.runtime.db.session() as session:
            run = ImportRepository(session).by_id(run_id)
            if run is None:
                return
            if summary is not None:
                _copy(run, summary)
                run.progress = 1.0
            run.state = "failed" if error else "done"
            run.error = error[:1000] if error else None
            run.finished_at = utcnow()
            if not error:
                # Only a failed run is run again; a done one's upload would only fill the disk.
                file_path(self.runtime.settings, run).unlink(missing_ok=True)


class _Record:
    """``run_import``'s per-chunk callback: progress into the row; stop when the server stops."""

    def __init__(self, worker: ImportWorker, run_id: str) -> None:
        self.worker = worker
        self.run_id = run_id

    def __call__(self, summary: ImportSummary, progress: float) -> None:
        self.worker._write(self.run_id, summary, progress)
        if self.worker._stopping.is_set():
            raise _Stopped


def _copy(run: ImportRun, summary: ImportSummary) -> None:
    for name in ("rows", "events", "stored", "duplicates", "bad_rows", "skipped_events"):
        setattr(run, name, getattr(summary, name))
    run.errors = list(summary.errors)
