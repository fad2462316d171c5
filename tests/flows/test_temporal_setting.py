"""``SAFAR_FLOWS_RUNTIME=temporal``: the installation runs journeys as Temporal workflows."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio", reason="temporalio not installed (the Temporal journey runtime)")

from safar.flows.runtime import ref_of
from safar.identity import service as identity
from safar.runtime import Runtime
from tests.flows.factories import Clock, acted_keys, event, publish, welcome_flow
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import make_workspace_id, survey_settings


def test_the_setting_runs_an_api_entry_on_temporal_and_the_sms_goes_out(
    tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway, clock: Clock, temporal_address: str
) -> None:
    settings = survey_settings(
        tmp_path / "t",
        smtp,
        sms_gateway,
        text_analysis=False,
        flows_runtime="temporal",
        temporal_address=temporal_address,
        temporal_task_queue=f"safar-test-{uuid.uuid4().hex[:8]}",
    )
    rt = Runtime(settings, background=False, clock=clock)
    try:
        assert rt.flows.temporal is not None
        ws = make_workspace_id(rt)
        event(rt, ws, clock, type="identify", userId="u1", traits={"phone": "+989121234567"})
        flow_id = publish(rt, ws, welcome_flow(delay_s=60))
        rt.flows.start()
        with rt.db.session() as s:
            pid = identity.lookup(s, workspace_id=ws, type_="user_id", value="u1")
            instance_id = rt.flows.enter(
                s, workspace_id=ws, flow_id=flow_id, profile_id=pid, key="k", properties={}
            )
        assert instance_id is not None

        def wait_for(check: Any, timeout: float = 30) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if check():
                    return
                time.sleep(0.1)
            raise AssertionError("timed out")

        wait_for(lambda: _instance(rt, instance_id).node == "pause")
        assert acted_keys(rt, instance_id) == []
        clock.advance(minutes=2)
        rt.flows.temporal.runtime.tick(ref_of(_instance(rt, instance_id)))
        wait_for(lambda: acted_keys(rt, instance_id) == ["hello:1"])
        wait_for(lambda: rt.scheduler.run_due() >= 0 and len(sms_gateway.received) == 1)
        assert sms_gateway.received[0]["body"]["text"] == "سلام"
        wait_for(lambda: _instance(rt, instance_id).reason == "completed")
    finally:
        rt.close()


def _instance(rt: Runtime, instance_id: str) -> Any:
    from safar.flows.models import FlowInstance

    with rt.db.session() as s:
        inst = s.get(FlowInstance, instance_id)
        assert inst is not None
        s.expunge(inst)
        return inst


def test_on_temporal_revoked_consent_sends_nothing_and_the_holdout_gets_nothing(
    tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway, clock: Clock, temporal_address: str
) -> None:
    """The guardrails are the send path's, whichever runtime runs the journey: the same
    journey on Temporal skips a person without consent and sends nothing to its holdout."""
    settings = survey_settings(
        tmp_path / "g",
        smtp,
        sms_gateway,
        text_analysis=False,
        flows_runtime="temporal",
        temporal_address=temporal_address,
        temporal_task_queue=f"safar-test-{uuid.uuid4().hex[:8]}",
    )
    rt = Runtime(settings, background=False, clock=clock)
    try:
        ws = make_workspace_id(rt)
        people = [f"p{i}" for i in range(12)]
        for i, user in enumerate(people):
            granted = i >= 6  # p0-p5 said no
            prefs = [{"purpose": "marketing", "channel": "all", "granted": granted}]
            event(rt, ws, clock, type="identify", userId=user,
                  traits={"phone": f"+98912{i:07d}"}, context={"consent": {"preferences": prefs}})  # fmt: skip
        definition = welcome_flow(delay_s=60) | {
            "holdout_percent": 30,
            "policy": {"consent_purpose": "marketing", "require_consent": True},
        }
        flow_id = publish(rt, ws, definition)
        rt.flows.start()
        ids = []
        with rt.db.session() as s:
            for user in people:
                pid = identity.lookup(s, workspace_id=ws, type_="user_id", value=user)
                ids.append(
                    rt.flows.enter(
                        s, workspace_id=ws, flow_id=flow_id, profile_id=pid, key=user, properties={}
                    )
                )
        _wait_for(lambda: all(_instance(rt, i).node == "pause" for i in ids))
        clock.advance(minutes=2)
        for i in ids:
            rt.flows.temporal.runtime.tick(ref_of(_instance(rt, i)))
        _wait_for(lambda: all(_instance(rt, i).reason == "completed" for i in ids))
        control = {i for i in ids if _instance(rt, i).control}
        assert 0 < len(control) < len(ids)
        treated = [n for n, i in enumerate(ids) if i not in control]
        refused = [n for n in treated if n < 6]
        assert refused, "the holdout took every person without consent (p < 0.1%)"
        # The workflow records a step before its action runs: wait for every act, then send.
        want = len(ids) - len(control)
        _wait_for(lambda: sum(len(acted_keys(rt, i)) for i in ids) == len(ids))
        _wait_for(
            lambda: rt.scheduler.run_due() >= 0 and len(sms_gateway.received) >= want - len(refused)
        )
        rt.scheduler.run_due()
        assert sorted(m["body"]["to"] for m in sms_gateway.received) == sorted(
            f"+98912{n:07d}" for n in treated if n >= 6
        )
        from safar.flows import analytics

        with rt.db.session() as s:
            stats = analytics.flow_stats(
                s, workspace_id=ws, flow_id=flow_id, outcomes=rt.flows.outcomes
            )
        assert stats["nodes"]["hello"]["actions"].get("would_send", 0) == len(control)
        assert stats["messages"].get("skipped:consent") == len(refused)
    finally:
        rt.close()


def _wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")
