"""The SQL the V&R channel needs beyond the shared channel repositories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.catalog.models import Product
from riff.channels.models import Listing
from riff.channels.repository import ListingRepository
from riff.channels.vintage_and_rare import consts
from riff.jobs.consts import JobStatus
from riff.jobs.models import Job
from riff.sync.models import SyncEvent

RESOLUTION_EVENT = "vr_id_resolution"


def brand_listed(session: Session, brand: str) -> bool:
    """A product with this brand (case-insensitive) has a V&R listing with an id: V&R accepted the brand."""
    statement = (
        sa.select(sa.literal(1))
        .select_from(Product)
        .join(Listing, Listing.product_id == Product.id)
        .where(
            Listing.channel == consts.SLUG,
            Listing.remote_id.is_not(None),
            sa.func.lower(Product.brand) == brand.strip().lower(),
        )
        .limit(1)
    )
    return session.execute(statement).first() is not None


def known_remote_ids(session: Session) -> dict[str, int]:
    """V&R item id -> listing id for every listing that has one."""
    return ListingRepository(session).remote_ids(consts.SLUG)


def listing_accounts(session: Session, listing_ids: Sequence[int]) -> dict[int, int | None]:
    """Listing id -> its channel account id, for the listings that exist, in one query."""
    if not listing_ids:
        return {}
    rows = session.execute(sa.select(Listing.id, Listing.account_id).where(Listing.id.in_(list(listing_ids))))
    return {int(listing_id): account_id for listing_id, account_id in rows.tuples()}


def max_known_remote_id(session: Session) -> int:
    """The highest V&R item id RIFF knows: every item created later has a higher one."""
    best = 0
    for remote_id in known_remote_ids(session):
        if remote_id.isdigit():
            best = max(best, int(remote_id))
    return best


def publish_queue(session: Session, kind: str, now: dt.datetime) -> tuple[int, int]:
    """``(pending, runnable)`` for the batch triggers, in one statement: create jobs of ``kind`` awaiting their
    V&R id (``completed_pending_id``), and queued ones that could run now (a job backing off until later
    does not count)."""
    pending = JobStatus.COMPLETED_PENDING_ID.value
    queued = JobStatus.QUEUED.value
    statement = sa.select(
        sa.func.sum(sa.case((Job.status == pending, 1), else_=0)),
        sa.func.sum(sa.case((sa.and_(Job.status == queued, Job.run_after <= now), 1), else_=0)),
    ).where(Job.kind == kind, Job.status.in_([pending, queued]))
    row = session.execute(statement).one()
    return int(row[0] or 0), int(row[1] or 0)


def record_resolution(session: Session, summary: dict[str, Any], *, outcome: str, message: str) -> SyncEvent:
    event = SyncEvent(
        channel=consts.SLUG,
        kind=RESOLUTION_EVENT,
        after=summary,
        outcome=outcome,
        message=message[:2000],
        actor=f"{consts.SLUG}:{summary.get('trigger', 'resolution')}",
    )
    session.add(event)
    session.flush()
    return event


def last_resolution(session: Session) -> SyncEvent | None:
    return session.execute(
        sa.select(SyncEvent)
        .where(SyncEvent.channel == consts.SLUG, SyncEvent.kind == RESOLUTION_EVENT)
        .order_by(SyncEvent.at.desc(), SyncEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
