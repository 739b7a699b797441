"""Discogs' error body: always ``{"message": "..."}`` (https://www.discogs.com/developers/#page:home)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

# 401 bodies carry this header (platform_apis.md section 4, Errors).
WWW_AUTHENTICATE = {"WWW-Authenticate": 'OAuth realm="https://api.discogs.com"'}
NOT_FOUND = "The request resource was not found."
MUST_AUTHENTICATE = "You must authenticate to access this resource."
NO_PERMISSION = "You don't have permission to access this resource."


class DiscogsError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers) if headers else None


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    merged: dict[str, Any] = dict(headers or {})
    if status == 401:
        merged = {**WWW_AUTHENTICATE, **merged}
    return JSONResponse({"message": message}, status_code=status, headers=merged or None)
