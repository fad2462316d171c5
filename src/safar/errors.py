"""One error hierarchy. Every expected failure maps to a 4xx with a message naming the field;
a storage failure is a 507/503 with ``Retry-After``. ``is_transient`` tells a disk or store
error (retry) from a failure that is the input's own (report or park it)."""

from __future__ import annotations

from typing import Any


class SafarError(Exception):
    """Base of expected failures; ``status_code`` is what the HTTP layer answers."""

    status_code = 400
    #: Machine-readable reason; SDKs read ``code`` (rudder-sdk-python retries a 4xx without one).
    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": type(self).__name__,
            "code": self.code,
            "message": self.message,
        }
        if self.field:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        """Extra response headers the one handler sends with this error."""
        return {}


class ValidationFailed(SafarError):
    status_code = 400


class PayloadTooLarge(SafarError):
    status_code = 413
    code = "payload_too_large"


class Unauthorized(SafarError):
    status_code = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Basic"}


class Forbidden(SafarError):
    status_code = 403
    code = "forbidden"


class NotFound(SafarError):
    status_code = 404
    code = "not_found"


class Conflict(SafarError):
    status_code = 409
    code = "conflict"


class StoreBusy(SafarError):
    """The embedded store is held by another process (usually a running server)."""

    status_code = 409
    code = "store_busy"


class StorageUnavailable(SafarError):
    """A disk error (EIO, read-only) stopped a durable write; nothing was stored, try again."""

    status_code = 503
    code = "storage_unavailable"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Any = None,
        retry_after: int = 1,
    ) -> None:
        super().__init__(message, field=field, details=details)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class StorageFull(StorageUnavailable):
    """The disk is full (ENOSPC); requests are refused until space returns."""

    status_code = 507
    code = "storage_full"


#: Engine errors that mean "the store, not the message": each event-store engine adds its own
#: when its module is imported (``register_transient``), so this module imports no engine.
_ENGINE_TRANSIENT: list[type[BaseException]] = []


def register_transient(*types: type[BaseException]) -> None:
    """Count these exception types as disk or store errors (see ``is_transient``)."""
    _ENGINE_TRANSIENT.extend(t for t in types if t not in _ENGINE_TRANSIENT)


def is_transient(exc: BaseException) -> bool:
    """A disk or store error (full disk, I/O error, lost connection): retried, never parked.

    Anything else a message raises on every attempt is the message's own fault.
    """
    import sqlalchemy.exc as sa

    transient: tuple[type[BaseException], ...] = (
        OSError,
        MemoryError,
        sa.OperationalError,
        sa.InterfaceError,
        sa.TimeoutError,
        sa.DisconnectionError,
        *_ENGINE_TRANSIENT,
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, transient):
            return True
        if isinstance(current, sa.DBAPIError) and current.connection_invalidated:
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
