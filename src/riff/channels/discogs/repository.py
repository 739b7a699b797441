"""The SQL of the Discogs inventory sync: known listings, sync runs (``sync_events``), pull stamps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.channels.discogs import consts
from riff.channels.models import Listing, ListingState
from riff.sync.models import SyncEvent

SYNC_KIND_PREFIX = "inventory_sync_"  # + "full" | "incremental"


@dataclasses.dataclass(frozen=True)
class KnownListing:
    listing_id: int
    product_id: int
    remote_id: str
    state: ListingState
    fingerprint: str | None
    origin: str | None


class DiscogsSyncRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def known_listings(self) -> dict[str, KnownListing]:
        statement = sa.select(
            Listing.id, Listing.product_id, Listing.remote_id, Listing.state, Listing.extras
        ).where(Listing.channel == consts.SLUG, Listing.remote_id.is_not(None))
        known: dict[str, KnownListing] = {}
        for listing_id, product_id, remote_id, state, extras in self.session.execute(statement):
            extras = extras or {}
            known[str(remote_id)] = KnownListing(
                listing_id=listing_id,
                product_id=product_id,
                remote_id=str(remote_id),
                state=ListingState(state),
                fingerprint=extras.get("fingerprint"),
                origin=extras.get("origin"),
            )
        return known

    def insert_listings(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Many new listings in one statement; remote id -> listing id."""
        if not rows:
            return {}
        result = self.session.execute(sa.insert(Listing).returning(Listing.id, Listing.remote_id), rows)
        return {str(remote_id): listing_id for listing_id, remote_id in result}

    def stamp_pulled(self, remote_ids: Iterable[str], now: dt.datetime) -> None:
        ids = list(remote_ids)
        for start in range(0, len(ids), 500):
            self.session.execute(
                sa.update(Listing)
                .where(Listing.channel == consts.SLUG, Listing.remote_id.in_(ids[start : start + 500]))
                .values(last_pulled_at=now)
            )

    def last_sync(self, mode: str) -> dt.datetime | None:
        statement = (
            sa.select(sa.func.max(SyncEvent.at))
            .where(SyncEvent.channel == consts.SLUG, SyncEvent.kind == SYNC_KIND_PREFIX + mode)
            .where(SyncEvent.outcome == "ok")
        )
        return self.session.execute(statement).scalar_one_or_none()

    def add_run(self, event: SyncEvent) -> None:
        self.session.add(event)
        self.session.flush()
