"""Handler registry (kind -> function), worker shutdown hooks, and the context a handler receives.

Example::

    @job_handler("reverb.publish", max_attempts=8)
    async def publish(ctx: JobContext) -> dict[str, Any] | None:
        with ctx.database.session() as session:  # the handler's own unit of work
            ...
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import pkgutil
import random
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.settings import Settings
from riff.jobs import consts
from riff.jobs.config import JobsSettings

if TYPE_CHECKING:
    from riff.jobs.ratelimit import RateLimiter

log = get_logger(__name__)

HandlerResult = dict[str, Any] | None
Handler = Callable[["JobContext"], HandlerResult | Awaitable[HandlerResult]]
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
ShutdownHook = Callable[["HookContext"], None | Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Retry delay after a failed attempt: ``base * factor**(attempt-1)`` capped at ``max_seconds``, then
    scaled by a random factor in ``[1 - jitter, 1 + jitter]`` (still capped) so retries spread out."""

    base_seconds: float = 10.0
    max_seconds: float = 3600.0
    factor: float = 2.0
    jitter: float = 0.25

    def bounds(self, attempt: int) -> tuple[float, float]:
        raw = min(self.max_seconds, self.base_seconds * self.factor ** max(0, attempt - 1))
        return raw * (1 - self.jitter), min(self.max_seconds, raw * (1 + self.jitter))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        low, high = self.bounds(attempt)
        return (rng or random).uniform(low, high) if high > low else high


@dataclasses.dataclass(frozen=True)
class HandlerSpec:
    kind: str
    func: Handler
    is_async: bool
    max_attempts: int | None
    timeout_seconds: float
    backoff: Backoff | None


_handlers: dict[str, HandlerSpec] = {}
_shutdown_hooks: list[ShutdownHook] = []
_lock = threading.Lock()


def job_handler(
    kind: str,
    *,
    max_attempts: int | None = None,
    timeout_seconds: float = consts.DEFAULT_TIMEOUT_SECONDS,
    backoff: Backoff | None = None,
) -> Callable[[HandlerT], HandlerT]:
    """Register the decorated function (sync or ``async def``) as the handler of ``kind``.

    ``max_attempts`` is the default for jobs of this kind (``enqueue`` may override it); ``timeout_seconds``
    bounds one attempt (async handlers are cancelled; a sync one stops renewing its lease so another worker
    re-runs the job); ``backoff`` replaces the engine's default retry delays for this kind.
    """
    if not kind or len(kind) > consts.MAX_KIND_CHARS:
        raise ValueError(f"job kind must be 1-{consts.MAX_KIND_CHARS} characters")

    def decorate(func: HandlerT) -> HandlerT:
        spec = HandlerSpec(
            kind=kind,
            func=func,
            is_async=inspect.iscoroutinefunction(func),
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            backoff=backoff,
        )
        with _lock:
            existing = _handlers.get(kind)
            # The same function imported under a second module name (tests, `python -m`) is not a clash.
            if existing is not None and _identity(existing.func) != _identity(func):
                raise ValueError(f"job kind {kind!r} already has a handler: {existing.func!r}")
            _handlers[kind] = spec
        return func

    return decorate


def _identity(func: Callable[..., Any]) -> tuple[str, str]:
    code = getattr(func, "__code__", None)
    return (getattr(code, "co_filename", ""), getattr(func, "__qualname__", repr(func)))


def get_handler(kind: str) -> HandlerSpec | None:
    return _handlers.get(kind)


def registered_kinds() -> frozenset[str]:
    return frozenset(_handlers)


def unregister(kind: str) -> None:
    """Tests only: forget a handler."""
    with _lock:
        _handlers.pop(kind, None)


def on_worker_shutdown(hook: ShutdownHook) -> ShutdownHook:
    """Register ``hook(ctx: HookContext)`` (sync or async) to run once when a worker shuts down gracefully,
    after its running jobs have finished (Vintage & Rare resolves its pending listing ids here)."""
    with _lock:
        if hook not in _shutdown_hooks:
            _shutdown_hooks.append(hook)
    return hook


def shutdown_hooks() -> list[ShutdownHook]:
    return list(_shutdown_hooks)


def remove_shutdown_hook(hook: ShutdownHook) -> None:
    with _lock:
        if hook in _shutdown_hooks:
            _shutdown_hooks.remove(hook)


def import_handler_modules(modules: list[str] | tuple[str, ...] = (), *, discover: bool = True) -> list[str]:
    """Import the modules that register handlers: every ``riff.<package>.tasks`` and
    ``riff.channels.<channel>.tasks`` (when ``discover``), then ``modules`` (dotted names, or paths of
    ``.py`` files). Import errors propagate: a worker
    that cannot load its handlers must not start and silently leave their jobs queued."""
    names = discover_task_modules() if discover else []
    names += [m for m in modules if m not in names]
    for name in names:
        if name.endswith(".py"):
            _import_file(Path(name))
        else:
            importlib.import_module(name)
    return names


def _import_file(path: Path) -> None:
    """``--import path/to/handlers.py``: load a handler file that is not on ``sys.path``."""
    module_name = f"riff_handlers_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import handlers from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)


def discover_task_modules() -> list[str]:
    import riff

    found: list[str] = []
    for package in pkgutil.iter_modules(riff.__path__, "riff."):
        if not package.ispkg:
            continue
        if importlib.util.find_spec(f"{package.name}.tasks") is not None:
            found.append(f"{package.name}.tasks")
        if package.name == "riff.channels":
            channels = importlib.import_module(package.name)
            for sub in pkgutil.iter_modules(channels.__path__, "riff.channels."):
                if sub.ispkg and importlib.util.find_spec(f"{sub.name}.tasks") is not None:
                    found.append(f"{sub.name}.tasks")
    return found


@dataclasses.dataclass
class PendingIdResult:
    """Returned by a handler (via ``ctx.pending_id``) to end the attempt in ``completed_pending_id``."""

    result: dict[str, Any] | None = None


@dataclasses.dataclass
class JobContext:
    """Everything a handler gets. Handlers read current state from the database when they run (the payload
    is a hint, not the truth), so a coalesced job sees every edit made before it started."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    channel: str | None
    product_id: int | None
    listing_id: int | None
    attempt: int
    max_attempts: int
    database: Database
    settings: Settings
    jobs_settings: JobsSettings
    logger: Any
    worker_id: str = ""
    _heartbeat: Callable[[], None] = dataclasses.field(repr=False, default=lambda: None)
    _stop_event: threading.Event = dataclasses.field(repr=False, default_factory=threading.Event)
    _rate_limiter: RateLimiter | None = dataclasses.field(repr=False, default=None)

    def heartbeat(self) -> None:
        """Renew this job's lease now (the worker also renews it automatically while the handler runs)."""
        self._heartbeat()

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    @property
    def stop_requested(self) -> bool:
        """True once the worker is shutting down: a long handler may stop at a safe point and raise
        ``RetryableJobError`` to continue later."""
        return self._stop_event.is_set()

    @property
    def rate_limiter(self) -> RateLimiter:
        if self._rate_limiter is None:
            from riff.jobs.ratelimit import get_rate_limiter

            self._rate_limiter = get_rate_limiter(self.database, self.settings, self.jobs_settings)
        return self._rate_limiter

    def pending_id(self, result: dict[str, Any] | None = None) -> PendingIdResult:
        """Finish this attempt as ``completed_pending_id`` (V&R: created, remote id not known yet)."""
        return PendingIdResult(result)


@dataclasses.dataclass
class HookContext:
    database: Database
    settings: Settings
    jobs_settings: JobsSettings
    worker_id: str
    logger: Any
