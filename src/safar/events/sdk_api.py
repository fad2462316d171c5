"""What browser SDKs fetch besides the Tracking API: settings, the analytics.js bundle, beacons.

- ``GET /v1/projects/{writeKey}/settings``: the settings analytics-next loads before sending
  anything; they point it back at this server (``Segment.io.apiHost``) and carry the write key
  as ``Segment.io.apiKey`` (without it every event is sent unauthenticated).
- ``GET /analytics.js/v1/{writeKey}/analytics.min.js`` and ``/analytics-next/bundles/*``: the
  standalone analytics.js and its lazy chunks, vendored from the npm package (see
  ``web/static/vendor/VERSIONS.txt``), so a site loads them from Safar instead of a CDN.
- ``GET /sourceConfig``: RudderStack's JavaScript SDK configuration (no destinations).
- ``POST /beacon/v1/batch?writeKey=``: RudderStack's ``useBeacon`` (``text/plain`` bodies).
- ``GET /api/ingest/rejected``: the record of refused messages, per field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from safar.errors import NotFound, Unauthorized
from safar.events import rejections
from safar.events.api import ingest_request
from safar.events.deps import IngestDep, IngestParts
from safar.workspaces.deps import SecretKey, SessionDep, basic_username
from safar.workspaces.service import KeyIdentity

router = APIRouter(tags=["ingest (browser SDKs)"])
#: Where ``make vendor-analytics`` puts the npm package's built ``dist/umd`` files.
BUNDLES = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "analytics-next"
_BUNDLE_NAME = re.compile(r"[A-Za-z0-9_.-]+\.js")
_JS_HEADERS = {"Cache-Control": "public, max-age=3600"}


def _write_key(runtime: IngestParts, raw: str | None) -> KeyIdentity:
    key = runtime.keys.get(runtime.db, raw) if raw else None
    if key is None or key.kind != "write":
        raise NotFound("writeKey: no workspace has this write key", field="writeKey")
    return key


@router.get("/v1/projects/{write_key}/settings")
def segment_settings(write_key: str, request: Request, runtime: IngestDep) -> dict[str, Any]:
    """The analytics-next settings of a write key, sending events and metrics back here."""
    _write_key(runtime, write_key)
    public = urlsplit(runtime.settings.public_url or str(request.base_url))
    host = f"{public.netloc}{public.path.rstrip('/')}/v1"
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": host,
                "protocol": public.scheme,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
            }
        },
        "plan": {"track": {"__default": {"enabled": True}}},
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0, "host": host},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }


def _bundle(name: str) -> FileResponse:
    path = BUNDLES / name
    if not _BUNDLE_NAME.fullmatch(name) or not path.is_file():
        raise NotFound(f"bundle: no file {name[:80]!r}", field="bundle")
    return FileResponse(path, media_type="text/javascript", headers=_JS_HEADERS)


@router.get("/analytics.js/v1/{write_key}/analytics.min.js", include_in_schema=False)
def analytics_js(write_key: str) -> FileResponse:
    """The standalone analytics.js; it reads the write key from this path."""
    return _bundle("standalone.js")


@router.get("/analytics-next/bundles/{name}", include_in_schema=False)
def analytics_chunk(name: str) -> FileResponse:
    return _bundle(name)


@router.get("/sourceConfig")
@router.get("/sourceConfig/", include_in_schema=False)
def rudderstack_config(
    request: Request,
    runtime: IngestDep,
    write_key: str | None = Query(default=None, alias="writeKey", max_length=200),
) -> JSONResponse:
    """The source configuration RudderStack's SDK loads (Basic auth or ``?writeKey=``)."""
    raw = basic_username(request.headers.get("authorization")) or write_key
    if not raw:
        raise Unauthorized("writeKey: send the write key as the Basic username", field="writeKey")
    key = _write_key(runtime, raw)
    off = {"enabled": False}
    source = {
        "id": key.key_id,
        "name": "Safar",
        "writeKey": raw,
        "workspaceId": key.workspace_id,
        "enabled": True,
        "config": {"statsCollection": {"errors": off, "metrics": off}},
        "destinations": [],
    }
    return JSONResponse({"isHosted": False, "source": source, "updatedAt": None})


@router.post("/beacon/v1/batch", include_in_schema=False)
async def beacon_batch(request: Request) -> Response:
    """``navigator.sendBeacon`` cannot set headers: the key comes in the query string."""
    return await ingest_request(request, "batch")


@router.get("/api/ingest/rejected", tags=["workspace"])
def rejected(key: SecretKey, session: SessionDep) -> dict[str, Any]:
    """Messages the ingest endpoints refused in this workspace: count and latest per field."""
    rows = [
        rejections.as_dict(r) for r in rejections.summary(session, workspace_id=key.workspace_id)
    ]
    return {"total": sum(r["count"] for r in rows), "fields": rows}
