"""The one error taxonomy every channel raises.

The job engine classifies any exception by exactly two attributes, ``retryable`` and ``retry_after``;
the UI tells "reconnect your account" from "will retry" by the class. Responses are classified through
a table (status or exception class -> resolution), not ``if``s: each channel extends the default with
``DEFAULT_ERROR_MAPPING | {...}``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import enum
import math
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from riff.core.clock import utcnow


class ResponseAction(enum.StrEnum):
    SUCCESS = "success"
    RETRY = "retry"  # transient: retried a few times inline, then by the job engine
    RATE_LIMITED = "rate_limited"
    FAIL = "fail"  # permanent: the user or the data must change first
    IGNORE = "ignore"  # the caller treats the response as success


class FailureType(enum.StrEnum):
    CONFIG = "config"  # the user must act on the account (credentials, scopes)
    VALIDATION = "validation"  # the user must change the data sent
    TRANSIENT = "transient"  # nobody must act; trying later works
    SYSTEM = "system"  # a bug on one side or the other


class ChannelError(Exception):
    """Base of every channel failure.

    ``retryable`` and ``retry_after`` (seconds, or None for the engine's own backoff) are the whole
    contract with the job engine.
    """

    retryable: bool = False
    failure_type: FailureType = FailureType.SYSTEM

    def __init__(
        self,
        message: str,
        *,
        channel: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        field: str | None = None,
        body: Any = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.channel = channel
        self.status_code = status_code
        self.retry_after = retry_after
        self.field = field
        self.body = body
        self.endpoint = endpoint

    @classmethod
    def from_response(
        cls,
        response: httpx.Response,
        *,
        channel: str,
        endpoint: str | None = None,
        message_parser: Callable[[httpx.Response], tuple[str, str | None]] | None = None,
    ) -> ChannelError:
        message, field = (message_parser or parse_error_body)(response)
        return cls(
            message or f"HTTP {response.status_code}",
            channel=channel,
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            field=field,
            body=_safe_json(response),
            endpoint=endpoint,
        )

    @classmethod
    def from_request_error(
        cls, exc: httpx.HTTPError, *, channel: str, endpoint: str | None = None
    ) -> ChannelError:
        return cls(f"{type(exc).__name__}: {exc}".rstrip(": "), channel=channel, endpoint=endpoint)

    def __str__(self) -> str:
        return self.message


class Transient(ChannelError):
    """Timeouts, connection failures, 5xx: retry later."""

    retryable = True
    failure_type = FailureType.TRANSIENT


class RateLimited(Transient):
    """429: retry after ``retry_after`` seconds (the platform's Retry-After, else the engine's backoff)."""


class AuthExpired(ChannelError):
    """Credentials are invalid, expired or lack a scope. Permanent: the account needs the user."""

    failure_type = FailureType.CONFIG


class Rejected(ChannelError):
    """The platform refused the data (validation). ``message`` carries its words verbatim."""

    failure_type = FailureType.VALIDATION


class NotFound(ChannelError):
    """The remote object does not exist (deleted on the platform, or a wrong id)."""


@dataclasses.dataclass(frozen=True)
class ErrorResolution:
    action: ResponseAction
    error: type[ChannelError] | None = None


SUCCESS = ErrorResolution(ResponseAction.SUCCESS)
RETRY = ErrorResolution(ResponseAction.RETRY, Transient)
RATE_LIMIT = ErrorResolution(ResponseAction.RATE_LIMITED, RateLimited)
AUTH = ErrorResolution(ResponseAction.FAIL, AuthExpired)
REJECT = ErrorResolution(ResponseAction.FAIL, Rejected)
MISSING = ErrorResolution(ResponseAction.FAIL, NotFound)
IGNORE = ErrorResolution(ResponseAction.IGNORE)

ErrorKey = int | type[BaseException]

# Shared default; a channel adds its quirks with ``DEFAULT_ERROR_MAPPING | {406: REJECT}``.
DEFAULT_ERROR_MAPPING: Mapping[ErrorKey, ErrorResolution] = {
    400: REJECT,
    401: AUTH,
    403: AUTH,
    404: MISSING,
    408: RETRY,
    409: REJECT,
    410: MISSING,
    412: REJECT,
    422: REJECT,
    425: RETRY,
    429: RATE_LIMIT,
    500: RETRY,
    502: RETRY,
    503: RETRY,
    504: RETRY,
    httpx.TimeoutException: RETRY,
    httpx.TransportError: RETRY,  # connection refused/reset, DNS, protocol errors
}


def resolve(
    mapping: Mapping[ErrorKey, ErrorResolution], outcome: httpx.Response | BaseException
) -> ErrorResolution:
    """Look a response status or an exception up in ``mapping``; unlisted statuses fall back by class."""
    if isinstance(outcome, httpx.Response):
        status = outcome.status_code
        if status in mapping:
            return mapping[status]
        if status < 400:
            return SUCCESS
        return RETRY if status >= 500 else REJECT
    for cls in type(outcome).__mro__:
        if cls in mapping:
            return mapping[cls]
    return ErrorResolution(ResponseAction.FAIL, ChannelError)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - utcnow()).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def parse_error_body(response: httpx.Response) -> tuple[str, str | None]:
    """The platform's own words and the first field it names.

    Handles the common shapes ``{"message", "errors": {field: [msgs]}}`` and ``{"error": "..."}``;
    a channel with another shape passes its own parser.
    """
    body = _safe_json(response)
    if not isinstance(body, dict):
        text = response.text.strip()
        return (text[:500] if text else ""), None
    parts: list[str] = []
    field: str | None = None
    top = body.get("message") or body.get("error_description") or body.get("error")
    if isinstance(top, str) and top:
        parts.append(top)
    errors = body.get("errors")
    if isinstance(errors, dict):
        for key, value in errors.items():
            field = field or str(key)
            messages = value if isinstance(value, list) else [value]
            parts.append(f"{key}: {'; '.join(str(m) for m in messages)}")
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                field = field or item.get("field")
                parts.append(str(item.get("message") or item))
            else:
                parts.append(str(item))
    return " ".join(parts), field
