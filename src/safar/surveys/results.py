"""A survey's results in one object: trends with intervals, breakdowns, verbatims, recent
responses. The API (``GET /api/surveys/{id}/results``) and the dashboard page render this."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from safar.surveys import metrics, service
from safar.surveys.models import SurveyResponse

BREAKDOWNS = ("channel", "touchpoint", "segment", "language")


def verbatims(
    session: Session, *, workspace_id: str, survey_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    """Newest free-text answers with the scores given alongside them."""
    survey = service.get_survey(session, workspace_id=workspace_id, survey_id=survey_id)
    text_ids = [q.id for q in service.definition_of(survey).questions if q.type == "text"]
    out: list[dict[str, Any]] = []
    offset = 0
    while len(out) < limit:
        batch = service.list_responses(
            session, workspace_id=workspace_id, survey_id=survey_id, limit=200, offset=offset
        )
        for r in batch:
            for qid in text_ids:
                text = (r.answers or {}).get(qid)
                if text:
                    out.append(_verbatim(r, qid, str(text)))
        if len(batch) < 200:
            break
        offset += 200
    return out[:limit]


def _verbatim(r: SurveyResponse, qid: str, text: str) -> dict[str, Any]:
    return {
        "response_id": r.id,
        "question": qid,
        "text": text,
        "nps": r.nps,
        "csat": r.csat,
        "ces": r.ces,
        "channel": r.channel,
        "language": r.language,
        "at": r.updated_at.isoformat(),
    }


def survey_results(
    session: Session, *, workspace_id: str, survey_id: str, period: str = "jalali_month"
) -> dict[str, Any]:
    survey = service.get_survey(session, workspace_id=workspace_id, survey_id=survey_id)
    types = {q.type for q in service.definition_of(survey).questions}
    f = metrics.Filters(workspace_id=workspace_id, survey_id=survey_id)
    out: dict[str, Any] = {"survey_id": survey_id, "period": period, "metrics": {}}
    for name in ("nps", "csat", "ces"):
        if name not in types:
            continue
        overall = metrics.compute(session, name, f)
        out["metrics"][name] = {
            "overall": overall[0].values if overall else metrics.METRICS[name].summarise({}),
            "trend": [r.as_dict() for r in metrics.compute(session, name, f, period=period)],
            "change": metrics.latest_change(session, name, f, period=period),
            "breakdowns": {
                by: [r.as_dict() for r in metrics.compute(session, name, f, by=by)]
                for by in BREAKDOWNS
            },
        }
    rate = metrics.compute(session, "response_rate", f)
    out["response_rate"] = rate[0].values if rate else metrics.RESPONSE_RATE.summarise({})
    out["verbatims"] = verbatims(session, workspace_id=workspace_id, survey_id=survey_id)
    return out
