"""The survey builder in headless Chromium, in Persian and in English: a two-question survey with
a display rule built with the forms alone, saved, its live preview following the edits in both
languages, the open link copied, and a refused save shown as an error (red, an alert) beside
the field it names. Screenshots go to test-artifacts/screens/."""

from __future__ import annotations

from typing import Any

import pytest

from safar.surveys import service as svc
from tests.web.factories import Site, needs_chromium, shot, sign_in_page

TEXTS = {
    "fa": {"q1": "چقدر ما را به دوستان پیشنهاد می‌کنید؟", "late": "دیر رسید", "broken": "خراب بود"},
    "en": {
        "q1": "Would you recommend us to a friend?",
        "late": "It was late",
        "broken": "It was broken",
    },
}
RED = "rgb(198, 40, 40)"
GREEN = "rgb(27, 127, 59)"


def _fill(page: Any, path: str, value: str) -> None:
    page.fill(f'input[data-path="{path}"]', value)


def _build(page: Any, lang: str) -> None:
    """Replace the template's questions with an NPS question and a follow-up for detractors."""
    while page.locator(".sb-q").count():
        page.locator(".sb-q .sb-remove").first.click()
    page.click("#sb-add")
    page.select_option('select[data-path="questions.0.type"]', "nps")
    _fill(page, "questions.0.text.fa", TEXTS["fa"]["q1"])
    _fill(page, "questions.0.text.en", TEXTS["en"]["q1"])
    page.check(".sb-q >> nth=0 >> .sb-required")
    page.click("#sb-add")
    page.select_option('select[data-path="questions.1.type"]', "single")
    _fill(page, "questions.1.text.fa", "چه چیزی ناراضی‌تان کرد؟")
    _fill(page, "questions.1.text.en", "What went wrong?")
    for k, key in enumerate(("late", "broken")):
        _fill(page, f"questions.1.choices.{k}.id", key)
        _fill(page, f"questions.1.choices.{k}.label.fa", TEXTS["fa"][key])
        _fill(page, f"questions.1.choices.{k}.label.en", TEXTS["en"][key])
    page.select_option('select[data-path="questions.1.show_if.question"]', "q1")
    page.select_option('select[data-path="questions.1.show_if.op"]', "lte")
    _fill(page, "questions.1.show_if.value", "6")


@needs_chromium
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_build_preview_save_copy_and_see_an_error(
    browser: Any, served: tuple[str, Site], lang: str
) -> None:
    base, site = served
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_page(page, base, "analyst")
    if page.get_attribute("html", "lang") != lang:
        page.click("#lang-switch")
        page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == lang
    page.goto(f"{base}/surveys")
    page.fill("#name", f"builder-{lang}")
    page.click("#new-survey button[type=submit]")
    page.wait_for_selector(".sb-q")
    survey_id = page.url.split("/")[-2]

    _build(page, lang)
    frame = page.frame_locator("#preview-frame")
    # The preview follows the draft: Persian first, then English with the toggle.
    frame.get_by_text(TEXTS["fa"]["broken"]).wait_for(timeout=10_000)
    frame.locator("#logic-q2").wait_for()
    page.click("#preview-en-button")
    frame.get_by_text(TEXTS["en"]["broken"]).wait_for(timeout=10_000)
    _fill(page, "questions.1.choices.1.label.en", "It arrived broken")
    frame.get_by_text("It arrived broken").wait_for(timeout=10_000)
    assert "≤ 6" in frame.locator("#logic-q2").inner_text()

    page.click("#sb-save")
    page.wait_for_selector("#sb-status.notice")
    assert page.eval_on_selector("#sb-status", "e => getComputedStyle(e).color") == GREEN
    with site.runtime.db.session() as s:
        saved = svc.get_survey(s, workspace_id=site.workspace_id, survey_id=survey_id)
        questions = saved.definition["questions"]
    assert [q["type"] for q in questions] == ["nps", "single"]
    assert questions[0]["required"] is True
    assert questions[1]["show_if"] == {"question": "q1", "op": "lte", "value": 6}
    assert questions[1]["choices"][1]["label"] == {
        "fa": TEXTS["fa"]["broken"],
        "en": "It arrived broken",
    }
    shot(page, f"{lang}-survey-builder")

    # A question without text is refused: the message sits beside that question's text, in red.
    _fill(page, "questions.1.text.fa", "")
    _fill(page, "questions.1.text.en", "")
    page.click("#sb-save")
    note = page.locator('.sb-field-error[data-error-for="questions.1.text"]')
    note.wait_for()
    assert note.get_attribute("role") == "alert"
    assert note.evaluate("e => getComputedStyle(e).color") == RED
    assert page.locator("#sb-error").is_visible()
    assert page.eval_on_selector("#sb-error", "e => getComputedStyle(e).color") == RED
    expected = (
        "متن را به فارسی یا انگلیسی بنویسید."
        if lang == "fa"
        else "Give the text in Persian or English."
    )
    assert note.inner_text() == expected
    assert page.locator(".sb-q >> nth=1 >> [aria-invalid=true]").count() == 1
    # The preview keeps the last good draft and says why it cannot show this one.
    page.locator("#preview-error").wait_for(state="visible")
    assert page.eval_on_selector("#preview-error", "e => getComputedStyle(e).color") == RED
    assert frame.get_by_text("It arrived broken").count() == 1
    shot(page, f"{lang}-survey-builder-error")

    page.click("#tab-distribute")
    link = page.input_value("#d-link")
    assert "/s/p/" in link
    page.click("#d-copy-link")
    status = page.locator("#share .copy-status")
    status.wait_for()
    assert status.inner_text() == ("کپی شد." if lang == "fa" else "Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.locator("#d-qr svg path").count() >= 1
    shot(page, f"{lang}-survey-distribution")
    # The copied link opens the survey for anyone, in the language asked for.
    visitor = browser.new_context().new_page()
    # (The link names the configured public URL; the test server listens elsewhere.)
    visitor.goto(base + "/s/p/" + link.split("/s/p/", 1)[1] + "?lang=" + lang)
    visitor.get_by_text(TEXTS[lang]["q1"]).wait_for()
    assert visitor.get_attribute("html", "dir") == ("rtl" if lang == "fa" else "ltr")
    visitor.context.close()
    context.close()
    assert errors == []
