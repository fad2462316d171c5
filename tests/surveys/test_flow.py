"""From a touchpoint event to an answered survey, through the real app, SMTP and SMS servers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from safar.app import create_app
from safar.db import utcnow
from safar.identity.service import lookup
from safar.runtime import Runtime
from safar.surveys import metrics, presets
from safar.surveys import service as svc
from safar.surveys.models import SurveyResponse
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import (
    customer,
    jobs,
    make_survey,
    make_trigger,
    send_event,
    survey_events,
)

LINK = re.compile(r"http://safar\.test/s/([A-Za-z0-9_.\-]+)")


@pytest.fixture
async def web(rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime=rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c


async def test_delivery_email_answer_metrics_and_fatigue(
    rt: Runtime, ws_id: str, smtp: SmtpServer, web: httpx.AsyncClient
) -> None:
    survey_id = make_survey(rt, ws_id)
    make_trigger(rt, ws_id, survey_id)
    customer(rt, ws_id, "u1", email="Sara@Example.com", language="fa", first_name="سارا")
    first = send_event(
        rt,
        ws_id,
        type="track",
        event="order_delivered",
        userId="u1",
        properties={"order_id": "o-1"},
    )
    assert rt.scheduler.run_due() == 1
    mails = smtp.mailbox.wait(1)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "sara@example.com"
    assert mail["Subject"] == "نظر شما برای ما مهم است"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "سارا عزیز" in body
    token = LINK.search(body).group(1)  # type: ignore[union-attr]

    # A second delivery within the fatigue window sends nothing (shared across all surveys).
    other = make_survey(rt, ws_id, "nps")
    make_trigger(rt, ws_id, other, event="order_delivered", name="another survey")
    send_event(rt, ws_id, type="track", event="order_delivered", userId="u1")
    assert rt.scheduler.run_due() == 2
    assert len(smtp.mailbox.messages) == 1  # sends happen inside run_due: none was added
    assert [s for s, _ in jobs(rt)] == ["done", "skipped", "skipped"]
    assert all("fatigue" in (o or "") for s, o in jobs(rt) if s == "skipped")

    page = await web.get(f"/s/{token}")
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text and 'lang="fa"' in page.text
    assert "۱۰" in page.text  # Persian digits on the NPS scale

    # Missing required answer: the page says which, nothing is stored.
    bad = await web.post(f"/s/{token}", data={"_step": "0", "csat": "4"})
    assert bad.status_code == 400
    assert "پاسخ به این پرسش لازم است" in bad.text
    with rt.db.session() as s:
        assert s.scalar(select(SurveyResponse)) is None

    # Persian digits are accepted; the low NPS brings up "what went wrong?" in a second step.
    ok = await web.post(f"/s/{token}", data={"_step": "0", "csat": "۴", "nps": "۳"})
    assert ok.status_code == 303 and ok.headers["location"] == f"/s/{token}"
    again = await web.post(f"/s/{token}", data={"_step": "0", "csat": "1", "nps": "10"})
    assert again.status_code == 303  # double submit: ignored
    step2 = await web.get(f"/s/{token}")
    assert "چه چیزی باعث نارضایتی شما شد؟" in step2.text
    done = await web.post(
        f"/s/{token}",
        data={"_step": "1", "what_wrong": "بسته دیر رسید و سرد بود", "on_time": "late"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/thanks")
    thanks = await web.get(done.headers["location"])
    assert thanks.status_code == 200 and "سپاس" in thanks.text
    replay = await web.post(f"/s/{token}", data={"_step": "1", "what_wrong": "x"})
    assert replay.status_code == 303 and replay.headers["location"].endswith("/thanks")
    used = await web.get(f"/s/{token}")
    assert used.status_code == 409 and "پاسخ داده شده" in used.text

    with rt.db.session() as s:
        responses = list(s.scalars(select(SurveyResponse)))
        assert len(responses) == 1
        r = responses[0]
        assert (r.nps, r.csat, r.complete) == (3, 4, True)
        assert r.answers["what_wrong"] == "بسته دیر رسید و سرد بود"
        assert r.trigger_message_id == first["message_id"]
        assert r.channel == "email" and r.touchpoint == "delivery"
        f = metrics.Filters(workspace_id=ws_id, survey_id=survey_id)
        nps = metrics.compute(s, "nps", f)[0].values
        csat = metrics.compute(s, "csat", f)[0].values
        rate = metrics.compute(s, "response_rate", f)[0].values
    assert nps["n"] == 1 and nps["score"] == -100.0 and nps["detractors"] == 1
    assert csat["top2_pct"] == 100.0 and csat["mean"] == 4.0
    assert rate["sent"] == 1 and rate["completed"] == 1

    # Responses are events: one per step, joined to the profile, text handed to text analytics.
    rows = survey_events(rt, ws_id)
    assert len(rows) == 2
    props = [json.loads(r[3]) for r in rows]
    assert {r[1] for r in rows} == {"u1"} and {r[2] for r in rows} == {"email"}
    assert props[0]["nps"] == 3 and props[0]["csat"] == 4
    assert props[0]["trigger_message_id"] == first["message_id"]
    assert props[1]["text"] == "بسته دیر رسید و سرد بود"
    assert props[1]["complete"] is True


async def test_sms_to_local_gateway_and_consent(
    rt: Runtime, ws_id: str, sms_gateway: Gateway
) -> None:
    survey_id = make_survey(rt, ws_id, "post_ride")
    make_trigger(
        rt, ws_id, survey_id, event="ride_finished", channel="sms", consent_purpose="surveys"
    )
    customer(rt, ws_id, "r1", phone="0912 345 6789")
    send_event(
        rt,
        ws_id,
        type="identify",
        userId="r2",
        traits={"phone": "09121112222"},
        context={"consent": {"categoryPreferences": {"surveys": False}}},
    )
    send_event(rt, ws_id, type="track", event="ride_finished", userId="r1")
    send_event(rt, ws_id, type="track", event="ride_finished", userId="r2")
    rt.scheduler.run_due()
    got = sms_gateway.wait(1)
    assert len(got) == 1
    assert got[0]["path"] == "/send" and got[0]["auth"] == "Bearer gw-key"
    assert got[0]["body"]["to"] == "+989123456789" and got[0]["body"]["sender"] == "3000"
    assert LINK.search(got[0]["body"]["text"])
    assert sorted(s for s, _ in jobs(rt)) == ["done", "skipped"]
    assert ("skipped", "no consent") in jobs(rt)


async def test_gateway_failure_is_recorded_and_does_not_count_as_contact(
    rt: Runtime, ws_id: str, sms_gateway: Gateway
) -> None:
    sms_gateway.status = 500
    survey_id = make_survey(rt, ws_id, "csat")
    make_trigger(rt, ws_id, survey_id, event="call_ended", channel="sms")
    customer(rt, ws_id, "c1", phone="+989121234567")
    send_event(rt, ws_id, type="track", event="call_ended", userId="c1")
    rt.scheduler.run_due()
    # A 5xx is worth another try: the job waits for its backoff instead of failing.
    assert jobs(rt) == [("pending", "sms: gateway answered HTTP 500; attempt 1 of 5, next in 30 s")]
    sms_gateway.status = 200
    send_event(rt, ws_id, type="track", event="call_ended", userId="c1")
    rt.scheduler.run_due()
    assert jobs(rt)[-1][0] == "done"  # the failed attempt did not use up the fatigue budget


async def test_in_app_trigger_keeps_segment_and_touchpoint(
    rt: Runtime, ws_id: str, web: httpx.AsyncClient
) -> None:
    with rt.db.session() as s:
        spec = presets.template("csat").model_copy(update={"segment_trait": "tier"})
        survey_id = svc.create_survey(s, workspace_id=ws_id, data=spec).id
    make_trigger(rt, ws_id, survey_id, event="ticket_closed", channel="app", fatigue_days=0)
    for user, tier, score in (("g1", "gold", "5"), ("g2", "gold", "4"), ("s1", "silver", "2")):
        customer(rt, ws_id, user, tier=tier, language="en")
        send_event(
            rt,
            ws_id,
            type="track",
            event="ticket_closed",
            userId=user,
            properties={"touchpoint": "support_chat"},
        )
        rt.scheduler.run_due()
        with rt.db.session() as s:
            pid = lookup(s, workspace_id=ws_id, type_="user_id", value=user)
            pending = svc.pending_invitations(s, workspace_id=ws_id, profile_id=pid, now=utcnow())
            assert len(pending) == 1 and pending[0].status == "sent"
            token, _ = svc.link(rt.survey_signer, "http://safar.test", pending[0])
        r = await web.post(f"/s/{token}", data={"_step": "0", "csat": score})
        assert r.status_code == 303
    with rt.db.session() as s:
        f = metrics.Filters(workspace_id=ws_id, survey_id=survey_id)
        by_segment = metrics.compute(s, "csat", f, by="segment")
        by_touchpoint = metrics.compute(s, "csat", f, by="touchpoint")
    assert [(r.group, r.values["n"], r.values["mean"]) for r in by_segment] == [
        ("gold", 2, 4.5),
        ("silver", 1, 2.0),
    ]
    assert [(r.group, r.values["n"]) for r in by_touchpoint] == [("support_chat", 3)]
