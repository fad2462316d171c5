"""The identity map copy (``identity.snapshot``): concurrent copies leave each row once
(without the lock, 6 threads copying 6,000 identifiers left 24,000 rows)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.identity import snapshot
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.installation import fresh_data_dir


def test_concurrent_copies_do_not_duplicate_rows(tmp_path: Path) -> None:
    settings = Settings(data_dir=fresh_data_dir(tmp_path / "safar"), text_analysis=False)
    runtime = Runtime(settings, ingest=False)
    try:
        with runtime.db.session() as session:
            ws = create_workspace(session, name="Shop")[0].id
        messages = [
            {"type": "identify", "userId": f"u{i}", "anonymousId": f"a{i}", "messageId": f"m{i}"}
            for i in range(3000)
        ]
        runtime.applier.apply(
            [
                normalize(parse_message(m), workspace_id=ws, received_at=datetime.now(UTC))
                for m in messages
            ]
        )
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def copy() -> None:
            try:
                start.wait()
                for _ in range(5):
                    with runtime.db.session() as session:
                        snapshot.refresh_identity_map(
                            session, runtime.store, workspace_id=ws, force=True
                        )
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=copy) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        _, rows = runtime.store.query(
            "SELECT count(*), count(DISTINCT id_type || ':' || id_value) FROM identity_map "
            "WHERE workspace_id = $ws",
            {"ws": ws},
        )
        assert rows == [(6000, 6000)]
    finally:
        runtime.close()
