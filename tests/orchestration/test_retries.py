"""Channel failures: retried with backoff and delivered exactly once, dead-lettered after five
attempts and re-queued by ``safar jobs retry``, or ``uncertain`` (never resent) when the request
went out and no answer came. A real local HTTP server plays the receiving end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safar.cli import app
from safar.config import Settings
from safar.errors import Conflict
from safar.orchestration import service as orch
from safar.orchestration.channels import WebhookChannel
from safar.orchestration.models import ContactLog
from safar.orchestration.webhooks import verify_signature
from safar.runtime import Runtime
from safar.surveys.models import Invitation
from tests.orchestration.factories import (
    HttpServer,
    ManualClock,
    Reply,
    enqueue,
    http_server,
    job_rows,
)
from tests.surveys.factories import customer, make_survey

SECRET = "whsec-test-0123456789"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def webhook_job(rt: Runtime, ws_id: str, hook: HttpServer, key: str, timeout: float = 5.0) -> int:
    rt.scheduler.channels["webhook"] = WebhookChannel(SECRET, client=httpx.Client(timeout=timeout))
    survey_id = make_survey(rt, ws_id, "csat")
    customer(rt, ws_id, "u1", email="u1@example.com")
    params = {"survey_id": survey_id, "url": hook.url + "/hooks/safar"}
    return enqueue(rt, ws_id, key, channel="webhook", params=params, user_id="u1")


def contacts(rt: Runtime) -> list[str]:
    with rt.db.session() as s:
        return list(s.scalars(select(ContactLog.status).order_by(ContactLog.id)))


def test_a_retryable_failure_is_retried_then_delivered_exactly_once(
    rt: Runtime, ws_id: str
) -> None:
    clock = rt.scheduler.clock = ManualClock(T0)
    busy = Reply(503, {"error": "busy"}, {"Retry-After": "7"})
    with http_server(busy, Reply(500, {"error": "oops"})) as hook:
        webhook_job(rt, ws_id, hook, "flow:r:1")
        rt.scheduler.run_due()
        job = job_rows(rt)[0]
        assert (job.status, job.reason) == ("pending", "error")
        assert job.due_at == T0 + timedelta(seconds=7)  # the receiver's Retry-After
        assert job.outcome == "webhook: gateway answered HTTP 503; attempt 1 of 5, next in 7 s"
        clock.advance(6)
        assert rt.scheduler.run_due() == 0  # not before the receiver asked
        clock.advance(1)
        rt.scheduler.run_due()
        job = job_rows(rt)[0]
        assert job.status == "pending" and job.due_at == clock.at + timedelta(seconds=60)
        clock.advance(60)
        rt.scheduler.run_due()
        assert [(j.status, j.reason, j.outcome) for j in job_rows(rt)] == [("done", None, "sent")]
        clock.advance(3600)
        assert rt.scheduler.run_due() == 0
        assert len(hook.received) == 3
    keys = {r["headers"]["safar-idempotency-key"] for r in hook.received}
    assert keys == {"flow:r:1"}  # the receiver can tell the three attempts are one message
    assert len({r["raw"] for r in hook.received}) == 1  # the same invitation each time
    assert all(
        verify_signature(SECRET, r["headers"]["safar-signature"], r["raw"]) for r in hook.received
    )
    assert contacts(rt) == ["failed", "failed", "sent"]  # only the delivery counts
    with rt.db.session() as s:
        invitations = list(s.scalars(select(Invitation)))
    assert len(invitations) == 1 and invitations[0].status == "sent"


def test_five_failures_dead_letter_the_job_and_safar_jobs_retry_delivers_it(
    rt: Runtime, ws_id: str, svy_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = rt.scheduler.clock = ManualClock(T0)
    with http_server(*[Reply(502, {})] * 5) as hook:
        job_id = webhook_job(rt, ws_id, hook, "flow:d:1")
        for _ in range(5):
            rt.scheduler.run_due()
            clock.advance(3600)
        assert rt.scheduler.run_due() == 0
        job = job_rows(rt)[0]
        assert (job.status, job.reason, job.attempts) == ("failed", "error", 5)
        assert job.outcome == "webhook: gateway answered HTTP 502; gave up after 5 attempts"
        assert len(hook.received) == 5

        monkeypatch.setenv("SAFAR_DATA_DIR", str(svy_settings.data_dir))
        if svy_settings.state_url:
            monkeypatch.setenv("SAFAR_STATE_URL", svy_settings.state_url)
        runner = CliRunner()
        listed = runner.invoke(app, ["jobs", "list", "--status", "failed"])
        assert listed.exit_code == 0, listed.output
        assert listed.output.startswith(f"{job_id}\t{ws_id}\tfailed\terror\twebhook\t5\tflow:d:1")
        out = runner.invoke(app, ["jobs", "retry", str(job_id)])
        assert out.exit_code == 0 and out.output.strip() == f"job {job_id} queued again"
        again = runner.invoke(app, ["jobs", "retry", str(job_id)])
        assert again.exit_code == 2 and "only failed jobs can be retried" in again.output
        bad = runner.invoke(app, ["jobs", "list", "--status", "lost"])
        assert bad.exit_code == 2 and "status: use one of" in bad.output

        clock.at = datetime.now(UTC) + timedelta(seconds=1)  # the CLI queued it for now
        assert rt.scheduler.run_due() == 1
        assert len(hook.received) == 6
    assert [(j.status, j.outcome) for j in job_rows(rt)] == [("done", "sent")]
    assert contacts(rt) == ["failed"] * 5 + ["sent"]


def test_a_timeout_after_the_request_was_sent_is_uncertain_and_never_resent(
    rt: Runtime, ws_id: str, tmp_path: Path
) -> None:
    clock = rt.scheduler.clock = ManualClock(T0)
    with http_server(Reply(200, delay_s=1.5)) as hook:
        job_id = webhook_job(rt, ws_id, hook, "flow:t:1", timeout=0.3)
        rt.scheduler.run_due()
        job = job_rows(rt)[0]
        assert (job.status, job.reason) == ("uncertain", "error")
        assert "ReadTimeout" in (job.outcome or "") and "not resent" in (job.outcome or "")
        clock.advance(86400)
        rt.scheduler.recover()
        assert rt.scheduler.run_due() == 0
        with rt.db.session() as s, pytest.raises(Conflict, match="never resent"):
            orch.retry_job(s, job_id=job_id, now=clock.at)
        assert len(hook.received) == 1
    assert contacts(rt) == ["sending"]  # it may have reached them: it keeps counting
