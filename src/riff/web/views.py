"""The HTML UI's router: login and logout here; each area's pages live in ``views_<area>.py`` and are
included below, so ``riff.app`` lists one web router."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from riff.auth import service, sessions
from riff.auth.deps import client_ip, resolve_user
from riff.core.deps import AppSettings, get_database
from riff.core.errors import TooManyRequests, Unauthenticated
from riff.web.templating import flash, redirect, render, safe_next_url

router = APIRouter(tags=["web"], include_in_schema=False)

WRONG_CREDENTIALS = "Wrong username or password."


def _throttled_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds >= 60 else f"{seconds} seconds"
    return f"Too many failed attempts. Try again in {wait}."


def _login_page(
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {"next_url": next_url, "username": username, "error": error}
    return render(request, "login.html", context, status_code=status_code, headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    next_url = safe_next_url(next)
    try:
        already = resolve_user(request)
    except Unauthenticated:
        already = None
    if already is not None:
        return redirect(request, next_url)
    return _login_page(request, next_url=next_url)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    settings: AppSettings,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    next_url = safe_next_url(next)
    if not username.strip() or not password:
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error="Enter your username and password.",
            status_code=400,
        )
    try:
        user = service.authenticate(
            get_database(request),
            username=username,
            password=password,
            ip=client_ip(request),
            settings=settings,
        )
    except TooManyRequests as exc:
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error=_throttled_message(exc.retry_after_seconds),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    except Unauthenticated:
        return _login_page(
            request, next_url=next_url, username=username, error=WRONG_CREDENTIALS, status_code=401
        )
    sessions.start_session(request, user)
    return redirect(request, next_url)


@router.post("/logout")
def logout(request: Request) -> Response:
    sessions.end_session(request)
    flash(request, "You are logged out.", "info")
    return redirect(request, "/login")


def _include_pages() -> None:
    from riff.web import (
        views_dashboard,
        views_inventory,
        views_jobs,
        views_orders,
        views_product,
        views_reconciliation,
        views_settings,
        views_sync,
    )

    for module in (
        views_dashboard,
        views_inventory,
        views_product,
        views_orders,
        views_sync,
        views_jobs,
        views_reconciliation,
        views_settings,
    ):
        router.include_router(module.router)


_include_pages()
