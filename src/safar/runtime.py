"""The composition root: the list of domains, and the running parts of one installation.

``safar.domains.DOMAINS`` is the only place that names every domain; the app's routers, the
dashboard's pages, the CLI's commands, the migrations' models, the scheduler's tasks and
actions, the ingest hooks and privacy requests are all built from it. ``Runtime`` owns the state store, the
event store and (when ingesting) the write-ahead log, the group committer and the consumer; it
satisfies ``safar.kit.container.Container`` and the domains' own container protocols. The web
app, the CLI and tests build one and close it. Nothing below the app and the CLI imports this
module (``lint-imports`` checks it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from safar.config import Settings
from safar.db import Database
from safar.domains import DOMAINS
from safar.events.committer import GroupCommitter
from safar.events.import_worker import ImportWorker
from safar.events.pipeline import Applier, Consumer
from safar.events.store import EventStore, open_event_store
from safar.events.wal import WriteAheadLog
from safar.flows.engine import FlowEngine
from safar.identity.resolver import IdentityResolver
from safar.kit.container import Clock
from safar.kit.db import utcnow
from safar.kit.domain import load
from safar.orchestration.channels import Channel, default_channels
from safar.orchestration.jobs import ScheduledJobs
from safar.orchestration.limits import Guards
from safar.orchestration.outbox import with_outbox
from safar.orchestration.scheduler import Scheduler, TriggerHook
from safar.surveys.rendering import template_env
from safar.surveys.tokens import LinkSigner
from safar.text.tasks import TextWorker
from safar.workspaces.keys import KeyCache

if TYPE_CHECKING:
    from safar.events.deps import ImportParts, IngestParts
    from safar.kit.container import Container
    from safar.surveys.deps import SurveyParts
    from safar.workspaces.deps import KeyedContainer

log = logging.getLogger("safar")


def export_person(runtime: Runtime, *, workspace_id: str, profile_id: str) -> dict[str, Any]:
    """What every domain holds about one person, by domain (a privacy export)."""
    with runtime.db.session() as session:
        return {
            domain.name: handler.export(
                session, runtime, workspace_id=workspace_id, profile_id=profile_id
            )
            for domain in DOMAINS
            if (handler := domain.privacy_handler()) is not None
        }


def erase_person(runtime: Runtime, *, workspace_id: str, profile_id: str) -> dict[str, int]:
    """Erase one person from every domain; rows removed, by domain.

    State-store rows go in one unit of work (all or none). Domains are asked in reverse order,
    so identity, which the others use to find the person, goes last. Event-store rows other
    than text analyses (the events themselves) are not erased yet.
    """
    erased: dict[str, int] = {}
    with runtime.db.session() as session:
        for domain in reversed(DOMAINS):
            handler = domain.privacy_handler()
            if handler is not None:
                erased[domain.name] = handler.erase(
                    session, runtime, workspace_id=workspace_id, profile_id=profile_id
                )
    return erased


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        ingest: bool = True,
        background: bool = True,
        channels: dict[str, Channel] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock
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
            channels=channels
            if channels is not None
            else with_outbox(default_channels(settings), settings.outbox_dir),
            interval_s=settings.scheduler_interval_s,
            clock=clock,
            guards=Guards.from_settings(settings),
            send_concurrency=settings.send_concurrency,
        )
        for domain in DOMAINS:
            for name, ref in domain.actions.items():
                self.scheduler.actions[name] = load(ref)(self)
            for name, ref in domain.tasks.items():
                self.scheduler.tasks[name] = load(ref)(self)
        self.jobs = ScheduledJobs(self.scheduler.wake, clock)
        self.trigger_hook = TriggerHook(self.db, self.scheduler)
        # Jobs are written in the identity transaction (a failed event insert replays them);
        # the orchestration domain's ingest hook then wakes the scheduler.
        self.applier.in_transaction.append(self.trigger_hook.schedule)
        # Journeys: entries and inbox events are written in the same identity transaction;
        # the journey worker runs instances, timers and waits (docs/architecture.md).
        self.flows = FlowEngine(
            self.db,
            self.store,
            jobs=self.jobs,
            default_tz=settings.timezone,
            clock=clock,
            interval_s=settings.scheduler_interval_s,
            wake_scheduler=self.scheduler.wake,
            settings=settings,
        )
        self.applier.in_transaction.append(self.flows.hook.schedule)
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
            self.text_worker.listeners.append(self.flows.hook.text_results)
            self.text_worker.start()
        for domain in DOMAINS:
            for ref in domain.ingest_hooks:
                hook = load(ref)(self)
                if hook is not None:
                    self.applier.hooks.append(hook)
        # Imports sent to a server run on its own thread, through this applier (one writer).
        self.imports = ImportWorker(self)
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
                # Runs a stopped server left behind are failed: nothing else runs them.
                self.imports.recover()
                self.consumer.start()
                self.scheduler.start()
                self.flows.start()

    def close(self) -> None:
        self.imports.stop()
        self.flows.stop()
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


def _conforms(
    runtime: Runtime,
) -> tuple[IngestParts, ImportParts, SurveyParts, KeyedContainer, Container[EventStore]]:
    """Nothing calls this: mypy checks here that ``Runtime`` satisfies every container
    protocol the domains declare, so a part they rely on cannot disappear unnoticed."""
    return runtime, runtime, runtime, runtime, runtime
