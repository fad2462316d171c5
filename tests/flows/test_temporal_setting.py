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
