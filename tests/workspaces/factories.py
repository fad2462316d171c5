"""Workspaces for tests: one created through the service, with its keys in hand."""

from __future__ import annotations

from dataclasses import dataclass

from safar.runtime import Runtime
from safar.workspaces.service import create_workspace


@dataclass
class Workspace:
    id: str
    write_key: str
    secret_key: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    @property
    def basic(self) -> tuple[str, str]:
        return (self.write_key, "")


def make_workspace(runtime: Runtime, name: str = "Test shop") -> Workspace:
    """A workspace and its write and secret keys (shown only at creation)."""
    with runtime.db.session() as session:
        ws, write, secret = create_workspace(session, name=name)
    return Workspace(ws.id, write, secret)
