"""Alerts (new order, oversell, shipment exception, tracking upload failed) to the channels in
``RIFF_ALERT_URLS`` through apprise (e-mail, Slack, Telegram, ntfy, a JSON webhook: any apprise URL).

An alert is a row in ``fulfilment_alerts``, written in the transaction that noticed the event and unique
by its ``dedupe_key`` (an order is announced once, however often it is seen). ``fulfilment.send_alerts``
sends pending rows; each URL that took it is remembered, so a retry never repeats it to the others.
New orders and oversells are found by ``fulfilment.scan_alerts`` (every minute): orders arrive through
the sync engine, which stays unaware of alerts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import apprise
from sqlalchemy.orm import Session

from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.fulfilment.models import Alert, AlertKind, AlertStatus
from riff.fulfilment.repository import AlertRepository

log = get_logger(__name__)

SEND_KIND = "fulfilment.send_alerts"
MAX_SEND_ATTEMPTS = 8
SCAN_WINDOW = dt.timedelta(days=1)


def raise_alert(
    session: Session,
    kind: AlertKind,
    dedupe_key: str,
    title: str,
    body: str,
    *,
    order_id: int | None = None,
    shipment_id: int | None = None,
) -> int | None:
    """Record an alert (once per ``dedupe_key``) and make sure a send job is queued."""
    alert_id = AlertRepository(session).insert_if_new(
        {
            "kind": kind,
            "dedupe_key": dedupe_key[:200],
            "title": title[:300],
            "body": body,
            "order_id": order_id,
            "shipment_id": shipment_id,
            "status": AlertStatus.PENDING,
            "attempts": 0,
            "delivered": [],
            "created_at": utcnow(),
        }
    )
    if alert_id is not None:
        from riff.jobs import enqueue

        enqueue(session, SEND_KIND, coalesce_key=SEND_KIND, priority=50)
        log.info("fulfilment.alert.raised", kind=kind, alert_id=alert_id)
    return alert_id


def _money(amount: Any, currency: str | None) -> str:
    return f"{amount} {currency or ''}".strip() if amount is not None else "-"


def scan(session: Session, now: dt.datetime | None = None) -> int:
    """Alerts for orders received in the last day that have none yet: every new order, every oversell."""
    repository = AlertRepository(session)
    since = (now or utcnow()) - SCAN_WINDOW
    raised = 0
    for order in repository.orders_without_alert(AlertKind.NEW_ORDER, since=since):
        items = ", ".join(f"{line.quantity} x {line.sku or line.title or '?'}" for line in order.lines) or "-"
        if raise_alert(
            session,
            AlertKind.NEW_ORDER,
            f"{AlertKind.NEW_ORDER.value}:{order.id}",
            f"New {order.channel} order {order.remote_order_id}",
            f"{order.buyer_name or 'A buyer'} bought {items} for {_money(order.total, order.currency)} "
            f"({order.status.value}).",
            order_id=order.id,
        ):
            raised += 1
    for order in repository.orders_without_alert(AlertKind.OVERSELL, since=since, oversold_only=True):
        if raise_alert(
            session,
            AlertKind.OVERSELL,
            f"{AlertKind.OVERSELL.value}:{order.id}",
            f"OVERSOLD: {order.channel} order {order.remote_order_id}",
            order.followup
            or f"{order.channel} order {order.remote_order_id} sold an item that was already gone.",
            order_id=order.id,
        ):
            raised += 1
    return raised


def _target_key(url: str) -> str:
    """Which URL got an alert, without storing the URL (it may hold a token)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _notify(url: str, title: str, body: str) -> bool:
    sender = apprise.Apprise()
    if not sender.add(url):
        raise ValueError("not an apprise URL this installation understands")
    return bool(sender.notify(title=title, body=body))


def send_pending(database: Database, urls: list[str]) -> dict[str, int]:
    """Send every pending alert to every URL that has not had it. Returns counts by outcome."""
    counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0}
    with database.session() as session:
        pending = [
            (a.id, a.title, a.body, list(a.delivered or []), a.attempts)
            for a in AlertRepository(session).pending()
        ]
    for alert_id, title, body, delivered, attempts in pending:
        errors: list[str] = []
        for url in urls:
            key = _target_key(url)
            if key in delivered:
                continue
            scheme = url.split("://", 1)[0]
            try:
                if _notify(url, title, body):
                    delivered.append(key)
                else:
                    errors.append(f"{scheme}: not delivered")
            except Exception as exc:  # apprise plugins raise anything; the alert must stay retryable
                errors.append(f"{scheme}: {type(exc).__name__}: {exc}"[:300])
        with database.session() as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                continue
            alert.delivered = delivered
            alert.attempts = attempts + 1
            if not urls:
                alert.status = AlertStatus.SKIPPED
                alert.last_error = "no alert URLs configured (RIFF_ALERT_URLS)"
                counts["skipped"] += 1
            elif not errors:
                alert.status = AlertStatus.SENT
                alert.sent_at = utcnow()
                alert.last_error = None
                counts["sent"] += 1
            else:
                alert.last_error = "; ".join(errors)
                if alert.attempts >= MAX_SEND_ATTEMPTS:
                    alert.status = AlertStatus.FAILED
                    counts["failed"] += 1
                else:
                    counts["retry"] += 1
        log.info("fulfilment.alert.send", alert_id=alert_id, errors=len(errors))
    return counts
