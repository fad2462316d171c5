"""Merge rules, alias, redirects and normalised lookups of the identity graph (embedded stack)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from safar.config import Settings
from safar.identity.identifiers import normalize_phone
from tests.events.factories import Api, at, open_api
from tests.identity.factories import identity_set


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


def _m(mid: str, kind: str, minute: float, **fields: Any) -> dict[str, Any]:
    return {"messageId": mid, "type": kind, "timestamp": at(minute), **fields}


async def _view(api: Api, type_: str, value: str) -> tuple[str, list[str], list[str]]:
    p = await api.lookup(type_, value)
    return p["id"], identity_set(p), await api.timeline_ids(p["id"])


async def test_a_shared_tablet_never_collapses_its_users(api: Api) -> None:
    await api.batch(
        [
            _m("t1", "identify", 0, userId="u-20", anonymousId="a-tab"),
            _m("t2", "identify", 1, userId="u-21", anonymousId="a-tab"),
            _m("t3", "track", 2, userId="u-21", anonymousId="a-tab", event="Played"),
            _m("t4", "identify", 3, userId="u-22", anonymousId="a-tab"),
            # u-21 later on a phone of their own.
            _m("t5", "identify", 4, userId="u-21", anonymousId="a-phone"),
        ]
    )
    await api.flush()
    p20, ids20, tl20 = await _view(api, "user_id", "u-20")
    p21, ids21, tl21 = await _view(api, "user_id", "u-21")
    p22, ids22, tl22 = await _view(api, "user_id", "u-22")
    assert len({p20, p21, p22}) == 3
    assert (ids20, tl20) == (["anonymous_id:a-tab", "user_id:u-20"], ["t1"])
    assert (ids21, tl21) == (["anonymous_id:a-phone", "user_id:u-21"], ["t5", "t3", "t2"])
    assert (ids22, tl22) == (["user_id:u-22"], ["t4"])
    for pid in (p20, p21, p22):
        assert (await api.profile(pid))["merges"] == []
    assert (await api.stats())["profiles"] == 3


async def test_a_new_user_on_a_shared_email_keeps_their_own_device_history(api: Api) -> None:
    """Two people share a family email; the second one's browsing follows the second one."""
    await api.batch(
        [
            _m("f1", "identify", 0, userId="u-1", traits={"email": "family@example.com"}),
            _m("f2", "page", 1, anonymousId="a-2", name="Home"),
            _m(
                "f3",
                "identify",
                2,
                userId="u-2",
                anonymousId="a-2",
                traits={"email": "family@example.com", "name": "Second"},
            ),
        ]
    )
    await api.flush()
    p1, ids1, tl1 = await _view(api, "user_id", "u-1")
    p2, ids2, tl2 = await _view(api, "user_id", "u-2")
    assert p1 != p2
    assert (ids1, tl1) == (["email:family@example.com", "user_id:u-1"], ["f1"])
    assert (ids2, tl2) == (["anonymous_id:a-2", "user_id:u-2"], ["f3", "f2"])
    assert (await api.lookup("anonymous_id", "a-2"))["id"] == p2
    assert (await api.lookup("email", "family@example.com"))["id"] == p1
    assert (await api.profile(p2))["traits"]["name"] == "Second"
    assert "name" not in (await api.profile(p1))["traits"]
    assert (await api.stats())["profiles"] == 2


async def test_alias_to_an_unknown_previous_id_and_between_users_then_unmerge(api: Api) -> None:
    await api.batch(
        [
            _m("a1", "alias", 0, previousId="legacy-77", userId="u-1"),
            _m("a2", "identify", 1, userId="u-2", traits={"plan": "gold"}),
            _m("a3", "track", 2, userId="u-2", event="Paid"),
            _m("a4", "identify", 3, userId="u-1", traits={"name": "Nima"}),
            _m("a5", "alias", 4, previousId="u-2", userId="u-1"),
        ]
    )
    await api.flush()
    merged = await api.lookup("user_id", "u-2")
    assert identity_set(merged) == ["anonymous_id:legacy-77", "user_id:u-1", "user_id:u-2"]
    assert merged["traits"] == {"plan": "gold", "name": "Nima"}
    assert await api.timeline_ids(merged["id"]) == ["a5", "a4", "a3", "a2", "a1"]
    assert [(m["cause"], m["evidence"]) for m in merged["merges"]] == [
        ("alias", ["user_id:u-1", "user_id:u-2"])
    ]
    undone = await api.unmerge(merged["id"])
    u1 = await api.lookup("user_id", "u-1")
    u2 = await api.lookup("user_id", "u-2")
    assert u1["id"] != u2["id"] and undone["restored_profile_id"] == u2["id"]
    assert (identity_set(u1), u1["traits"]) == (
        ["anonymous_id:legacy-77", "user_id:u-1"],
        {"name": "Nima"},
    )
    assert (identity_set(u2), u2["traits"]) == (["user_id:u-2"], {"plan": "gold"})
    assert await api.timeline_ids(u2["id"]) == ["a3", "a2"]
    assert await api.timeline_ids(u1["id"]) == ["a5", "a4", "a1"]


