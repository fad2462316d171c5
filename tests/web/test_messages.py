"""Server messages on pages in the reader's language: domain errors, pydantic's, numbers."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError

from safar.surveys import presets
from safar.surveys import service as surveys
from safar.web.i18n import Formatter, translations
from safar.web.messages import error_text, pydantic_text, reason_text
from tests.web.factories import Site, page_csrf, sign_in

FA = translations("fa").gettext
EN = translations("en").gettext
NUMERALS = Formatter("fa").numerals


def test_a_domain_error_names_its_field_by_label_and_isolates_what_was_typed() -> None:
    message = "steps: no events named 'Teleported' in the chosen period"
    assert error_text(message, EN) == (
        "Steps: no events named <bdi>&#39;Teleported&#39;</bdi> in the chosen period"
    )
    assert error_text(message, FA) == (
        "گام‌ها: در بازهٔ انتخاب‌شده رویدادی با نام <bdi>&#39;Teleported&#39;</bdi> نیست"
    )
    # Numbers the message carries are written in the reader's digits.
    line = "stages: line 12 should read 'stage: event, event'"
    assert error_text(line, FA, numerals=NUMERALS) == (
        "مرحله‌ها: خط <bdi>۱۲</bdi> باید به این شکل باشد: <bdi>stage: event, event</bdi>"
    )
    # A role is named, not coded.
    assert "بیننده" in error_text("your role (viewer) cannot open this page", FA)


def test_an_unknown_message_keeps_its_words_escaped_and_a_field_path_its_parts() -> None:
    assert error_text("<b>odd</b> thing", FA) == "&lt;b&gt;odd&lt;/b&gt; thing"
    assert error_text("colour: is odd", FA) == "<bdi>colour</bdi>: is odd"
    assert error_text("definition.questions.0.id: Field required", FA) == (
        "تعریف (<bdi>questions.0.id</bdi>): الزامی است"
    )


class _Trigger(BaseModel):
    event: str = Field(min_length=1, max_length=5)
    delay_minutes: int = Field(ge=0)


@pytest.mark.parametrize(
    ("raw", "english", "persian"),
    [
        ({"delay_minutes": 1}, "Event: required", "رویداد: الزامی است"),
        (
            {"event": "too long", "delay_minutes": 1},
            "Event: can be at most <bdi>5</bdi> characters",
            "رویداد: حداکثر <bdi>۵</bdi> نویسه می‌تواند داشته باشد",
        ),
        (
            {"event": "x", "delay_minutes": -3},
            "Delay (minutes): must be at least <bdi>0</bdi>",
            "تأخیر (دقیقه): باید دست‌کم <bdi>۰</bdi> باشد",
        ),
        ({"event": "x", "delay_minutes": "soon"}, "Delay (minutes): enter a whole number", None),
    ],
)
def test_pydantic_errors_are_said_from_their_type(
    raw: dict[str, object], english: str, persian: str | None
) -> None:
    with pytest.raises(ValidationError) as caught:
        _Trigger.model_validate(raw)
    error = caught.value.errors()[0]
    assert pydantic_text(error, EN) == english
    said = pydantic_text(error, FA, numerals=NUMERALS)
    assert said == persian if persian else not any("a" <= c <= "z" for c in said)


async def test_a_refused_form_field_comes_back_in_persian(
    web: httpx.AsyncClient, site: Site
) -> None:
    """FastAPI refuses the trigger form's delay: a 400 page in Persian naming the field."""
    with site.runtime.db.session() as s:
        survey = surveys.create_survey(
            s, workspace_id=site.workspace_id, data=presets.template("nps")
        )
        survey_id = survey.id
    await sign_in(web, "admin")
    csrf = await page_csrf(web, f"/surveys/{survey_id}/edit")
    res = await web.post(
        f"/surveys/{survey_id}/triggers",
        data={"csrf_token": csrf, "event": "Order Completed", "channel": "sms",
              "delay_minutes": "-5"},
    )  # fmt: skip
    assert res.status_code == 400
    assert 'data-field="delay_minutes"' in res.text
    assert "تأخیر (دقیقه): باید دست‌کم <bdi>۰</bdi> باشد" in res.text
    assert "greater than" not in res.text


async def test_a_settings_error_is_said_in_the_reader_s_language(web: httpx.AsyncClient) -> None:
    await sign_in(web, "admin")
    for language, expected in (
        ("fa", "گذرواژه: دست‌کم به <bdi>۸</bdi> نویسه نیاز دارد"),
        ("en", "Password: needs at least <bdi>8</bdi> characters"),
    ):
        csrf = await page_csrf(web, "/settings")
        await web.post("/prefs/language", data={"language": language, "csrf_token": csrf})
        csrf = await page_csrf(web, "/settings")
        res = await web.post(
            "/settings/users",
            data={"csrf_token": csrf, "email": "new@example.com", "password": "short",
                  "role": "viewer"},
        )  # fmt: skip
        assert res.status_code == 400, res.text[:300]
        assert expected in res.text, language


def test_a_reason_beside_its_field_column_drops_the_field() -> None:
    assert reason_text("timestamp: Field required", FA, "timestamp") == "الزامی است"
    assert reason_text("Value error, not a date", EN) == "not a date"
    said = reason_text("batch[2].event: event must not contain control characters", EN, "event")
    assert said == "must not contain control characters (tabs, line breaks)"
    assert error_text("batch[0].type: type must be one of track, page", FA) == (
        "<bdi>batch[0].type</bdi>: باید یکی از این‌ها باشد: <bdi>track, page</bdi>"
    )
