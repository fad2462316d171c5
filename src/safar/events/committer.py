"""Group commit in front of the write-ahead log, and what ingest answers when the disk fails.

Many concurrent requests share one write + fsync. An append that fails with a disk error
(ENOSPC, EIO) has already been cut back by the log; its requests get a 507 (no space) or 503
with ``Retry-After``, and new requests are refused at once for a moment instead of queueing
behind a disk that cannot take them.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from safar.errors import StorageFull, StorageUnavailable
from safar.events.wal import WriteAheadLog

log = logging.getLogger("safar.wal")
#: errno values that mean "no room": answered 507 rather than 503.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def storage_error(exc: OSError, retry_after: int) -> StorageUnavailable:
    """The 507/503 a request gets when its events could not be logged; nothing was stored."""
    cause = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    if exc.errno in NO_SPACE:
        return StorageFull(
            f"storage: the event log's disk is full ({cause}); nothing was stored, "
            f"retry after {retry_after} s",
            field="storage",
            details={"cause": cause},
            retry_after=retry_after,
        )
    return StorageUnavailable(
        f"storage: the event log cannot be written ({cause}); nothing was stored, "
        f"retry after {retry_after} s",
        field="storage",
        details={"cause": cause},
        retry_after=retry_after,
    )


class GroupCommitter:
    """Gathers concurrent appends into one write + fsync on a dedicated thread.

    After a failed append, requests are refused at once (507/503 with ``Retry-After``) for
    ``retry_after_s``; the first append after that window probes the disk again, so ingest
    resumes by itself when space returns.
    """

    def __init__(
        self,
        wal: WriteAheadLog,
        *,
        linger_s: float = 0.001,
        on_commit: Callable[[int], None] | None = None,
        retry_after_s: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.wal = wal
        self.linger_s = linger_s
        self.on_commit = on_commit
        self.retry_after_s = retry_after_s
        self.clock = clock
        self.failed_appends = 0
        self.last_error: str | None = None
        self._refuse_until = 0.0
        self._refusal: OSError | None = None
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="safar-wal", daemon=True)
        self._thread.start()

    def refusing(self) -> StorageUnavailable | None:
        """The error new requests get now, while the last append's disk error is fresh."""
        cause = self._refusal
        if cause is None or self.clock() >= self._refuse_until:
            return None
        return storage_error(cause, self.retry_after_s)

    def status(self) -> dict[str, Any]:
        refused = self.refusing()
        return {
            "accepting": refused is None,
            "refusing_because": refused.message if refused else None,
            "failed_appends": self.failed_appends,
            "last_error": self.last_error,
        }

    async def append(self, payload: bytes) -> int:
        refused = self.refusing()
        if refused is not None:
            raise refused
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        self._q.put((payload, loop, fut))
        return await fut

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            items = [item]
            deadline = time.monotonic() + self.linger_s
            stop = False
            while True:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(self.linger_s / 4)
                    continue
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            error: Callable[[], BaseException] | None = None
            try:
                pos = self.wal.append_many([i[0] for i in items])
                self._refusal = None
            except OSError as exc:
                pos, error = -1, self._refuse(exc)
            except BaseException as exc:
                log.exception("WAL append failed")
                pos, error = -1, lambda exc=exc: exc
            for _, loop, fut in items:
                loop.call_soon_threadsafe(_resolve, fut, pos, error() if error else None)
            if error is None and self.on_commit is not None:
                self.on_commit(pos)
            if stop:
                return

    def _refuse(self, exc: OSError) -> Callable[[], BaseException]:
        self.failed_appends += 1
        self.last_error = f"{errno.errorcode.get(exc.errno or 0, '?')}: {exc.strerror or exc}"
        self._refusal = exc
        self._refuse_until = self.clock() + self.retry_after_s
        log.error("WAL append failed (%s); refusing ingest for %d s", exc, self.retry_after_s)
        return lambda: storage_error(exc, self.retry_after_s)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)


def _resolve(fut: asyncio.Future[int], pos: int, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(pos)
