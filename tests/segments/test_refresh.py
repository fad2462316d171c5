"""Refreshes: a silent baseline, then one event per change, stored exactly once on replay;
the periodic task refreshes every segment of the workspace and schedules the next pass."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from safar.identity import service as identity
from safar.kit.conditions import TraitCondition
from safar.orchestration.service import list_jobs
from safar.segments import module, service
from safar.segments.schemas import SegmentCreate
from tests.segments.factories import ENGINES, NOW, ago, open_runtime, profile_of, store_messages

#: The scheduler's time: after every refresh the tests make, so their jobs are due.
LATER = NOW + timedelta(hours=1)


def _identify(mid: str, user: str, plan: str, days: float) -> dict[str, object]:
    return {"type": "identify", "userId": user, "messageId": mid, "timestamp": ago(days),
            "traits": {"plan": plan}}  # fmt: skip


def _segment_events(runtime: object, ws: str, pid: str) -> list[dict[str, object]]:
    with runtime.db.session() as session:  # type: ignore[attr-defined]
        _, events, _ = identity.timeline(
            session,
            runtime.store,
            workspace_id=ws,
            profile_id=pid,
            limit=100,  # type: ignore[attr-defined]
        )
    return [e for e in events if str(e.get("event", "")).startswith("segment_")]


@pytest.mark.parametrize("engine", ENGINES)
def test_refresh_emits_one_event_per_change_and_a_replay_stores_nothing(
    tmp_path: Path, engine: str
) -> None:
    with open_runtime(tmp_path, engine, clock=lambda: LATER) as (runtime, ws):
        store_messages(runtime, ws, [_identify("i1", "u1", "gold", 9),
                                     _identify("i2", "u2", "silver", 9)])  # fmt: skip
        u1, u2 = profile_of(runtime, ws, "u1"), profile_of(runtime, ws, "u2")
        with runtime.db.session() as session:
            seg = service.create_segment(
                session, workspace_id=ws,
                data=SegmentCreate(name="Gold", conditions=[TraitCondition(key="plan", value="gold")]),
            )  # fmt: skip
            first = service.refresh(
                session, runtime.store, workspace_id=ws, segment_id=seg.id, now=NOW,
                jobs=runtime.jobs,
            )  # fmt: skip
        assert first.baseline and not first.entered and not first.left
        with runtime.db.session() as session:
            assert list_jobs(session, workspace_id=ws) == []  # the baseline emits nothing
            assert (
                service.get_segment(session, workspace_id=ws, segment_id=seg.id).member_count == 1
            )

        # u1 leaves the gold plan, u2 joins it.
        store_messages(runtime, ws, [_identify("i3", "u1", "silver", 1),
                                     _identify("i4", "u2", "Gold", 1)])  # fmt: skip
        later = NOW + timedelta(minutes=5)
        with runtime.db.session() as session:
            diff = service.refresh(
                session, runtime.store, workspace_id=ws, segment_id=seg.id, now=later,
                jobs=runtime.jobs,
            )  # fmt: skip
        assert (diff.entered, diff.left, diff.refresh) == ([u2], [u1], 2)
        assert runtime.scheduler.run_due() == 1
        entered = _segment_events(runtime, ws, u2)
        exited = _segment_events(runtime, ws, u1)
        assert [(e["event"], e["message_id"]) for e in entered] == [
            ("segment_entered", f"seg:{seg.id}:{u2}:entered:2")
        ]
        assert [(e["event"], e["message_id"]) for e in exited] == [
            ("segment_exited", f"seg:{seg.id}:{u1}:exited:2")
        ]
        assert entered[0]["properties"] == {"segment_id": seg.id, "segment_name": "Gold"}
        assert entered[0]["user_id"] == "u2"

        # A replay of the emit task (a crash after storing, before the job was marked done).
        with runtime.db.session() as session:
            (job,) = list_jobs(session, workspace_id=ws)
            payload = job.payload
        replay = runtime.scheduler.tasks[module.EMIT_TASK](payload)
        assert replay == {"inserted": 0, "duplicates": 2}
        assert len(_segment_events(runtime, ws, u2)) == 1

        # Nothing changed: nothing to emit.
        with runtime.db.session() as session:
            same = service.refresh(
                session, runtime.store, workspace_id=ws, segment_id=seg.id,
                now=later + timedelta(minutes=5), jobs=runtime.jobs,
            )  # fmt: skip
            assert (same.entered, same.left) == ([], [])
            assert len(list_jobs(session, workspace_id=ws)) == 1


def test_the_periodic_task_refreshes_every_segment_and_schedules_the_next(
    tmp_path: Path,
) -> None:
    with open_runtime(tmp_path, clock=lambda: LATER) as (runtime, ws):
        store_messages(runtime, ws, [_identify("i1", "u1", "gold", 3)])
        with runtime.db.session() as session:
            for name, plan in (("Gold", "gold"), ("Silver", "silver")):
                service.create_segment(
                    session, workspace_id=ws,
                    data=SegmentCreate(name=name, conditions=[TraitCondition(key="plan", value=plan)]),
                )  # fmt: skip
        task = runtime.scheduler.tasks[module.REFRESH_TASK]
        assert task({"workspace_id": ws, "interval_s": 300}) == {
            "segments": 2, "entered": 0, "left": 0,
        }  # fmt: skip
        with runtime.db.session() as session:
            assert all(s.refreshes == 1 for s in service.list_segments(session, workspace_id=ws))
            (job,) = list_jobs(session, workspace_id=ws)
            assert job.action == module.REFRESH_TASK and job.status == "pending"
            assert job.due_at == LATER + timedelta(seconds=300)
        # Asking again for the same slot schedules nothing more.
        with runtime.db.session() as session:
            service.schedule_refresh(
                session, runtime.jobs, workspace_id=ws, due_at=LATER + timedelta(seconds=300),
                interval_s=300,
            )  # fmt: skip
            assert len(list_jobs(session, workspace_id=ws)) == 1


def test_the_module_names_the_service_tasks() -> None:
    assert (module.EMIT_TASK, module.REFRESH_TASK) == (service.EMIT_TASK, service.REFRESH_TASK)


def test_a_workspace_without_segments_stops_refreshing(tmp_path: Path) -> None:
    with open_runtime(tmp_path, clock=lambda: LATER) as (runtime, ws):
        task = runtime.scheduler.tasks[module.REFRESH_TASK]
        assert task({"workspace_id": ws}) == {"segments": 0, "entered": 0, "left": 0}
        with runtime.db.session() as session:
            assert list_jobs(session, workspace_id=ws) == []


def test_privacy_export_and_erase_cover_memberships(tmp_path: Path) -> None:
    handler = module.module.privacy_handler()
    assert handler is not None
    with open_runtime(tmp_path) as (runtime, ws):
        store_messages(runtime, ws, [_identify("i1", "u1", "gold", 3)])
        u1 = profile_of(runtime, ws, "u1")
        with runtime.db.session() as session:
            seg = service.create_segment(
                session, workspace_id=ws,
                data=SegmentCreate(name="Gold", conditions=[TraitCondition(key="plan", value="gold")]),
            )  # fmt: skip
            service.refresh(session, runtime.store, workspace_id=ws, segment_id=seg.id, now=NOW)
            listed = service.create_segment(
                session, workspace_id=ws, data=SegmentCreate(name="Dropped", profiles=[u1])
            )
        with runtime.db.session() as session:
            exported = handler.export(session, runtime, workspace_id=ws, profile_id=u1)
            assert [(m["segment_id"], m["profile_id"]) for m in exported["memberships"]] == [
                (seg.id, u1)
            ]
            assert [m["segment_id"] for m in exported["listed_in"]] == [listed.id]
            assert handler.erase(session, runtime, workspace_id=ws, profile_id=u1) == 2
        with runtime.db.session() as session:
            assert handler.export(session, runtime, workspace_id=ws, profile_id=u1) == {
                "memberships": [],
                "listed_in": [],
            }
