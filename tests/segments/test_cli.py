"""``safar segments``: create from a JSON file (bad files refused by field), list, members,
refresh now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safar.cli import app
from tests.segments.factories import ago, open_runtime, profile_of, store_messages


def test_segments_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(tmp_path / "safar"))
    monkeypatch.setenv("SAFAR_TEXT_ANALYSIS", "false")
    with open_runtime(tmp_path) as (runtime, ws):
        store_messages(runtime, ws, [
            {"type": "identify", "userId": "u1", "messageId": "c1", "timestamp": ago(1),
             "traits": {"plan": "gold"}},
            {"type": "identify", "userId": "u2", "messageId": "c2", "timestamp": ago(1),
             "traits": {"plan": "silver"}},
        ])  # fmt: skip
        u1 = profile_of(runtime, ws, "u1")
    runner = CliRunner()
    spec = tmp_path / "gold.json"
    spec.write_text(
        json.dumps(
            {"name": "Gold", "conditions": [{"kind": "trait", "key": "plan", "value": "gold"}]}
        ),
        encoding="utf-8",
    )
    out = runner.invoke(app, ["segments", "create", "-w", ws, str(spec)])
    assert out.exit_code == 0, out.output
    seg_id = out.output.strip()
    assert seg_id.startswith("seg_")

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"name": "x", "conditions": [{"kind": "trait", "key": "plan", "op": "like"}]})
    )
    out = runner.invoke(app, ["segments", "create", "-w", ws, str(bad)])
    assert out.exit_code == 2 and "conditions.0.trait.op" in out.output

    out = runner.invoke(app, ["segments", "members", seg_id, "-w", ws])
    assert out.exit_code == 0, out.output
    assert out.output.split() == [u1]

    out = runner.invoke(app, ["segments", "refresh", "-w", ws])
    assert out.exit_code == 0, out.output
    assert out.output.split() == [seg_id, "baseline"]
    out = runner.invoke(app, ["segments", "list", "-w", ws])
    assert out.output.split("\t")[:2] == [seg_id, "1"]
