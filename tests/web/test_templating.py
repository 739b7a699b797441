"""The helpers other pages build on (render, flash, redirect, hx_redirect), through real routes."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.testclient import TestClient

from riff.auth.deps import CurrentUser
from riff.web.templating import flash, hx_redirect, redirect, render, safe_next_url


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    probe = APIRouter()

    @probe.get("/probe/page", response_class=HTMLResponse)
    def page(request: Request, _user: CurrentUser) -> HTMLResponse:
        return render(request, "error.html", {"title": "Probe page", "message": "probe body"})

    @probe.post("/probe/save")
    def save(request: Request, _user: CurrentUser) -> Response:
        flash(request, "Saved <Fender Twin>", "success")
        return redirect(request, "/probe/page")

    @probe.post("/probe/elsewhere")
    def elsewhere(_user: CurrentUser) -> Response:
        return hx_redirect("/orders")

    app.include_router(probe)
    return app


class TestRender:
    def test_standard_context(self, owner_client: TestClient) -> None:
        html = owner_client.get("/probe/page").text
        assert "<title>Probe page · RIFF</title>" in html
        assert "probe body" in html
        assert 'name="csrf-token" content="' in html
        assert 'hx-headers=\'{"X-CSRF-Token": "' in html
        assert "SANDBOX" in html
        assert 'aria-label="Main"' in html  # the user is known, so the navigation shows

    def test_flash_survives_redirect_once_and_is_escaped(self, owner_client: TestClient) -> None:
        response = owner_client.post("/probe/save", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/probe/page"
        html = owner_client.get("/probe/page").text
        assert "Saved &lt;Fender Twin&gt;" in html
        assert 'class="toast toast--success"' in html
        assert "Saved" not in owner_client.get("/probe/page").text

    def test_htmx_partial_gets_flash_out_of_band(self, owner_client: TestClient) -> None:
        owner_client.post("/probe/save", headers={"HX-Request": "true"})
        html = owner_client.get("/probe/page", headers={"HX-Request": "true"}).text
        assert html.rstrip().endswith("</div>")
        assert 'id="flash-area" class="flash-area" aria-live="polite" hx-swap-oob="true"' in html


class TestRedirects:
    def test_redirect_for_htmx(self, owner_client: TestClient) -> None:
        response = owner_client.post("/probe/save", headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert response.headers["HX-Redirect"] == "/probe/page"

    def test_hx_redirect(self, owner_client: TestClient) -> None:
        assert owner_client.post("/probe/elsewhere").headers["HX-Redirect"] == "/orders"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/inventory/42", "/inventory/42"),
        ("/orders?x=1#top", "/orders?x=1#top"),
        ("orders", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_safe_next_url(value: str | None, expected: str) -> None:
    assert safe_next_url(value) == expected