async def test_merged_away_ids_redirect_to_the_survivor_through_chains(api: Api) -> None:
    await api.batch([_m("r1", "identify", 0, anonymousId="a-1", traits={"email": "e@x.io"})])
    await api.batch([_m("r2", "page", 1, anonymousId="a-2")])
    await api.batch([_m("r3", "identify", 2, userId="u-3")])
    await api.flush()
    first = (await api.lookup("anonymous_id", "a-1"))["id"]
    second = (await api.lookup("anonymous_id", "a-2"))["id"]
    third = (await api.lookup("user_id", "u-3"))["id"]
    # a-2 joins the email's profile, then that profile joins u-3's.
    await api.batch(
        [_m("r4", "page", 3, anonymousId="a-2", context={"traits": {"email": "E@x.io"}})]
    )
    await api.batch([_m("r5", "identify", 4, userId="u-3", traits={"email": "e@x.io"})])
    await api.flush()
    for old in (first, second, third):
        p = await api.profile(old)
        assert p["id"] == third
        assert p["requested_id"] == (None if old == third else old)
        page = await api.timeline_page(old)
        assert page["profile_id"] == third
        assert [e["message_id"] for e in page["events"]] == ["r5", "r4", "r3", "r2", "r1"]
    # The merge history shown is the survivor's own (the nested one sits under `first`).
    merges = await api.get(f"/api/profiles/{second}/merges")
    assert [(m["from_profile_id"], m["into_profile_id"], m["cause"]) for m in merges] == [
        (first, third, "identify")
    ]
    await api.unmerge(third)
    # After the unmerge `second` lives on under `first` again, not under `third`.
    assert (await api.profile(second))["id"] == first
    merges = await api.get(f"/api/profiles/{second}/merges")
    assert sorted(
        (m["from_profile_id"], m["into_profile_id"], m["cause"], m["undone_at"] is None)
        for m in merges
    ) == sorted([(second, first, "shared_identifier", True), (first, third, "identify", False)])
    assert await api.timeline_ids(second) == ["r4", "r2", "r1"]
    assert await api.timeline_ids(third) == ["r5", "r3"]


PHONE_FORMS = [
    "+989123456789",
    "00989123456789",
    "09123456789",
    "9123456789",
    "+98 (912) 345-6789",
    "۰۹۱۲۳۴۵۶۷۸۹",
    "۰۹۱۲ ۳۴۵ ۶۷ ۸۹",
    "+۹۸۹۱۲۳۴۵۶۷۸۹",
    "۰۰۹۸۹۱۲۳۴۵۶۷۸۹",
    "٠٩١٢٣٤٥٦٧٨٩",
    "+98 0912 345 6789",
    "0098-0912-345-6789",
]


@pytest.mark.parametrize("form", PHONE_FORMS)
def test_every_way_of_writing_a_phone_normalises_alike(form: str) -> None:
    assert normalize_phone(form) == "+989123456789"


async def test_lookup_by_normalised_email_phone_and_handle(api: Api) -> None:
    await api.batch(
        [
            _m(
                "n1",
                "identify",
                0,
                userId="u-1",
                traits={
                    "email": " Sara@Example.COM ",
                    "phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹",
                    "telegram": "@Sara_A",
                },
            ),
            _m("n2", "identify", 1, userId=12345, traits={"phone": "+44 20 7946 0958"}),
        ]
    )
    await api.flush()
    sara = (await api.lookup("user_id", "u-1"))["id"]
    assert identity_set(await api.profile(sara)) == [
        "email:sara@example.com",
        "phone:+989123456789",
        "telegram:sara_a",
        "user_id:u-1",
    ]
    for form in PHONE_FORMS:
        assert (await api.lookup("phone", form))["id"] == sara, form
    for form in ("sara@example.com", "SARA@EXAMPLE.COM", "  Sara@Example.com"):
        assert (await api.lookup("email", form))["id"] == sara
    for form in ("sara_a", "@SARA_A"):
        assert (await api.lookup("telegram", form))["id"] == sara
    numeric = await api.lookup("user_id", "12345")
    assert identity_set(numeric) == ["phone:+442079460958", "user_id:12345"]
    assert (await api.lookup("phone", "00442079460958"))["id"] == numeric["id"]
