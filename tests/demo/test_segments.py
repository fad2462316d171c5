"""The demo's saved segments: made once, refreshed, and offered by the pages' filters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from safar.config import Settings
from safar.demo.loader import load_demo
from safar.demo.segments import DEMO_SEGMENTS
from safar.runtime import Runtime
from safar.segments import service

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def test_demo_segments_have_members_and_are_made_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_demo(settings, customers=120, now=NOW)
    assert set(first.segments) == {s["name"] for s in DEMO_SEGMENTS}
    # Each audience is real: some customers are in it and some are not.
    for name, n in first.segments.items():
        assert 0 < n < 130, (name, n)
    second = load_demo(settings, customers=120, now=NOW)
    assert second.segments == first.segments
    runtime = Runtime(settings, ingest=False)
    try:
        with runtime.db.session() as s:
            made = service.list_segments(s, workspace_id=first.workspace_id)
        assert sorted(g.name for g in made) == sorted(first.segments)
    finally:
        runtime.close()
