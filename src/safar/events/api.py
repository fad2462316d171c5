"""Segment-compatible Tracking API: /v1/track, identify, page, screen, group, alias, batch.

The handler validates everything first (a bad message rejects its whole request with a 4xx
naming the field), appends the normalised rows to the write-ahead log and answers only after
the log is fsynced.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from safar.config import Settings
from safar.errors import Forbidden, PayloadTooLarge, Unauthorized, ValidationFailed
from safar.events.deps import IngestParts
from safar.events.messages import (
    SegmentMessage,
    fast_rows,
    normalize,
    parse_message,
    parse_time,
)
from safar.events.pipeline import encode_record
from safar.workspaces.deps import basic_username
from safar.workspaces.service import KeyIdentity

router = APIRouter(prefix="/v1", tags=["ingest (Segment-compatible)"])
SINGLE_TYPES = ("track", "identify", "page", "screen", "group", "alias")
_MESSAGE_SCHEMA = SegmentMessage.model_json_schema()
SUCCESS = b'{"success":true}'


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise ValidationFailed(
            f"Content-Encoding: unsupported {encoding!r}; use gzip", field="Content-Encoding"
        )
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ValidationFailed("body: not valid gzip data", field="body") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"body: larger than {limit} bytes once decompressed", field="body")
    return out


async def _authenticate(
    request: Request, runtime: IngestParts, body: dict[str, Any]
) -> KeyIdentity:
    raw = basic_username(request.headers.get("authorization"))
    if not raw and isinstance(body.get("writeKey"), str):
        raw = body["writeKey"]
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


async def _read_json(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: {declared} bytes; the limit is {limit}", field="body")
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"body: {len(raw)} bytes; the limit is {limit}", field="body")
    raw = _decompress(raw, request.headers.get("content-encoding", "").strip().lower(), limit)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"body: malformed JSON ({exc})", field="body") from None
    if not isinstance(body, dict):
        raise ValidationFailed("body: must be a JSON object", field="body")
    return body


def _with_batch_context(msg: dict[str, Any], shared: dict[str, Any] | None) -> dict[str, Any]:
    if shared and isinstance(msg.get("context"), dict | None):
        msg = {**msg, "context": {**shared, **(msg.get("context") or {})}}
    return msg


def _sizes_fit(items: list[Any], limit: int) -> bool:
    return all(not isinstance(i, dict) or len(orjson.dumps(i)) <= limit for i in items)


def _batch_rows(
    items: list[Any],
    key: KeyIdentity,
    received: datetime,
    sent_at: datetime | None,
    shared_ctx: dict[str, Any] | None,
    check_sizes: bool,
    settings: Settings,
) -> list[dict[str, Any]]:
    """Message by message: slower than ``fast_rows``, and names the first offending field."""
    rows = []
    for i, item in enumerate(items):
        field = f"batch[{i}]"
        if check_sizes and isinstance(item, dict):
            size = len(orjson.dumps(item))
            if size > settings.max_event_bytes:
                raise ValidationFailed(
                    f"{field}: message is {size} bytes; the limit is {settings.max_event_bytes}",
                    field=field,
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
    return rows


async def _ingest(request: Request, kind: str) -> Response:
    runtime: IngestParts = request.app.state.runtime
    settings = runtime.settings
    limit = settings.max_batch_bytes if kind == "batch" else settings.max_event_bytes
    body = await _read_json(request, limit)
    key = await _authenticate(request, runtime, body)
    received = datetime.now(UTC)
    if kind == "batch":
        items = body.get("batch")
        if not isinstance(items, list):
            raise ValidationFailed("batch: must be a list of messages", field="batch")
        if not items:
            raise ValidationFailed("batch: must contain at least one message", field="batch")
        sent_at = parse_time(body.get("sentAt"), "sentAt")
        shared_ctx = body.get("context") if isinstance(body.get("context"), dict) else None
        check_sizes = len(orjson.dumps(body)) > settings.max_event_bytes
        rows = None
        if not check_sizes or _sizes_fit(items, settings.max_event_bytes):
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
            rows = _batch_rows(items, key, received, sent_at, shared_ctx, check_sizes, settings)
    else:
        body["type"] = kind
        rows = fast_rows(
            [body],
            workspace_id=key.workspace_id,
            received_at=received,
            default_channel=key.default_channel,
            source=key.key_id,
            prefix="",
        )
        if rows is None:
            msg = parse_message(body)
            rows = [
                normalize(
                    msg,
                    workspace_id=key.workspace_id,
                    received_at=received,
                    default_channel=key.default_channel,
                    source=key.key_id,
                )
            ]
    assert runtime.committer is not None, "this runtime does not ingest"
    await runtime.committer.append(encode_record(rows))
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
        return await _ingest(request, kind)

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
        return await _ingest(request, kind)

    endpoint.__name__ = f"ingest_alias_{path}"
    router.add_api_route(
        f"/{path}", endpoint, methods=["POST"], response_class=Response, include_in_schema=False
    )


for _path, _kind in ALIASES.items():
    _register_alias(_path, _kind)


class IngestCORS:
    """Let browsers send events from any site to ``/v1`` (the write key is public by design).

    Only the ingest paths get CORS headers; no credentials are allowed, so the dashboard's
    session cookie is never sent cross-site.
    """

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", b"POST, OPTIONS"),
        (b"access-control-allow-headers", b"authorization, content-type, content-encoding"),
        (b"access-control-max-age", b"86400"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": self.HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.HEADERS[0]]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
