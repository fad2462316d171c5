"""The conformance suite runs every scenario on both engine stacks through the HTTP API."""

from __future__ import annotations

import httpx
import pytest

from tests.events.factories import Api
from tests.workspaces.factories import Workspace


@pytest.fixture
def api(client: httpx.AsyncClient, workspace: Workspace) -> Api:
    return Api(client, workspace.write_key, workspace.secret_key)
