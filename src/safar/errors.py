"""One error hierarchy. Every expected failure maps to a 4xx with a message naming the field."""

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


class ValidationFailed(SafarError):
    status_code = 400


class PayloadTooLarge(SafarError):
    status_code = 413
    code = "payload_too_large"


class Unauthorized(SafarError):
    status_code = 401
    code = "unauthorized"


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
