"""Compatibility names for tests written before the helpers moved next to their domains.

New tests import from ``tests.events.factories`` (Segment client, times), ``tests.identity.
factories`` (labels, identity sets) and ``tests.processes`` (a real ``safar`` subprocess).
"""

from __future__ import annotations

from tests.events.factories import T0, Api, at, by_message_id, gz, iso, open_api
from tests.identity.factories import Labels, identity_set
from tests.processes import ServerProcess, cli_env, create_workspace_cli, free_port, safar_cli

__all__ = [
    "T0",
    "Api",
    "Labels",
    "ServerProcess",
    "at",
    "by_message_id",
    "cli_env",
    "create_workspace_cli",
    "free_port",
    "gz",
    "identity_set",
    "iso",
    "open_api",
    "safar_cli",
]
