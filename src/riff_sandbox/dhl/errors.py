"""DHL's error body: RFC 7807-like ``{"instance", "detail", "title", "message", "status"}`` with the status
as a **string**; 422 may add ``additionalDetails``; the 500 example carries ``code`` instead of ``status``
(shared/reference/api_samples/dhl/error_shipments_{400,422,500}.json)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

TITLES = {
    400: ("Bad request", "Bad request"),
    401: ("Unauthorized", "Unauthorized"),
    404: ("Not Found", "Not Found"),
    405: ("Method Not Allowed", "Method Not Allowed"),
    422: ("Validation error", "Unprocessable Entity"),
    429: ("Too Many Requests", "Too Many Requests"),
    500: ("Internal Server Error", "Internal Server Error"),
    503: ("Service Unavailable", "Service Unavailable"),
}


class DhlError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        additional: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.additional = additional
        self.headers = dict(headers) if headers else None


def problem(
    status: int,
    detail: str,
    *,
    instance: str = "/expressapi",
    additional: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    title, message = TITLES.get(status, ("Error", "Error"))
    body: dict[str, Any] = {"instance": instance, "detail": detail, "title": title, "message": message}
    if status >= 500:
        body["code"] = str(status)
    else:
        body["status"] = str(status)
    if additional:
        body["additionalDetails"] = list(additional)
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)
