"""What a handler raises to steer retries, and how any exception is classified.

The contract with the rest of RIFF is two attributes: ``retryable: bool`` and ``retry_after: float | None``
(seconds). ``riff.channels.errors`` carries them (429 with Retry-After, 5xx/timeouts retryable,
validation/auth permanent); these classes carry them too. An exception with neither attribute is treated
as retryable until the job runs out of attempts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math

from riff.core.errors import Conflict, NotFound
from riff.core.logging import redact_text
from riff.jobs.consts import MAX_ERROR_MESSAGE_CHARS


class JobError(Exception):
    retryable: bool = True
    retry_after: float | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RetryableJobError(JobError):
    """Try again later: after ``retry_after`` seconds exactly if given, else after the backoff delay."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentJobError(JobError):
    """Retrying cannot help (bad data, revoked credentials): the job fails now with this message."""

    retryable = False


class RateLimitWaitTooLong(RetryableJobError):
    """The channel's shared rate limit would make this call wait longer than a worker should block;
    the job is rescheduled for when the limit allows it."""


class JobTimeout(RetryableJobError):
    """The handler ran past its timeout (async handlers are cancelled; sync ones lose their lease)."""


class LeaseExpired(RetryableJobError):
    """The worker running the job stopped renewing its lease (crash, SIGKILL, hang)."""


class UnknownJobKind(PermanentJobError):
    """No handler is registered for the job's kind in the worker that claimed it."""


class JobNotFound(NotFound):
    pass


class JobStateConflict(Conflict):
    """The requested transition (retry, cancel) is not allowed from the job's current status."""


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    message: str
    error_class: str
    retryable: bool
    retry_after: float | None


def classify(exc: BaseException) -> ErrorInfo:
    """Reduce any exception to what the engine needs: redacted message, class, retryable, retry_after."""
    retryable = getattr(exc, "retryable", None)
    if not isinstance(retryable, bool):
        # Unknown failures (bugs, network errors from libraries we do not wrap) get the benefit of the doubt;
        # max_attempts bounds them. A cancelled coroutine is a shutdown or timeout, never the job's fault.
        retryable = True
    retry_after = _as_seconds(getattr(exc, "retry_after", None))
    if isinstance(exc, asyncio.CancelledError | TimeoutError) and not isinstance(exc, JobError):
        retryable = True
    message = str(exc) or type(exc).__name__
    return ErrorInfo(
        message=redact_text(message)[:MAX_ERROR_MESSAGE_CHARS],
        error_class=f"{type(exc).__module__}.{type(exc).__qualname__}",
        retryable=retryable,
        retry_after=retry_after,
    )


def _as_seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds
