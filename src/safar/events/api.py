"""Segment-compatible Tracking API: /v1/track, identify, page, screen, group, alias, batch.

The handler validates a whole batch in one call on the fast path; when that refuses, it goes
message by message, stores every valid one and reports the refused ones by index and field
(answering 200, as Segment does, unless nothing in the request could be stored). It appends the
normalised rows to the write-ahead log and answers only after the log is fsynced.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from safar.errors import Forbidden, PayloadTooLarge, Unauthorized, ValidationFailed
from safar.events import rejections
from safar.events.deps import IngestParts
from safar.events.messages import (
    SegmentMessage,
    fast_rows,
    normalize,
    parse_message,
    parse_time,
)
from safar.events.pipeline import encode_record
from safar.events.rejections import Refusal
from safar.events.rows import EventRow
from safar.workspaces.deps import basic_username
from safar.workspaces.service import KeyIdentity

router = APIRouter(prefix="/v1", tags=["ingest (Segment-compatible)"])
SINGLE_TYPES = ("track", "identify", "page", "screen", "group", "alias")
_MESSAGE_SCHEMA = SegmentMessage.model_json_schema()
SUCCESS = b'{"success":true}'


def _inflater(encoding: str) -> Any:
    """A streaming decompressor for the request's Content-Encoding (None: not compressed)."""
    if encoding in ("", "identity"):
        return None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise ValidationFailed(
            f"Content-Encoding: unsupported {encoding!r}; use gzip", field="Content-Encoding"
        )
    return zlib.decompressobj(16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed, refused with 413 as soon as it passes ``limit`` bytes.

    Read chunk by chunk, so a 4 MB batch (RudderStack's limit) or a lying Content-Length never
    holds more than about twice the limit in memory.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: {declared} bytes; the limit is {limit}", field="body")
    inflater = _inflater(request.headers.get("content-encoding", "").strip().lower())
    out = bytearray()
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"body: more than {limit} bytes", field="body")
        if inflater is None:
            out += chunk
            continue
        try:
            out += inflater.decompress(chunk, limit + 1 - len(out))
        except zlib.error:
            raise ValidationFailed("body: not valid gzip data", field="body") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(
                f"body: larger than {limit} bytes once decompressed", field="body"
            )
    return bytes(out)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"body: malformed JSON ({exc})", field="body") from None
    if not isinstance(body, dict):
        raise ValidationFailed("body: must be a JSON object", field="body")
    return body


async def _authenticate(
    request: Request, runtime: IngestParts, body: dict[str, Any]
) -> KeyIdentity:
    """The write key from Basic auth, the body's ``writeKey`` (analytics.js) or the
    ``writeKey`` query parameter (RudderStack's beacon)."""
    raw = basic_username(request.headers.get("authorization"))
    if not raw and isinstance(body.get("writeKey"), str):
        raw = body["writeKey"]
    if not raw:
        raw = request.query_params.get("writeKey")
    if not raw:
        raise Unauthorized(
            "Authorization: send the write key as the Basic username", field="Authorization"
        )
    key = runtime.keys.get(runtime.db, raw)
    if key is None:
        raise Unauthorized("Authorization: unknown or revoked write key", field="Authorization")
    if key.kind != "write":
        raise Forbidden(
            "Authorization: secret keys cannot send events; use a write key", field="Authorization"
        )
    return key


def _with_batch_context(msg: dict[str, Any], shared: dict[str, Any] | None) -> dict[str, Any]:
    if shared and isinstance(msg.get("context"), dict | None):
        msg = {**msg, "context": {**shared, **(msg.get("context") or {})}}
    return msg


def _sizes_fit(items: list[Any], limit: int) -> bool:
    return all(not isinstance(i, dict) or len(orjson.dumps(i)) <= limit for i in items)


def _one_by_one(
    items: list[Any],
    key: KeyIdentity,
    received: datetime,
    sent_at: datetime | None,
    shared_ctx: dict[str, Any] | None,
    max_event_bytes: int,
    prefix: str = "batch",
) -> tuple[list[EventRow], list[Refusal]]:
    """Message by message: slower than ``fast_rows``; keeps the valid ones, names each refusal."""
    rows: list[EventRow] = []
    refused: list[Refusal] = []
    for i, item in enumerate(items):
        field = f"{prefix}[{i}]" if prefix else ""
        try:
            size = len(orjson.dumps(item)) if isinstance(item, dict) else 0
            if size > max_event_bytes:
                raise ValidationFailed(
                    f"{field or 'body'}: message is {size} bytes; the limit is {max_event_bytes}",
                    field=field or "body",
                )
            msg = parse_message(
                _with_batch_context(item, shared_ctx) if isinstance(item, dict) else item,
                prefix=field,
            )
            rows.append(
                normalize(
                    msg,
                    workspace_id=key.workspace_id,
                    received_at=received,
                    batch_sent_at=sent_at,
                    default_channel=key.default_channel,
                    source=key.key_id,
                    field=field,
                )
            )
        except ValidationFailed as exc:
            refused.append(Refusal(i, exc.field or field or "body", exc.message, item))
    return rows, refused


async def _record_refusals(runtime: IngestParts, key: KeyIdentity, refused: list[Refusal]) -> None:
    def write() -> None:
        with runtime.db.session() as session:
            rejections.record(
                session, workspace_id=key.workspace_id, source=key.key_id, refusals=refused
            )

    await run_in_threadpool(write)


