"""The demo: a deterministic generator, an idempotent loader, real-data mode, the CLI."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safar.app import create_app
from safar.cli import app as cli
from safar.config import Settings
from safar.demo.generator import generate
from safar.demo.loader import load_demo
from safar.demo.texts import FEEDBACK, sentence_count
from safar.events.channels import CHANNELS
from safar.identity.models import Group, GroupMember, Identity, Merge
from safar.runtime import Runtime

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def test_generator_is_deterministic_per_seed() -> None:
    a = generate(7, 40, NOW)
    assert a.messages == generate(7, 40, NOW).messages
    other = generate(8, 40, NOW)
    assert [m["messageId"] for m in a.messages] != [m["messageId"] for m in other.messages]
    # A customer is the same whatever the number of customers generated.
    small = generate(7, 10, NOW)

    def of(data: list[dict[str, object]], who: str) -> list[dict[str, object]]:
        return [m for m in data if str(m["messageId"]).startswith(f"demo-7-{who}-")]

    assert of(small.messages, "c3") == of(a.messages, "c3") != []
    assert len({m["messageId"] for m in a.messages}) == len(a.messages)


def test_feedback_is_bilingual_varied_and_follows_what_happened() -> None:
    assert sentence_count() >= 300
    assert set(FEEDBACK) == {"fa", "en"}
    data = generate(7, 300, NOW)
    late: dict[str, bool] = {}
    ratings: list[tuple[str, int]] = []
    texts: dict[str, set[str]] = defaultdict(set)
    for m in data.messages:
        props = m.get("properties") or {}
        assert isinstance(props, dict)
        if m.get("event") == "Order Delivered":
            late[props["order_id"]] = props["late"]
        if m.get("event") == "Review Submitted":
            ratings.append((props["order_id"], props["rating"]))
            texts[props["language"]].add(props["text"])
    on_time = [r for o, r in ratings if not late[o]]
    delayed = [r for o, r in ratings if late[o]]
    assert sum(delayed) / len(delayed) + 1.5 < sum(on_time) / len(on_time)
    assert len(texts["fa"]) > 100 and len(texts["en"]) > 50
    assert any(re.search("[\u0600-\u06ff]", t) for t in texts["fa"])


def _when(m: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(m["timestamp"]))


def test_generated_events_end_minutes_before_now() -> None:
    # Months of history, nothing in the future, the newest a few minutes old.
    times = sorted(_when(m) for m in generate(7, 40, NOW).messages)
    assert times[-1] <= NOW and times[-1] >= NOW - timedelta(minutes=10)
    assert times[0] <= NOW - timedelta(days=120)
    assert sum(t >= NOW - timedelta(days=1) for t in times) >= 2
    assert sum(t >= NOW - timedelta(days=30) for t in times) > len(times) // 10
    # Another "now" moves the whole story with it.
    later = NOW + timedelta(days=45)
    assert max(_when(m) for m in generate(7, 40, later).messages) >= later - timedelta(minutes=10)


def test_survey_asks_follow_the_story_and_stay_in_the_past() -> None:
    data = generate(7, 200, NOW)
    # Survey answers are no longer raw events: the loader sends them through Safar's surveys.
    assert not any(m.get("event") in ("survey_answered", "Survey Sent") for m in data.messages)
    asks = data.asks
    assert {a.survey for a in asks} == {"nps", "delivery", "support", "store"}
    answered = [a for a in asks if a.answered is not None]
    assert 0.3 < len(answered) / len(asks) < 0.8
    nps = [a.scores["nps"] for a in answered if "nps" in a.scores]
    csat = [a.scores["csat"] for a in answered if "csat" in a.scores]
    assert len(nps) > 20 and len(csat) > 20 and len(set(nps)) > 5
    assert all(0 <= v <= 10 for v in nps) and all(1 <= v <= 5 for v in csat)
    assert all(a.sent <= (a.answered or a.sent) <= NOW for a in asks)
    # Late deliveries are rated lower than the others.
    late = {m["messageId"] for m in data.messages if (m.get("properties") or {}).get("late")}
    rated = [(a.trigger_message_id in late, a.scores["csat"]) for a in answered
             if a.survey == "delivery"]  # fmt: skip
    low = [c for is_late, c in rated if is_late]
    high = [c for is_late, c in rated if not is_late]
    assert low and sum(low) / len(low) + 1 < sum(high) / len(high)


@pytest.fixture
def demo_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "safar")


async def test_load_is_complete_and_idempotent(demo_settings: Settings) -> None:
    first = load_demo(demo_settings, customers=80, seed=3, now=NOW)
    assert first.stored == first.events > 2000 and first.duplicates == 0
    assert first.surveys.invitations == first.asks > 50 and first.surveys.surveys == 4
    again = load_demo(demo_settings, customers=80, seed=3, now=NOW)
    assert (again.workspace_id, again.secret_key) == (first.workspace_id, first.secret_key)
    assert (again.stored, again.duplicates) == (0, first.events)
    assert again.profile_id == first.profile_id
    made = again.surveys
    assert (made.surveys, made.triggers, made.invitations, made.responses) == (0, 0, 0, 0)

    runtime = Runtime(demo_settings)
    try:
        ws = first.workspace_id
        assert runtime.store.count(ws) == first.events + first.surveys.events
        # Every channel a customer can come through is present.
        assert set(runtime.store.channel_counts(ws)) >= set(CHANNELS) - {"other"}
        with runtime.db.session() as session:
            # Anonymous visits were merged into the signed-in customers' profiles.
            kinds: dict[str, list[str]] = defaultdict(list)
            for pid, kind in session.execute(
                select(Identity.profile_id, Identity.type).where(Identity.workspace_id == ws)
            ):
                kinds[pid].append(kind)
            merged = [
                k
                for k in kinds.values()
                if k.count("user_id") == 1 and k.count("anonymous_id") >= 1
            ]
            assert len(merged) >= 60
            # The app sessions' anonymous profiles were merged in on login, with a record.
            merges = session.scalars(select(Merge).where(Merge.workspace_id == ws)).all()
            assert len(merges) >= 20 and {m.cause for m in merges} >= {"identify"}
            households = session.scalars(
                select(Group).where(Group.workspace_id == ws, Group.type == "household")
            ).all()
            assert len(households) == first.households >= 5
            roles = set(
                session.scalars(select(GroupMember.role).where(GroupMember.workspace_id == ws))
            )
            assert {"head", "spouse"} <= roles
        # What `safar demo` prints works: the showcase timeline with the printed secret key.
        text = first.describe("http://127.0.0.1:8000")
        assert "http://127.0.0.1:8000/docs" in text and first.secret_key in text
        assert f"/api/profiles/{first.profile_id}/timeline" in text
        app = create_app(runtime=runtime)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://demo.test"
        ) as client:
            res = await client.get(
                f"/api/profiles/{first.profile_id}/timeline",
                params={"limit": 500},
                headers={"Authorization": f"Bearer {first.secret_key}"},
            )
        assert res.status_code == 200, res.text
        channels = {e["channel"] for e in res.json()["events"]}
        assert len(channels) >= 5
    finally:
        runtime.close()
    dashboard = importlib.util.find_spec("safar.auth") is not None
    assert (first.login is not None) == dashboard
    if not dashboard:
        assert "not installed" in text


def _stored(settings: Settings, workspace_id: str) -> list[tuple[object, ...]]:
    """The story's events, and the survey answers without the ids the surveys domain draws."""
    runtime = Runtime(settings, ingest=False)
    try:
        _, rows = runtime.store.query(
            "SELECT CASE WHEN source = 'surveys' THEN '' ELSE message_id END, type, event, "
            "channel, user_id, anonymous_id, timestamp, CASE WHEN source = 'surveys' THEN "
            "concat_ws('|', properties->>'nps', properties->>'csat', properties->>'ces', "
            "properties->>'text') ELSE CAST(properties AS VARCHAR) END AS p "
            "FROM events WHERE workspace_id = $ws ORDER BY 1, timestamp, user_id, p",
            {"ws": workspace_id},
        )
    finally:
        runtime.close()
    return [tuple(r) for r in rows]


