"""Dead letters: only a message that fails on its own is parked, and ``safar dead-letter``
lists it and brings it back through the Applier, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.events.pipeline import encode_record
from safar.runtime import Runtime
from safar.workspaces.models import Workspace
from safar.workspaces.service import create_workspace
from tests.processes import safar_cli


def _row(workspace_id: str, message_id: str) -> dict[str, Any]:
    msg = {"type": "track", "messageId": message_id, "userId": "u-1", "event": "Paid"}
    received = datetime(2026, 3, 1, 12, tzinfo=UTC)
    return normalize(parse_message(msg), workspace_id=workspace_id, received_at=received)


def test_a_poison_message_is_parked_listed_and_replayed_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "safar", text_analysis=False)
    rt = Runtime(settings, background=False)
    assert rt.wal is not None and rt.consumer is not None
    with rt.db.session() as s:
        ws, _, _ = create_workspace(s, name="Live")
    # A workspace that does not exist (yet): its rows fail on every attempt, the others pass.
    rows = [_row(ws.id, "ok-1"), _row("ws-restored", "orphan-1"), _row(ws.id, "ok-2")]
    rt.wal.append_many([encode_record(rows)])
    assert rt.consumer.drain() is True
    assert rt.store.count(ws.id) == 2
    assert rt.consumer.status()["dead_letters"] == 1
    # The same log replayed (a crash before the checkpoint) does not park it twice.
    rt.consumer.applied = 0
    assert rt.consumer.drain() is True
    rt.close()

    env = {"SAFAR_TEXT_ANALYSIS": "false"}
    listed = safar_cli(settings.data_dir, "dead-letter", "list", "--json", **env)
    assert listed.returncode == 0, listed.stderr
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (entry["workspace_id"], entry["message_id"]) == ("ws-restored", "orphan-1")
    assert "IntegrityError" in entry["error"]

    failed = safar_cli(settings.data_dir, "dead-letter", "replay", "--json", **env)
    assert failed.returncode == 1
    assert json.loads(failed.stdout) == {"replayed": 1, "inserted": 0, "still_failing": 1}

    rt = Runtime(settings, ingest=False)
    with rt.db.session() as s:
        s.add(Workspace(id="ws-restored", name="Restored"))
    rt.close()
    replayed = safar_cli(settings.data_dir, "dead-letter", "replay", "--json", **env)
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout) == {"replayed": 1, "inserted": 1, "still_failing": 0}
    again = safar_cli(settings.data_dir, "dead-letter", "replay", "--json", **env)
    assert json.loads(again.stdout) == {"replayed": 0, "inserted": 0, "still_failing": 0}
    listed = safar_cli(settings.data_dir, "dead-letter", "list", "--json", **env)
    assert listed.stdout.strip() == ""

    rt = Runtime(settings, ingest=False)
    assert rt.store.count("ws-restored") == 1
    rt.close()


def test_replaying_a_message_stored_meanwhile_stores_nothing_twice(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "safar", text_analysis=False)
    rt = Runtime(settings, ingest=False)
    with rt.db.session() as s:
        ws, _, _ = create_workspace(s, name="Twice")
    row = _row(ws.id, "dup-1")
    rt.applier.apply([row])
    from safar.events.dead_letter import DeadLetters

    parked = DeadLetters(settings.data_dir / "dead-letter.jsonl")
    parked.park(row, "RuntimeError('earlier failure')")
    result = parked.replay(rt.applier)
    assert (result.replayed, result.inserted, result.still_failing) == (1, 0, 0)
    assert rt.store.count(ws.id) == 1
    assert parked.entries() == []
    rt.close()
