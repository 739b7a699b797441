"""Swagger UI at ``/docs``, served from the pinned ``swagger-ui-bundle`` package.

FastAPI's default page loads Swagger UI from a CDN with an inline script; RIFF runs offline and under a
``'self'``-only Content-Security-Policy, so the assets come from the package and the initializer is a
static file. Like every page, ``/docs`` and ``/openapi.json`` need a login (or a bearer token).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_ASSETS_PREFIX = "/docs-assets"

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>RIFF API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Call on an app created with ``docs_url=None``; mounts the assets and the page."""
    app.mount(DOCS_ASSETS_PREFIX, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(_PAGE.format(assets=DOCS_ASSETS_PREFIX, openapi_url=openapi_url))
