"""A small HTTP client for the ``/_sandbox`` control API (tests, the CLI, demo tooling)."""

from __future__ import annotations

import time
from typing import Any

import httpx

CONTROL_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
POLL_INTERVAL_SECONDS = 0.02


class SandboxControlError(Exception):
    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__(f"sandbox control call failed with {status_code}: {body}")
        self.status_code = status_code
        self.body = body


class ControlClient:
    def __init__(self, base_url: str, *, timeout: httpx.Timeout = CONTROL_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/_sandbox", timeout=timeout, trust_env=False)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise SandboxControlError(response.status_code, body)
        return body

    # State -----------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/")  # type: ignore[no-any-return]

    def reset(self, *, seed: int | None = None, seed_size: int | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"seed": seed, "seed_size": seed_size}.items() if v is not None}
        return self._call("POST", "/reset", json=body)  # type: ignore[no-any-return]

    # Faults ----------------------------------------------------------------------------------------

    def faults(self, **config: Any) -> dict[str, Any]:
        """Replace the fault configuration, e.g. ``faults(rate_limit={"every_nth": 3})``."""
        return self._call("POST", "/faults", json=config)  # type: ignore[no-any-return]

    def get_faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")  # type: ignore[no-any-return]

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults")  # type: ignore[no-any-return]

    # Request log -----------------------------------------------------------------------------------

    def requests(self, path_prefix: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"path_prefix": path_prefix, "method": method}.items() if v}
        return self._call("GET", "/requests", params=params)["requests"]  # type: ignore[no-any-return]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    # Buyer and seller simulation ---------------------------------------------------------------------

    def purchase(self, listing_id: int | str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
        body = {"listing_id": listing_id, "quantity": quantity, **extra}
        return self._call("POST", "/purchase", json=body)  # type: ignore[no-any-return]

    def edit_listing(self, listing_id: int | str, **changes: Any) -> dict[str, Any]:
        return self._call("POST", f"/listings/{listing_id}/edit", json=changes)  # type: ignore[no-any-return]

    def update_order(self, order_id: int | str, **changes: Any) -> dict[str, Any]:
        return self._call("POST", f"/orders/{order_id}/update", json=changes)  # type: ignore[no-any-return]

    # Webhooks --------------------------------------------------------------------------------------

    def register_webhook(self, url: str, topic: str) -> dict[str, Any]:
        return self._call("POST", "/webhooks", json={"url": url, "topic": topic})  # type: ignore[no-any-return]

    def webhooks(self) -> list[dict[str, Any]]:
        return self._call("GET", "/webhooks")["registrations"]  # type: ignore[no-any-return]

    def deliveries(self, topic: str | None = None) -> list[dict[str, Any]]:
        params = {"topic": topic} if topic else {}
        return self._call("GET", "/webhooks/deliveries", params=params)["deliveries"]  # type: ignore[no-any-return]

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        return self._call("POST", f"/webhooks/deliveries/{delivery_id}/redeliver")  # type: ignore[no-any-return]

    def wait_for_deliveries(
        self, count: int, *, topic: str | None = None, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Poll until at least ``count`` deliveries (for ``topic``) have finished; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            finished = [d for d in self.deliveries(topic) if d["status"] != "pending"]
            if len(finished) >= count or time.monotonic() >= deadline:
                return finished
            time.sleep(POLL_INTERVAL_SECONDS)

    # Tokens ----------------------------------------------------------------------------------------

    def create_token(self, token: str | None = None, *, kind: str = "personal") -> str:
        body: dict[str, Any] = {"kind": kind}
        if token:
            body["token"] = token
        return self._call("POST", "/tokens", json=body)["token"]  # type: ignore[no-any-return]

    def revoke_token(self, token: str) -> None:
        self._call("DELETE", f"/tokens/{token}")

    def close(self) -> None:
        self._http.close()
