"""Carrier calls with their bookkeeping, shared by the endpoints (a person waiting) and the jobs.

Database work runs in a worker thread (``anyio.to_thread``) so an endpoint never blocks its event loop;
the HTTP call to DHL happens outside any transaction. Every outcome is written before this returns or
raises: a refused request keeps DHL's words on the shipment, a 5xx or timeout leaves it pending for the
``fulfilment.create_label`` job, which repeats the request with the same Message-Reference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from riff.carriers.contract import CreatedShipment, RateQuote, TrackingInfo
from riff.carriers.dhl import consts as dhl
from riff.carriers.dhl import mapping as dhl_mapping
from riff.carriers.dhl.client import DhlClient
from riff.channels.errors import ChannelError, Rejected
from riff.channels.http import RateLimiter
from riff.core.db import Database
from riff.core.errors import NotFound, RiffError
from riff.core.logging import get_logger
from riff.fulfilment import service
from riff.fulfilment.models import Shipment, ShipmentStatus
from riff.fulfilment.settings import FulfilmentSettings

log = get_logger(__name__)
T = TypeVar("T")


class CarrierRejected(RiffError):
    """DHL refused the request: its message verbatim (a 4xx with DHL's ``detail``)."""

    status_code = 422
    code = "carrier_rejected"


class CarrierUnavailable(RiffError):
    """DHL did not answer usefully (timeout, 5xx, 429, credentials): nothing the data can fix."""

    status_code = 502
    code = "carrier_unavailable"


def carrier_error(exc: ChannelError) -> RiffError:
    if isinstance(exc, Rejected):
        return CarrierRejected(f"DHL: {exc.message}", field=exc.field, details={"status": exc.status_code})
    return CarrierUnavailable(
        f"DHL: {exc.message}", details={"status": exc.status_code, "retryable": exc.retryable}
    )


def open_dhl(
    settings: FulfilmentSettings, *, rate_limiter: RateLimiter | None = None, **kwargs: Any
) -> DhlClient:
    service._check_shipper(settings)
    return DhlClient(
        settings.dhl_api_key or "",
        settings.dhl_api_secret.get_secret_value() if settings.dhl_api_secret else "",
        base_url=settings.dhl_base_url,
        rate_limiter=rate_limiter,
        **kwargs,
    )


async def in_thread(function: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(function)


# --- rates ------------------------------------------------------------------------------------------


async def quote(settings: FulfilmentSettings, body: dict[str, Any]) -> list[RateQuote]:
    async with open_dhl(settings) as client:
        return dhl_mapping.parse_rates(await client.rates(body))


# --- labels -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class PurchaseOutcome:
    shipment_id: int
    status: ShipmentStatus
    error: ChannelError | None = None


async def purchase_label(
    database: Database,
    settings: FulfilmentSettings,
    data_dir: Path,
    shipment_id: int,
    *,
    actor: str,
    rate_limiter: RateLimiter | None = None,
) -> PurchaseOutcome:
    """Ask DHL for the label of a pending shipment (its stored request and reference) and record what
    happened. Raises nothing for a carrier failure: the outcome carries it."""

    def load() -> tuple[ShipmentStatus, dict[str, Any] | None, str | None]:
        with database.read_session() as session:
            shipment = session.get(Shipment, shipment_id)
            if shipment is None:
                raise NotFound(f"shipment {shipment_id} not found")
            return shipment.status, shipment.request_payload, shipment.message_reference

    status, payload, reference = await in_thread(load)
    if status != ShipmentStatus.LABEL_PENDING or payload is None or reference is None:
        return PurchaseOutcome(shipment_id, status)
    try:
        async with open_dhl(settings, rate_limiter=rate_limiter) as client:
            body = await client.create_shipment(payload, message_reference=reference)
        created: CreatedShipment = dhl_mapping.parse_shipment(body)
    except Rejected as exc:
        refused = exc.message
        await in_thread(lambda: _write(database, lambda s: service.label_refused(s, shipment_id, refused)))
        return PurchaseOutcome(shipment_id, ShipmentStatus.LABEL_FAILED, exc)
    except ChannelError as exc:
        delayed = exc.message
        await in_thread(lambda: _write(database, lambda s: service.label_delayed(s, shipment_id, delayed)))
        log.warning("fulfilment.label.delayed", shipment_id=shipment_id, message=exc.message[:300])
        return PurchaseOutcome(shipment_id, ShipmentStatus.LABEL_PENDING, exc)
    shipment_status = await in_thread(
        lambda: _write(
            database, lambda s: service.label_bought(s, shipment_id, created, data_dir, actor=actor).status
        )
    )
    return PurchaseOutcome(shipment_id, shipment_status)


def _write(database: Database, work: Callable[[Any], T]) -> T:
    with database.session() as session:
        return work(session)


# --- tracking ---------------------------------------------------------------------------------------


async def refresh_tracking(
    database: Database,
    settings: FulfilmentSettings,
    shipment_id: int,
    *,
    rate_limiter: RateLimiter | None = None,
) -> ShipmentStatus:
    def load() -> str | None:
        with database.read_session() as session:
            shipment = session.get(Shipment, shipment_id)
            if shipment is None:
                raise NotFound(f"shipment {shipment_id} not found")
            return shipment.tracking_number if shipment.carrier == dhl.CARRIER else None

    number = await in_thread(load)
    if not number:
        raise NotFound(f"shipment {shipment_id} has no DHL tracking number")
    try:
        async with open_dhl(settings, rate_limiter=rate_limiter) as client:
            info: TrackingInfo = dhl_mapping.parse_tracking(await client.tracking(number), number)
    except ChannelError as exc:
        failed = exc.message
        await in_thread(lambda: _write(database, lambda s: service.tracking_failed(s, shipment_id, failed)))
        raise
    return await in_thread(
        lambda: _write(database, lambda s: service.apply_tracking(s, shipment_id, info).status)
    )
