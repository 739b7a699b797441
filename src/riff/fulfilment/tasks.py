"""Fulfilment jobs:

- ``fulfilment.create_label``: finishes a label purchase the request could not (DHL 5xx, a timeout, a
  crash), always with the shipment's own Message-Reference, so DHL never sells a second label;
- ``fulfilment.upload_tracking``: tells the order's channel the carrier and tracking number through the
  adapter's ``mark_shipped`` (Reverb ship, eBay CompleteSale, Shopify fulfillmentCreate, Discogs), retried
  with backoff until the channel confirms; the outcome is on the shipment at every step;
- ``fulfilment.refresh_tracking`` (every 30 minutes): DHL checkpoints for shipments still on their way;
- ``fulfilment.scan_alerts`` (every minute) and ``fulfilment.send_alerts``: the alert outbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from riff.channels import service as channels
from riff.channels import tasks as channel_tasks
from riff.channels.errors import AuthExpired, ChannelError, Rejected
from riff.core.clock import utcnow
from riff.core.errors import RiffError
from riff.core.logging import get_logger
from riff.fulfilment import alerts, flows, service
from riff.fulfilment.models import Shipment, ShipmentStatus, UploadStatus
from riff.fulfilment.repository import ShipmentRepository
from riff.fulfilment.settings import get_fulfilment_settings
from riff.jobs import Backoff, JobContext, PermanentJobError, RetryableJobError, job_handler
from riff.jobs.scheduler import add_default_schedule
from riff.orders.models import Order

log = get_logger(__name__)

TRACKING_INTERVAL = dt.timedelta(minutes=25)

add_default_schedule("fulfilment.refresh_tracking", cron="*/30 * * * *", kind="fulfilment.refresh_tracking")
add_default_schedule("fulfilment.scan_alerts", cron="* * * * *", kind="fulfilment.scan_alerts")


@job_handler("fulfilment.create_label", max_attempts=12, backoff=Backoff(base_seconds=20, max_seconds=900))
async def create_label(ctx: JobContext) -> dict[str, Any] | None:
    shipment_id = int(ctx.payload["shipment_id"])
    outcome = await flows.purchase_label(
        ctx.database,
        get_fulfilment_settings(),
        ctx.settings.data_dir,
        shipment_id,
        actor=str(ctx.payload.get("actor") or "system"),
        rate_limiter=ctx.rate_limiter,
    )
    if outcome.error is not None:
        raise outcome.error  # the job engine retries a 5xx/timeout; a refusal fails at once
    return {"shipment_id": shipment_id, "status": str(outcome.status)}


@job_handler(
    "fulfilment.upload_tracking", max_attempts=30, backoff=Backoff(base_seconds=30, max_seconds=1800)
)
async def upload_tracking(ctx: JobContext) -> dict[str, Any] | None:
    shipment_id = int(ctx.payload["shipment_id"])
    actor = str(ctx.payload.get("actor") or "system")
    with ctx.database.read_session() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            raise PermanentJobError(f"shipment {shipment_id} no longer exists")
        if shipment.upload_status in (UploadStatus.CONFIRMED, UploadStatus.NOT_SUPPORTED):
            return {"shipment_id": shipment_id, "skipped": f"already {shipment.upload_status.value}"}
        if shipment.status == ShipmentStatus.CANCELLED or not shipment.tracking_number:
            return {"shipment_id": shipment_id, "skipped": "cancelled or no tracking number"}
        order = session.get(Order, shipment.order_id)
        assert order is not None
        slug, remote_id, account_id = order.channel, order.remote_order_id, order.account_id
        carrier, tracking = shipment.carrier, shipment.tracking_number
        problem: str | None = None
        try:
            account = channels.resolve_account(session, slug, account_id)
            session.expunge(account)
        except RiffError as exc:  # no enabled account: a person must add one; keep the reason visible
            problem = exc.message
    if problem is not None:
        with ctx.database.session() as session:
            service.upload_failed(session, shipment_id, problem, final=ctx.is_last_attempt)
        raise RetryableJobError(problem)
    try:
        channels.ensure_usable(account)
        async with channel_tasks.connected(ctx, account) as adapter:  # type: ignore[arg-type]
            remote = await adapter.mark_shipped(remote_id, carrier, tracking)
    except ChannelError as exc:
        final = not exc.retryable or ctx.is_last_attempt
        status = f" (HTTP {exc.status_code})" if exc.status_code else ""
        with ctx.database.session() as session:
            service.upload_failed(session, shipment_id, f"{slug}: {exc.message}{status}", final=final)
        if isinstance(exc, AuthExpired):
            channel_tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    with ctx.database.session() as session:
        service.upload_confirmed(session, shipment_id, remote, actor=actor)
    log.info("fulfilment.upload.ok", shipment_id=shipment_id, channel=slug, order=remote_id)
    return {"shipment_id": shipment_id, "channel": slug, "status": str(remote.status) if remote else None}


@job_handler("fulfilment.refresh_tracking", max_attempts=3)
async def refresh_tracking(ctx: JobContext) -> dict[str, Any] | None:
    settings = get_fulfilment_settings()
    if not settings.dhl_configured:
        return {"skipped": "DHL is not configured"}
    if ctx.payload.get("shipment_id"):
        ids = [int(ctx.payload["shipment_id"])]
    else:
        with ctx.database.read_session() as session:
            ids = list(ShipmentRepository(session).to_track(checked_before=utcnow() - TRACKING_INTERVAL))
    updated, failed = 0, 0
    for shipment_id in ids:
        ctx.heartbeat()
        try:
            await flows.refresh_tracking(ctx.database, settings, shipment_id, rate_limiter=ctx.rate_limiter)
            updated += 1
        except Rejected as exc:
            log.warning("fulfilment.tracking.rejected", shipment_id=shipment_id, message=exc.message[:300])
            failed += 1
        except ChannelError as exc:
            if not exc.retryable:
                raise
            failed += 1
    return {"checked": len(ids), "updated": updated, "failed": failed}


@job_handler("fulfilment.scan_alerts", max_attempts=3)
def scan_alerts(ctx: JobContext) -> dict[str, Any] | None:
    with ctx.database.session() as session:
        return {"raised": alerts.scan(session)}


@job_handler(
    "fulfilment.send_alerts",
    max_attempts=alerts.MAX_SEND_ATTEMPTS,
    backoff=Backoff(base_seconds=15, max_seconds=900),
)
def send_alerts(ctx: JobContext) -> dict[str, Any] | None:
    counts = alerts.send_pending(ctx.database, get_fulfilment_settings().alert_url_list())
    if counts["retry"]:
        raise RetryableJobError(f"{counts['retry']} alert(s) not delivered yet")
    return counts
