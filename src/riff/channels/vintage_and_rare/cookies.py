"""The V&R cookie jar: load, send, update from responses, persist, report.

RIFF keeps its own jar rather than the HTTP libraries' so one jar serves both sessions (curl_cffi and the
httpx fallback) and the browser, survives restarts and can be reported on (``riff vr cookies-status``).

File format (``VINTAGE_AND_RARE_COOKIES_FILE``; ``VR_COOKIES_BASE64`` holds the same JSON, base64-encoded),
as exported from a browser by the shop's harvest scripts and by Selenium's ``get_cookies()``::

    [{"name": "cf_clearance", "value": "...", "domain": ".vintageandrare.com", "expiry": 1735689600},
     {"name": "PHPSESSID", "value": "...", "domain": "www.vintageandrare.com"}]

``expiry`` is epoch seconds; a cookie without one is a session cookie (kept until replaced).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riff.channels.vintage_and_rare import consts
from riff.core.clock import UTC, utcnow
from riff.core.logging import get_logger

log = get_logger(__name__)


class Cookie(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    value: str
    domain: str = ""
    path: str = "/"
    expiry: float | None = Field(None, description="Epoch seconds; None for a session cookie")
    secure: bool = False
    http_only: bool = Field(False, alias="httpOnly")

    def matches(self, host: str) -> bool:
        """RFC 6265 domain-match: host-only cookies (no leading dot) also match their subdomains here, as
        exported files often drop the dot."""
        domain = self.domain.lstrip(".").lower()
        host = host.lower()
        return not domain or host == domain or host.endswith("." + domain)

    def expired(self, now: dt.datetime) -> bool:
        return self.expiry is not None and self.expiry <= now.timestamp()

    def expires_at(self) -> dt.datetime | None:
        return None if self.expiry is None else dt.datetime.fromtimestamp(self.expiry, UTC)

    def export(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path,
        }
        if self.expiry is not None:
            data["expiry"] = int(self.expiry)
        if self.secure:
            data["secure"] = True
        if self.http_only:
            data["httpOnly"] = True
        return data


class CookieFormatError(ValueError):
    pass


def parse_cookie_list(data: Any) -> list[Cookie]:
    """A JSON list of cookies (or ``{"cookies": [...]}``, as some browser exporters write)."""
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):
        data = data["cookies"]
    if not isinstance(data, list):
        raise CookieFormatError("expected a JSON list of cookies")
    cookies = []
    for item in data:
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            raise CookieFormatError("every cookie needs a name and a value")
        item = dict(item)
        if "expiry" not in item:
            for alias in ("expires", "expirationDate"):
                if isinstance(item.get(alias), int | float):
                    item["expiry"] = item[alias]
        cookies.append(Cookie.model_validate(item))
    return cookies


def decode_base64(text: str) -> list[Cookie]:
    try:
        raw = base64.b64decode(text.strip(), validate=False)
        return parse_cookie_list(json.loads(raw))
    except (binascii.Error, ValueError) as exc:
        raise CookieFormatError(f"VR_COOKIES_BASE64 is not base64 of a JSON cookie list: {exc}") from None


def encode_base64(cookies: Iterable[Cookie]) -> str:
    payload = json.dumps([c.export() for c in cookies], separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode("ascii")


def parse_set_cookie(header: str, host: str, now: dt.datetime) -> Cookie | None:
    """One ``Set-Cookie`` header -> a Cookie (domain defaults to the request host)."""
    parsed = SimpleCookie()
    try:
        parsed.load(header)
    except CookieError:
        return None
    for name, morsel in parsed.items():
        expiry: float | None = None
        if morsel["max-age"]:
            with contextlib.suppress(ValueError):
                expiry = now.timestamp() + float(morsel["max-age"])
        elif morsel["expires"]:
            with contextlib.suppress(TypeError, ValueError):
                expiry = parsedate_to_datetime(morsel["expires"]).timestamp()
        return Cookie(
            name=name,
            value=morsel.value,
            domain=morsel["domain"] or host,
            path=morsel["path"] or "/",
            expiry=expiry,
            secure=bool(morsel["secure"]),
            httpOnly=bool(morsel["httponly"]),
        )
    return None


class CookieJar:
    """Thread-safe; ``path`` (when given) is rewritten atomically on every change, mode 0600."""

    def __init__(self, cookies: Iterable[Cookie] = (), *, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._cookies: dict[tuple[str, str, str], Cookie] = {}
        self.path = path
        for cookie in cookies:
            self._cookies[self._key(cookie)] = cookie

    @staticmethod
    def _key(cookie: Cookie) -> tuple[str, str, str]:
        return (cookie.name, cookie.domain.lstrip(".").lower(), cookie.path)

    @classmethod
    def load(cls, *, path: Path | None, base64_text: str | None = None) -> CookieJar:
        """The env's base64 cookies first, then the file's (newer: harvests and refreshes land there)."""
        jar = cls(path=path)
        if base64_text:
            jar.update(decode_base64(base64_text), persist=False)
        if path is not None and path.exists():
            try:
                jar.update(parse_cookie_list(json.loads(path.read_text("utf-8"))), persist=False)
            except (OSError, ValueError) as exc:
                log.warning("vintage_and_rare.cookies.load_error", path=str(path), error=str(exc)[:200])
        return jar

    def cookies(self) -> list[Cookie]:
        with self._lock:
            return list(self._cookies.values())

    def get(self, name: str, host: str | None = None) -> Cookie | None:
        for cookie in self.cookies():
            if cookie.name == name and (host is None or cookie.matches(host)):
                return cookie
        return None

    def header_for(self, host: str, now: dt.datetime | None = None) -> str:
        now = now or utcnow()
        pairs = [f"{c.name}={c.value}" for c in self.cookies() if c.matches(host) and not c.expired(now)]
        return "; ".join(pairs)

    def update(self, cookies: Iterable[Cookie], *, persist: bool = True) -> None:
        changed = False
        with self._lock:
            for cookie in cookies:
                key = self._key(cookie)
                if self._cookies.get(key) != cookie:
                    self._cookies[key] = cookie
                    changed = True
        if changed and persist:
            self.save()

    def update_from_headers(self, set_cookie_headers: Sequence[str], host: str) -> None:
        now = utcnow()
        parsed = [c for c in (parse_set_cookie(h, host, now) for h in set_cookie_headers) if c is not None]
        expired = [c for c in parsed if c.expired(now) or c.value in ("", "deleted")]
        fresh = [c for c in parsed if c not in expired]
        if expired:
            self.remove({(c.name, c.domain.lstrip(".").lower()) for c in expired})
        if fresh:
            self.update(fresh)

    def remove(self, names: set[tuple[str, str]] | set[str]) -> None:
        with self._lock:
            for key in list(self._cookies):
                if key[0] in names or (key[0], key[1]) in names:
                    del self._cookies[key]
        self.save()

    def replace_all(self, cookies: Iterable[Cookie]) -> None:
        with self._lock:
            self._cookies = {self._key(c): c for c in cookies}
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        data = json.dumps([c.export() for c in self.cookies()], indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".cookies-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(data)
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def to_base64(self) -> str:
        return encode_base64(self.cookies())


def cookie_status(
    cookies: Sequence[Cookie], *, now: dt.datetime | None = None, warn_days: int = consts.COOKIE_WARN_DAYS
) -> dict[str, Any]:
    """Each cookie with its expiry and days left, plus warnings (cf_clearance missing, expired, expiring)."""
    now = now or utcnow()
    rows = []
    warnings: list[str] = []
    for cookie in sorted(cookies, key=lambda c: (c.domain, c.name)):
        expires = cookie.expires_at()
        days_left = None if expires is None else round((expires - now).total_seconds() / 86400, 1)
        rows.append(
            {
                "name": cookie.name,
                "domain": cookie.domain,
                "expires_at": expires.isoformat() if expires else None,
                "days_left": days_left,
                "expired": cookie.expired(now),
                "session_cookie": expires is None,
            }
        )
    clearances = [c for c in cookies if c.name == consts.CLEARANCE_COOKIE]
    if not clearances:
        warnings.append("no cf_clearance cookie: the first request will meet the Cloudflare challenge")
    for clearance in clearances:
        expires = clearance.expires_at()
        if clearance.expired(now):
            warnings.append(f"cf_clearance for {clearance.domain} has expired: harvest new cookies")
        elif expires is not None and expires - now <= dt.timedelta(days=warn_days):
            days = (expires - now).total_seconds() / 86400
            warnings.append(
                f"cf_clearance for {clearance.domain} expires in {days:.1f} days ({expires:%Y-%m-%d %H:%M} UTC): "
                "harvest new cookies soon"
            )
    return {"cookies": rows, "warnings": warnings, "checked_at": now.isoformat()}


def as_mapping(cookies: Iterable[Cookie]) -> Mapping[str, str]:
    return {c.name: c.value for c in cookies}
