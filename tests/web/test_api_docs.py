"""/docs serves Swagger UI from the pinned package (no CDN) and needs a login like every page."""

from __future__ import annotations

from typing import Any


def test_docs_page_and_assets_are_served_locally(make_client: Any) -> None:
    client = make_client("read_only")
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/api-docs.js").status_code == 200
    assert "/api/products" in client.get("/openapi.json").json()["paths"]


def test_docs_need_login(client: Any) -> None:
    response = client.get("/docs", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")
