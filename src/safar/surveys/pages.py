"""Public response pages under ``/s/{token}``: server-rendered, work without JavaScript.

``/s/p/{token}`` is a survey's open link (printed, shared, embedded): each visit gets its own
anonymous invitation and is sent on to it. GET shows the current step; POST saves it and redirects (post/redirect/get), so a reload or a
double click never submits twice. Forged, expired and used links get a clear page of their own.
``/s/widget.js`` is the embeddable widget; ``POST /api/surveys/answers/{token}`` is the same flow in JSON
for apps and the widget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool

from safar.db import utcnow
from safar.errors import PayloadTooLarge, SafarError, ValidationFailed
from safar.surveys import distribution, service
from safar.surveys.deps import SurveyParts
from safar.surveys.rendering import FACES, TEXTS, digits
from safar.surveys.repository import InvitationRepository
from safar.surveys.schemas import AnswerSubmit
from safar.surveys.tokens import LinkExpired, LinkForged, LinkSigner, LinkUsed

router = APIRouter(tags=["survey pages"], include_in_schema=False)
HERE = Path(__file__).parent
MAX_FORM_BYTES = 64 * 1024
ERRORS_FA = {
    "is required": "پاسخ به این پرسش لازم است",
    "must be a whole number": "باید یک عدد صحیح باشد",
    "is not one of the choices": "یکی از گزینه‌ها را انتخاب کنید",
    "must be a date like 1403/05/12": "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ وارد کنید",
}


def _error_text(msg: str, lang: str) -> str:
    if lang != "fa":
        return msg
    if msg in ERRORS_FA:
        return ERRORS_FA[msg]
    if msg.startswith("must be between"):
        _, _, rest = msg.partition("between ")
        low, _, high = rest.partition(" and ")
        return f"باید بین {digits(low, 'fa')} و {digits(high, 'fa')} باشد"
    if msg.startswith("is longer than"):
        n = msg.split()[-2]
        return f"بیش از {digits(n, 'fa')} نویسه است"
    return msg


def _rt(request: Request) -> SurveyParts:
    runtime: SurveyParts = request.app.state.runtime
    return runtime


def _signer(runtime: SurveyParts) -> LinkSigner:
    return runtime.survey_signer


def _env(runtime: SurveyParts) -> Environment:
    return runtime.survey_env


def _lang_hint(request: Request) -> str:
    accept = request.headers.get("accept-language", "fa")
    return "en" if accept[:2].lower() == "en" else "fa"


def _message(
    runtime: SurveyParts, lang: str, key: str, status: int, embed: bool, done: bool = False
) -> HTMLResponse:
    t = TEXTS[lang]
    html = (
        _env(runtime)
        .get_template("message.html")
        .render(
            lang=lang,
            page_title=t[key],
            heading=t[key],
            body=t[f"{key}_body"],
            embed=embed,
            done=done,
        )
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _link_error(runtime: SurveyParts, exc: SafarError, lang: str, embed: bool) -> HTMLResponse:
    if isinstance(exc, LinkUsed):
        return _message(runtime, lang, "used", 409, embed)
    if isinstance(exc, LinkExpired):
        return _message(runtime, lang, "expired", 410, embed)
    return _message(runtime, lang, "forged", 404, embed)


def _render_step(
    runtime: SurveyParts,
    opened: service.Opened,
    *,
    action: str,
    embed: bool,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    lang = opened.invitation.language
    definition = opened.definition
    resp = opened.response
    questions = service.current_step(
        definition, resp.answers if resp else {}, resp.shown if resp else []
    )
    errors = {k: _error_text(v, lang) for k, v in (errors or {}).items()}
    html = (
        _env(runtime)
        .get_template("survey.html")
        .render(
            lang=lang,
            page_title=definition.title.get(lang),
            title=definition.title.get(lang),
            intro=definition.intro.get(lang) if definition.intro else "",
            questions=questions,
            step=resp.step if resp else 0,
            values=values or {},
            errors=errors,
            labels={q.id: q.text.get(lang) for q in questions},
            faces=FACES,
            t=TEXTS[lang],
            action=action,
            embed=embed,
        )
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/s/widget.js")
def widget() -> Response:
    body = (HERE / "static" / "widget.js").read_text(encoding="utf-8")
    return Response(
        body,
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/s/p/{token}", response_class=HTMLResponse)
def open_link(token: str, request: Request, embed: int = 0, lang: str = "") -> Response:
    """A survey's open link: a fresh anonymous invitation per visit, then its own page, in
    ``lang`` when the survey has it, else the browser's language, else the survey's default."""
    runtime = _rt(request)
    try:
        with runtime.db.session() as session:
            _, personal = distribution.visit_open_link(
                session,
                signer=_signer(runtime),
                token=token,
                now=utcnow(),
                tz=runtime.settings.timezone,
                language=lang[:2] or request.headers.get("accept-language"),
            )
    except (LinkForged, LinkExpired) as exc:
        return _link_error(runtime, exc, _lang_hint(request), bool(embed))
    return RedirectResponse(_action(personal, embed), status_code=303)


@router.get("/s/{token}", response_class=HTMLResponse)
def show(token: str, request: Request, embed: int = 0) -> HTMLResponse:
    runtime = _rt(request)
    try:
        with runtime.db.session() as session:
            opened = service.open_link(session, signer=_signer(runtime), token=token, now=utcnow())
            return _render_step(runtime, opened, action=_action(token, embed), embed=bool(embed))
    except (LinkForged, LinkExpired, LinkUsed) as exc:
        return _link_error(runtime, exc, _lang_of(runtime, token, request), bool(embed))


def _action(token: str, embed: int) -> str:
    return f"/s/{token}" + ("?embed=1" if embed else "")


def _lang_of(runtime: SurveyParts, token: str, request: Request) -> str:
    """The invitation's language when the token is genuine; the browser's otherwise."""
    try:
        invitation_id = _signer(runtime).verify(token)
    except SafarError:
        return _lang_hint(request)
    with runtime.db.session() as session:
        inv = InvitationRepository(session).by_link(invitation_id)
        return inv.language if inv else _lang_hint(request)


@router.get("/s/{token}/thanks", response_class=HTMLResponse)
def thanks(token: str, request: Request, embed: int = 0) -> HTMLResponse:
    runtime = _rt(request)
    lang = _lang_of(runtime, token, request)
    try:
        with runtime.db.session() as session:
            service.open_link(session, signer=_signer(runtime), token=token, now=utcnow())
    except LinkUsed:
        return _message(runtime, lang, "thanks", 200, bool(embed), done=True)
    except (LinkForged, LinkExpired) as exc:
        return _link_error(runtime, exc, lang, bool(embed))
    return RedirectResponse(_action(token, embed), status_code=303)  # type: ignore[return-value]


@router.post("/s/{token}", response_class=HTMLResponse)
async def answer_form(token: str, request: Request, embed: int = 0) -> Response:
    runtime = _rt(request)
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_FORM_BYTES:
        lang = await run_in_threadpool(_lang_of, runtime, token, request)
        return _message(runtime, lang, "too_large", 413, bool(embed))
    form = await request.form(max_part_size=MAX_FORM_BYTES)
    raw: dict[str, Any] = {}
    for key in form:
        if key.startswith("_"):
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        raw[key] = values if len(values) > 1 else (values[0] if values else None)
    try:
        step = int(str(form.get("_step", "0")))
    except ValueError:
        step = -1
    return await run_in_threadpool(_save_form, runtime, token, raw, step, embed, request)


def _save_form(
    runtime: SurveyParts, token: str, raw: dict[str, Any], step: int, embed: int, request: Request
) -> Response:
    now = utcnow()
    try:
        with runtime.db.session() as session:
            opened = service.open_link(session, signer=_signer(runtime), token=token, now=now)
            # Multiple-choice answers arrive as one value when only one box is ticked.
            for q in opened.definition.questions:
                if q.type == "multiple" and isinstance(raw.get(q.id), str):
                    raw[q.id] = [raw[q.id]]
            result = service.submit_step(
                session,
                opened=opened,
                raw=raw,
                step=step,
                now=now,
                tz=runtime.settings.timezone,
            )
            if result.errors:
                return _render_step(
                    runtime,
                    opened,
                    action=_action(token, embed),
                    embed=bool(embed),
                    values=raw,
                    errors=result.errors,
                    status=400,
                )
    except LinkUsed:
        # The last step was already saved: a double submit lands on the thanks page.
        return RedirectResponse(f"/s/{token}/thanks" + ("?embed=1" if embed else ""), 303)
    except (LinkForged, LinkExpired) as exc:
        return _link_error(runtime, exc, _lang_of(runtime, token, request), bool(embed))
    if result.job_id is not None:
        runtime.scheduler.run_job(result.job_id)
    target = f"/s/{token}/thanks" if result.complete else f"/s/{token}"
    return RedirectResponse(target + ("?embed=1" if embed else ""), status_code=303)


@router.post("/api/surveys/answers/{token}", include_in_schema=True, tags=["surveys"])
def answer_json(token: str, data: AnswerSubmit, request: Request) -> dict[str, Any]:
    """JSON answering for apps: 400 naming ``answers.<question>`` on bad input."""
    runtime = _rt(request)
    now = utcnow()
    with runtime.db.session() as session:
        opened = service.open_link(session, signer=_signer(runtime), token=token, now=now)
        for key, value in data.answers.items():
            if isinstance(value, str) and len(value) > 10_000:
                raise PayloadTooLarge(
                    f"answers.{key[:60]}: text too long", field=f"answers.{key[:60]}"
                )
        result = service.submit_step(
            session,
            opened=opened,
            raw=data.answers,
            step=data.step,
            now=now,
            tz=runtime.settings.timezone,
            strict=True,
        )
        if result.errors:
            qid, msg = next(iter(result.errors.items()))
            raise ValidationFailed(
                f"answers.{qid}: {msg}", field=f"answers.{qid}", details=result.errors
            )
        resp = result.response
        lang = opened.invitation.language
        nxt = (
            []
            if result.complete or resp is None
            else [
                {"id": q.id, "type": q.type, "required": q.required, "text": q.text.get(lang)}
                for q in service.current_step(opened.definition, resp.answers, resp.shown)
            ]
        )
        out = {
            "response_id": resp.id if resp else None,
            "step": resp.step if resp else 0,
            "complete": result.complete,
            "duplicate": result.duplicate,
            "next": nxt,
        }
    if result.job_id is not None:
        runtime.scheduler.run_job(result.job_id)
    return out