def test_loaded_demo_is_relative_to_now_and_reproducible(tmp_path: Path) -> None:
    one, two = Settings(data_dir=tmp_path / "one"), Settings(data_dir=tmp_path / "two")
    info = load_demo(one, customers=30, seed=5, now=NOW)
    rows = _stored(one, info.workspace_id)
    assert len(rows) == info.events + info.surveys.events > 500
    times = [r[6] for r in rows]
    assert all(isinstance(t, datetime) for t in times)
    assert max(times) <= NOW and max(times) >= NOW - timedelta(minutes=10)
    assert any(t >= NOW - timedelta(days=1) for t in times)
    assert sum(t >= NOW - timedelta(days=30) for t in times) > len(times) // 10
    # The same seed and "now" store the same rows; a later run keeps the first run's "now".
    assert _stored(two, load_demo(two, customers=30, seed=5, now=NOW).workspace_id) == rows
    again = load_demo(one, customers=30, seed=5, now=NOW + timedelta(days=3))
    assert (again.stored, again.duplicates) == (0, info.events)


def test_a_future_anchor_is_replaced_by_now() -> None:
    from safar.demo.loader import _anchor

    earlier = NOW - timedelta(days=2)
    assert _anchor({"anchor": earlier.isoformat()}, NOW) == earlier
    assert _anchor({"anchor": (NOW + timedelta(hours=5)).isoformat()}, NOW) == NOW
    assert _anchor({"anchor": "2026-06-01T00:00:00"}, NOW) == NOW  # naive: not comparable
    assert _anchor({}, NOW) == NOW


