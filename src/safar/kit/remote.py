"""Commands that need the event store, run through the server that holds it.

The embedded DuckDB file has one writing process. When ``safar serve`` holds it, a command
that needs the store (``safar import events``, ``safar journeys funnel``) opening it gets
``StoreBusy``; instead of failing, it calls the running server's API. The server is found from
the settings (``SAFAR_PUBLIC_URL``, else ``SAFAR_HOST``/``SAFAR_PORT``), the secret key from
``--key`` / ``SAFAR_API_KEY`` or, for the demo workspace, the demo's state file.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from safar.config import Settings
from safar.errors import SafarError

#: Where ``safar demo`` keeps its workspaces and keys, in the data dir.
DEMO_STATE_FILE = "demo.json"
KEY_ENV = "SAFAR_API_KEY"


class ServerUnavailable(SafarError):
    """No server answered where the settings say it runs."""

    status_code = 503
    code = "server_unavailable"


def server_url(settings: Settings) -> str:
    """The base URL of the server of this installation, as a local client reaches it."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{settings.port}"


def find_key(settings: Settings, given: str | None, workspace_id: str) -> str | None:
    """The secret key to use: the one given, else the demo's for its own workspace."""
    if given:
        return given.strip()
    path = settings.data_dir / DEMO_STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for entry in state.values() if isinstance(state, dict) else ():
        if isinstance(entry, dict) and entry.get("workspace_id") == workspace_id:
            key = entry.get("secret_key")
            return key if isinstance(key, str) else None
    return None


def missing_key(url: str) -> SafarError:
    return SafarError(
        f"--key: the server at {url} holds the store; give a secret key of the workspace "
        f"(--key or {KEY_ENV}) to run this through it",
        field="key",
    )


class ServerClient:
    """The running server's JSON API with a Bearer secret key; errors as ``SafarError``."""

    def __init__(self, url: str, key: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.http = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=httpx.Timeout(30.0, read=600.0),
            transport=transport,
        )

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"server: no answer from {self.url} ({type(exc).__name__}); is `safar serve` "
                "running there? (SAFAR_PUBLIC_URL, SAFAR_HOST, SAFAR_PORT)",
                field="server",
            ) from None
        if response.status_code >= 400:
            try:
                body = response.json()
                message = str(body.get("message") or body)
                field = body.get("field")
            except ValueError:
                message, field = response.text[:300] or response.reason_phrase, None
            error = SafarError(f"server ({response.status_code}): {message}", field=field)
            error.status_code = response.status_code
            raise error
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()
