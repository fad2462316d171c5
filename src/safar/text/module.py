"""The text domain: normalisation, sentiment, emotion, intent, topics; readers' corrections; the
Listen page."""

from typing import Any

from safar.kit.domain import Domain


def ingest_hook(runtime: Any) -> Any:
    """Queue new texts for the runtime's text worker (None when text analysis is off)."""
    return runtime.text_worker.hook if runtime.text_worker is not None else None


module = Domain(
    name="text",
    routers=("safar.text.api:router",),
    pages=("safar.web.pages.listen",),
    models=("safar.text.models",),
    ingest_hooks=("safar.text.module:ingest_hook",),
    cli={"text": "safar.text.cli:app"},
    privacy="safar.text.privacy:handler",
)
