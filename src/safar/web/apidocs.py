"""The interactive API docs at ``/docs``, from the vendored Swagger UI: they work offline.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, so on an installation without internet
access (or behind a strict firewall) it is a blank page.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

#: Where ``/static`` serves ``static/vendor/swagger-ui/`` (VERSIONS.txt says which release).
SWAGGER = "/static/vendor/swagger-ui"


def mount_api_docs(app: FastAPI) -> None:
    """Serve ``/docs`` with only local assets (create the app with ``docs_url=None``)."""
    title = f"{app.title} API"
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
