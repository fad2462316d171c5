"""The file outbox: channels without a provider deliver to JSON lines, once per message."""

from __future__ import annotations

import json
from pathlib import Path

from safar.orchestration.channels import InAppChannel, OutboundMessage
from safar.orchestration.outbox import OutboxChannel, with_outbox


def test_unconfigured_channels_write_lines_and_configured_ones_stay(tmp_path: Path) -> None:
    app = InAppChannel()
    channels = with_outbox({"app": app}, tmp_path / "outbox")
    assert channels["app"] is app
    assert set(channels) == {"app", "email", "sms", "telegram", "push"}
    sms = channels["sms"]
    assert isinstance(sms, OutboxChannel)
    result = sms.send(OutboundMessage("sms", "+989121234567", "سلام سارا", key="flow:f:i:n:1"))
    sms.send(OutboundMessage("sms", "+989121234568", "Hello", language="en"))
    lines = [json.loads(x) for x in (tmp_path / "outbox" / "sms.jsonl").read_text().splitlines()]
    assert [(x["to"], x["text"], x["key"]) for x in lines] == [
        ("+989121234567", "سلام سارا", "flow:f:i:n:1"),
        ("+989121234568", "Hello", ""),
    ]
    assert result == {"outbox": str(tmp_path / "outbox" / "sms.jsonl")}
    assert with_outbox({"app": app}, None) == {"app": app}
