"""Bad input: each request gets a 4xx whose message names the field, and nothing stored changes.

(A batch holding good messages beside bad ones stores the good ones and answers 200, as Segment
does: tests/events/test_sdk_partial.py.)

Before every bad request the workspace already holds data; afterwards the event count, channel
counts, profile count, the write-ahead log position and the stored profile are all unchanged.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from safar.config import Settings
from tests.events.factories import Api, at, open_api

GOOD = {"userId": "u-1", "event": "Order Completed", "timestamp": at(0)}
BIG = "x" * (33 * 1024)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        await api.batch(
            [
                {
                    "type": "identify",
                    "messageId": "seed-1",
                    "userId": "u-1",
                    "traits": {"email": "u1@example.com", "plan": "pro"},
                    "timestamp": at(0),
                },
                {"type": "track", "messageId": "seed-2", **GOOD},
            ]
        )
        await api.flush()
        yield api


async def snapshot(api: Api) -> dict[str, Any]:
    assert api.runtime is not None and api.runtime.wal is not None
    stats = await api.stats()
    profile = await api.lookup("user_id", "u-1")
    return {
        "wal": api.runtime.wal.position,
        "events": stats["events"],
        "by_channel": stats["events_by_channel"],
        "profiles": stats["profiles"],
        "identities": profile["identities"],
        "traits": profile["traits"],
        "timeline": await api.timeline_ids(profile["id"]),
    }


def _raw(body: bytes, **headers: str) -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": "application/json", **headers}}


def _json(body: Any) -> dict[str, Any]:
    return {"content": orjson.dumps(body), "headers": {"Content-Type": "application/json"}}


def _batch(*messages: Any, **extra: Any) -> dict[str, Any]:
    return _json({"batch": list(messages), **extra})


def _track(**fields: Any) -> dict[str, Any]:
    return {"type": "track", **GOOD, **fields}


BOMB = gzip.compress(orjson.dumps({"batch": [_track(properties={"pad": "0" * 20_000_000})]}))

# (case id, path, request, expected status, expected field)
INGEST_CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("malformed JSON", "/v1/track", _raw(b'{"userId": "u-1", "event": '), 400, "body"),
    ("JSON not an object", "/v1/batch", _raw(b"[1, 2, 3]"), 400, "body"),
    ("empty body", "/v1/identify", _raw(b""), 400, "body"),
    ("no userId nor anonymousId", "/v1/track", _json({"event": "X"}), 400, "userId"),
    (
        "empty ids",
        "/v1/track",
        _json({"event": "X", "userId": "", "anonymousId": ""}),
        400,
        "userId",
    ),
    (
        "unknown message type",
        "/v1/batch",
        _batch({**_track(), "type": "purchase"}),
        400,
        "batch[0].type",
    ),
    ("track without event", "/v1/track", _json({"userId": "u-1"}), 400, "event"),
    (
        "track with blank event",
        "/v1/batch",
        _batch({**_track(), "event": "  "}),
        400,
        "batch[0].event",
    ),
    ("group without groupId", "/v1/group", _json({"userId": "u-1"}), 400, "groupId"),
    ("alias without previousId", "/v1/alias", _json({"userId": "u-1"}), 400, "previousId"),
    ("only message not an object", "/v1/batch", _batch("hello"), 400, "batch[0]"),
    (
        "only message oversized",
        "/v1/batch",
        _batch(_track(properties={"blob": BIG})),
        400,
        "batch[0]",
    ),
    ("batch not a list", "/v1/batch", _json({"batch": {"type": "track"}}), 400, "batch"),
    ("empty batch", "/v1/batch", _json({"batch": []}), 400, "batch"),
    (
        "oversized single event",
        "/v1/track",
        _json({**GOOD, "properties": {"blob": BIG}}),
        413,
        "body",
    ),
    (
        "oversized batch",
        "/v1/batch",
        _batch(
            *[_track(messageId=f"big-{i}", properties={"blob": "y" * 30_000}) for i in range(150)]
        ),
        413,
        "body",
    ),
    (
        "gzip decompression bomb",
        "/v1/batch",
        _raw(BOMB, **{"Content-Encoding": "gzip"}),
        413,
        "body",
    ),
    (
        "corrupt gzip",
        "/v1/batch",
        _raw(b"\x1f\x8b\x08\x00garbage", **{"Content-Encoding": "gzip"}),
        400,
        "body",
    ),
    (
        "unsupported encoding",
        "/v1/batch",
        _raw(b"{}", **{"Content-Encoding": "br"}),
        400,
        "Content-Encoding",
    ),
    (
        "timestamp not a time",
        "/v1/track",
        _json({**GOOD, "timestamp": "yesterday"}),
        400,
        "timestamp",
    ),
    (
        "timestamp out of range",
        "/v1/batch",
        _batch(_track(timestamp="1900-01-01T00:00:00Z")),
        400,
        "batch[0].timestamp",
    ),
    (
        "originalTimestamp not a time",
        "/v1/track",
        _json({**GOOD, "originalTimestamp": "2026-13-45T99:00:00Z"}),
        400,
        "originalTimestamp",
    ),
    ("batch sentAt not a time", "/v1/batch", _batch(_track(), sentAt="soon"), 400, "sentAt"),
    (
        "message sentAt not a time",
        "/v1/batch",
        _batch(_track(sentAt=12.5e20)),
        400,
        "batch[0].sentAt",
    ),
    (
        "properties not an object",
        "/v1/track",
        _json({**GOOD, "properties": "cheap"}),
        400,
        "properties",
    ),
    (
        "traits not an object",
        "/v1/identify",
        _json({"userId": "u-1", "traits": [1]}),
        400,
        "traits",
    ),
    (
        "control character in userId",
        "/v1/track",
        _json({**GOOD, "userId": "u-1\x07"}),
        400,
        "userId",
    ),
    ("NUL byte in anonymousId", "/v1/page", _json({"anonymousId": "a\x00b"}), 400, "anonymousId"),
    (
        "newline in messageId",
        "/v1/batch",
        _batch(_track(messageId="m\n1")),
        400,
        "batch[0].messageId",
    ),
    (
        "NUL byte in event name",
        "/v1/track",
        _json({**GOOD, "event": "Order\x00Completed"}),
        400,
        "event",
    ),
    ("very long userId", "/v1/identify", _json({"userId": "u" * 256}), 400, "userId"),
    ("very long event name", "/v1/track", _json({**GOOD, "event": "E" * 201}), 400, "event"),
    ("userId of the wrong type", "/v1/identify", _json({"userId": {"id": 1}}), 400, "userId"),
]


@pytest.mark.parametrize(
    ("path", "request_kwargs", "status", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in INGEST_CASES],
)
async def test_bad_ingest_is_rejected_and_changes_nothing(
    api: Api, path: str, request_kwargs: dict[str, Any], status: int, field: str
) -> None:
    before = await snapshot(api)
    r = await api.client.post(path, auth=(api.write_key, ""), **request_kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["field"] == field
    assert field in body["message"]
    assert await snapshot(api) == before


async def _write_key_revoked(api: Api) -> str:
    r = await api.client.post("/api/keys", headers=api.bearer, json={"kind": "write"})
    assert r.status_code == 201, r.text
    created = r.json()
    ok = await api.client.post(
        "/v1/track", json={**GOOD, "messageId": "via-new-key"}, auth=(created["key"], "")
    )
    assert ok.status_code == 200
    revoked = await api.client.post(f"/api/keys/{created['id']}/revoke", headers=api.bearer)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    return str(created["key"])


def _basic(raw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


@pytest.mark.parametrize(
    "case",
    [
        "no key",
        "unknown write key",
        "malformed Basic header",
        "secret key on /v1",
        "revoked write key",
        "write key in the body, wrong",
    ],
)
async def test_ingest_with_a_wrong_key_is_refused(api: Api, case: str) -> None:
    revoked = await _write_key_revoked(api) if case == "revoked write key" else ""
    await api.flush()
    before = await snapshot(api)
    headers = {
        "no key": {},
        "unknown write key": _basic("wk_not-a-key"),
        "malformed Basic header": {"Authorization": "Basic %%%"},
        "secret key on /v1": _basic(api.secret_key),
        "revoked write key": _basic(revoked),
        "write key in the body, wrong": {},
    }[case]
    body = {**GOOD, "messageId": "refused"}
    if case == "write key in the body, wrong":
        body["writeKey"] = "wk_guess"
    r = await api.client.post("/v1/track", json=body, headers=headers)
    assert r.status_code == (403 if case == "secret key on /v1" else 401), r.text
    assert r.json()["field"] == "Authorization"
    assert await snapshot(api) == before


async def test_the_write_key_in_the_body_is_accepted_like_segment_clients_send_it(
    api: Api,
) -> None:
    r = await api.client.post(
        "/v1/batch", json={"batch": [_track(messageId="body-key")], "writeKey": api.write_key}
    )
    assert r.status_code == 200, r.text
    await api.flush()
    profile = await api.lookup("user_id", "u-1")
    assert "body-key" in await api.timeline_ids(profile["id"])


@pytest.mark.parametrize(
    ("path_template", "params", "headers_kind", "status", "field"),
    [
        pytest.param("/api/stats", {}, "write", 403, "Authorization", id="write key on /api"),
        pytest.param("/api/stats", {}, "none", 401, "Authorization", id="no key on /api"),
        pytest.param("/api/stats", {}, "bogus", 401, "Authorization", id="unknown secret key"),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"cursor": "not-a-cursor"},
            "secret",
            400,
            "cursor",
            id="bad cursor",
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"cursor": base64.urlsafe_b64encode(b"soon|m1").decode()},
            "secret",
            400,
            "cursor",
            id="cursor with a bad time",
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"cursor": "x" * 501},
            "secret",
            400,
            "cursor",
            id="overlong cursor",
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"channel": "pigeon"},
            "secret",
            400,
            "channel",
            id="unknown channel filter",
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"type": "purchase"},
            "secret",
            400,
            "type",
            id="unknown type filter",
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"since": "last week"},
            "secret",
            400,
            "since",
            id="bad since",
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline", {"limit": 0}, "secret", 400, "limit", id="limit 0"
        ),
        pytest.param(
            "/api/profiles/{pid}/timeline",
            {"limit": 501},
            "secret",
            400,
            "limit",
            id="limit too high",
        ),
        pytest.param(
            "/api/profiles/prf_doesnotexist", {}, "secret", 404, "profile_id", id="unknown profile"
        ),
        pytest.param(
            "/api/profiles/prf_doesnotexist/timeline",
            {},
            "secret",
            404,
            "profile_id",
            id="timeline of an unknown profile",
        ),
        pytest.param(
            "/api/profiles/lookup",
            {"type": "shoe size", "value": "42"},
            "secret",
            400,
            "type",
            id="unknown identifier type",
        ),
        pytest.param(
            "/api/profiles/lookup",
            {"type": "email", "value": "not-an-email"},
            "secret",
            400,
            "value",
            id="invalid email lookup",
        ),
        pytest.param(
            "/api/profiles/lookup",
            {"type": "phone", "value": "12"},
            "secret",
            400,
            "value",
            id="invalid phone lookup",
        ),
        pytest.param(
            "/api/profiles/lookup",
            {"type": "user_id", "value": "nobody"},
            "secret",
            404,
            "value",
            id="unknown identifier value",
        ),
        pytest.param(
            "/api/profiles/lookup",
            {"type": "user_id"},
            "secret",
            400,
            "value",
            id="lookup without value",
        ),
    ],
)
async def test_bad_reads_are_4xx_naming_the_field(
    api: Api,
    path_template: str,
    params: dict[str, Any],
    headers_kind: str,
    status: int,
    field: str,
) -> None:
    before = await snapshot(api)
    pid = before and (await api.lookup("user_id", "u-1"))["id"]
    headers = {
        "secret": api.bearer,
        "write": {"Authorization": f"Bearer {api.write_key}"},
        "none": {},
        "bogus": {"Authorization": "Bearer sk_nope"},
    }[headers_kind]
    r = await api.client.get(path_template.format(pid=pid), params=params, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    if status == 404:
        # Not-found messages name what was looked for.
        assert ("doesnotexist" if "profile" in field else "nobody") in r.json()["message"]
    else:
        assert field in r.json()["message"]
    assert await snapshot(api) == before


async def test_unmerge_without_a_merge_and_of_an_unknown_merge(api: Api) -> None:
    before = await snapshot(api)
    pid = (await api.lookup("user_id", "u-1"))["id"]
    for body in (None, {"merge_id": "mrg_nope"}):
        r = await api.client.post(f"/api/profiles/{pid}/unmerge", headers=api.bearer, json=body)
        assert r.status_code == 404 and r.json()["field"] == "merge_id", r.text
    r = await api.client.post(
        f"/api/profiles/{pid}/unmerge", headers=api.bearer, json={"merge_id": 12}
    )
    assert r.status_code == 400 and r.json()["field"] == "merge_id", r.text
    assert await snapshot(api) == before


async def test_a_nul_byte_in_a_profile_id_is_a_clean_4xx(api: Api) -> None:
    bad = httpx.Request("GET", "http://safar.test/api/profiles/%00/timeline", headers=api.bearer)
    r = await api.client.send(bad)
    assert r.status_code in (400, 404), r.text
    assert "Traceback" not in r.text