async def ingest_request(request: Request, kind: str) -> Response:
    runtime: IngestParts = request.app.state.runtime
    settings = runtime.settings
    limit = settings.max_batch_bytes if kind == "batch" else settings.max_event_bytes
    raw = await read_body(request, limit)
    body = _json_object(raw)
    key = await _authenticate(request, runtime, body)
    received = datetime.now(UTC)
    refused: list[Refusal] = []
    if kind == "batch":
        items = body.get("batch")
        if not isinstance(items, list):
            raise ValidationFailed("batch: must be a list of messages", field="batch")
        if not items:
            raise ValidationFailed("batch: must contain at least one message", field="batch")
        sent_at = parse_time(body.get("sentAt"), "sentAt")
        shared_ctx = body.get("context") if isinstance(body.get("context"), dict) else None
        rows: list[EventRow] | None = None
        # A body within the per-message limit cannot hold a message over it.
        if len(raw) <= settings.max_event_bytes or _sizes_fit(items, settings.max_event_bytes):
            rows = fast_rows(
                items,
                workspace_id=key.workspace_id,
                received_at=received,
                batch_sent_at=sent_at,
                shared_context=shared_ctx,
                default_channel=key.default_channel,
                source=key.key_id,
            )
        if rows is None:
            rows, refused = _one_by_one(
                items, key, received, sent_at, shared_ctx, settings.max_event_bytes
            )
    else:
        body["type"] = kind
        rows = fast_rows(
            [body],
            workspace_id=key.workspace_id,
            received_at=received,
            default_channel=key.default_channel,
            source=key.key_id,
        )
        if rows is None:
            rows, refused = _one_by_one(
                [body], key, received, None, None, settings.max_event_bytes, prefix=""
            )
    if refused:
        await _record_refusals(runtime, key, refused)
        if not rows:
            # Nothing to store: a 4xx the SDK reads (and does not retry), naming the field.
            first = refused[0]
            raise ValidationFailed(
                first.reason,
                field=first.field,
                details={"rejected": [r.to_dict() for r in refused]} if kind == "batch" else None,
            )
    assert runtime.committer is not None, "this runtime does not ingest"
    await runtime.committer.append(encode_record(rows))
    if refused:
        report = {"success": True, "rejected": [r.to_dict() for r in refused]}
        return Response(orjson.dumps(report), media_type="application/json")
    return Response(SUCCESS, media_type="application/json")


def _register(kind: str) -> None:
    schema: dict[str, Any]
    if kind == "batch":
        schema = {
            "type": "object",
            "required": ["batch"],
            "properties": {
                "batch": {"type": "array", "items": _MESSAGE_SCHEMA},
                "sentAt": {"type": "string", "format": "date-time"},
                "context": {"type": "object"},
            },
        }
    else:
        schema = _MESSAGE_SCHEMA

    async def endpoint(request: Request) -> Response:
        return await ingest_request(request, kind)

    endpoint.__name__ = f"ingest_{kind}"
    router.add_api_route(
        f"/{kind}",
        endpoint,
        methods=["POST"],
        response_class=Response,
        summary=f"Segment {kind} call",
        description=(
            "HTTP Basic auth with the workspace write key as username; gzip bodies accepted; "
            "answered after the events are durably logged."
        ),
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}
        },
    )


for _kind in (*SINGLE_TYPES, "batch"):
    _register(_kind)

#: Paths other Segment-compatible senders use: ``/v1/import`` (server-side bulk) and the short
#: forms analytics.js posts to from browsers (with the write key in the body).
ALIASES = {
    "import": "batch",
    "b": "batch",
    "t": "track",
    "i": "identify",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
}


def _register_alias(path: str, kind: str) -> None:
    async def endpoint(request: Request) -> Response:
        return await ingest_request(request, kind)

    endpoint.__name__ = f"ingest_alias_{path}"
    router.add_api_route(
        f"/{path}", endpoint, methods=["POST"], response_class=Response, include_in_schema=False
    )


for _path, _kind in ALIASES.items():
    _register_alias(_path, _kind)


_HEADER_LIST = re.compile(rb"^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$")
#: Answered when a preflight names no headers (or names them in a form we do not echo).
DEFAULT_ALLOWED = b"authorization, content-type, content-encoding, anonymousid, x-retry-count"
CORS_PREFIXES = ("/v1/", "/beacon/", "/sourceConfig", "/analytics-next/", "/analytics.js/")


class IngestCORS:
    """Let browsers send events from any site (the write key is public by design).

    Preflights echo the headers the page asks for: SDKs add their own (analytics-next
    ``X-Retry-Count`` on retries, RudderStack ``AnonymousId`` and ``rsa-since-last-attempt``),
    and a refused preflight loses the event. Only the ingest and SDK paths get CORS headers; no
    credentials are allowed, so the dashboard's session cookie is never sent cross-site.
    """

    ALLOW_ORIGIN: ClassVar[tuple[bytes, bytes]] = (b"access-control-allow-origin", b"*")
    PREFLIGHT: ClassVar[list[tuple[bytes, bytes]]] = [
        ALLOW_ORIGIN,
        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
        (b"access-control-max-age", b"86400"),
        (b"vary", b"access-control-request-headers"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CORS_PREFIXES):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            asked = next(
                (v for k, v in scope["headers"] if k == b"access-control-request-headers"), b""
            ).strip()
            allowed = asked if asked and len(asked) < 1000 and _HEADER_LIST.match(asked) else None
            headers = [
                *self.PREFLIGHT,
                (b"access-control-allow-headers", allowed or DEFAULT_ALLOWED),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.ALLOW_ORIGIN]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
