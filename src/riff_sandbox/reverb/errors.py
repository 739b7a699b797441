"""Reverb's error body: ``{"message": "...", "errors": {"field": ["..."]}}`` (errors optional)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from riff_sandbox.reverb.consts import API_VERSION, MEDIA_TYPE


class HalJSONResponse(JSONResponse):
    """``application/hal+json``; echoes ``Accept-Version: 3.0`` (a sandbox convenience, see the docs)."""

    media_type = MEDIA_TYPE

    def __init__(
        self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(
            content, status_code=status_code, headers={**(headers or {}), "Accept-Version": API_VERSION}
        )


class ReverbError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: Mapping[str, list[str]] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors) if errors else None
        self.extra = dict(extra) if extra else None
        self.headers = dict(headers) if headers else None


def error_body(message: str, errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = {field: list(messages) for field, messages in errors.items()}
    return body


def error_response(
    status: int,
    message: str,
    errors: Mapping[str, list[str]] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HalJSONResponse:
    body = error_body(message, errors)
    if extra:
        body.update(extra)
    return HalJSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


class ValidationErrors:
    """Collects Rails-style field errors; ``raise_if_any`` raises one 422 with all of them."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, extra: Mapping[str, Any] | None = None) -> None:
        if self.errors:
            raise ReverbError(422, "Validation failed.", self.errors, extra=extra)