async def test_default_key_drivers_find_the_demo_nps(demo_settings: Settings) -> None:
    # The journeys page's default box asks for survey_answered.nps: the demo answers it.
    info = load_demo(demo_settings, customers=150, seed=2, now=NOW)
    runtime = Runtime(demo_settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(runtime=runtime)),
            base_url="http://demo.test",
        ) as client:
            res = await client.post(
                "/api/journeys/drivers",
                json={"target_event": "survey_answered", "target_property": "nps"},
                headers={"Authorization": f"Bearer {info.secret_key}"},
            )
    finally:
        runtime.close()
    assert res.status_code == 200, res.text
    assert res.json()["rows"] >= 40 and res.json()["drivers"], res.json()


def _shared_data() -> Path | None:
    raw = os.environ.get("SAFAR_SHARED_DATA_DIR") or (
        "/work/shared/data" if Path("/work/shared/data").exists() else ""
    )
    return Path(raw) if raw and Path(raw).is_dir() else None


def test_real_data_mode(demo_settings: Settings) -> None:
    folder = _shared_data()
    if folder is None:
        pytest.skip("no shared data folder (set SAFAR_SHARED_DATA_DIR)")
    info = load_demo(demo_settings, customers=25, seed=1, real_data=folder)
    assert info.stored == info.events > 100
    assert len(info.sources) == 3 and info.profile_id
    assert {"social", "app", "web", "email"} <= set(info.channels)
    again = load_demo(demo_settings, customers=25, seed=1, real_data=folder)
    assert again.stored == 0 and again.workspace_id == info.workspace_id
    runtime = Runtime(demo_settings, ingest=False)
    try:
        _, rows = runtime.store.query(
            "SELECT properties->>'text' FROM events WHERE workspace_id = $ws "
            "AND event = 'Review Submitted' AND properties->>'language' = 'fa'",
            {"ws": info.workspace_id},
        )
        assert rows and all(re.search("[\u0600-\u06ff]", r[0]) for r in rows)
    finally:
        runtime.close()


def test_real_data_folder_errors_are_clear(demo_settings: Settings, tmp_path: Path) -> None:
    from safar.errors import NotFound

    with pytest.raises(NotFound, match="none of"):
        load_demo(demo_settings, customers=5, real_data=tmp_path)
    with pytest.raises(NotFound, match="not a folder"):
        load_demo(demo_settings, customers=5, real_data=tmp_path / "missing")


def test_cli_demo_no_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--customers", "15"])
    assert result.exit_code == 0, result.output
    assert "/docs" in result.stdout and "/timeline" in result.stdout


def test_cli_demo_port_reaches_the_printed_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--no-serve", "--customers", "15", "--port", "8010"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8010/docs" in result.stdout and ":8000" not in result.stdout


def test_make_demo_passes_its_port() -> None:
    """``make demo PORT=N`` hands N to ``safar demo``; without it the settings decide."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "PORT"}

    def commands(*extra: str) -> list[str]:
        dry = ["make", "-n", "-C", str(root), "demo", "VENV=/nonexistent-venv", *extra]
        done = subprocess.run(dry, capture_output=True, text=True, check=True, env=env)
        return [line.strip() for line in done.stdout.splitlines()]

    assert "/nonexistent-venv/bin/safar demo --port 8010" in commands("PORT=8010")
    assert "/nonexistent-venv/bin/safar demo" in commands()
