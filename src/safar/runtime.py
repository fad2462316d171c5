"""The running parts of one installation, wired together once.

``Runtime`` owns the state store, the event store and (when ingesting) the write-ahead log,
the group committer and the consumer. The web app, the CLI and tests build one and close it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from safar.config import Settings
from safar.db import Database
from safar.events.committer import GroupCommitter
from safar.events.pipeline import Applier, Consumer
from safar.events.store import EventStore, open_event_store
from safar.events.wal import WriteAheadLog
from safar.identity.resolver import IdentityResolver
from safar.orchestration.channels import Channel, default_channels
from safar.orchestration.scheduler import Scheduler, TriggerHook
from safar.surveys.rendering import template_env
from safar.surveys.service import EMIT_TASK
from safar.surveys.tasks import ACTION as SURVEY_ACTION
from safar.surveys.tasks import SurveyAction, emit_event_task
from safar.surveys.tokens import LinkSigner
from safar.text.tasks import TextWorker
from safar.workspaces.service import KeyIdentity, authenticate, hash_key

log = logging.getLogger("safar")
KEY_CACHE_SECONDS = 30.0


@dataclass
class KeyCache:
    """Keys checked on every request; remembered briefly, forgotten on revoke.

    A key revoked through this process is refused at once and for good, even when a check
    that started before the revocation committed stores its stale answer afterwards; one
    revoked through another process is refused within ``KEY_CACHE_SECONDS``.
    """

    entries: dict[str, tuple[float, KeyIdentity | None]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, db: Database, raw: str) -> KeyIdentity | None:
        digest = hash_key(raw)
        now = time.monotonic()
        with self.lock:
            if digest in self.revoked:
                return None
            hit = self.entries.get(digest)
        if hit and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        with db.session() as session:
            ident = authenticate(session, raw)
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            if digest not in self.revoked:
                self.entries[digest] = (now, ident)
        return ident if digest not in self.revoked else None

    def revoke(self, key_hash: str) -> None:
        """Refuse the key with this stored hash from now on (revocation is final)."""
        with self.lock:
            self.revoked.add(key_hash)
            self.entries.pop(key_hash, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        ingest: bool = True,
        background: bool = True,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings
        settings.ensure_dirs()
        self.db = Database(settings.resolved_state_url)
        self.db.migrate()
        self.store: EventStore = open_event_store(settings)
        self.resolver = IdentityResolver(settings.identity_limits)
        self.applier = Applier(self.db, self.store, self.resolver)
        self.keys = KeyCache()
        # Orchestration: triggers schedule durable jobs from stored events; a scheduler thread
        # runs them (when this runtime ingests in the background: servers, not CLI commands).
        self.survey_signer = LinkSigner(settings.resolved_secret_key())
        self.survey_env = template_env()
        self.scheduler = Scheduler(
            self.db,
            channels=channels if channels is not None else default_channels(settings),
            actions={
                SURVEY_ACTION: SurveyAction(
                    self.survey_signer,
                    settings.resolved_public_url(),
                    self.survey_env,
                    settings.timezone,
                )
            },
            tasks={EMIT_TASK: emit_event_task(self.applier)},
            interval_s=settings.scheduler_interval_s,
        )
        self.trigger_hook = TriggerHook(self.db, self.scheduler)
        self.applier.in_transaction.append(self.trigger_hook.schedule)
        self.applier.hooks.append(self.trigger_hook)
        self.wal: WriteAheadLog | None = None
        self.committer: GroupCommitter | None = None
        self.consumer: Consumer | None = None
        self.text_worker: TextWorker | None = None
        if settings.text_analysis:
            # Texts of new events (ingested, imported or demo) are analysed on their own
            # thread; ingestion never waits.
            # The models load on the first text, not at start-up.
            data_dir, accurate = settings.data_dir, settings.text_accurate

            def open_analyzer() -> Any:
                from safar.text.pipeline import Analyzer

                return Analyzer.open(data_dir, accurate=accurate)

            self.text_worker = TextWorker(self.store, open_analyzer)
            self.applier.hooks.append(self.text_worker.hook)
            self.text_worker.start()
        if ingest:
            self.wal = WriteAheadLog(settings.wal_dir)
            self.consumer = Consumer(
                self.wal,
                self.applier,
                batch_events=settings.apply_batch_events,
                dead_letter=settings.data_dir / "dead-letter.jsonl",
            )
            # Whatever was acknowledged before a crash is applied before anything new.
            self.consumer.drain()
            self.committer = GroupCommitter(
                self.wal, linger_s=settings.group_commit_ms / 1000, on_commit=self.consumer.notify
            )
            if background:
                self.consumer.start()
                self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()
        if self.committer is not None:
            self.committer.close()
        if self.consumer is not None:
            self.consumer.stop()
            self.consumer.drain()
        if self.text_worker is not None:
            # Queued texts are finished first: an import's analyses are not dropped on exit.
            self.text_worker.stop(timeout=600)
        if self.wal is not None:
            self.wal.close()
        self.store.close()
        self.db.dispose()
