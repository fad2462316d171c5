"""Distribution through the API: the draft preview (bad drafts refused naming the field), the
open link and its QR code, and a send to a saved segment through the one send path, whose
report counts who was sent to and who was skipped, by reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.orchestration.factories import SmtpServer
from tests.surveys.factories import customer, send_event

Client = tuple[httpx.AsyncClient, dict[str, str], str]


@pytest.fixture
async def api(rt: Runtime) -> AsyncIterator[Client]:
    with rt.db.session() as s:
        ws, _, secret = create_workspace(s, name="Shop")
        ws_id = ws.id
    transport = httpx.ASGITransport(app=create_app(runtime=rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c, {"Authorization": f"Bearer {secret}"}, ws_id


def two_questions(**second: Any) -> dict[str, Any]:
    """An NPS question and a follow-up shown only to detractors."""
    follow_up = {
        "id": "why",
        "type": "single",
        "text": {"fa": "چرا؟", "en": "Why?"},
        "choices": [
            {"id": "late", "label": {"fa": "دیر رسید", "en": "It was late"}},
            {"id": "broken", "label": {"fa": "خراب بود", "en": "It was broken"}},
        ],
        "show_if": {"question": "nps", "op": "lte", "value": 6},
    }
    follow_up.update(second)
    return {
        "title": {"fa": "نظر شما", "en": "Your view"},
        "questions": [
            {
                "id": "nps",
                "type": "nps",
                "required": True,
                "text": {"fa": "پیشنهاد؟", "en": "Recommend?"},
            },
            follow_up,
        ],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"choices": [{"id": "x", "label": {"en": "X"}}]}, "questions.1.choices"),
        (
            {"show_if": {"question": "later", "op": "eq", "value": 1}},
            "questions.1.show_if.question",
        ),
        ({"id": "nps"}, "questions.1.id"),
        ({"text": {}}, "questions.1.text"),
        ({"type": "colour"}, "questions.1.type"),
    ],
)
async def test_preview_refuses_a_bad_draft_naming_the_field(
    api: Client, change: dict[str, Any], field: str
) -> None:
    c, auth, _ = api
    r = await c.post("/api/surveys/preview?lang=en", json=two_questions(**change), headers=auth)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field and r.json()["message"].startswith(field + ": ")


async def test_preview_renders_every_question_with_its_rule(api: Client) -> None:
    c, auth, _ = api
    assert (await c.post("/api/surveys/preview", json=two_questions())).status_code == 401
    fa = await c.post("/api/surveys/preview?lang=fa", json=two_questions(), headers=auth)
    assert fa.status_code == 200 and 'dir="rtl"' in fa.text
    assert "خراب بود" in fa.text and 'id="logic-why"' in fa.text and "≤ ۶" in fa.text
    en = await c.post("/api/surveys/preview?lang=en", json=two_questions(), headers=auth)
    assert "It was broken" in en.text and "Shown only when «Recommend?» ≤ 6" in en.text
    bad_lang = await c.post("/api/surveys/preview?lang=de", json=two_questions(), headers=auth)
    assert bad_lang.status_code == 400 and bad_lang.json()["field"] == "lang"


async def test_open_link_qr_code_and_each_visit_a_new_invitation(api: Client) -> None:
    c, auth, _ = api
    made = await c.post(
        "/api/surveys", json={"name": "Open", "definition": two_questions()}, headers=auth
    )
    survey_id = made.json()["id"]
    info = (await c.get(f"/api/surveys/{survey_id}/distribution", headers=auth)).json()
    assert info["url"].startswith("http") and "/s/p/" in info["url"]
    assert info["qr_svg"].startswith("<svg") and "<path" in info["qr_svg"]
    assert info["url"] + "?embed=1" in info["embed"]["iframe"]
    assert 'data-open="' + info["url"] + '"' in info["embed"]["script"]
    path = info["url"].split("//", 1)[1].split("/", 1)[1]
    first = await c.get("/" + path + "?lang=en")
    second = await c.get("/" + path + "?lang=en")
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] != second.headers["location"]  # one invitation each
    page = await c.get(first.headers["location"])
    assert page.status_code == 200 and "Recommend?" in page.text and 'dir="ltr"' in page.text
    assert (await c.get("/s/p/forged-token")).status_code == 404
    await c.patch(f"/api/surveys/{survey_id}", json={"status": "archived"}, headers=auth)
    assert (await c.get("/" + path)).status_code == 410


async def test_send_to_a_segment_reports_sent_and_skipped_by_reason(
    rt: Runtime, api: Client, smtp: SmtpServer
) -> None:
    c, auth, ws_id = api
    customer(rt, ws_id, "gold-yes", email="yes@example.com", plan="gold")
    send_event(
        rt,
        ws_id,
        type="identify",
        userId="gold-no",
        traits={"email": "no@example.com", "plan": "gold"},
        context={
            "consent": {
                "preferences": [{"purpose": "surveys", "channel": "email", "granted": False}]
            }
        },
    )
    customer(rt, ws_id, "gold-nomail", plan="gold")
    customer(rt, ws_id, "basic", email="basic@example.com", plan="basic")
    segment = await c.post(
        "/api/segments",
        json={
            "name": "Gold",
            "conditions": [{"kind": "trait", "key": "plan", "op": "eq", "value": "gold"}],
        },
        headers=auth,
    )
    assert segment.status_code == 201, segment.text
    seg_id = segment.json()["id"]
    made = await c.post("/api/surveys/from-template", json={"template": "nps"}, headers=auth)
    url = f"/api/surveys/{made.json()['id']}/sends"

    for body, status, field in (
        ({"segment_id": seg_id, "channel": "fax"}, 400, "channel"),
        ({"channel": "email"}, 400, "segment_id"),
        ({"segment_id": seg_id, "channel": "email", "fatigue_days": -1}, 400, "fatigue_days"),
        ({"segment_id": "seg_missing", "channel": "email"}, 404, "segment_id"),
    ):
        r = await c.post(url, json=body, headers=auth)
        assert r.status_code == status and r.json()["field"] == field, r.text
    missing = await c.post(
        "/api/surveys/svy_missing/sends",
        json={"segment_id": seg_id, "channel": "email"},
        headers=auth,
    )
    assert missing.status_code == 404 and missing.json()["field"] == "survey_id"

    sent = await c.post(url, json={"segment_id": seg_id, "channel": "email"}, headers=auth)
    assert sent.status_code == 202, sent.text
    assert sent.json()["total"] == 3 and sent.json()["waiting"] == 3
    rt.scheduler.run_due()
    report = (await c.get(f"{url}/{sent.json()['send_id']}", headers=auth)).json()
    assert report["sent"] == 1 and report["waiting"] == 0
    assert report["skipped"] == {"consent": 1, "missing_address": 1}
    assert [m["To"] for m in smtp.mailbox.wait(1)] == ["yes@example.com"]
    unknown = await c.get(f"{url}/snd_nope", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["field"] == "send_id"
