"""HTTP endpoints of text analytics: analyse texts, train a local model from a labelled CSV,
export readers' corrections as training feedback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from safar.errors import PayloadTooLarge, ValidationFailed
from safar.text import service
from safar.text.schemas import AnalyzeRequest, AnalyzeResponse
from safar.workspaces.deps import RuntimeDep, SecretKey, SessionDep

router = APIRouter(prefix="/api/text", tags=["text"])
MAX_TRAIN_BYTES = 20 * 1024 * 1024


@router.post("/analyze", response_model=AnalyzeResponse, response_model_exclude_none=True)
def analyze_texts(
    body: AnalyzeRequest, _key: SecretKey, runtime: RuntimeDep, accurate: bool = False
) -> AnalyzeResponse:
    """Analyse up to 1,000 texts; a bad item gets its own ``error``, the rest still succeed."""
    ids: list[str | None] = []
    texts: list[Any] = []
    for n, item in enumerate(body.texts):
        if isinstance(item, str):
            ids.append(str(n))
            texts.append(item)
        else:
            ids.append(item.id if item.id is not None else str(n))
            texts.append(item.text)
    if accurate and len(texts) > 100:
        raise ValidationFailed(
            "texts: at most 100 texts with accurate=true (the embedding path is slow)",
            field="texts",
        )
    from safar.text.pipeline import Analyzer  # the models load on first use, not at start-up

    analyzer = Analyzer.open(runtime.settings.data_dir, accurate=accurate)
    results = analyzer.analyze(texts, ids)
    return AnalyzeResponse(results=results, model_version=analyzer.version)


@router.post("/train")
async def train(request: Request, _key: SecretKey, runtime: RuntimeDep) -> dict[str, Any]:
    """Train the local model from a CSV body (``text`` + label columns, UTF-8)."""
    body = await request.body()
    if len(body) > MAX_TRAIN_BYTES:
        raise PayloadTooLarge("body: CSV larger than 20 MB", field="body")
    if not body.strip():
        raise ValidationFailed("body: send a CSV with a 'text' column and labels", field="body")
    from safar.text.pipeline import Analyzer, local_model_path
    from safar.text.training import train_local

    target = local_model_path(runtime.settings.data_dir)

    def _train() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "labels.csv").write_bytes(body)
            found = train_local(Path(tmp), target)
        return {"rows": found.rows, "model": str(target.name)}

    result = await run_in_threadpool(_train)
    result["tasks"] = Analyzer.open(runtime.settings.data_dir).heads()
    return result


@router.get("/feedback")
def feedback(
    key: SecretKey,
    session: SessionDep,
    runtime: RuntimeDep,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Readers' corrections of the workspace, with each text: JSON, or CSV to train on."""
    rows = service.feedback_export(session, runtime.store, workspace_id=key.workspace_id)
    if format == "csv":
        return Response(service.feedback_csv(rows), media_type="text/csv; charset=utf-8")
    return {"feedback": rows}
