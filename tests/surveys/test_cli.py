"""``safar surveys``: create, metrics (with a period change test) and export."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from safar.cli import app
from safar.config import Settings
from safar.runtime import Runtime
from safar.surveys import service as svc
from safar.workspaces.service import create_workspace
from tests.surveys.factories import answer


def test_surveys_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "safar"
    monkeypatch.setenv("SAFAR_DATA_DIR", str(data))
    runner = CliRunner()
    rt = Runtime(Settings(data_dir=data), background=False)
    try:
        with rt.db.session() as s:
            ws_id = create_workspace(s, name="Shop")[0].id
    finally:
        rt.close()
    out = runner.invoke(app, ["surveys", "create", "-w", ws_id, "--template", "csat"])
    assert out.exit_code == 0, out.output
    survey_id = out.output.strip()
    bad = runner.invoke(app, ["surveys", "create", "-w", ws_id, "--template", "nope"])
    assert bad.exit_code == 2 and "template: unknown" in bad.output

    rt = Runtime(Settings(data_dir=data), background=False)
    try:
        with rt.db.session() as s:
            survey = svc.get_survey(s, workspace_id=ws_id, survey_id=survey_id)
            s.expunge(survey)
        for day, scores in ((10, [5, 5, 2, 1, 1, 2]), (30, [5, 5, 5, 4, 5, 4])):
            for v in scores:
                answer(rt, survey, ws_id, datetime(2026, 10, day, 9, tzinfo=UTC), "email", csat=v)
    finally:
        rt.close()

    out = runner.invoke(
        app, ["surveys", "metrics", "-w", ws_id, "--metric", "csat", "--period", "jalali_month"]
    )
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    # 10 Oct 2026 is 18 Mehr 1405 and 30 Oct 2026 is 8 Aban 1405.
    assert lines[0].startswith("all\t1405-07\tn=6  mean=2.667")
    assert lines[1].startswith("all\t1405-08\tn=6  mean=4.667")
    assert "top2_pct=33.33" in lines[0] and "top2_pct=100.0" in lines[1]
    # top-2-box 2/6 -> 6/6: pooled p = 8/12, z = 2.449, p = 0.0143
    assert lines[-1] == (
        "change 1405-07 -> 1405-08: 66.67 (two-proportion z (top-2-box), p=0.01431, significant)"
    )
    bad = runner.invoke(app, ["surveys", "metrics", "-w", ws_id, "--metric", "wow"])
    assert bad.exit_code == 2 and "metric: use one of" in bad.output

    target = tmp_path / "out.parquet"
    out = runner.invoke(
        app, ["surveys", "export", "-w", ws_id, "--survey", survey_id, "--out", str(target)]
    )
    assert out.exit_code == 0, out.output
    assert pq.read_table(target).num_rows == 12
