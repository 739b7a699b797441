"""Application errors carry their HTTP status; one handler renders them all as JSON.

Body shape everywhere: ``{"error": {"code": ..., "message": ..., "field": ...}}`` (plus ``details``
when there is more to say, for example per-row CSV errors or the current version on a 409).
"""

from __future__ import annotations

from typing import Any


class RiffError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Any = None,
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class ValidationFailed(RiffError):
    status_code = 422
    code = "validation_error"


class NotFound(RiffError):
    status_code = 404
    code = "not_found"


class Conflict(RiffError):
    status_code = 409
    code = "conflict"


class VersionConflict(Conflict):
    """Optimistic lock lost: someone else saved the record first."""

    code = "version_conflict"


class Unauthenticated(RiffError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(RiffError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(RiffError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_seconds: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds
