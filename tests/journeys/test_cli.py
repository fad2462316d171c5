"""The journeys commands as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from safar.cli import app

runner = CliRunner()


def test_discover_json_shape(shared_data: Path) -> None:
    res = runner.invoke(
        app,
        [
            "journeys",
            "discover",
            str(shared_data / "process_logs" / "running-example.xes"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == {"edges", "variants", "start_activities", "end_activities"}
    assert set(out["edges"][0]) == {"source", "target", "frequency", "median_seconds"}
    assert set(out["variants"][0]) == {"activities", "count"}
    assert out["start_activities"] == {"register request": 6}
    assert sum(v["count"] for v in out["variants"]) == 6


def test_discover_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xes"
    bad.write_text("<log><trace>")
    res = runner.invoke(app, ["journeys", "discover", str(bad), "--json"])
    assert res.exit_code == 2
    assert "malformed XES" in res.stderr


def test_drivers_json(shared_data: Path) -> None:
    res = runner.invoke(
        app,
        [
            "drivers",
            str(shared_data / "olist" / "olist_classified_public_dataset.csv"),
            "--target",
            "review_score",
            "--unit",
            "stars",
            "-f",
            "late_delivery=coalesce(order_delivered_customer_date, TIMESTAMP '9999-01-01') > order_estimated_delivery_date",
            "-f",
            "order_freight_value",
            "-f",
            "customer_state",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["drivers"][0]["factor"] == "late_delivery"
    res = runner.invoke(
        app,
        [
            "drivers",
            str(shared_data / "olist" / "olist_classified_public_dataset.csv"),
            "--target",
            "stars",
        ],
    )
    assert res.exit_code == 2
    assert "target" in res.stderr


def test_import_then_funnel_and_export(tmp_path: Path, shared_data: Path, monkeypatch) -> None:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(tmp_path / "safar"))
    res = runner.invoke(app, ["workspace", "create", "Logs", "--json"])
    ws = json.loads(res.stdout)["workspace_id"]
    log = shared_data / "process_logs" / "running-example.xes"
    res = runner.invoke(app, ["journeys", "import", str(log), "-w", ws, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"events": 42, "inserted": 42, "duplicates": 0, "cases": 6}
    res = runner.invoke(app, ["journeys", "import", str(log), "-w", ws, "--json"])
    assert json.loads(res.stdout)["duplicates"] == 42
    res = runner.invoke(
        app,
        [
            "journeys",
            "funnel",
            "-w",
            ws,
            "-s",
            "register request",
            "-s",
            "decide",
            "-s",
            "pay compensation",
            "--window",
            "30d",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert [s["cases"] for s in json.loads(res.stdout)["steps"]] == [6, 6, 3]
    steps = ["-s", "pay compensation", "-s", "decide", "-s", "register request"]
    res = runner.invoke(app, ["journeys", "funnel", "-w", ws, *steps, "--window", "30d",
                              "--mode", "any", "--breakdown", "channel", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [s["cases"] for s in out["steps"]] == [6, 6, 3]  # the same customers, any order
    assert [(g["value"], g["customers"]) for g in out["breakdown"]["groups"]] == [("other", 6)]
    rules = tmp_path / "personas.json"
    rules.write_text('[{"name": "all", "all_of": [{"trait": "x", "op": "exists"}]}]')
    res = runner.invoke(app, ["journeys", "funnel", "-w", ws, *steps, "--mode", "any",
                              "--breakdown", "persona", "--personas", str(rules)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "persona = other:" in res.stdout and "3 of 3 steps" in res.stdout
    for args, field in (
        (["--mode", "sideways"], "mode"),
        (["--breakdown", "persona"], "personas"),
        (["--breakdown", "persona", "--personas", str(log)], "personas"),
        (["--breakdown", "colour"], "breakdown"),
    ):
        res = runner.invoke(app, ["journeys", "funnel", "-w", ws, *steps, *args])
        assert res.exit_code == 2, res.output
        assert f"error: {field}:" in res.stderr
    out = tmp_path / "out.xes"
    res = runner.invoke(app, ["journeys", "export", str(out), "-w", ws])
    assert res.exit_code == 0, res.output
    a = runner.invoke(app, ["journeys", "discover", str(out), "--json"])
    b = runner.invoke(app, ["journeys", "discover", str(log), "--json"])
    da, db = json.loads(a.stdout), json.loads(b.stdout)
    assert da["edges"] == db["edges"]
    assert sorted(map(str, da["variants"])) == sorted(map(str, db["variants"]))
