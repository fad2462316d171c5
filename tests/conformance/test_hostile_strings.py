"""Hostile strings (SQL-looking, placeholders, markup, NUL bytes, very long) on both stacks."""

from __future__ import annotations

from tests.events.factories import Api, at

HOSTILE = [
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM identities WHERE ('1'='1",
    "{ws:String} $ws ? %s",
    "<script>alert(1)</script>",
    "سارا ‏احمدی 🙂",
    "u" * 255,
]


async def test_hostile_strings_are_stored_verbatim(api: Api) -> None:
    messages = [
        {
            "type": "identify",
            "messageId": f"h-{i}",
            "userId": value,
            "traits": {"note": value, "nul": "a\x00b", "ctl": "line1\nline2\t\x1b[31m"},
            "timestamp": at(i),
        }
        for i, value in enumerate(HOSTILE)
    ] + [
        {
            "type": "track",
            "messageId": "h-track",
            "userId": HOSTILE[0],
            "event": HOSTILE[1],
            "properties": {HOSTILE[2]: HOSTILE[3], "nul": "\x00"},
            "timestamp": at(10),
        }
    ]
    await api.batch(messages)
    stats = await api.stats()
    assert stats["events"] == len(messages)
    for i, value in enumerate(HOSTILE):
        profile = await api.lookup("user_id", value)
        assert [x["value"] for x in profile["identities"]] == [value]
        assert profile["traits"] == {
            "note": value,
            "nul": "a\x00b",
            "ctl": "line1\nline2\t\x1b[31m",
        }
        events = await api.timeline(profile["id"])
        assert events[-1]["message_id"] == f"h-{i}"
    events = await api.timeline((await api.lookup("user_id", HOSTILE[0]))["id"], type="track")
    assert [(e["event"], e["properties"]) for e in events] == [
        (HOSTILE[1], {HOSTILE[2]: HOSTILE[3], "nul": "\x00"})
    ]
    filtered = await api.timeline((await api.lookup("user_id", HOSTILE[0]))["id"], event=HOSTILE[1])
    assert [e["message_id"] for e in filtered] == ["h-track"]


async def test_nul_bytes_in_derived_profile_fields_never_lose_an_event(api: Api) -> None:
    """PostgreSQL text cannot hold NUL; SQLite can. Both stacks must keep every event and
    agree: identifiers with control characters are not identifiers, other text loses the NUL."""
    await api.batch(
        [
            {
                "type": "identify",
                "messageId": "n1",
                "userId": "u-nul",
                "traits": {"na\x00me": "x", "email": "a\x00b@example.com", "telegram": "@te\x00le"},
                "context": {"device": {"id": "dev\x00ice"}},
                "timestamp": at(0),
            },
            {
                "type": "group",
                "messageId": "n2",
                "userId": "u-nul",
                "groupId": "g-1",
                "traits": {"name": "Fam\x00ily", "type": "house\x00hold"},
                "context": {"role": "pa\x00rent"},
                "timestamp": at(1),
            },
            {
                "type": "track",
                "messageId": "n3",
                "userId": "u-nul",
                "event": "Consented",
                "context": {
                    "consent": {
                        "preferences": [
                            {"purpose": "mar\x00keting", "channel": "e\x00mail", "granted": True}
                        ]
                    },
                    "externalIds": [
                        {"id": "x\x00y", "type": "crm"},
                        {"id": "c-9", "type": "cr\x00m"},
                        {"id": "c-1", "type": "crm"},
                    ],
                },
                "timestamp": at(2),
            },
        ]
    )
    stats = await api.stats()
    assert stats["events"] == 3
    p = await api.lookup("user_id", "u-nul")
    assert sorted((i["type"], i["value"]) for i in p["identities"]) == [
        ("crm", "c-1"),
        ("user_id", "u-nul"),
    ]
    assert p["traits"] == {"name": "x", "email": "a\x00b@example.com", "telegram": "@te\x00le"}
    assert [(c["purpose"], c["channel"], c["granted"]) for c in p["consent"]] == [
        ("marketing", "email", True)
    ]
    household = await api.get(f"/api/profiles/{p['id']}/household")
    assert [(g["group_id"], g["name"], g["role"]) for g in household] == [
        ("g-1", "Family", "parent")
    ]
    assert await api.timeline_ids(p["id"]) == ["n3", "n2", "n1"]
