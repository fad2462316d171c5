"""The demo's surveys: seeded through Safar's surveys domain, as in production."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from safar.config import Settings
from safar.demo.generator import generate
from safar.demo.loader import DemoInfo, load_demo
from safar.demo.surveys import DEMO_SURVEYS
from safar.flows import service as flows
from safar.orchestration import service as orchestration
from safar.runtime import Runtime
from safar.surveys import service as surveys

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
EVERYTHING = surveys.DayRange(date(2000, 1, 1), date(2100, 1, 1))


def _nps(scores: list[int]) -> float:
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return round(100 * (promoters - detractors) / len(scores), 2)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str, DemoInfo]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("demo")) / "safar")
    info = load_demo(settings, customers=120, seed=4, now=NOW)
    return settings, info.workspace_id, info


def test_surveys_have_the_storys_invitations_and_answers(
    loaded: tuple[Settings, str, DemoInfo],
) -> None:
    settings, ws, info = loaded
    asks = generate(4, 120, NOW).asks
    runtime = Runtime(settings, ingest=False)
    try:
        with runtime.db.session() as s:
            made = surveys.list_surveys(s, workspace_id=ws)
            assert sorted(x.name for x in made) == sorted(x.name for x in DEMO_SURVEYS.values())
            responses = surveys.list_responses(s, workspace_id=ws, limit=100_000)
            assert len(responses) == sum(a.answered is not None for a in asks) > 40
            assert all(r.complete and r.updated_at <= NOW for r in responses)
            # The NPS the surveys domain computes is the story's.
            k = surveys.kpis(s, workspace_id=ws, current=EVERYTHING, previous=None)
            story = [a.scores["nps"] for a in asks if "nps" in a.scores]
            assert k["nps"]["current"]["n"] == len(story)
            assert k["nps"]["current"]["score"] == pytest.approx(_nps(story), abs=0.01)
            assert k["csat"]["current"]["n"] > 20 and k["ces"]["current"]["n"] > 5
            rate = k["response_rate"]["current"]
            assert rate["sent"] == len(asks) and rate["completed"] == len(responses)
            # The overview compares the last 30 days with the 30 before: both have answers.
            today = NOW.date()
            last = surveys.DayRange(today - timedelta(days=29), today)
            before = surveys.DayRange(today - timedelta(days=59), today - timedelta(days=30))
            k = surveys.kpis(s, workspace_id=ws, current=last, previous=before)
            assert k["nps"]["current"]["n"] > 5 and k["nps"]["previous"]["n"] > 5
            # Triggers invite from now on (new deliveries, tickets, store visits).
            events = {t.event for t in orchestration.list_triggers(s, workspace_id=ws)}
            assert events == {"Order Delivered", "Ticket Resolved", "Store Visit"}
        # The domain wrote the answers' events, none after now, with the comments.
        _, rows = runtime.store.query(
            "SELECT count(*), max(timestamp), count(properties->>'text') FROM events "
            "WHERE workspace_id = $ws AND event = 'survey_answered' AND source = 'surveys'",
            {"ws": ws},
        )
        count, newest, texts = rows[0]
        assert count == info.surveys.events >= len(responses)
        assert newest <= NOW and texts > 20
    finally:
        runtime.close()


def test_a_second_load_adds_no_survey_data(loaded: tuple[Settings, str, DemoInfo]) -> None:
    settings, ws, first = loaded
    again = load_demo(settings, customers=120, seed=4, now=NOW + timedelta(hours=5))
    assert (again.surveys.invitations, again.surveys.responses, again.surveys.events) == (0, 0, 0)
    runtime = Runtime(settings, ingest=False)
    try:
        with runtime.db.session() as s:
            assert len(surveys.list_surveys(s, workspace_id=ws)) == len(DEMO_SURVEYS)
            assert len(orchestration.list_triggers(s, workspace_id=ws)) == 3
            n = len(surveys.list_responses(s, workspace_id=ws, limit=100_000))
            assert n == first.surveys.responses
    finally:
        runtime.close()


def test_detractor_recovery_enters_yesterdays_detractors(
    loaded: tuple[Settings, str, DemoInfo],
) -> None:
    settings, ws, _ = loaded
    recent = {
        a.user_id
        for a in generate(4, 120, NOW).asks
        if a.answered and a.scores.get("nps", 10) <= 6 and NOW - a.answered < timedelta(hours=47)
    }
    assert recent
    runtime = Runtime(settings, ingest=False)
    try:
        with runtime.db.session() as s:
            flow = next(
                f for f in flows.list_flows(s, workspace_id=ws) if f.trigger_type == "survey"
            )
            entered = flows.instances(s, workspace_id=ws, flow_id=flow.id, limit=1000)
            assert len({i.profile_id for i in entered}) == len(recent)
    finally:
        runtime.close()
