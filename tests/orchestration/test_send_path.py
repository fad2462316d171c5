"""One send path for surveys and journeys: the shared contact budget (Iran's Saturday week),
quiet hours in the customer's own zone, per-channel rate limits, and a reason for every skip
and hold. Real SQLite/DuckDB, a real SMTP server, the real app over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.config import Settings
from safar.errors import ValidationFailed
from safar.orchestration import service as orch
from safar.orchestration.channels import TelegramChannel
from safar.orchestration.limits import ContactBudget, Guards, RateLimiter
from safar.orchestration.policy import REASONS, SendPolicy
from safar.orchestration.scheduler import Scheduler
from safar.orchestration.schemas import TriggerUpdate
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.orchestration.factories import (
    ManualClock,
    Reply,
    SmtpServer,
    enqueue,
    http_server,
    job_rows,
    profile,
)
from tests.surveys.factories import customer, make_survey, make_trigger, send_event

# Friday 4 December 2026, 23:00 in Tehran; Saturday 5 December, 08:00 in Tehran.
FRIDAY_NIGHT = datetime(2026, 12, 4, 19, 30, tzinfo=UTC)
SATURDAY_MORNING = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)


@pytest.fixture
async def api(rt: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], str]]:
    with rt.db.session() as s:
        ws, _, secret = create_workspace(s, name="Journeys")
        ws_id = ws.id
    transport = httpx.ASGITransport(app=create_app(runtime=rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c, {"Authorization": f"Bearer {secret}"}, ws_id


def budget(text: str) -> Guards:
    return Guards(timezone="Asia/Tehran", budget=ContactBudget.parse(text))


async def test_one_budget_for_a_survey_trigger_and_a_journey_message(
    rt: Runtime, api: tuple[httpx.AsyncClient, dict[str, str], str], smtp: SmtpServer
) -> None:
    c, auth, ws_id = api
    rt.scheduler.guards = budget("1/week")
    survey_id = make_survey(rt, ws_id, "csat")
    make_trigger(rt, ws_id, survey_id, fatigue_days=0)
    customer(rt, ws_id, "u1", email="u1@example.com")
    send_event(rt, ws_id, type="track", event="order_delivered", userId="u1")
    assert rt.scheduler.run_due() == 1
    assert len(smtp.mailbox.wait(1)) == 1  # the survey used this week's one message

    pid = profile(rt, ws_id, "u1")
    params = {"survey_id": survey_id}
    first = enqueue(rt, ws_id, "flow:f1:welcome", params=params, profile_id=pid)
    # The same idempotency key is the same job, however often a journey asks.
    assert enqueue(rt, ws_id, "flow:f1:welcome", params=params, profile_id=pid) == first
    receipt = SendPolicy(topic="orders", transactional=True)
    enqueue(rt, ws_id, "flow:f1:receipt", params=params, profile_id=pid, policy=receipt)
    assert rt.scheduler.run_due() == 2
    assert len(smtp.mailbox.wait(2)) == 2  # only the transactional one went out
    flow_jobs = job_rows(rt)[1:]
    assert [(j.status, j.reason) for j in flow_jobs] == [("skipped", "cap"), ("done", None)]
    assert flow_jobs[0].outcome == "cap: 1 messages this week (budget 1/week)"
    assert flow_jobs[0].profile_id == pid and flow_jobs[0].kind == "message"
    with rt.db.session() as s:
        counts = orch.outcome_counts(s, ws_id, key_prefix="flow:f1:")
        assert counts == {("skipped", "cap"): 1, ("done", None): 1}
        assert orch.outcome_counts(s, ws_id) == {("skipped", "cap"): 1, ("done", None): 2}

    r = await c.get("/api/jobs", params={"reason": "cap"}, headers=auth)
    assert r.status_code == 200
    assert [(j["dedupe_key"], j["reason"]) for j in r.json()] == [("flow:f1:welcome", "cap")]
    r = await c.get("/api/jobs", params={"reason": "tired"}, headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "reason"


def test_the_week_starts_on_saturday_in_tehran(rt: Runtime, ws_id: str, smtp: SmtpServer) -> None:
    rt.scheduler.guards = budget("1/week")
    clock = rt.scheduler.clock = ManualClock(FRIDAY_NIGHT)
    survey_id = make_survey(rt, ws_id, "csat")
    params = {"survey_id": survey_id}
    customer(rt, ws_id, "tehran", email="t@example.com")
    customer(rt, ws_id, "berlin", email="b@example.com", timezone="Europe/Berlin")
    for user in ("tehran", "berlin"):
        pid = profile(rt, ws_id, user)
        enqueue(rt, ws_id, f"flow:w:{user}:1", params=params, profile_id=pid)
        enqueue(rt, ws_id, f"flow:w:{user}:2", params=params, profile_id=pid)
    rt.scheduler.run_due()
    assert [(j.status, j.reason) for j in job_rows(rt)] == [
        ("done", None),
        ("skipped", "cap"),  # Friday night still belongs to the week that began on Saturday
        ("done", None),
        ("skipped", "cap"),
    ]
    clock.at = SATURDAY_MORNING
    for user in ("tehran", "berlin"):
        enqueue(rt, ws_id, f"flow:w:{user}:3", params=params, profile_id=profile(rt, ws_id, user))
    rt.scheduler.run_due()
    # A new week in Tehran; in Berlin (weeks start on Monday) it is still the same one.
    assert [(j.status, j.reason) for j in job_rows(rt)[4:]] == [("done", None), ("skipped", "cap")]
    assert sorted(m["To"] for m in smtp.mailbox.wait(3)) == [
        "b@example.com",
        "t@example.com",
        "t@example.com",
    ]


def test_quiet_hours_hold_in_the_customers_zone_and_deliver_at_their_end(
    rt: Runtime, ws_id: str, smtp: SmtpServer
) -> None:
    # 02:00 UTC: 05:30 in Tehran (quiet), 21:00 the evening before in New York (fine).
    clock = rt.scheduler.clock = ManualClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    survey_id = make_survey(rt, ws_id, "nps")
    customer(rt, ws_id, "ny", email="ny@example.com", timezone="America/New_York")
    customer(rt, ws_id, "thr", email="thr@example.com", timezone="Not/AZone")  # falls back
    policy = SendPolicy(quiet_start=22, quiet_end=8, timezone="Asia/Tehran")
    for user in ("ny", "thr"):
        enqueue(
            rt,
            ws_id,
            f"flow:q:{user}",
            params={"survey_id": survey_id},
            profile_id=profile(rt, ws_id, user),
            policy=policy,
        )
    assert rt.scheduler.run_due() == 2
    assert [m["To"] for m in smtp.mailbox.wait(1)] == ["ny@example.com"]
    held = job_rows(rt)[1]
    assert (held.status, held.reason) == ("pending", "quiet_hours")
    assert held.due_at == datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 08:00 in Tehran
    assert "quiet hours in Asia/Tehran" in (held.outcome or "")
    assert held.attempts == 0  # a hold is not an attempt
    clock.advance(60 * 60)
    assert rt.scheduler.run_due() == 0  # still night in Tehran: not due
    clock.at = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    assert rt.scheduler.run_due() == 1
    assert [m["To"] for m in smtp.mailbox.wait(2)] == ["ny@example.com", "thr@example.com"]
    done = job_rows(rt)[1]
    assert (done.status, done.reason) == ("done", None)
    assert [h["reason"] for h in done.result["holds"]] == ["quiet_hours"]  # the hold is kept


def test_a_rate_limit_holds_and_never_drops(rt: Runtime, ws_id: str, smtp: SmtpServer) -> None:
    clock = rt.scheduler.clock = ManualClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    rt.scheduler.guards = Guards(limiter=RateLimiter({"email": 2.0}))
    survey_id = make_survey(rt, ws_id, "csat")
    for i in range(5):
        customer(rt, ws_id, f"r{i}", email=f"r{i}@example.com")
        enqueue(rt, ws_id, f"flow:r:{i}", params={"survey_id": survey_id}, user_id=f"r{i}")
    rt.scheduler.run_due()
    assert len(smtp.mailbox.wait(2)) == 2
    rows = job_rows(rt)
    assert [(j.status, j.reason) for j in rows] == [("done", None)] * 2 + [
        ("pending", "rate_limit")
    ] * 3
    # Spread over the coming slots at the channel's rate (2/s), one each half second.
    assert [j.due_at - clock.at for j in rows[2:]] == [timedelta(seconds=s) for s in (0.5, 1, 1.5)]
    clock.advance(0.5)
    rt.scheduler.run_due()  # half a second buys one message at 2/s
    assert len(smtp.mailbox.wait(3)) == 3
    clock.advance(1.0)
    rt.scheduler.run_due()
    assert sorted(m["To"] for m in smtp.mailbox.wait(5)) == [f"r{i}@example.com" for i in range(5)]
    assert [j.status for j in job_rows(rt)] == ["done"] * 5
    assert rt.scheduler.run_due() == 0 and len(smtp.mailbox.messages) == 5


def test_every_skip_names_its_reason(rt: Runtime, ws_id: str, smtp: SmtpServer) -> None:
    survey_id = make_survey(rt, ws_id, "csat")
    params = {"survey_id": survey_id}
    customer(rt, ws_id, "ok", email="ok@example.com")
    customer(rt, ws_id, "nomail")
    pid = profile(rt, ws_id, "ok")
    consent = SendPolicy(consent_purpose="marketing", require_consent=True)
    enqueue(rt, ws_id, "flow:s:consent", params=params, profile_id=pid, policy=consent)
    enqueue(rt, ws_id, "flow:s:address", params=params, user_id="nomail")
    enqueue(rt, ws_id, "flow:s:nobody", params=params, user_id="ghost")
    enqueue(rt, ws_id, "flow:s:archived", params={"survey_id": "svy_gone"}, profile_id=pid)
    enqueue(rt, ws_id, "flow:s:sms", params=params, profile_id=pid, channel="telegram")
    tired = SendPolicy(topic="news", fatigue_days=7)
    enqueue(rt, ws_id, "flow:s:first", params=params, profile_id=pid, policy=tired)
    enqueue(rt, ws_id, "flow:s:again", params=params, profile_id=pid, policy=tired)
    paused = make_trigger(rt, ws_id, survey_id, fatigue_days=0)
    send_event(rt, ws_id, type="track", event="order_delivered", userId="ok")
    with rt.db.session() as s:
        orch.update_trigger(
            s, workspace_id=ws_id, trigger_id=paused, data=TriggerUpdate(active=False)
        )
    rt.scheduler.run_due()
    got = {j.dedupe_key: (j.status, j.reason) for j in job_rows(rt)}
    assert got == {
        "flow:s:consent": ("skipped", "consent"),
        "flow:s:address": ("skipped", "missing_address"),
        "flow:s:nobody": ("skipped", "missing_address"),
        "flow:s:archived": ("skipped", "paused"),
        "flow:s:sms": ("skipped", "error"),  # no Telegram bot configured
        "flow:s:first": ("done", None),
        "flow:s:again": ("skipped", "fatigue"),
        next(k for k in got if not k.startswith("flow:")): ("skipped", "paused"),
    }
    assert all(j.outcome for j in job_rows(rt))
    assert {r for _, r in got.values() if r} <= set(REASONS)


def test_guards_come_from_settings() -> None:
    guards = Guards.from_settings(
        Settings(contact_budget="3/week", rate_limits="sms=20/s,email=50/s,telegram=30/min")
    )
    assert guards.budget == ContactBudget(3, "week") and str(guards.budget) == "3/week"
    assert guards.limiter.rates == {"sms": 20.0, "email": 50.0, "telegram": 0.5}
    assert Guards.from_settings(Settings(contact_budget="")).budget is None
    shops = Guards.from_settings(
        Settings(contact_budget="1/week", contact_budgets={"ws_big": "5/day", "ws_off": ""})
    )
    assert shops.budget_for("ws_big") == ContactBudget(5, "day")
    assert shops.budget_for("ws_off") is None
    assert shops.budget_for("ws_other") == ContactBudget(1, "week")
    with pytest.raises(ValidationFailed) as caught:
        Guards.from_settings(Settings(contact_budgets={"ws_x": "lots"}))
    assert caught.value.field == "contact_budget"
    for bad in ({"contact_budget": "3/fortnight"}, {"rate_limits": "sms=fast"}):
        with pytest.raises(ValueError):
            Settings(**bad)  # type: ignore[arg-type]


def test_telegram_messages_go_to_the_customers_chat(rt: Runtime, ws_id: str) -> None:
    ok = Reply(200, {"ok": True, "result": {"message_id": 7}})
    with http_server(ok, ok) as bot:
        cfg = Settings(telegram_bot_token="1:T", telegram_api_url=bot.url)
        rt.scheduler.channels["telegram"] = TelegramChannel.from_settings(cfg)
        survey_id = make_survey(rt, ws_id, "csat")
        customer(rt, ws_id, "chat", telegram_chat_id=555001)
        customer(rt, ws_id, "numeric", telegram="777002")
        customer(rt, ws_id, "handle", telegram="@Sara_A")
        for user in ("chat", "numeric", "handle"):
            enqueue(
                rt,
                ws_id,
                f"flow:tg:{user}",
                channel="telegram",
                params={"survey_id": survey_id},
                user_id=user,
            )
        rt.scheduler.run_due()
    assert sorted(json.loads(r["raw"])["chat_id"] for r in bot.received) == ["555001", "777002"]
    assert all("http://safar.test/s/" in json.loads(r["raw"])["text"] for r in bot.received)
    assert [(j.status, j.reason) for j in job_rows(rt)] == [
        ("done", None),
        ("done", None),
        ("skipped", "missing_address"),  # a @handle is no chat the bot can write to
    ]


class MeetsTheOther:
    """The survey action, made to wait in ``compose`` (after the budget check, before the
    contact is written) until the other scheduler gets there too, or a second passes: without
    the profile lock both would pass the check on the same count."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.entered = inner, 0
        self.met = threading.Condition()

    def validate(self, *args: Any, **kw: Any) -> None:
        self.inner.validate(*args, **kw)

    def compose(self, *args: Any, **kw: Any) -> Any:
        with self.met:
            self.entered += 1
            self.met.notify_all()
            self.met.wait_for(lambda: self.entered >= 2, timeout=1.0)
        return self.inner.compose(*args, **kw)

    def delivered(self, *args: Any, **kw: Any) -> None:
        self.inner.delivered(*args, **kw)


def test_racing_schedulers_never_overspend_the_budget(
    rt: Runtime, ws_id: str, smtp: SmtpServer
) -> None:
    actions = {"survey": MeetsTheOther(rt.scheduler.actions["survey"])}
    schedulers = [
        Scheduler(rt.db, channels=rt.scheduler.channels, actions=actions, guards=budget("1/week"))
        for _ in range(2)
    ]
    survey_id = make_survey(rt, ws_id, "csat")
    customer(rt, ws_id, "busy", email="busy@example.com")
    pid = profile(rt, ws_id, "busy")
    for i in range(2):
        enqueue(rt, ws_id, f"flow:race:{i}", params={"survey_id": survey_id}, profile_id=pid)
    barrier = threading.Barrier(2)

    def run(s: Scheduler) -> None:
        barrier.wait()
        s.run_due()

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((j.status, j.reason) for j in job_rows(rt)) == [
        ("done", None),
        ("skipped", "cap"),
    ]
    assert len(smtp.mailbox.wait(1)) == 1
