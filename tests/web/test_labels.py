"""What pages show in place of codes: trait keys, survey question ids, key-driver factors."""

from __future__ import annotations

import httpx

from safar.identity import service as identity
from safar.web.i18n import translations
from safar.web.labels import factor_label, question_texts
from tests.web.factories import Site, answered_survey, page_csrf, sign_in
from tests.web.seed import NOW, rows_for


async def test_well_known_trait_keys_by_label_and_others_as_sent(
    web: httpx.AsyncClient, site: Site
) -> None:
    message = {"type": "identify", "userId": "sara-42", "messageId": "traits-1",
               "traits": {"city": "تهران", "first_name": "سارا", "shoe_size": 38},
               "timestamp": NOW.isoformat()}  # fmt: skip
    site.runtime.applier.apply(rows_for(site.workspace_id, [message]))
    with site.runtime.db.session() as s:
        sara = identity.lookup(s, workspace_id=site.workspace_id, type_="user_id", value="sara-42")
    await sign_in(web, "agent")
    fa = (await web.get(f"/customers/{sara}")).text
    assert '<dt><span data-key="city">شهر</span></dt>' in fa
    assert '<dt><span data-key="first_name">نام</span></dt>' in fa
    assert "<dt><bdi>shoe_size</bdi></dt>" in fa  # unknown: as sent, isolated
    await web.post("/prefs/language", data={"language": "en", "csrf_token": await page_csrf(web)})
    en = (await web.get(f"/customers/{sara}")).text
    assert '<dt><span data-key="city">City</span></dt>' in en


async def test_survey_answers_are_listed_under_their_question(
    web: httpx.AsyncClient, site: Site
) -> None:
    survey_id = answered_survey(site)
    await sign_in(web, "viewer")
    fa = (await web.get(f"/surveys/{survey_id}")).text
    responses = fa.split('id="responses"', 1)[1]
    asked = "چقدر احتمال دارد ما را به دوستان یا همکاران خود پیشنهاد کنید؟"
    assert f"<bdi>{asked}</bdi>: <bdi>۶</bdi>" in responses
    assert "<bdi>nps</bdi>" not in responses and "<bdi>what_wrong</bdi>" not in responses
    await web.post("/prefs/language", data={"language": "en", "csrf_token": await page_csrf(web)})
    en = (await web.get(f"/surveys/{survey_id}")).text
    assert "<bdi>What went wrong?</bdi>: <bdi>پیک خیلی دیر رسید</bdi>" in en


def test_question_texts_fall_back_to_any_language_then_the_id() -> None:
    definition = {"questions": [{"id": "a", "text": {"fa": "الف؟"}}, {"id": "b", "text": {}}]}
    assert question_texts(definition, "en") == {"a": "الف؟", "b": "b"}


def test_driver_factors_in_words() -> None:
    fa, en = translations("fa").gettext, translations("en").gettext
    assert factor_label("Ticket Opened (events)", en) == "<bdi>Ticket Opened</bdi> (events)"
    assert (
        factor_label("Ticket Opened (events)", fa, isolate=False) == "شمار رویدادهای Ticket Opened"
    )
    assert factor_label("email contacts", fa) == "تماس‌ها از راه ایمیل"
    assert factor_label("plan", fa) == "<bdi>plan</bdi>"  # a column of the caller's own table
