"""Webhook registrations and delivery over real HTTP, with a delivery log and redelivery.

Deliveries run on a small thread pool, one attempt each (platforms differ on retries; a test that wants a
second attempt calls ``redeliver``). Every attempt is a row in the ``_deliveries`` collection.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import httpx

from riff_sandbox.toolkit.platform import ControlError
from riff_sandbox.toolkit.store import Document, DocumentStore
from riff_sandbox.toolkit.timeutil import isoformat_utc, utcnow

REGISTRATIONS = "_webhooks"
DELIVERIES = "_deliveries"
DELIVERY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
REPORT_WAIT_SECONDS = 10.0  # how long a control call waits for the deliveries it reports
MAX_RESPONSE_BODY_CHARS = 2_000


def encode_body(payload: Any) -> bytes:
    """The raw bytes sent: a string payload as it is (eBay's SOAP XML notifications), anything else as JSON."""
    return payload.encode() if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False).encode()


class WebhookDispatcher:
    def __init__(
        self,
        store: DocumentStore,
        headers_for: Callable[[str], dict[str, str]],
        sign: Callable[[str, bytes], dict[str, str]] | None = None,
    ) -> None:
        """``headers_for(topic)`` gives a delivery's headers; ``sign(topic, raw_body)`` adds those computed
        over the exact bytes sent (Shopify's X-Shopify-Hmac-Sha256). A redelivery repeats the original's
        headers, as platforms do when they retry (same delivery id, same signature)."""
        self._store = store
        self._headers_for = headers_for
        self._sign = sign
        self._client = httpx.Client(timeout=DELIVERY_TIMEOUT, trust_env=False, follow_redirects=False)
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-webhooks")
        self._pending: set[Future[Document]] = set()
        self._pending_lock = threading.Lock()

    # Registrations -------------------------------------------------------------------------------

    def register(
        self, url: str, topic: str, *, source: str = "sandbox", extra: dict[str, Any] | None = None
    ) -> Document:
        if not url.startswith(("http://", "https://")):
            raise ControlError(422, "invalid_url", "url must be an http(s) URL")
        with self._store.transaction() as tx:
            registration_id = tx.next_value("webhook_registration")
            registration = {
                "id": registration_id,
                "url": url,
                "topic": topic,
                "source": source,
                "created_at": isoformat_utc(utcnow()),
                **(extra or {}),
            }
            tx.put(REGISTRATIONS, registration_id, registration)
        return registration

    def registrations(self, topic: str | None = None) -> list[Document]:
        with self._store.transaction() as tx:
            found = tx.list(REGISTRATIONS)
        return [r for r in found if topic is None or r["topic"] == topic]

    def unregister(self, registration_id: int) -> bool:
        with self._store.transaction() as tx:
            return tx.delete(REGISTRATIONS, registration_id)

    # Delivery ------------------------------------------------------------------------------------

    def fire(self, topic: str, payload: Any) -> list[Future[Document]]:
        """Deliver ``payload`` to every registration for ``topic``. Call after the change is committed."""
        return [self._submit(self._new_delivery(r, topic, payload, None)) for r in self.registrations(topic)]

    def redeliver(self, delivery_id: str) -> Future[Document]:
        with self._store.transaction() as tx:
            original = tx.get(DELIVERIES, delivery_id)
        if original is None:
            raise ControlError(404, "not_found", f"no delivery {delivery_id}")
        registration = {"id": original["registration_id"], "url": original["url"]}
        return self._submit(
            self._new_delivery(
                registration,
                original["topic"],
                original["payload"],
                original["id"],
                headers=original.get("request_headers"),
            )
        )

    def deliveries(self, topic: str | None = None) -> list[Document]:
        with self._store.transaction() as tx:
            found = tx.list(DELIVERIES)
        return [d for d in found if topic is None or d["topic"] == topic]

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for deliveries in flight."""
        with self._pending_lock:
            pending = list(self._pending)
        if pending:
            wait(pending, timeout=timeout)

    def shutdown(self) -> None:
        self.drain()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def _new_delivery(
        self,
        registration: Document,
        topic: str,
        payload: Any,
        redelivery_of: str | None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Document:
        if headers is None:
            headers = dict(self._headers_for(topic))
            if self._sign is not None:
                headers.update(self._sign(topic, encode_body(payload)))
        delivery = {
            "id": uuid.uuid4().hex,
            "registration_id": registration["id"],
            "topic": topic,
            "url": registration["url"],
            "payload": payload,
            "request_headers": headers,
            "status": "pending",
            "response_status": None,
            "response_body": None,
            "error": None,
            "created_at": isoformat_utc(utcnow()),
            "delivered_at": None,
            "duration_ms": None,
            "redelivery_of": redelivery_of,
        }
        with self._store.transaction() as tx:
            tx.put(DELIVERIES, delivery["id"], delivery)
        return delivery

    def _submit(self, delivery: Document) -> Future[Document]:
        future = self._executor.submit(self._deliver, delivery)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Document]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def _deliver(self, delivery: Document) -> Document:
        started = time.monotonic()
        body = encode_body(delivery["payload"])
        try:
            response = self._client.post(delivery["url"], content=body, headers=delivery["request_headers"])
            delivery["response_status"] = response.status_code
            delivery["response_body"] = response.text[:MAX_RESPONSE_BODY_CHARS]
            delivery["status"] = "delivered" if 200 <= response.status_code < 300 else "failed"
        except httpx.HTTPError as error:
            delivery["status"] = "failed"
            delivery["error"] = f"{type(error).__name__}: {error}"
        delivery["delivered_at"] = isoformat_utc(utcnow())
        delivery["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        with self._store.transaction() as tx:
            # A reset in the meantime removed the row; do not bring it back.
            if tx.get(DELIVERIES, delivery["id"]) is not None:
                tx.put(DELIVERIES, delivery["id"], delivery)
        return delivery


def wait_for(futures: Iterable[Future[Document]], timeout: float) -> list[Document]:
    futures = list(futures)
    done, _ = wait(futures, timeout=timeout)
    return [f.result() for f in futures if f in done]


def delivery_report(futures: list[Future[Document]], wait: bool) -> list[dict[str, Any]]:
    """What a control call (a purchase, a seller edit) answers about the webhooks it fired: each finished
    delivery's outcome, or only ``pending`` per delivery when the caller chose not to wait."""
    if not wait:
        return [{"status": "pending"} for _ in futures]
    return [
        {k: d[k] for k in ("id", "topic", "url", "status", "response_status", "error")}
        for d in wait_for(futures, REPORT_WAIT_SECONDS)
    ]
