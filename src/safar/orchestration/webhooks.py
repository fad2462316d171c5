"""Webhook signatures: how Safar signs what it POSTs, and how a receiver checks it.

``Safar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. A
receiver recomputes the HMAC over the raw request body (before parsing the JSON), compares in
constant time and refuses old timestamps, so a captured request cannot be replayed later::

    from safar.orchestration.webhooks import verify_signature

    ok = verify_signature(SECRET, request.headers["Safar-Signature"], raw_body)

``Safar-Idempotency-Key`` is the same on every attempt of one message: drop repeats by it.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Safar-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance_s`` of ``now``.

    Several ``v1=`` entries are accepted (one per secret while a secret is being rotated).
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
