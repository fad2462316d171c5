"""The one-statement profile read answers exactly what the per-part queries answer, on both
stacks: traits, consent, households with members, merges (active and undone), redirects,
workspace scoping; and a revoked secret key stops working at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.orm import Session

from safar.app import create_app
from safar.config import Settings
from safar.db import Database
from safar.identity import service
from safar.identity.models import Identity, Profile, TraitValue
from safar.identity.schemas import ProfileRead
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace, hash_key, issue_key
from tests.events.factories import Api, at
from tests.workspaces.factories import Workspace


def _m(mid: str, kind: str, minute: float, **fields: Any) -> dict[str, Any]:
    return {"messageId": mid, "type": kind, "timestamp": at(minute), **fields}


MESSAGES = [
    _m(
        "s1",
        "identify",
        0,
        anonymousId="a-1",
        traits={"name": "Sara", "plan": "free", "tags": ["vip", 3, None]},
        context={"consent": {"categoryPreferences": {"marketing": True, "analytics": True}}},
    ),
    _m("s2", "identify", 1, userId="u-1", traits={"email": "Sara@Example.com", "plan": "pro"}),
    # Sara logs in on the device she browsed anonymously: the two profiles merge.
    _m("s3", "identify", 2, userId="u-1", anonymousId="a-1"),
    _m(
        "s4",
        "track",
        3,
        userId="u-1",
        event="Unsubscribed",
        context={
            "consent": {
                "preferences": [{"purpose": "marketing", "channel": "email", "granted": False}]
            }
        },
    ),
    _m(
        "g1",
        "group",
        4,
        userId="u-1",
        groupId="h-1",
        traits={"type": "Household", "name": "Rahimi family"},
        context={"role": "parent"},
    ),
    _m("g2", "group", 5, userId="u-2", groupId="h-1", context={"role": "child"}),
    _m("g3", "group", 6, userId="u-1", groupId="acme", traits={"name": "Acme"}),
    # Another person, merged and then unmerged below.
    _m("k1", "identify", 7, anonymousId="a-9", traits={"plan": "trial"}),
    _m("k2", "identify", 8, userId="u-9", traits={"plan": "basic"}),
    _m("k3", "identify", 9, userId="u-9", anonymousId="a-9"),
]


@pytest.fixture
def api(client: httpx.AsyncClient, workspace: Workspace) -> Api:
    return Api(client, workspace.write_key, workspace.secret_key)


def reference(runtime: Runtime, workspace_id: str, profile_id: str) -> bytes:
    """The profile as the separate per-part queries read it (the way it was read before)."""
    with runtime.db.session() as s:
        profile = s.get(Profile, profile_id)
        assert profile is not None and profile.merged_into is None
        idents = service.identities_of(s, profile_id)
        ids = [i.id for i in idents]
        return (
            ProfileRead(
                id=profile_id,
                workspace_id=workspace_id,
                created_at=profile.created_at,
                updated_at=profile.updated_at,
                traits=service.current_traits(s, ids),
                identities=[service._identity_read(i) for i in idents],
                consent=service.current_consent(s, ids),
                groups=service.groups_of(s, ids),
                merges=service.merges_of(s, profile_id),
            )
            .model_dump_json()
            .encode()
        )


async def test_lookup_answers_what_the_per_part_queries_answer(
    api: Api, runtime: Runtime, workspace: Workspace
) -> None:
    await api.batch(MESSAGES)
    await api.flush()
    kept = (await api.lookup("user_id", "u-9"))["id"]
    undone = await api.unmerge(kept)

    checked = set()
    for type_, value in [
        ("user_id", "u-1"),
        ("email", "sara@example.com"),
        ("anonymous_id", "a-1"),
        ("user_id", "u-2"),
        ("user_id", "u-9"),
        ("anonymous_id", "a-9"),
    ]:
        r = await api.client.get(
            "/api/profiles/lookup", headers=api.bearer, params={"type": type_, "value": value}
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        pid = r.json()["id"]
        assert r.content == reference(runtime, workspace.id, pid), (type_, value)
        by_id = await api.client.get(f"/api/profiles/{pid}", headers=api.bearer)
        assert by_id.content == r.content
        checked.add(pid)
    assert len(checked) == 4  # Sara, her child, and the unmerged pair

    sara = await api.lookup("user_id", "u-1")
    assert sara["traits"] == {
        "name": "Sara",
        "plan": "pro",
        "tags": ["vip", 3, None],
        "email": "Sara@Example.com",
    }
    assert [(g["group_id"], g["role"], len(g["members"])) for g in sara["groups"]] == [
        ("acme", None, 1),
        ("h-1", "parent", 2),
    ]
    assert [(c["purpose"], c["channel"], c["granted"]) for c in sara["consent"]] == [
        ("analytics", "all", True),
        ("marketing", "all", True),
        ("marketing", "email", False),
    ]
    assert [m["cause"] for m in sara["merges"]] == ["identify"]
    # The unmerge is listed, undone, on both sides.
    for side in (undone["profile_id"], undone["restored_profile_id"]):
        merges = (await api.profile(side))["merges"]
        assert [(m["id"], m["undone_by"] is not None) for m in merges] == [
            (undone["merge_id"], True)
        ]

    # The merged-away profile id answers with the survivor, saying what was asked for.
    away = sara["merges"][0]["from_profile_id"]
    redirected = await api.profile(away)
    assert redirected == {**sara, "requested_id": away}
    with runtime.db.session() as s:
        assert service.get_profile(s, workspace_id=workspace.id, profile_id=away).model_dump(
            mode="json"
        ) == {**sara, "requested_id": away}


async def test_lookup_is_scoped_to_the_key_workspace(
    api: Api, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    await api.batch(MESSAGES[:3])
    await api.flush()
    sara = await api.lookup("user_id", "u-1")
    with runtime.db.session() as s:
        _, _, other_secret = create_workspace(s, name="Other shop")
    other = {"Authorization": f"Bearer {other_secret}"}
    r = await client.get(
        "/api/profiles/lookup", headers=other, params={"type": "user_id", "value": "u-1"}
    )
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (404, "NotFound", "value")
    r = await client.get(f"/api/profiles/{sara['id']}", headers=other)
    assert (r.status_code, r.json()["field"]) == (404, "profile_id")
    r = await client.get(
        "/api/profiles/lookup", headers=api.bearer, params={"type": "user_id", "value": "u-404"}
    )
    assert r.status_code == 404 and "u-404" in r.json()["message"]
    r = await client.get(
        "/api/profiles/lookup", headers=api.bearer, params={"type": "email", "value": "not mail"}
    )
    assert (r.status_code, r.json()["field"]) == (400, "value")
    r = await client.get(
        "/api/profiles/lookup", params={"type": "user_id", "value": "u-1"}, headers={}
    )
    assert r.status_code == 401


async def test_trait_beyond_64_bits_still_answers(
    api: Api, runtime: Runtime, workspace: Workspace
) -> None:
    await api.batch(MESSAGES[1:2])
    await api.flush()
    pid = (await api.lookup("user_id", "u-1"))["id"]
    with runtime.db.session() as s:
        ident = s.query(Identity).filter_by(profile_id=pid, type="user_id").one()
        s.add(
            TraitValue(
                workspace_id=workspace.id,
                identity_id=ident.id,
                key="points",
                value=2**70,
                source="test",
                observed_at=ident.first_seen,
            )
        )
    r = await api.client.get(
        "/api/profiles/lookup", headers=api.bearer, params={"type": "user_id", "value": "u-1"}
    )
    assert r.status_code == 200 and r.json()["traits"]["points"] == 2**70
    assert r.content == reference(runtime, workspace.id, pid)


async def test_revoked_key_is_refused_even_if_a_stale_check_stores_it(
    runtime: Runtime, workspace: Workspace, client: httpx.AsyncClient
) -> None:
    with runtime.db.session() as s:
        key, raw = issue_key(s, workspace_id=workspace.id, kind="secret", name="temp")
        key_id = key.id
    bearer = {"Authorization": f"Bearer {raw}"}
    assert (await client.get("/api/keys", headers=bearer)).status_code == 200
    r = await client.post(f"/api/keys/{key_id}/revoke", headers=workspace.bearer)
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert (await client.get("/api/keys", headers=bearer)).status_code == 401

    # A check that read the key as valid just before the revocation, and stores its answer
    # just after it: the revocation still wins, now and later.
    with runtime.db.session() as s:
        _, raw2 = issue_key(s, workspace_id=workspace.id, kind="secret", name="temp2")
    racing = RevokedWhileChecking(runtime, hash_key(raw2))
    assert runtime.keys.get(cast(Database, racing), raw2) is None
    assert racing.revoked
    assert runtime.keys.get(runtime.db, raw2) is None  # the database still says valid


class RevokedWhileChecking:
    """A database whose key check is overtaken by a revocation in this process."""

    def __init__(self, runtime: Runtime, key_hash: str) -> None:
        self.runtime, self.key_hash, self.revoked = runtime, key_hash, False

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.runtime.db.session() as s:
            yield s
        self.runtime.keys.revoke(self.key_hash)
        self.revoked = True


def test_api_docs_still_show_the_profile_shape(embedded_settings: Settings) -> None:
    spec = create_app(embedded_settings).openapi()
    for path in ("/api/profiles/lookup", "/api/profiles/{profile_id}"):
        ok = spec["paths"][path]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ProfileRead"
        }
