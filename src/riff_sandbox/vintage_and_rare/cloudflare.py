"""A Cloudflare-style bot check in front of the sandbox site.

What the real site does (shared/reference/000_*.txt, original_riff.md 3.4): a request without a valid
``cf_clearance`` cookie, or from a client Cloudflare scores as a bot, gets HTTP 403 with the header
``cf-mitigated: challenge`` and a "Just a moment..." page whose JavaScript proves a real browser and sets
``cf_clearance``. The clearance is bound to the User-Agent that solved the challenge and expires.

The sandbox imitates each part:

- **Clearance**: a random token the sandbox issued, unexpired (``clearance_ttl_seconds``) and presented
  with the same User-Agent that solved the challenge.
- **Client profile** (the sandbox sees no TLS handshake over loopback HTTP, so it scores headers): a
  request is flagged when its User-Agent is missing, names an automation or HTTP library
  (``FLAGGED_USER_AGENT_MARKERS``: HeadlessChrome, python, httpx, curl/...), does not look like a desktop
  browser (Mozilla/5.0 plus Chrome/Firefox/Safari/Edg), or when it sends no ``Accept-Language`` (every
  browser does; HTTP libraries do not by default). A flagged request is challenged even with a valid
  clearance.
- **Challenge**: the page's JavaScript finds ``answer`` with ``fnv1a(nonce + ":" + answer) & 0xFFF == 0``,
  posts it with ``navigator.webdriver`` to ``/cdn-cgi/challenge-platform/h/g/verify``, and on success sets
  the returned ``cf_clearance`` with ``document.cookie`` and reloads. The verify endpoint refuses an unknown
  or reused nonce, a wrong answer, a flagged profile and ``navigator.webdriver == true`` (a Selenium-driven
  browser must hide it, e.g. ``--disable-blink-features=AutomationControlled``), so solving it takes a
  JavaScript engine in a browser-like client.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import isoformat_utc, parse_datetime
from riff_sandbox.vintage_and_rare.consts import (
    BROWSER_USER_AGENT_MARKERS,
    CHALLENGE_MASK,
    CHALLENGE_VERIFY_PATH,
    FLAGGED_USER_AGENT_MARKERS,
)

CLEARANCES = "cf_clearances"
NONCES = "cf_nonces"
NONCE_TTL = timedelta(minutes=10)


def fnv1a(text: str) -> int:
    """32-bit FNV-1a over UTF-16 code units (what the page's JavaScript computes with charCodeAt)."""
    value = 0x811C9DC5
    for unit in text:  # nonces and answers are ASCII: one code unit per character
        value ^= ord(unit)
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def solve(nonce: str, mask: int = CHALLENGE_MASK) -> int:
    """The answer a browser's JavaScript finds (tests use it to prove the server side checks it)."""
    answer = 0
    while fnv1a(f"{nonce}:{answer}") & mask:
        answer += 1
    return answer


def flag_reason(headers: Mapping[str, str]) -> str | None:
    """Why this client does not look like a desktop browser, or None when it does."""
    user_agent = headers.get("user-agent", "")
    lowered = user_agent.lower()
    if not user_agent:
        return "no User-Agent"
    for marker in FLAGGED_USER_AGENT_MARKERS:
        if marker in lowered:
            return f"automation User-Agent ({marker})"
    if not lowered.startswith("mozilla/5.0") or not any(m in lowered for m in BROWSER_USER_AGENT_MARKERS):
        return "not a desktop browser User-Agent"
    if not headers.get("accept-language"):
        return "no Accept-Language header"
    return None


def clearance_valid(tx: Transaction, value: str | None, user_agent: str, now: datetime) -> bool:
    if not value:
        return False
    record = tx.get(CLEARANCES, value)
    if record is None:
        return False
    if parse_datetime(record["expires_at"]) <= now:
        return False
    return bool(record["user_agent"] == user_agent)


def new_nonce(tx: Transaction, user_agent: str, now: datetime) -> str:
    nonce = secrets.token_hex(12)
    tx.put(NONCES, nonce, {"user_agent": user_agent, "issued_at": isoformat_utc(now)})
    return nonce


def verify(
    tx: Transaction, body: Mapping[str, Any], headers: Mapping[str, str], now: datetime, ttl_seconds: float
) -> tuple[dict[str, Any] | None, str | None]:
    """(clearance, None) when the proof is good, else (None, reason)."""
    nonce = str(body.get("nonce") or "")
    record = tx.get(NONCES, nonce) if nonce else None
    if record is None:
        return None, "unknown or used challenge"
    tx.delete(NONCES, nonce)
    if parse_datetime(record["issued_at"]) + NONCE_TTL < now:
        return None, "challenge expired"
    user_agent = headers.get("user-agent", "")
    if record["user_agent"] != user_agent:
        return None, "User-Agent changed during the challenge"
    reason = flag_reason(headers)
    if reason:
        return None, reason
    if body.get("webdriver") is True:
        return None, "navigator.webdriver is true (an automated browser)"
    try:
        answer = int(body.get("answer"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, "no answer"
    if fnv1a(f"{nonce}:{answer}") & CHALLENGE_MASK:
        return None, "wrong answer"
    return issue(tx, user_agent, now, ttl_seconds), None


def issue(tx: Transaction, user_agent: str, now: datetime, ttl_seconds: float) -> dict[str, Any]:
    """A fresh clearance for ``user_agent`` (the verify endpoint, and the control API for tests)."""
    value = f"{secrets.token_urlsafe(32)}-{int(now.timestamp())}-1.2.1.1"
    expires = now + timedelta(seconds=ttl_seconds)
    record = {
        "value": value,
        "user_agent": user_agent,
        "issued_at": isoformat_utc(now),
        "expires_at": isoformat_utc(expires),
        "expires": int(expires.timestamp()),
    }
    tx.put(CLEARANCES, value, record)
    return record


def expire_all(tx: Transaction) -> int:
    count = tx.count(CLEARANCES)
    tx.clear_collection(CLEARANCES)
    return count


_CHALLENGE_SCRIPT = """
(function () {
  var nonce = %(nonce)s, mask = %(mask)d;
  function fnv1a(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h >>> 0;
  }
  var answer = 0;
  while ((fnv1a(nonce + ":" + answer) & mask) !== 0) { answer++; }
  fetch(%(verify)s, {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({nonce: nonce, answer: answer, webdriver: navigator.webdriver === true,
                          language: navigator.language})
  }).then(function (response) {
    if (!response.ok) { return response.text().then(function (t) { throw new Error(t); }); }
    return response.json();
  }).then(function (clearance) {
    document.cookie = "cf_clearance=" + clearance.value + "; path=/; expires=" +
      new Date(clearance.expires * 1000).toUTCString() + "; SameSite=Lax";
    document.getElementById("challenge-stage").textContent = "Verification successful. Redirecting...";
    window.location.reload();
  }).catch(function (error) {
    document.getElementById("challenge-stage").textContent = "Verification failed: " + error.message;
  });
})();
"""


def challenge_page(nonce: str, reason: str | None) -> str:
    script = _CHALLENGE_SCRIPT % {
        "nonce": json.dumps(nonce),
        "mask": CHALLENGE_MASK,
        "verify": json.dumps(CHALLENGE_VERIFY_PATH),
    }
    note = f"<!-- flagged: {html.escape(reason)} -->" if reason else ""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        '<meta name="robots" content="noindex,nofollow"></head><body>'
        '<div class="main-wrapper" role="main"><div class="main-content">'
        "<h1>www.vintageandrare.com</h1>"
        '<h2 id="challenge-stage">Verifying you are human. This may take a few seconds.</h2>'
        "<p>www.vintageandrare.com needs to review the security of your connection before proceeding.</p>"
        f"{note}</div></div>"
        '<div class="footer">Performance &amp; security by Cloudflare (sandbox)</div>'
        f"<script>{script}</script></body></html>"
    )
