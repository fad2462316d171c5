"""Privacy requests: every domain exports and erases what it holds about one person, only them.

A real embedded installation; events enter through the ``Applier`` (identity graph and event
store), text analyses through the text repository, survey and contact rows as the domains'
own tables hold them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safar.config import Settings
from safar.errors import NotFound
from safar.events.messages import normalize, parse_message
from safar.identity.models import Profile
from safar.identity.service import lookup
from safar.orchestration.models import ContactLog
from safar.runtime import Runtime, erase_person, export_person
from safar.surveys.models import Invitation, Survey, SurveyResponse
from safar.text.repository import analyses_for, ensure_table, insert_analyses
from safar.workspaces.service import create_workspace

NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(Settings(data_dir=tmp_path / "safar", text_analysis=False), ingest=False)
    try:
        yield rt
    finally:
        rt.close()


def _messages(ws: str) -> list[dict[str, Any]]:
    raw: list[dict[str, Any]] = [
        # An anonymous visitor writes a review; Sara signs in and writes one; the visitor then
        # gives Sara's email, so the visitor's profile merges into hers.
        {"type": "track", "anonymousId": "anon-9", "event": "review", "properties": {"text": "بد"}},
        {"type": "identify", "userId": "sara", "traits": {"email": "sara@example.com"}},
        {"type": "track", "userId": "sara", "event": "review", "properties": {"text": "عالی"}},
        {"type": "identify", "anonymousId": "anon-9", "traits": {"email": "sara@example.com"}},
        {"type": "identify", "userId": "ali", "traits": {"email": "ali@example.com"}},
        {"type": "track", "userId": "ali", "event": "review", "properties": {"text": "خوب"}},
    ]
    return [
        normalize(
            parse_message({**m, "messageId": f"m{i}", "timestamp": NOW.isoformat()}),
            workspace_id=ws,
            received_at=NOW + timedelta(seconds=i),
        )
        for i, m in enumerate(raw)
    ]


def _survey_rows(ws: str, profile_id: str, n: int) -> list[Any]:
    inv = Invitation(
        id=f"inv_{n}",
        workspace_id=ws,
        survey_id="svy_1",
        profile_id=profile_id,
        channel="email",
        language="fa",
        expires_at=NOW + timedelta(days=7),
        day=date(2026, 4, 1),
    )
    answer = SurveyResponse(
        id=f"rsp_{n}",
        workspace_id=ws,
        survey_id="svy_1",
        invitation_id=inv.id,
        profile_id=profile_id,
        channel="email",
        language="fa",
        nps=9,
        day=date(2026, 4, 1),
    )
    contact = ContactLog(workspace_id=ws, profile_id=profile_id, topic="survey", channel="email")
    return [inv, answer, contact]


@pytest.fixture
def people(runtime: Runtime) -> dict[str, str]:
    """Workspace id, Sara's profile, the profile merged into hers, and Ali's profile."""
    with runtime.db.session() as session:
        ws, _, _ = create_workspace(session, name="shop")
    rows = _messages(ws.id)
    runtime.applier.apply(rows[:1])  # the visitor's profile exists before the rest arrives
    runtime.applier.apply(rows[1:])
    analyses = [
        {"workspace_id": ws.id, "message_id": f"m{i}", "event_timestamp": NOW, "language": "fa"}
        for i in (0, 2, 5)
    ]
    ensure_table(runtime.store)
    insert_analyses(runtime.store, analyses)
    with runtime.db.session() as session:
        sara = lookup(session, workspace_id=ws.id, type_="user_id", value="sara")
        ali = lookup(session, workspace_id=ws.id, type_="user_id", value="ali")
        merged = session.scalar(select(Profile.id).where(Profile.merged_into == sara))
        assert merged is not None, "the shared email should have merged the two profiles"
        session.add(Survey(id="svy_1", workspace_id=ws.id, name="NPS", definition={}))
        session.flush()
        session.add_all(_survey_rows(ws.id, sara, 1) + _survey_rows(ws.id, ali, 2))
    return {"ws": ws.id, "sara": sara, "merged": merged, "ali": ali}


def test_an_export_holds_the_person_and_nobody_else(
    runtime: Runtime, people: dict[str, str]
) -> None:
    # Asked by the profile id that was merged away, the export still finds Sara.
    data = export_person(runtime, workspace_id=people["ws"], profile_id=people["merged"])
    assert set(data) == {"identity", "orchestration", "segments", "text", "surveys", "flows"}
    identities = {(i["type"], i["value"]) for i in data["identity"]["identities"]}
    assert identities == {
        ("user_id", "sara"),
        ("anonymous_id", "anon-9"),
        ("email", "sara@example.com"),
    }
    assert {p["id"] for p in data["identity"]["profiles"]} == {people["sara"], people["merged"]}
    assert len(data["identity"]["merges"]) == 1
    assert sorted(a["message_id"] for a in data["text"]["analyses"]) == ["m0", "m2"]
    assert [r["nps"] for r in data["surveys"]["responses"]] == [9]
    assert [c["profile_id"] for c in data["orchestration"]["contacts"]] == [people["sara"]]


def test_an_erasure_removes_the_person_everywhere_and_keeps_the_others(
    runtime: Runtime, people: dict[str, str]
) -> None:
    ws = people["ws"]
    erased = erase_person(runtime, workspace_id=ws, profile_id=people["sara"])
    assert erased["identity"] >= 5  # 2 profiles, 3 identities, their traits, the merge
    assert erased["text"] == 2
    assert erased["surveys"] == 2
    assert erased["orchestration"] == 1
    with pytest.raises(NotFound):
        export_person(runtime, workspace_id=ws, profile_id=people["sara"])
    with runtime.db.session() as session:
        with pytest.raises(NotFound):
            lookup(session, workspace_id=ws, type_="email", value="sara@example.com")
        assert session.get(Profile, people["merged"]) is None
    assert set(analyses_for(runtime.store, ws, ["m0", "m2", "m5"])) == {"m5"}
    left = export_person(runtime, workspace_id=ws, profile_id=people["ali"])
    assert [i["value"] for i in left["identity"]["identities"] if i["type"] == "user_id"] == ["ali"]
    assert len(left["surveys"]["responses"]) == 1
    assert len(left["orchestration"]["contacts"]) == 1


def test_a_person_of_another_workspace_is_not_found(
    runtime: Runtime, people: dict[str, str]
) -> None:
    with runtime.db.session() as session:
        other, _, _ = create_workspace(session, name="other shop")
    with pytest.raises(NotFound):
        erase_person(runtime, workspace_id=other.id, profile_id=people["sara"])
    assert export_person(runtime, workspace_id=people["ws"], profile_id=people["sara"])["text"]


def test_the_privacy_commands(tmp_path: Path) -> None:
    """``safar privacy export`` prints the person as JSON; ``erase`` removes them; an unknown
    profile is an error message, not a traceback."""
    import json

    from typer.testing import CliRunner

    from safar.cli import app

    data_dir = tmp_path / "safar"
    rt = Runtime(Settings(data_dir=data_dir, text_analysis=False), ingest=False)
    try:
        with rt.db.session() as session:
            ws, _, _ = create_workspace(session, name="shop")
        rt.applier.apply(_messages(ws.id)[4:5])  # Ali's identify
        with rt.db.session() as session:
            ali = lookup(session, workspace_id=ws.id, type_="user_id", value="ali")
    finally:
        rt.close()
    env = {"SAFAR_DATA_DIR": str(data_dir), "SAFAR_TEXT_ANALYSIS": "false"}
    runner = CliRunner()
    out = runner.invoke(app, ["privacy", "export", ali, "-w", ws.id], env=env)
    assert out.exit_code == 0, out.output
    exported = json.loads(out.output)
    assert {i["value"] for i in exported["identity"]["identities"]} == {"ali", "ali@example.com"}
    out = runner.invoke(app, ["privacy", "erase", ali, "-w", ws.id, "--yes"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["identity"] >= 3  # profile, two identities, a trait
    out = runner.invoke(app, ["privacy", "export", ali, "-w", ws.id], env=env)
    assert out.exit_code == 2
    assert "error: profile" in out.output and "not found" in out.output
