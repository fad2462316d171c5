"""Survey helpers: settings wired to local outbound servers, events through the one ingest
path, surveys and triggers made through the services, answers submitted step by step."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.orchestration import service as orch
from safar.orchestration.models import ScheduledJob
from safar.orchestration.schemas import TriggerCreate
from safar.runtime import Runtime
from safar.surveys import presets
from safar.surveys import service as svc
from safar.workspaces.service import create_workspace
from tests.installation import fresh_data_dir
from tests.orchestration.factories import Gateway, SmtpServer


def survey_settings(data_dir: Path, smtp: SmtpServer, gateway: Gateway, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_from": "surveys@shop.example",
        "sms_provider": "generic",
        "sms_url": gateway.url + "/send",
        "sms_api_key": "gw-key",
        "sms_sender": "3000",
        "secret_key": "test-secret-0123456789",
        "public_url": "http://safar.test",
        "scheduler_interval_s": 0.1,
    }
    values.update(extra)
    if "state_url" not in extra:
        fresh_data_dir(data_dir)
    return Settings(**values)


def stack_survey_settings(
    tmp_path: Path,
    smtp: SmtpServer,
    gateway: Gateway,
    stack: str,
    request: pytest.FixtureRequest,
) -> Settings:
    """Survey settings on either engine stack: SQLite + DuckDB, or PostgreSQL + chdb."""
    if stack == "duckdb-sqlite":
        return survey_settings(tmp_path / "safar", smtp, gateway)
    pg_url = request.getfixturevalue("pg_database")
    return survey_settings(
        tmp_path / "safar", smtp, gateway, state_url=pg_url, event_engine="clickhouse"
    )


def make_workspace_id(runtime: Runtime, name: str = "Shop") -> str:
    with runtime.db.session() as session:
        ws, _, _ = create_workspace(session, name=name)
        return ws.id


def send_event(runtime: Runtime, workspace_id: str, **msg: Any) -> dict[str, Any]:
    """Apply one Segment message through the one ingestion path; return its stored row."""
    msg.setdefault("messageId", "m-" + uuid.uuid4().hex)
    msg.setdefault("timestamp", datetime.now(UTC).isoformat())
    row = normalize(parse_message(msg), workspace_id=workspace_id, received_at=datetime.now(UTC))
    runtime.applier.apply([row])
    return row


def survey_events(runtime: Runtime, workspace_id: str) -> list[tuple[Any, ...]]:
    """(message_id, user_id, channel, properties) of stored ``survey_answered`` events."""
    cols = "message_id, user_id, channel, properties"
    if runtime.store.engine_name == "clickhouse":
        sql = (
            f"SELECT {cols} FROM safar.events WHERE workspace_id = {{ws:String}} "
            "AND event = 'survey_answered' ORDER BY message_id"
        )
    else:
        sql = (
            f"SELECT {cols} FROM events WHERE workspace_id = $ws "
            "AND event = 'survey_answered' ORDER BY message_id"
        )
    return list(runtime.store.query(sql, {"ws": workspace_id})[1])


def customer(
    runtime: Runtime, workspace_id: str, user_id: str, *, email: str | None = None, **traits: Any
) -> None:
    if email:
        traits["email"] = email
    send_event(runtime, workspace_id, type="identify", userId=user_id, traits=traits)


def make_survey(rt: Runtime, ws_id: str, template: str = "post_delivery") -> str:
    with rt.db.session() as s:
        return svc.create_survey(s, workspace_id=ws_id, data=presets.template(template)).id


def make_trigger(rt: Runtime, ws_id: str, survey_id: str, **kw: object) -> str:
    data = {
        "name": "after delivery",
        "event": "order_delivered",
        "action": "survey",
        "params": {"survey_id": survey_id},
        "channel": "email",
        "fatigue_days": 30,
        **kw,
    }
    with rt.db.session() as s:
        trigger = orch.create_trigger(s, workspace_id=ws_id, data=TriggerCreate(**data))  # type: ignore[arg-type]
        tid = trigger.id
    rt.trigger_hook.invalidate()
    return tid


def jobs(rt: Runtime) -> list[tuple[str, str | None]]:
    with rt.db.session() as s:
        return [
            (j.status, j.outcome) for j in s.scalars(select(ScheduledJob).order_by(ScheduledJob.id))
        ]


def answer(
    rt: Runtime, survey: object, ws_id: str, when: datetime, channel: str, **scores: int
) -> None:
    """Invite user ``u`` and submit one step with ``scores`` ({question id: value})."""
    with rt.db.session() as s:
        inv = svc.create_invitation(
            s,
            survey=survey,
            channel=channel,
            now=when,
            user_id="u",
            tz="Asia/Tehran",  # type: ignore[arg-type]
        )
        inv.status = "sent"
        opened = svc.Opened(inv, survey, svc.definition_of(survey), None)  # type: ignore[arg-type]
        result = svc.submit_step(
            s,
            opened=opened,
            raw={k: str(v) for k, v in scores.items()},
            step=0,
            now=when,
            tz="Asia/Tehran",
        )
        assert not result.errors
