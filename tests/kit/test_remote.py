"""Finding the running server and its key, and its API's errors as SafarError."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from safar.config import Settings
from safar.errors import SafarError
from safar.kit.remote import ServerClient, ServerUnavailable, find_key, server_url


def test_the_server_url_follows_the_settings(tmp_path: Path) -> None:
    assert server_url(Settings(data_dir=tmp_path, port=9123)) == "http://127.0.0.1:9123"
    assert server_url(Settings(data_dir=tmp_path, host="0.0.0.0", port=81)) == "http://127.0.0.1:81"
    public = Settings(data_dir=tmp_path, public_url="https://cx.example.ir/")
    assert server_url(public) == "https://cx.example.ir"


def test_the_key_given_wins_else_the_demo_state_files_for_its_workspace(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert find_key(settings, None, "ws_1") is None
    (tmp_path / "demo.json").write_text(
        json.dumps({"Safar Demo": {"workspace_id": "ws_1", "secret_key": "sk_demo"}})
    )
    assert find_key(settings, None, "ws_1") == "sk_demo"
    assert find_key(settings, None, "ws_2") is None
    assert find_key(settings, " sk_given ", "ws_1") == "sk_given"


def test_api_errors_keep_their_status_message_and_field() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer sk"
        return httpx.Response(400, json={"message": "map: no column 'x'", "field": "map"})

    client = ServerClient("http://s", "sk", transport=httpx.MockTransport(answer))
    with client, pytest.raises(SafarError) as caught:
        client.json("GET", "/api/imports")
    assert caught.value.status_code == 400 and caught.value.field == "map"
    assert "no column 'x'" in caught.value.message

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = ServerClient("http://s", "sk", transport=httpx.MockTransport(down))
    with client, pytest.raises(ServerUnavailable, match="safar serve"):
        client.json("GET", "/api/stats")
