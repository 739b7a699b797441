"""Brand validation: does V&R accept this brand?

Order (shared/reference/000_*.txt, "Brand Validation Flow"):

1. the in-memory cache (``VR_BRAND_CACHE_TTL`` seconds, at most ``VR_BRAND_CACHE_MAX`` brands), which holds
   only the site's own answers;
2. the site's AJAX check ``POST /ajax/check_brand_exists`` within ``VR_BRAND_TIMEOUT`` seconds: an id means
   accepted, ``"0"`` means not accepted (final: no fallback overrides the site);
3. when the site cannot answer: the local products table (a brand RIFF already has live on V&R was
   accepted then);
4. then the known-brands JSON file (``VR_KNOWN_BRANDS_FILE``, else the packaged ``data/known_brands.json``);
5. else ``{"valid": null, "error_code": "api_unavailable"}``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from riff.channels.errors import ChannelError
from riff.channels.mapping import load_table
from riff.channels.vintage_and_rare.mapping import DATA_PACKAGE, normalize_brand
from riff.core.logging import get_logger

log = get_logger(__name__)

AjaxCheck = Callable[[str], Awaitable[str | None]]  # brand -> site's brand id, or None when not accepted
LocalLookup = Callable[[str], bool]

API_UNAVAILABLE = "api_unavailable"


@dataclasses.dataclass
class BrandCheck:
    brand: str
    valid: bool | None
    brand_id: str | None = None
    source: str | None = None  # vr_ajax | local_products | known_brands
    cached: bool = False
    error_code: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class BrandCache:
    """TTL + LRU, thread-safe (the web process validates from many request threads)."""

    def __init__(self, ttl_seconds: float, max_entries: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[tuple[str, str], tuple[float, BrandCheck]] = (
            collections.OrderedDict()
        )

    def get(self, scope: str, brand: str, now: float | None = None) -> BrandCheck | None:
        now = time.monotonic() if now is None else now
        key = (scope, normalize_brand(brand))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, check = entry
            if now - stored_at > self.ttl_seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        return dataclasses.replace(check, brand=brand, cached=True)

    def put(self, scope: str, check: BrandCheck, now: float | None = None) -> None:
        if self.ttl_seconds <= 0:
            return
        now = time.monotonic() if now is None else now
        key = (scope, normalize_brand(check.brand))
        with self._lock:
            self._entries[key] = (now, check)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_caches: dict[tuple[float, int], BrandCache] = {}
_caches_lock = threading.Lock()


def shared_cache(ttl_seconds: float, max_entries: int) -> BrandCache:
    """The process-wide cache (adapters are created per job or request; the cache outlives them)."""
    with _caches_lock:
        key = (ttl_seconds, max_entries)
        if key not in _caches:
            _caches[key] = BrandCache(ttl_seconds, max_entries)
        return _caches[key]


def clear_shared_caches() -> None:
    with _caches_lock:
        for cache in _caches.values():
            cache.clear()


def load_known_brands(path: Path | None) -> frozenset[str]:
    """The known-brands file (a JSON list, or ``{"brands": [...]}``) as normalized names."""
    if path is not None:
        try:
            data: Any = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("vintage_and_rare.brands.known_file_error", path=str(path), error=str(exc)[:200])
            data = []
    else:
        data = load_table(DATA_PACKAGE, "known_brands")
    names = data.get("brands", []) if isinstance(data, dict) else data
    return frozenset(normalize_brand(str(n)) for n in names if str(n).strip())


class BrandValidator:
    def __init__(
        self,
        *,
        scope: str,
        ajax_check: AjaxCheck | None,
        local_lookup: LocalLookup | None,
        known_brands: frozenset[str],
        cache: BrandCache,
        timeout_seconds: float,
    ) -> None:
        self.scope = scope  # the site (base URL): a sandbox's answers never answer for production
        self.ajax_check = ajax_check
        self.local_lookup = local_lookup
        self.known_brands = known_brands
        self.cache = cache
        self.timeout_seconds = timeout_seconds

    async def validate(self, brand: str) -> BrandCheck:
        brand = brand.strip()
        if not brand:
            return BrandCheck(brand=brand, valid=False, message="no brand given")
        cached = self.cache.get(self.scope, brand)
        if cached is not None:
            return cached
        failure: str | None = None
        if self.ajax_check is not None:
            try:
                brand_id = await asyncio.wait_for(self.ajax_check(brand), self.timeout_seconds)
            except TimeoutError:
                failure = f"the V&R brand check did not answer within {self.timeout_seconds:g} s"
            except ChannelError as exc:
                failure = f"the V&R brand check failed: {exc.message[:200]}"
            else:
                check = BrandCheck(
                    brand=brand,
                    valid=brand_id is not None,
                    brand_id=brand_id,
                    source="vr_ajax",
                    message=None if brand_id else "V&R does not know this brand",
                )
                self.cache.put(self.scope, check)
                return check
            log.warning("vintage_and_rare.brand.ajax_unavailable", message=failure)
        if self.local_lookup is not None:
            try:
                if self.local_lookup(brand):
                    return BrandCheck(brand=brand, valid=True, source="local_products", message=failure)
            except Exception as exc:  # a database hiccup must not hide the next fallback
                log.warning("vintage_and_rare.brand.local_lookup_error", error=type(exc).__name__)
        if normalize_brand(brand) in self.known_brands:
            return BrandCheck(brand=brand, valid=True, source="known_brands", message=failure)
        return BrandCheck(
            brand=brand,
            valid=None,
            error_code=API_UNAVAILABLE,
            message=failure or "V&R could not be asked and no local source knows this brand",
        )


def parse_brand_answer(text: str) -> str | None:
    """``"383"`` / ``383`` -> ``"383"``; ``"0"``, empty or anything else -> None."""
    value = text.strip().strip('"').strip()
    return value if value.isdigit() and int(value) > 0 else None


def normalize_suggestions(data: Any) -> list[dict[str, str]]:
    """The autocomplete answer as ``[{"name", "id"}]`` (strings or jQuery-UI ``{label, value, id}``)."""
    out: list[dict[str, str]] = []
    if not isinstance(data, list):
        return out
    for item in data:
        if isinstance(item, str):
            out.append({"name": item, "id": ""})
        elif isinstance(item, dict):
            name = item.get("value") or item.get("label") or item.get("name")
            if name:
                out.append({"name": str(name), "id": str(item.get("id") or "")})
    return out


def fallback_warning(brand: str, default_brand: str) -> str:
    return (
        f"warning: V&R does not accept the brand {brand!r}; listed under the fallback brand {default_brand!r}. "
        "Edit the brand on V&R (or ask V&R to add it), then update the listing."
    )
