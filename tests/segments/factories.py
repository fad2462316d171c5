"""Segments test helpers: a runtime on either event engine, messages stored through the real
ingestion path (``Applier``), and a small generated population with its own reference
answers (computed from the generated facts, not by the code under test)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.identity import service as identity
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.installation import fresh_data_dir

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ENGINES = ["duckdb", "clickhouse"]


@contextmanager
def open_runtime(
    tmp_path: Path, engine: str = "duckdb", clock: Callable[[], datetime] = lambda: NOW
) -> Iterator[tuple[Runtime, str]]:
    """A runtime on SQLite and the event engine (ClickHouse in process through chdb), with
    one workspace; no background threads (tests run the scheduler's due jobs themselves)."""
    if engine == "clickhouse":
        pytest.importorskip("chdb")
    settings = Settings(
        data_dir=fresh_data_dir(tmp_path / "safar"), event_engine=engine, text_analysis=False
    )  # type: ignore[arg-type]
    runtime = Runtime(settings, ingest=False, clock=clock)
    try:
        with runtime.db.session() as session:
            ws, _, _ = create_workspace(session, name="Shop")
        yield runtime, ws.id
    finally:
        runtime.close()


def store_messages(runtime: Runtime, workspace_id: str, messages: list[dict[str, Any]]) -> int:
    """Normalise and apply messages as ingestion would; returns how many were new."""
    rows = [
        normalize(parse_message(m), workspace_id=workspace_id, received_at=NOW) for m in messages
    ]
    return runtime.applier.apply(rows).inserted


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def profile_of(runtime: Runtime, workspace_id: str, user_id: str) -> str:
    with runtime.db.session() as session:
        return identity.lookup(session, workspace_id=workspace_id, type_="user_id", value=user_id)


@dataclass
class Person:
    user_id: str
    anonymous_id: str
    traits: dict[str, Any] = field(default_factory=dict)
    consent: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: (event name, days ago, properties)
    events: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)


PLANS = ["Gold", " gold ", "silver", "SILVER", "bronze", None]
CITIES = ["Tehran", "tehran ", "Shiraz", "Tabriz"]


def population(seed: int, size: int = 24) -> tuple[list[Person], list[dict[str, Any]]]:
    """People with traits (changed over time), consent and events, some seen anonymously
    before they identified (two profiles that merge), and the messages that tell it."""
    rnd = random.Random(seed)
    people: list[Person] = []
    messages: list[dict[str, Any]] = []
    n = 0

    def mid() -> str:
        nonlocal n
        n += 1
        return f"m{seed}-{n}"

    for i in range(size):
        p = Person(f"u{i}", f"a{i}")
        anonymous_first = rnd.random() < 0.3
        for _ in range(rnd.randint(0, 6)):
            name = rnd.choice(["Order Completed", "Page Viewed", "Cart Abandoned"])
            days = rnd.choice([0.2, 3.4, 6.7, 8.1, 20.5, 45.3, -2.5])  # -2.5: after now
            props: dict[str, Any] = {
                "total": rnd.choice([5, 50, "120", 300.5, "n/a"]),
                "city": rnd.choice(CITIES),
            }
            anon = anonymous_first and rnd.random() < 0.5
            ident = {"anonymousId": p.anonymous_id} if anon else {"userId": p.user_id}
            messages.append(
                {"type": "track", "event": name, "messageId": mid(), "timestamp": ago(days),
                 "properties": props, **ident}
            )  # fmt: skip
            p.events.append((name, days, props))
        if anonymous_first:
            # The anonymous visitor signs in: its profile merges into the user's.
            messages.append(
                {"type": "identify", "messageId": mid(), "anonymousId": p.anonymous_id,
                 "timestamp": ago(50), "traits": {"visited": True}}
            )  # fmt: skip
            p.traits["visited"] = True
        for step in range(rnd.randint(1, 2)):
            traits: dict[str, Any] = {}
            plan = rnd.choice(PLANS)
            if plan is not None:
                traits["plan"] = plan
            if rnd.random() < 0.8:
                traits["age"] = rnd.choice([17, 25, "30", 41, "65"])
            if rnd.random() < 0.7:
                traits["signup"] = rnd.choice(["2025-01-10", "2026-03-01T08:00:00Z", "2026-05-20"])
            if rnd.random() < 0.5:
                traits["tags"] = rnd.sample(["vip", "new", "churn-risk"], rnd.randint(0, 2))
            if rnd.random() < 0.5:
                traits["address"] = {"city": rnd.choice(CITIES)}
            prefs = []
            for channel in ("email", "all"):
                if rnd.random() < 0.4:
                    granted = rnd.random() < 0.5
                    prefs.append({"purpose": "marketing", "channel": channel, "granted": granted})
                    p.consent[("marketing", channel)] = granted
            ident2 = {"userId": p.user_id}
            if anonymous_first and step == 0:
                ident2["anonymousId"] = p.anonymous_id
            messages.append(
                {"type": "identify", "messageId": mid(), "timestamp": ago(40 - step),
                 "traits": traits, "context": {"consent": {"preferences": prefs}}, **ident2}
            )  # fmt: skip
            p.traits.update(traits)
        people.append(p)
    return people, messages
