"""Reconciliation (``/reconciliation``): renders the report of ``riff.sync.reconciliation`` once the sync
engine provides it. Expected contract (docs/ui.md): ``build_report(session) -> Mapping`` with
``generated_at`` and ``sections``: ``[{"title", "columns": [...], "rows": [[...], ...], "note"?}]``."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from riff.auth.deps import CurrentUser
from riff.core.deps import ReadSession
from riff.core.logging import get_logger
from riff.web.templating import render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

REPORT_MODULE = "riff.sync.reconciliation"
REPORT_FUNCTION = "build_report"


def _report_builder() -> Any:
    try:
        module = importlib.import_module(REPORT_MODULE)
    except ImportError:
        return None
    return getattr(module, REPORT_FUNCTION, None)


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    builder = _report_builder()
    report: Any = None
    error: str | None = None
    if builder is not None:
        try:
            report = builder(session)
        except Exception as exc:  # show the failure on the page instead of a 500
            log.warning("web.reconciliation.report.failed", exc_info=True)
            error = f"The reconciliation report failed: {type(exc).__name__}: {exc}"
    return render(
        request,
        "reconciliation/index.html",
        {"title": "Reconciliation", "available": builder is not None, "report": report, "error": error},
    )
