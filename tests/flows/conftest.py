"""Journey runtimes on a real state store and event store, with a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safar.runtime import Runtime
from tests.flows.factories import Clock
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import make_workspace_id, survey_settings
from tests.surveys.fixtures import sms_gateway, smtp  # noqa: F401 (fixtures)

#: Monday 7 December 2026, 12:00 UTC (15:30 in Tehran).
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def frt(tmp_path: Path, request: pytest.FixtureRequest, clock: Clock) -> Iterator[Runtime]:
    """A runtime with no background threads: tests run the journey worker by hand; its SMTP
    server and SMS gateway are real local ones (``smtp``, ``sms_gateway``)."""
    mail: SmtpServer = request.getfixturevalue("smtp")
    gateway: Gateway = request.getfixturevalue("sms_gateway")
    settings = survey_settings(tmp_path / "safar", mail, gateway, text_analysis=False)
    runtime = Runtime(settings, background=False, clock=clock)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def fws(frt: Runtime) -> str:
    return make_workspace_id(frt)
