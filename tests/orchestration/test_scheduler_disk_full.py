"""A full disk under the state store while jobs are due: each message is sent exactly once.

Real SQLite file on a real small tmpfs, real SMTP server. While the disk is full the scheduler
can neither claim nor record; it backs off, and when space returns every due job is sent once
and recorded ``done`` (none lost, none repeated, none marked failed for the disk's sake). A
message sent just before the disk fills keeps its outcome until the store takes it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from safar.orchestration.channels import Channel, OutboundMessage, default_channels
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.events.small_disk import fill, small_tmpfs
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import (
    customer,
    jobs,
    make_survey,
    make_trigger,
    send_event,
    survey_settings,
)


def test_due_jobs_during_a_full_disk_are_sent_once_when_space_returns(
    tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway
) -> None:
    with small_tmpfs(tmp_path / "disk", "48m") as disk:
        settings = survey_settings(disk / "safar", smtp, sms_gateway, text_analysis=False)
        rt = Runtime(settings, background=False)
        try:
            with rt.db.session() as s:
                ws_id = create_workspace(s, name="Shop")[0].id
            survey_id = make_survey(rt, ws_id, "csat")
            make_trigger(rt, ws_id, survey_id, fatigue_days=0)
            for i in range(5):
                customer(rt, ws_id, f"u{i}", email=f"u{i}@example.com")
                send_event(rt, ws_id, type="track", event="order_delivered", userId=f"u{i}")
            assert [s for s, _ in jobs(rt)] == ["pending"] * 5

            filler = fill(disk)
            failed_pass: list[BaseException] = []

            def run_pass() -> None:
                try:
                    rt.scheduler.run_due()
                except BaseException as exc:
                    failed_pass.append(exc)

            worker = threading.Thread(target=run_pass)
            try:
                worker.start()
                time.sleep(1.0)
            finally:
                filler.unlink()
            worker.join(timeout=60)
            assert not worker.is_alive() and failed_pass == []
            for _ in range(5):  # later passes pick up what went back to pending
                rt.scheduler.run_due()
            assert len(smtp.mailbox.wait(5, timeout=10)) == 5
            time.sleep(0.3)
            assert sorted(m["To"] for m in smtp.mailbox.messages) == [
                f"u{i}@example.com" for i in range(5)
            ]
            assert [s for s, _ in jobs(rt)] == ["done"] * 5
        finally:
            rt.close()


class FillsTheDiskAfterSending:
    """The real SMTP channel, after which the disk fills up: the outcome cannot be written."""

    name = "email"

    def __init__(self, inner: Channel, disk: Path) -> None:
        self.inner, self.disk = inner, disk
        self.fillers: list[Path] = []

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        result = self.inner.send(message)
        if not self.fillers:
            self.fillers.append(fill(self.disk))
        return result


def test_a_message_sent_just_before_the_disk_fills_is_recorded_once(
    tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway
) -> None:
    with small_tmpfs(tmp_path / "disk", "48m") as disk:
        settings = survey_settings(disk / "safar", smtp, sms_gateway, text_analysis=False)
        channels = default_channels(settings)
        email = FillsTheDiskAfterSending(channels["email"], disk)
        channels["email"] = email
        rt = Runtime(settings, background=False, channels=channels)
        try:
            with rt.db.session() as s:
                ws_id = create_workspace(s, name="Shop")[0].id
            survey_id = make_survey(rt, ws_id, "csat")
            make_trigger(rt, ws_id, survey_id, fatigue_days=0)
            customer(rt, ws_id, "u1", email="u1@example.com")
            send_event(rt, ws_id, type="track", event="order_delivered", userId="u1")

            worker = threading.Thread(target=rt.scheduler.run_job, args=(1,))
            worker.start()
            deadline = time.monotonic() + 30
            while rt.scheduler.last_error is None and time.monotonic() < deadline:
                time.sleep(0.02)  # the outcome write is failing and being retried
            assert "full" in (rt.scheduler.last_error or "")
            email.fillers[0].unlink()
            worker.join(timeout=60)
            assert not worker.is_alive()
            assert rt.scheduler.last_error is None
            assert [s for s, _ in jobs(rt)] == ["done"]
            for _ in range(3):
                rt.scheduler.run_due()
            time.sleep(0.3)
            assert [m["To"] for m in smtp.mailbox.messages] == ["u1@example.com"]
        finally:
            rt.close()
