"""Listed segments: a fixed list of profiles (the customers behind a chart's number) saved as a
segment, alone or narrowed by conditions, and used by other segments like any segment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from safar.config import Settings
from safar.kit.conditions import AudienceCondition
from safar.segments import service
from safar.segments.models import Segment
from tests.events.factories import Api, at, open_api

PEOPLE = [
    {"type": "identify", "messageId": f"p{i}", "userId": f"u{i}", "timestamp": at(0),
     "traits": {"plan": plan}}
    for i, plan in enumerate(["gold", "silver", "gold", "bronze"], start=1)
]  # fmt: skip
GOLD = {"kind": "trait", "key": "plan", "op": "eq", "value": "gold"}


@pytest.fixture
async def api(embedded_settings: Settings) -> AsyncIterator[Api]:
    async with open_api(embedded_settings) as api:
        await api.batch(PEOPLE)
        await api.flush()
        yield api


async def _ids(api: Api, *users: int) -> list[str]:
    return [(await api.lookup("user_id", f"u{u}"))["id"] for u in users]


async def _create(api: Api, body: dict[str, Any], expect: int = 201) -> Any:
    r = await api.client.post("/api/segments", json=body, headers=api.bearer)
    assert r.status_code == expect, r.text
    return r.json()


async def test_a_listed_segment_has_exactly_its_profiles(api: Api) -> None:
    u1, u2, u3 = await _ids(api, 1, 2, 3)
    seg = await _create(api, {"name": "Dropped after cart", "profiles": [u2, u1, u2]})
    assert seg["listed"] is True and seg["conditions"] == []
    members = await api.get(f"/api/segments/{seg['id']}/members")
    assert members["profile_ids"] == sorted([u1, u2])
    # Conditions narrow the list: only its gold customers.
    gold = await _create(api, {"name": "Gold among them", "profiles": [u1, u2, u3],
                               "conditions": [GOLD]})  # fmt: skip
    assert (await api.get(f"/api/segments/{gold['id']}/members"))["profile_ids"] == sorted([u1, u3])
    # Another segment refers to the listed one like to any other.
    outside = await _create(api, {"name": "Not dropped", "conditions": [
        {"kind": "segment", "segment_id": seg["id"], "member": False}]})  # fmt: skip
    found = (await api.get(f"/api/segments/{outside['id']}/members"))["profile_ids"]
    assert u1 not in found and u2 not in found and u3 in found
    plain = await _create(api, {"name": "Gold", "conditions": [GOLD]})
    assert plain["listed"] is False


@pytest.mark.parametrize(
    ("profiles", "field"),
    [(["KNOWN", "prof_nobody"], "profiles.1"), ([""], "profiles.0"), (["x" * 41], "profiles.0")],
)
async def test_unknown_or_malformed_profiles_are_refused(
    api: Api, profiles: list[str], field: str
) -> None:
    (u1,) = await _ids(api, 1)
    body = await _create(
        api, {"name": "x", "profiles": [u1 if p == "KNOWN" else p for p in profiles]}, 400
    )
    assert body["field"] == field


async def test_one_profile_is_checked_against_the_list(api: Api) -> None:
    """The one-profile path (journey branches and entry rules) agrees with the bulk one."""
    u1, u2 = await _ids(api, 1, 2)
    seg = await _create(api, {"name": "Listed", "profiles": [u1]})
    runtime = api.runtime
    assert runtime is not None
    rules = TypeAdapter(list[AudienceCondition]).validate_python(
        [{"kind": "segment", "segment_id": seg["id"]}]
    )
    with runtime.db.session() as session:
        ws = session.get(Segment, seg["id"]).workspace_id  # type: ignore[union-attr]
        for pid, inside in ((u1, True), (u2, False)):
            got = service.profile_matches(
                session, runtime.store, workspace_id=ws, profile_id=pid, conditions=rules
            )
            assert got is inside
