"""Traits history, consent, households and merge rules: identical answers on both stacks."""

from __future__ import annotations

from typing import Any

from tests.events.factories import Api, at
from tests.identity.factories import Labels, identity_set


def _m(mid: str, kind: str, minute: float, channel: str, **fields: Any) -> dict[str, Any]:
    context = {"channel": channel, **fields.pop("context", {})}
    return {"messageId": mid, "type": kind, "timestamp": at(minute), "context": context, **fields}


FACTS = [
    _m(
        "t1",
        "identify",
        0,
        "web",
        userId="u-10",
        traits={"plan": "free", "name": "Reza"},
        context={"consent": {"categoryPreferences": {"marketing": True, "analytics": True}}},
    ),
    _m("t2", "identify", 5, "app", userId="u-10", traits={"plan": "pro"}),
    # An unchanged value is not a new observation.
    _m("t3", "identify", 6, "app", userId="u-10", traits={"plan": "pro"}),
    _m(
        "t4",
        "track",
        7,
        "email",
        userId="u-10",
        event="Unsubscribed",
        context={
            "consent": {
                "preferences": [{"purpose": "marketing", "channel": "email", "granted": False}]
            }
        },
    ),
    _m(
        "t5",
        "track",
        8,
        "sms",
        userId="u-10",
        event="Replied STOP",
        context={"consent": {"categoryPreferences": {"marketing": False}}},
    ),
    _m(
        "g1",
        "group",
        10,
        "web",
        userId="u-10",
        groupId="h-1",
        traits={"type": "Household", "name": "Karimi family"},
        context={"role": "parent"},
    ),
    _m("g2", "group", 11, "app", userId="u-11", groupId="h-1", context={"role": "child"}),
    _m(
        "g3",
        "group",
        12,
        "web",
        userId="u-10",
        groupId="acme",
        traits={"name": "Acme", "industry": "retail"},
    ),
]
RULES = [
    # A shared tablet: one anonymousId, two people logging in.
    _m("d1", "identify", 20, "app", userId="u-20", anonymousId="a-tablet"),
    _m("d2", "identify", 21, "app", userId="u-21", anonymousId="a-tablet"),
    # A shared family email does not make two customers one.
    _m("d3", "identify", 22, "web", userId="u-22", traits={"email": "family@example.com"}),
    _m("d4", "identify", 23, "web", userId="u-23", traits={"email": "Family@Example.com"}),
    # alias: an anonymous visitor becomes a user; then one user id is renamed to another.
    _m("a1", "page", 30, "web", anonymousId="a-30", name="Landing"),
    _m("a2", "alias", 31, "web", previousId="a-30", userId="u-30"),
    _m("a3", "identify", 32, "web", userId="u-31"),
    _m("a4", "identify", 33, "web", userId="u-32"),
    _m("a5", "alias", 34, "web", previousId="u-31", userId="u-32"),
]


async def test_traits_consent_households_and_merge_rules(api: Api) -> None:
    labels = Labels()
    await api.batch(FACTS[:3])
    await api.batch(FACTS[3:])
    await api.batch(RULES)
    await api.flush()

    reza = (await api.lookup("user_id", "u-10"))["id"]
    kid = (await api.lookup("user_id", "u-11"))["id"]
    assert [labels(reza), labels(kid)] == ["P1", "P2"]
    profile = await api.profile(reza)
    history = await api.get(f"/api/profiles/{reza}/traits/history")
    household = await api.get(f"/api/profiles/{reza}/household")

    assert profile["traits"] == {"name": "Reza", "plan": "pro"}
    assert [(h["key"], h["value"], h["source"], h["observed_at"]) for h in history] == [
        ("name", "Reza", "identify:web", "2026-03-01T09:00:00Z"),
        ("plan", "pro", "identify:app", "2026-03-01T09:05:00Z"),
        ("plan", "free", "identify:web", "2026-03-01T09:00:00Z"),
    ]
    assert [
        (c["purpose"], c["channel"], c["granted"], c["source"], c["observed_at"])
        for c in profile["consent"]
    ] == [
        ("analytics", "all", True, "identify:web", "2026-03-01T09:00:00Z"),
        ("marketing", "all", False, "track:sms", "2026-03-01T09:08:00Z"),
        ("marketing", "email", False, "track:email", "2026-03-01T09:07:00Z"),
    ]
    assert [
        (g["group_id"], g["type"], g["name"], g["traits"], g["role"]) for g in profile["groups"]
    ] == [
        ("acme", "account", "Acme", {"name": "Acme", "industry": "retail"}, None),
        (
            "h-1",
            "household",
            "Karimi family",
            {"type": "Household", "name": "Karimi family"},
            "parent",
        ),
    ]
    assert [(g["group_id"], g["role"]) for g in household] == [("h-1", "parent")]
    assert [(labels(m["profile_id"]), m["role"], m["name"]) for m in household[0]["members"]] == [
        ("P1", "parent", "Reza"),
        ("P2", "child", None),
    ]
    kid_household = await api.get(f"/api/profiles/{kid}/household")
    assert [(g["group_id"], g["role"]) for g in kid_household] == [("h-1", "child")]

    # Merge rules: four people stay four people.
    owners = {
        uid: labels((await api.lookup("user_id", uid))["id"])
        for uid in ("u-20", "u-21", "u-22", "u-23")
    }
    assert owners == {"u-20": "P3", "u-21": "P4", "u-22": "P5", "u-23": "P6"}
    assert labels((await api.lookup("anonymous_id", "a-tablet"))["id"]) == "P3"
    assert labels((await api.lookup("email", "FAMILY@example.com"))["id"]) == "P5"
    views = {}
    for uid in ("u-20", "u-21", "u-22", "u-23"):
        p = await api.lookup("user_id", uid)
        views[uid] = (identity_set(p), await api.timeline_ids(p["id"]), p["merges"])
    assert views == {
        "u-20": (["anonymous_id:a-tablet", "user_id:u-20"], ["d1"], []),
        "u-21": (["user_id:u-21"], ["d2"], []),
        "u-22": (["email:family@example.com", "user_id:u-22"], ["d3"], []),
        "u-23": (["user_id:u-23"], ["d4"], []),
    }

    # alias: the anonymous history follows the new user id; two user ids become one.
    visitor = await api.lookup("user_id", "u-30")
    assert identity_set(visitor) == ["anonymous_id:a-30", "user_id:u-30"]
    assert await api.timeline_ids(visitor["id"]) == ["a2", "a1"]
    renamed = await api.lookup("user_id", "u-31")
    assert renamed["id"] == (await api.lookup("user_id", "u-32"))["id"]
    assert identity_set(renamed) == ["user_id:u-31", "user_id:u-32"]
    assert [(m["cause"], m["evidence"]) for m in renamed["merges"]] == [
        ("alias", ["user_id:u-32", "user_id:u-31"])
    ]
    assert await api.timeline_ids(renamed["id"]) == ["a5", "a4", "a3"]

    stats = await api.stats()
    assert (stats["events"], stats["profiles"]) == (17, 8)
