"""The Listen facades on both engines: counts per day and label, verbatims joined to their
events' text and customers, filters, and readers' corrections (stored, counted, exported,
in privacy requests)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safar.cli import app
from safar.config import Settings
from safar.errors import NotFound, ValidationFailed
from safar.identity import service as identity
from safar.runtime import Runtime
from safar.text import privacy, service
from safar.text.schemas import TextSlice
from tests.text.factories import DAY, send_texts, themed_texts
from tests.workspaces.factories import Workspace, make_workspace

WEEK = (DAY - timedelta(days=6), DAY + timedelta(days=1))


def _slice(ws: str, **kw: object) -> TextSlice:
    return TextSlice(ws, *WEEK, tz="Asia/Tehran", **kw)  # type: ignore[arg-type]


def test_counts_and_verbatims_of_a_range(runtime: Runtime, workspace: Workspace) -> None:
    ws = workspace.id
    send_texts(runtime, ws)
    with runtime.db.session() as s:
        counts = service.listen_counts(s, runtime.store, _slice(ws))
        shown = service.verbatims(s, runtime.store, _slice(ws))
        u0 = identity.lookup(s, workspace_id=ws, type_="user_id", value="u-0")
    # The failed analysis and the text of a month ago are left out.
    assert counts.total == 5
    assert dict(counts.of("sentiment")) == {"negative": 3, "positive": 2}
    assert dict(counts.of("category")) == {"delivery": 1, "quality": 1, "price": 1, "app": 1,
                                           "service": 1}  # fmt: skip
    assert counts.split("category")["price"] == {"negative": 1}
    days = counts.per_day("sentiment")
    assert sum(n for c in days.values() for n in c.values()) == 5 and len(days) == 4
    assert [v.message_id for v in shown] == ["t-0", "t-1", "t-2", "t-3", "t-4"]
    first = shown[0]
    assert first.text == "پیک خیلی دیر رسید و غذا سرد بود." and first.profile_id == u0
    assert (first.sentiment, first.emotion, first.category) == ("negative", "anger", "delivery")
    assert shown[2].text == "قیمت‌ها خیلی بالا رفته" and shown[2].survey_id == "srv-1"
    assert not first.corrected


@pytest.mark.parametrize(
    ("filters", "want"),
    [
        ({"channel": "email"}, ["t-2", "t-4"]),
        ({"source": "survey_answered"}, ["t-2", "t-4"]),
        ({"survey": "srv-2"}, ["t-4"]),
        ({"sentiment": "negative"}, ["t-0", "t-2", "t-3"]),
        ({"emotion": "joy", "channel": "chat"}, ["t-1"]),
        ({"category": "app"}, ["t-3"]),
        ({"survey": "nope"}, []),
    ],
)
def test_drill_down_filters(
    runtime: Runtime, workspace: Workspace, filters: dict[str, str], want: list[str]
) -> None:
    send_texts(runtime, workspace.id)
    with runtime.db.session() as s:
        shown = service.verbatims(s, runtime.store, _slice(workspace.id, **filters))
        counts = service.listen_counts(s, runtime.store, _slice(workspace.id, **filters))
    assert [v.message_id for v in shown] == want
    assert counts.total == len(want)


def test_paging_and_customers(runtime: Runtime, workspace: Workspace) -> None:
    ws = workspace.id
    send_texts(runtime, ws)
    with runtime.db.session() as s:
        pages = [
            service.verbatims(s, runtime.store, _slice(ws), limit=2, offset=o) for o in (0, 2, 4)
        ]
        u2 = identity.lookup(s, workspace_id=ws, type_="user_id", value="u-2")
        theirs = service.verbatims(s, runtime.store, _slice(ws, profile_ids=(u2,)))
        counted = service.listen_counts(s, runtime.store, _slice(ws, profile_ids=(u2,)))
        nobody = service.listen_counts(s, runtime.store, _slice(ws, profile_ids=()))
    assert [[v.message_id for v in p] for p in pages] == [["t-0", "t-1"], ["t-2", "t-3"], ["t-4"]]
    assert [v.message_id for v in theirs] == ["t-3", "t-4"] and counted.total == 2
    assert nobody.total == 0


def test_a_correction_counts_and_is_exported(runtime: Runtime, workspace: Workspace) -> None:
    ws = workspace.id
    send_texts(runtime, ws)
    with runtime.db.session() as s:
        rows = service.correct(
            s, runtime.store, workspace_id=ws, message_id="t-3",
            labels={"sentiment": "neutral", "emotion": "anger", "category": "payment"},
            user="analyst@example.com",
        )  # fmt: skip
        # The emotion it already had is not a correction.
        assert [(r.field, r.old_label, r.new_label) for r in rows] == [
            ("sentiment", "negative", "neutral"), ("category", "app", "payment")]  # fmt: skip
    with runtime.db.session() as s:
        again = service.correct(
            s,
            runtime.store,
            workspace_id=ws,
            message_id="t-3",
            labels={"sentiment": "positive"},
            user="admin@example.com",
        )
        assert [(r.old_label, r.new_label) for r in again] == [("neutral", "positive")]
    with runtime.db.session() as s:
        counts = service.listen_counts(s, runtime.store, _slice(ws))
        fixed = service.verbatims(s, runtime.store, _slice(ws, sentiment="positive"))
        exported = service.feedback_export(s, runtime.store, workspace_id=ws)
        overview = service.label_counts(runtime.store, workspace_id=ws, since=WEEK[0],
                                        until=WEEK[1])  # fmt: skip
    assert dict(counts.of("sentiment")) == {"negative": 2, "positive": 3}
    assert counts.of("category")["payment"] == 1 and not counts.of("category")["app"]
    assert overview.sentiment["negative"] == 3  # the overview keeps the model's labels
    t3 = next(v for v in fixed if v.message_id == "t-3")
    assert t3.sentiment == "positive" and t3.model["sentiment"] == "negative"
    assert t3.corrected == {"sentiment", "category"}
    [rec] = exported
    assert rec["text"] == "The app crashed at checkout"
    assert (rec["sentiment"], rec["emotion"], rec["category"]) == ("positive", None, "payment")
    assert [c["user"] for c in rec["corrections"]] == ["analyst@example.com"] * 2 + [
        "admin@example.com"
    ]
    csv = service.feedback_csv(exported)
    assert csv.splitlines() == ["text,sentiment,emotion,category",
                                "The app crashed at checkout,positive,,payment"]  # fmt: skip


@pytest.mark.parametrize(
    ("labels", "field"),
    [({"sentiment": "happy"}, "sentiment"), ({"intent": "praise"}, "intent"),
     ({"category": ""}, "category")],
)  # fmt: skip
def test_bad_corrections_name_the_field(
    runtime: Runtime, workspace: Workspace, labels: dict[str, str], field: str
) -> None:
    send_texts(runtime, workspace.id)
    with runtime.db.session() as s, pytest.raises(ValidationFailed) as err:
        service.correct(s, runtime.store, workspace_id=workspace.id, message_id="t-0",
                        labels=labels, user="a@example.com")  # fmt: skip
    assert err.value.field == field


@pytest.mark.parametrize("mid", ["t-5", "missing"])
def test_only_analysed_texts_can_be_corrected(
    runtime: Runtime, workspace: Workspace, mid: str
) -> None:
    send_texts(runtime, workspace.id)
    with runtime.db.session() as s, pytest.raises(NotFound) as err:
        service.correct(s, runtime.store, workspace_id=workspace.id, message_id=mid,
                        labels={"sentiment": "positive"}, user="a@example.com")  # fmt: skip
    assert err.value.field == "message_id"


def test_privacy_exports_and_erases_corrections(runtime: Runtime, workspace: Workspace) -> None:
    ws = workspace.id
    send_texts(runtime, ws)
    with runtime.db.session() as s:
        for mid in ("t-0", "t-1"):
            service.correct(s, runtime.store, workspace_id=ws, message_id=mid,
                            labels={"sentiment": "neutral"}, user="a@example.com")  # fmt: skip
        u0 = identity.lookup(s, workspace_id=ws, type_="user_id", value="u-0")
    with runtime.db.session() as s:
        got = privacy.handler.export(s, runtime, workspace_id=ws, profile_id=u0)
        assert [(r["message_id"], r["new_label"]) for r in got["feedback"]] == [("t-0", "neutral")]
        # One correction, and two analyses (the worker's and the newer one) of each of two texts.
        assert privacy.handler.erase(s, runtime, workspace_id=ws, profile_id=u0) == 5
    with runtime.db.session() as s:
        left = service.feedback_export(s, runtime.store, workspace_id=ws)
    assert [r["message_id"] for r in left] == ["t-1"]  # another person's correction stays


def test_themes_of_the_latest_texts(runtime: Runtime, workspace: Workspace) -> None:
    send_texts(runtime, workspace.id, themed_texts())
    with runtime.db.session() as s:
        latest = service.verbatims(s, runtime.store, _slice(workspace.id), limit=100)
    found = service.themes(latest)
    assert len(latest) == 40 and len(found) >= 2
    assert sum(t.size for t in found) == 40  # each text under its strongest theme
    late = next(t for t in found if "دیر" in t.label)
    assert late.language == "fa" and set(late.sentiment) == {"negative"}
    assert late.examples and all("دیر" in v.text for v in late.examples)
    price = next(t for t in found if "قیمت" in t.label or "گران" in t.label)
    assert set(price.sentiment) == {"neutral"} and sum(price.sentiment.values()) == price.size


def test_feedback_export_command(
    embedded_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(embedded_settings)
    try:
        ws = make_workspace(rt)
        send_texts(rt, ws.id)
        with rt.db.session() as s:
            service.correct(s, rt.store, workspace_id=ws.id, message_id="t-1",
                            labels={"emotion": "surprise"}, user="a@example.com")  # fmt: skip
    finally:
        rt.close()
    monkeypatch.setenv("SAFAR_DATA_DIR", str(embedded_settings.data_dir))
    out = tmp_path / "feedback.csv"
    done = CliRunner().invoke(
        app, ["text", "feedback", "export", "-w", ws.id, "--csv", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        "text,sentiment,emotion,category", '"Great food, thank you!",,surprise,']  # fmt: skip
    lines = CliRunner().invoke(app, ["text", "feedback", "export", "-w", ws.id])
    [rec] = [json.loads(line) for line in lines.output.splitlines()]
    assert rec["message_id"] == "t-1" and rec["corrections"][0]["old_label"] == "joy"
