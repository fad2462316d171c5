"""Timeline filters on free-text event names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safar.config import Settings
from tests.events.factories import Api, at, open_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


async def test_event_names_with_commas_are_filtered_whole(api: Api) -> None:
    names = ["Added to cart, then left", "Added to cart", "then left"]
    await api.batch(
        [
            {"type": "track", "messageId": f"c{i}", "userId": "u", "event": n, "timestamp": at(i)}
            for i, n in enumerate(names)
        ]
    )
    await api.flush()
    pid = (await api.lookup("user_id", "u"))["id"]
    assert await api.timeline_ids(pid, event="Added to cart, then left") == ["c0"]
    assert await api.timeline_ids(pid, event=["Added to cart", "then left"]) == ["c2", "c1"]
    assert await api.timeline_ids(pid, event=["Added to cart, then left", "Added to cart"]) == [
        "c1",
        "c0",
    ]
