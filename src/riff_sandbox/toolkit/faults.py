"""Fault injection for platform routes: rate limits, 5xx errors, latency, expired tokens, truncated bodies.

Deterministic where tests need it: ``every_nth`` and ``error_5xx_burst`` count requests; the ratios draw
from a ``random.Random`` seeded by the configuration's ``seed``. The token bucket is a plain class whose
methods take ``now`` (monotonic seconds) and never read the clock.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["rate_limited", "server_error", "token_expired"]


class BucketConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_per_second: float = Field(gt=0, description="Tokens added per second")
    burst: int = Field(ge=1, description="Bucket size: requests allowed at once")


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every_nth: int | None = Field(None, ge=1, description="Answer every Nth matching request with 429")
    retry_after_seconds: int = Field(1, ge=0, description="Retry-After sent with every_nth 429s")
    bucket: BucketConfig | None = Field(None, description="Token bucket; 429 with the time to the next token")


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_limit: RateLimitConfig | None = None
    error_5xx_ratio: float = Field(0.0, ge=0, le=1, description="Share of requests answered with a 5xx")
    error_5xx_burst: int = Field(0, ge=0, description="The next N matching requests fail with a 5xx")
    error_5xx_status: int = Field(503, ge=500, le=599)
    latency_ms: int = Field(0, ge=0, le=60_000, description="Delay added before every matching request")
    token_expired: bool = Field(False, description="Authentication fails as for an expired/invalid token")
    malformed_body_ratio: float = Field(0.0, ge=0, le=1, description="Share of 2xx bodies cut short")
    path_prefix: str | None = Field(None, description="Only requests whose path starts with this")
    methods: list[str] | None = Field(None, description="Only these HTTP methods")
    seed: int = Field(0, description="Seed for the ratio draws")


@dataclass(frozen=True)
class FaultDecision:
    latency_seconds: float = 0.0
    kind: FaultKind | None = None
    status: int | None = None
    retry_after_seconds: int | None = None
    malformed: bool = False


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int, now: float) -> None:
        self.rate_per_second = rate_per_second
        self.burst = burst
        self.tokens = float(burst)
        self.updated_at = now

    def take(self, now: float) -> float:
        """Take one token. Returns 0 when granted, else the seconds until a token is available."""
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate_per_second)
        self.updated_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_second


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apply(FaultConfig(), now=0.0)

    def _apply(self, config: FaultConfig, now: float) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self._seen = 0
        self._burst_left = config.error_5xx_burst
        bucket = config.rate_limit.bucket if config.rate_limit else None
        self._bucket = TokenBucket(bucket.rate_per_second, bucket.burst, now) if bucket else None

    def configure(self, config: FaultConfig, now: float) -> None:
        """Replace the whole configuration and restart the counters."""
        with self._lock:
            self._apply(config, now)

    def clear(self, now: float) -> None:
        self.configure(FaultConfig(), now)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "config": self.config.model_dump(),
                "state": {
                    "matching_requests_seen": self._seen,
                    "error_5xx_burst_remaining": self._burst_left,
                    "bucket_tokens": None if self._bucket is None else round(self._bucket.tokens, 3),
                },
            }

    def _matches(self, method: str, path: str) -> bool:
        config = self.config
        if config.path_prefix and not path.startswith(config.path_prefix):
            return False
        return not (config.methods and method.upper() not in {m.upper() for m in config.methods})

    def decide(self, method: str, path: str, now: float) -> FaultDecision:
        """What happens to this platform request. Order: rate limit, 5xx burst, 5xx ratio, expired token;
        a request that passes may still get a truncated body."""
        with self._lock:
            config = self.config
            if not self._matches(method, path):
                return FaultDecision()
            self._seen += 1
            latency = config.latency_ms / 1000.0
            limit = config.rate_limit
            if limit and limit.every_nth and self._seen % limit.every_nth == 0:
                return FaultDecision(latency, "rate_limited", 429, limit.retry_after_seconds)
            if self._bucket is not None:
                wait = self._bucket.take(now)
                if wait > 0:
                    return FaultDecision(latency, "rate_limited", 429, max(1, math.ceil(wait)))
            if self._burst_left > 0:
                self._burst_left -= 1
                return FaultDecision(latency, "server_error", config.error_5xx_status)
            if config.error_5xx_ratio and self._random.random() < config.error_5xx_ratio:
                return FaultDecision(latency, "server_error", config.error_5xx_status)
            if config.token_expired:
                return FaultDecision(latency, "token_expired", 401)
            malformed = (
                bool(config.malformed_body_ratio) and self._random.random() < config.malformed_body_ratio
            )
            return FaultDecision(latency, malformed=malformed)
