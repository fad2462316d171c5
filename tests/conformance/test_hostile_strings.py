"""Hostile strings (SQL-looking, placeholders, markup, NUL bytes, very long) on both stacks."""

from __future__ import annotations

from tests.spine_support import Api, at

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
