"""Wire the web layer into the app: security middlewares and the static files.

``riff.app.create_app`` calls ``install_web(app)`` once; the HTML router is listed in ``_routers()``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.staticfiles import StaticFiles

from riff.web.middleware import AuthGateMiddleware, CsrfMiddleware, SecurityHeadersMiddleware
from riff.web.templating import STATIC_DIR, STATIC_URL_PREFIX


def install_web(app: FastAPI) -> None:
    if app.middleware_stack is not None:
        raise RuntimeError("install_web(app) must run before the app serves its first request")
    # Appended (innermost) rather than add_middleware'd (outermost): the gate and the CSRF check
    # read the session, so they must run inside SessionMiddleware wherever create_app adds it.
    # Order here is outermost first.
    app.user_middleware.extend(
        [
            Middleware(SecurityHeadersMiddleware),
            Middleware(AuthGateMiddleware),
            Middleware(CsrfMiddleware),
        ]
    )
    app.mount(STATIC_URL_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
