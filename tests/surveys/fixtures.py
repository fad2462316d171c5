"""Fixtures of a survey installation: real local SMTP and SMS servers, a runtime on either stack.

Imported by the surveys and orchestration conftests (both send surveys through the channels).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safar.config import Settings
from safar.runtime import Runtime
from tests.orchestration.factories import Gateway, SmtpServer, sms_gateway_server, smtp_server
from tests.surveys.factories import make_workspace_id, stack_survey_settings


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def sms_gateway() -> Iterator[Gateway]:
    with sms_gateway_server() as gateway:
        yield gateway


@pytest.fixture
def svy_settings(
    tmp_path: Path,
    smtp: SmtpServer,
    sms_gateway: Gateway,
    stack: str,
    request: pytest.FixtureRequest,
) -> Settings:
    """Both engine stacks: SQLite + DuckDB, and PostgreSQL + ClickHouse (chdb)."""
    return stack_survey_settings(tmp_path, smtp, sms_gateway, stack, request)


@pytest.fixture
def rt(svy_settings: Settings) -> Iterator[Runtime]:
    """A runtime without background threads: tests run the scheduler by hand."""
    runtime = Runtime(svy_settings, background=False)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def ws_id(rt: Runtime) -> str:
    return make_workspace_id(rt)
