"""A file outbox: messages of channels with no provider configured, written to JSON lines.

For a laptop install, a demo or a staging server that must not reach real customers: set
``SAFAR_OUTBOX_DIR`` and email, SMS, Telegram and push messages whose provider is not
configured are appended (one fsynced line each) to ``<dir>/<channel>.jsonl`` instead of being
skipped as "channel not configured". Like Django's file e-mail backend, it delivers for real,
to a file a developer reads; it never stands in for a configured provider.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safar.orchestration.channels import Channel, DeliveryFailed, OutboundMessage

CHANNELS = ("email", "sms", "telegram", "push")


class OutboxChannel:
    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.path = folder / f"{name}.jsonl"
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "channel": self.name,
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "language": message.language,
                "key": message.key,
            },
            ensure_ascii=False,
        )
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as exc:
            raise DeliveryFailed(f"{self.name}: outbox not writable ({exc.strerror})") from exc
        return {"outbox": str(self.path)}


def with_outbox(channels: dict[str, Channel], folder: Path | None) -> dict[str, Channel]:
    """``channels`` plus an outbox for each messaging channel that has no provider."""
    if folder is None:
        return channels
    out = dict(channels)
    for name in CHANNELS:
        out.setdefault(name, OutboxChannel(name, folder))
    return out
