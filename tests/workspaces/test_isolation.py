"""Two workspaces with the same user ids and message ids never see or touch each other's data."""

from __future__ import annotations

import httpx

from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.events.factories import Api, at


def _messages(tag: str) -> list[dict[str, object]]:
    return [
        {
            "type": "page",
            "messageId": "m1",
            "anonymousId": "a-1",
            "name": f"Home {tag}",
            "timestamp": at(0),
        },
        {
            "type": "identify",
            "messageId": "m2",
            "userId": "u-1",
            "anonymousId": "a-1",
            "traits": {"email": "same@example.com", "shop": tag},
            "timestamp": at(1),
        },
        {
            "type": "track",
            "messageId": "m3",
            "userId": "u-1",
            "event": f"Bought in {tag}",
            "timestamp": at(2),
            "context": {"channel": "store"},
        },
    ]


async def test_keys_of_one_workspace_never_reach_another(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    with runtime.db.session() as s:
        _, wa, sa = create_workspace(s, name="A")
        _, wb, sb = create_workspace(s, name="B")
    a, b = Api(client, wa, sa), Api(client, wb, sb)
    await a.batch(_messages("A"))
    await b.batch(_messages("B"))
    # In B, u-1 logs in on a second device (a merge); A has the same device, left unmerged.
    await b.batch(
        [
            {"type": "page", "messageId": "m4", "anonymousId": "a-2", "timestamp": at(3)},
            {
                "type": "identify",
                "messageId": "m5",
                "userId": "u-1",
                "anonymousId": "a-2",
                "timestamp": at(4),
            },
        ]
    )
    await a.send("page", {"messageId": "m4", "anonymousId": "a-2", "timestamp": at(3)})
    await a.flush()
    await b.flush()

    pa = await a.lookup("user_id", "u-1")
    pb = await b.lookup("user_id", "u-1")
    assert pa["id"] != pb["id"]
    assert (pa["workspace_id"], pb["workspace_id"]) != (pb["workspace_id"], pa["workspace_id"])
    assert pa["traits"]["shop"] == "A" and pb["traits"]["shop"] == "B"
    # The same message ids are different events in each workspace: nothing was de-duplicated.
    tla = await a.timeline(pa["id"])
    tlb = await b.timeline(pb["id"])
    assert [(e["message_id"], e["event"] or e["name"]) for e in tla] == [
        ("m3", "Bought in A"),
        ("m2", None),
        ("m1", "Home A"),
    ]
    assert [(e["message_id"], e["event"] or e["name"]) for e in tlb] == [
        ("m5", None),
        ("m4", None),
        ("m3", "Bought in B"),
        ("m2", None),
        ("m1", "Home B"),
    ]
    sa_stats, sb_stats = await a.stats(), await b.stats()
    assert (sa_stats["events"], sa_stats["profiles"]) == (4, 2)
    assert (sb_stats["events"], sb_stats["profiles"]) == (5, 1)
    assert sa_stats["events_by_channel"] == {"other": 1, "store": 1, "web": 2}
    # B's merge (u-1 on a second device) left A's a-2 on its own profile.
    assert (await b.lookup("anonymous_id", "a-2"))["id"] == pb["id"]
    assert (await a.lookup("anonymous_id", "a-2"))["id"] != pa["id"]
    merge_b = pb["merges"][0]["id"]

    # A's secret key: every read or change of B's profile is a 404, as if it did not exist.
    for path in ("", "/timeline", "/traits/history", "/household", "/merges"):
        r = await client.get(f"/api/profiles/{pb['id']}{path}", headers=a.bearer)
        assert r.status_code == 404, (path, r.text)
    r = await client.post(
        f"/api/profiles/{pb['id']}/unmerge", headers=a.bearer, json={"merge_id": merge_b}
    )
    assert r.status_code == 404
    r = await client.post(
        f"/api/profiles/{pa['id']}/unmerge", headers=a.bearer, json={"merge_id": merge_b}
    )
    assert r.status_code == 404
    assert (await b.profile(pb["id"]))["merges"][0]["undone_at"] is None

    # Keys: A lists only its own and cannot revoke B's.
    keys_a = (await client.get("/api/keys", headers=a.bearer)).json()
    keys_b = (await client.get("/api/keys", headers=b.bearer)).json()
    assert {k["id"] for k in keys_a}.isdisjoint({k["id"] for k in keys_b})
    r = await client.post(f"/api/keys/{keys_b[0]['id']}/revoke", headers=a.bearer)
    assert r.status_code == 404
    assert all(
        k["revoked_at"] is None for k in (await client.get("/api/keys", headers=b.bearer)).json()
    )

    # A's write key only ever writes into A.
    await a.send("track", {"messageId": "m9", "userId": "u-1", "event": "Only A"})
    assert (await b.stats())["events"] == 5
    assert (await a.stats())["events"] == 5
    assert await b.timeline_ids(pb["id"]) == ["m5", "m4", "m3", "m2", "m1"]
