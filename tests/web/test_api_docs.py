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


def test_list_and_export_document_every_filter_as_a_query_parameter(make_client: Any) -> None:
    from riff.catalog.schemas import FilterQuery, ListQuery

    paths = make_client("read_only").get("/openapi.json").json()["paths"]
    for path, model in (("/api/products", ListQuery), ("/api/export/csv", FilterQuery)):
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert set(model.model_fields) <= set(parameters), path
        assert all(parameters[name]["in"] == "query" for name in model.model_fields)
    assert "Exact brand" in paths["/api/products"]["get"]["parameters"][1]["description"]
