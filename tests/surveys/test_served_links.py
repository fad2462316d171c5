"""Survey links name the address ``safar serve`` really listens on (``--port``, ``--host``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from safar import cli
from safar.config import Settings
from tests.installation import fresh_data_dir
from tests.processes import ServerProcess, create_workspace_cli


def _profile_id(base: str, auth: dict[str, str], user_id: str) -> str:
    """The profile of ``user_id`` once the server has applied its identify call."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        res = httpx.get(
            f"{base}/api/profiles/lookup",
            params={"type": "user_id", "value": user_id},
            headers=auth,
        )
        if res.status_code == 200:
            return str(res.json()["id"])
        time.sleep(0.1)
    raise AssertionError(f"no profile for {user_id}: {res.text}")


def test_invitation_link_names_the_served_port(tmp_path: Path) -> None:
    data_dir = fresh_data_dir(tmp_path / "safar")
    keys = create_workspace_cli(data_dir)
    server = ServerProcess(data_dir, env={"SAFAR_TEXT_ANALYSIS": "false"})
    assert server.port != Settings.model_fields["port"].default
    server.start()
    try:
        base = server.base_url
        sent = httpx.post(
            f"{base}/v1/identify",
            json={"userId": "u1", "traits": {"email": "u1@example.com"}},
            auth=(keys["write_key"], ""),
        )
        assert sent.status_code == 200, sent.text
        auth = {"Authorization": f"Bearer {keys['secret_key']}"}
        profile = _profile_id(base, auth, "u1")
        survey = httpx.post(
            f"{base}/api/surveys/from-template", json={"template": "nps"}, headers=auth
        )
        assert survey.status_code == 201, survey.text
        res = httpx.post(
            f"{base}/api/surveys/{survey.json()['id']}/invitations",
            json={"profile_id": profile},
            headers=auth,
        )
        assert res.status_code == 201, res.text
        assert res.json()["url"].startswith(f"http://127.0.0.1:{server.port}/"), res.json()
    finally:
        server.stop()


def _served_settings(monkeypatch: pytest.MonkeyPatch, *args: str) -> Settings:
    """The settings ``safar serve ARGS`` hands the app, without starting a server."""
    import uvicorn

    import safar.app

    seen: list[Settings] = []
    monkeypatch.setattr(safar.app, "create_app", lambda settings: seen.append(settings))
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    monkeypatch.setattr(cli, "tune_gc", lambda: None)
    monkeypatch.setattr(sys, "setswitchinterval", lambda interval: None)
    result = CliRunner().invoke(cli.app, ["serve", *args])
    assert result.exit_code == 0, result.output
    return seen[0]


def test_serve_options_reach_the_public_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(tmp_path / "safar"))
    monkeypatch.delenv("SAFAR_PUBLIC_URL", raising=False)
    served = _served_settings(monkeypatch, "--host", "10.1.2.3", "--port", "8010")
    assert served.resolved_public_url() == "http://10.1.2.3:8010"
    monkeypatch.setenv("SAFAR_PORT", "8020")
    assert _served_settings(monkeypatch).resolved_public_url() == "http://127.0.0.1:8020"
    # A configured public URL (a proxy in front) wins over the bind address.
    monkeypatch.setenv("SAFAR_PUBLIC_URL", "https://cx.example.com/")
    served = _served_settings(monkeypatch, "--port", "8010")
    assert (served.port, served.resolved_public_url()) == (8010, "https://cx.example.com")
