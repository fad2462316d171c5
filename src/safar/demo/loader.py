"""Load the demo workspace: create (or reuse) it, generate its events, store them.

Idempotent: the workspace is found again by name, its keys are kept in ``demo.json`` in the
data dir (readable by the owner only), the time anchor of the first run is reused, and every
message has a deterministic messageId, so a second ``safar demo`` stores nothing twice. Events
are validated by the API's own code and enter the stores through ``Applier.apply``.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safar.config import Settings
from safar.demo.generator import DemoData, generate
from safar.demo.journeys import install as install_journeys
from safar.demo.segments import install as install_segments
from safar.demo.surveys import DEMO_SURVEYS as DEMO_SURVEY_NAMES
from safar.demo.surveys import SurveySeed
from safar.demo.surveys import seed as seed_surveys
from safar.errors import Conflict, NotFound, SafarError, ValidationFailed
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.identity import service as identity
from safar.kit.remote import DEMO_STATE_FILE
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace, find_workspace, get_workspace, issue_key

WORKSPACE_NAME = "Safar Demo"
REAL_WORKSPACE_NAME = "Safar Demo (real data)"
STATE_FILE = DEMO_STATE_FILE  # the CLI finds the demo's keys there (kit.remote)
DEMO_EMAIL = "demo@safar.local"
CHUNK = 5_000


@dataclass
class DemoInfo:
    workspace_id: str
    workspace_name: str
    secret_key: str
    write_key: str
    profile_id: str | None
    showcase_user: str
    customers: int
    households: int
    events: int
    stored: int
    duplicates: int
    seconds: float
    channels: dict[str, int] = field(default_factory=dict)
    #: (email, password) of the dashboard admin, or None when the dashboard is not installed.
    login: tuple[str, str | None] | None = None
    sources: list[str] = field(default_factory=list)
    #: Journeys published in the workspace (shipped ones the demo's events trigger).
    journeys: int = 0
    #: Members of each saved segment the demo made (name -> count).
    segments: dict[str, int] = field(default_factory=dict)
    #: Survey invitations and answers of the story, as they were sent through Safar's surveys.
    asks: int = 0
    answered: int = 0
    surveys: SurveySeed = field(default_factory=SurveySeed)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def describe(self, base_url: str) -> str:
        base = base_url.rstrip("/")
        lines = [
            f"Demo workspace {self.workspace_name!r} ({self.workspace_id}): {self.customers} "
            f"customers, {self.households} households, {self.events:,} events "
            f"({self.stored:,} stored now, {self.duplicates:,} already there) "
            f"in {self.seconds:.1f} s ({self.events_per_second:,.0f} events/s).",
            "Channels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.channels.items())),
        ]
        if self.sources:
            lines.append("Built from: " + "; ".join(self.sources))
        if self.asks:
            s = self.surveys
            lines.append(
                f"Surveys:      {len(DEMO_SURVEY_NAMES)} (NPS, delivery CSAT, support CES, store "
                f"CSAT): {self.asks:,} invitations, {self.answered:,} answered"
                + (
                    f" ({s.invitations:,} invitations, {s.responses:,} responses and "
                    f"{s.events:,} answer events new in this run)"
                    if s.invitations != self.asks or s.responses != self.answered
                    else f", {s.events:,} answer events"
                )
            )
        if self.journeys:
            lines.append(
                f"Journeys:     {self.journeys} published (abandoned cart, detractor recovery, "
                "win-back, birthday, anniversary); they run while the server runs"
            )
        if self.segments:
            lines.append(
                "Segments:     " + ", ".join(f"{name} {n:,}" for name, n in self.segments.items())
            )
        lines += [
            "",
            f"API docs:     {base}/docs",
            f"Secret key:   {self.secret_key}",
            f"Write key:    {self.write_key}",
        ]
        if self.profile_id:
            lines += [
                f"A customer:   {base}/api/profiles/{self.profile_id}/timeline",
                f'  curl -H "Authorization: Bearer {self.secret_key}" '
                f"{base}/api/profiles/{self.profile_id}/timeline",
                f"  (or look them up: {base}/api/profiles/lookup?type=user_id&value={self.showcase_user})",
            ]
        if self.login is None:
            lines.append("Dashboard:    not installed in this build (the API above works).")
        else:
            email, password = self.login
            shown = password or "(unchanged since the user was created earlier)"
            lines.append(f"Dashboard:    {base}/login  user {email}  password {shown}")
            if self.profile_id:
                lines.append(f"Customer 360: {base}/customers/{self.profile_id}")
        lines.append(f"The keys are kept in {STATE_FILE} in the data dir.")
        return "\n".join(lines)


# -- workspace and keys, remembered in the data dir -------------------------------------------
def _state_path(settings: Settings) -> Path:
    return settings.data_dir / STATE_FILE


def _read_state(settings: Settings) -> dict[str, Any]:
    path = _state_path(settings)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(settings: Settings, state: dict[str, Any]) -> None:
    path = _state_path(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def _workspace(runtime: Runtime, entry: dict[str, Any], name: str) -> dict[str, Any]:
    """Reuse the remembered workspace and keys, or find it by name, or create it."""
    with runtime.db.session() as session:
        ws_id = entry.get("workspace_id")
        if ws_id and get_workspace(session, ws_id) is not None and entry.get("secret_key"):
            return entry
        found = find_workspace(session, name=name)
        if found is not None:
            # The keys were lost (only hashes are stored): issue a new pair.
            _, write = issue_key(session, workspace_id=found.id, kind="write", name="demo")
            _, secret = issue_key(session, workspace_id=found.id, kind="secret", name="demo")
            return {**entry, "workspace_id": found.id, "write_key": write, "secret_key": secret}
        ws, write, secret = create_workspace(session, name=name)
        return {"workspace_id": ws.id, "write_key": write, "secret_key": secret}


def _dashboard_login(runtime: Runtime, state: dict[str, Any]) -> tuple[str, str | None] | None:
    try:
        from safar.auth.service import create_user
    except ImportError:
        return None
    password = state.get("dashboard_password")
    try:
        with runtime.db.session() as session:
            new_password = secrets.token_urlsafe(12)
            create_user(
                session, email=DEMO_EMAIL, password=new_password, role="admin", name="Safar Demo"
            )
        state["dashboard_password"] = password = new_password
    except Conflict:
        pass  # created by an earlier run; its password is in the state file
    return DEMO_EMAIL, password


# -- loading ----------------------------------------------------------------------------------
def store_messages(
    runtime: Runtime, workspace_id: str, messages: list[dict[str, Any]]
) -> tuple[int, int]:
    """Validate and store messages in chunks; return (stored, already there)."""
    stored = duplicates = 0
    rows: list[EventRow] = []
    for i, raw in enumerate(messages):
        msg = parse_message(raw, prefix=f"demo[{i}]")
        when = msg.timestamp or datetime.now(UTC)
        rows.append(normalize(msg, workspace_id=workspace_id, received_at=when, source="demo"))
        if len(rows) >= CHUNK:
            result = runtime.applier.apply(rows)
            stored, duplicates = stored + result.inserted, duplicates + result.duplicates
            rows = []
    if rows:
        result = runtime.applier.apply(rows)
        stored, duplicates = stored + result.inserted, duplicates + result.duplicates
    return stored, duplicates


def _anchor(entry: dict[str, Any], now: datetime) -> datetime:
    """The demo's "now": the first run's, reused so that a later run regenerates the same rows.

    An anchor later than ``now`` (earlier versions used the end of the first day) is replaced:
    no demo event may lie in the future.
    """
    raw = entry.get("anchor")
    if isinstance(raw, str):
        try:
            anchor = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if anchor.tzinfo is not None and anchor <= now:
                return anchor
    return now


def load_demo(
    settings: Settings,
    *,
    customers: int = 400,
    seed: int = 7,
    real_data: Path | None = None,
    now: datetime | None = None,
) -> DemoInfo:
    """Create or reuse the demo workspace and load its events; safe to run again.

    Generated events end just before ``now`` (the real clock unless given, as tests do).
    """
    if customers < 1 or customers > 200_000:
        raise ValidationFailed("--customers: between 1 and 200000", field="customers")
    if real_data is not None and not Path(real_data).is_dir():
        raise NotFound(f"--real-data: {real_data} is not a folder", field="real_data")
    name = REAL_WORKSPACE_NAME if real_data is not None else WORKSPACE_NAME
    # A given "now" is the runtime's clock too: journeys enter on events of the last two days
    # and due survey tasks run, relative to it.
    fixed = now
    runtime = (
        Runtime(settings, ingest=False)
        if fixed is None
        else Runtime(settings, ingest=False, clock=lambda: fixed)
    )
    try:
        state = _read_state(settings)
        entry = _workspace(runtime, dict(state.get(name) or {}), name)
        clock = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        entry["anchor"] = _anchor(entry, clock).isoformat()
        state[name] = entry
        _write_state(settings, state)
        started = time.perf_counter()
        sources: list[str] = []
        data: DemoData
        if real_data is not None:
            from safar.demo.real import build_real

            data, sources = build_real(Path(real_data), seed=seed, customers=customers)
        else:
            data = generate(seed, customers, datetime.fromisoformat(entry["anchor"]))
        journeys = install_journeys(runtime, entry["workspace_id"], data.messages)
        try:
            stored, duplicates = store_messages(runtime, entry["workspace_id"], data.messages)
        except SafarError as exc:
            raise ValidationFailed(f"demo data rejected: {exc.message}") from exc
        survey_seed = (
            seed_surveys(runtime, entry["workspace_id"], data.asks) if data.asks else SurveySeed()
        )
        segments = install_segments(runtime, entry["workspace_id"], clock)
        seconds = time.perf_counter() - started
        with runtime.db.session() as session:
            try:
                profile_id: str | None = identity.lookup(
                    session,
                    workspace_id=entry["workspace_id"],
                    type_="user_id",
                    value=data.showcase,
                )
            except NotFound:
                profile_id = None
        login = _dashboard_login(runtime, state)
        _write_state(settings, state)
        return DemoInfo(
            workspace_id=entry["workspace_id"],
            workspace_name=name,
            secret_key=entry["secret_key"],
            write_key=entry["write_key"],
            profile_id=profile_id,
            showcase_user=data.showcase,
            customers=len(data.customers),
            households=data.households,
            events=len(data.messages),
            stored=stored,
            duplicates=duplicates,
            seconds=seconds,
            channels=data.counts,
            login=login,
            sources=sources,
            journeys=len(journeys),
            segments=segments,
            asks=len(data.asks),
            answered=sum(a.answered is not None for a in data.asks),
            surveys=survey_seed,
        )
    finally:
        runtime.close()
