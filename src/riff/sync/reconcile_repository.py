"""The SQL of reconciliation: the database finds the listings that disagree with the channel, so only
those rows come back to Python (``riff.sync.reconcile`` turns each into mismatches with causes and fixes).

Every condition here mirrors a branch of ``reconcile.row_mismatches``; the effective price comes from
``riff.catalog.pricing.effective_price_cents_sql`` (the SQL twin of ``effective_price``).
``tests/sync/test_reconcile.py`` pins the two together: the SQL must flag exactly the listings the
Python comparison flags.
"""

from __future__ import annotations

import dataclasses
import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from riff.catalog import pricing
from riff.catalog.models import Product, ProductStatus
from riff.channels.models import ChannelPriceRule, Listing, ListingState
from riff.core.db import is_postgres

ACK_ENDED = "sync_ended_acknowledged"  # listings.extras: "leave it ended" was chosen for this listing
FIELDS = ("price", "quantity", "state")


@dataclasses.dataclass(frozen=True, slots=True)
class Flagged:
    """A listing the database found to disagree with its channel, and the fields that do."""

    listing_id: int
    remote_id: str
    fields: tuple[str, ...]


def _acknowledged(session: Session) -> sa.ColumnElement[bool]:
    """``extras["sync_ended_acknowledged"] is True`` (a JSON ``true``; missing or anything else is not)."""
    found: sa.ColumnElement[bool]
    if is_postgres(session):
        found = Listing.extras.op("@>", return_type=sa.Boolean)(
            sa.cast(sa.literal(json.dumps({ACK_ENDED: True})), JSONB)
        )
    else:
        found = sa.func.json_type(Listing.extras, f'$."{ACK_ENDED}"') == "true"
    return sa.func.coalesce(found, sa.false())


class ReconcileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def predicates(
        self, rule: ChannelPriceRule | None, *, holds_quantity: bool
    ) -> dict[str, sa.ColumnElement[bool]]:
        """field -> "this listing has a mismatch of that field", as ``reconcile.row_mismatches`` decides."""
        live = Listing.state == ListingState.LIVE
        available = sa.and_(
            Product.status.not_in([ProductStatus.SOLD, ProductStatus.ARCHIVED]), Product.quantity > 0
        )
        live_available = sa.and_(live, available)
        price = sa.and_(
            live_available,
            Listing.remote_price.is_not(None),
            pricing.effective_price_cents_sql(rule, Product.base_price, Listing.price_override)
            != pricing.cents_sql(Listing.remote_price),
        )
        quantity: sa.ColumnElement[bool] = sa.false()
        if holds_quantity:
            quantity = sa.and_(
                live_available,
                Product.is_stocked_item.is_(True),
                Listing.remote_quantity.is_not(None),
                Listing.remote_quantity != Product.quantity,
            )
        state = sa.or_(
            sa.and_(live, sa.not_(available)),
            sa.and_(
                Listing.state.in_([ListingState.ENDED, ListingState.SOLD]),
                Product.status == ProductStatus.ACTIVE,
                Product.quantity > 0,
                sa.not_(_acknowledged(self.session)),
            ),
        )
        return {"price": price, "quantity": quantity, "state": state}

    @staticmethod
    def _scope(channel: str) -> sa.ColumnElement[bool]:
        return sa.and_(Listing.channel == channel, Listing.remote_id.is_not(None))

    def listing_counts(self, channel: str) -> tuple[int, int]:
        """(listings with a remote id, live ones) of the channel: from the listings index alone."""
        listings, live = self.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(sa.case((Listing.state == ListingState.LIVE, 1), else_=0)), 0),
            ).where(self._scope(channel))
        ).one()
        return int(listings), int(live)

    def flagged(self, channel: str, predicates: dict[str, sa.ColumnElement[bool]]) -> list[Flagged]:
        """Every listing of the channel with a mismatch, in id order, with its fields: one pass (a hash
        join of the channel's listings with their products) that sends back only the listings that differ.
        Ordered here, not in SQL: an ORDER BY tempts PostgreSQL into a nested loop over every listing."""
        statement = (
            sa.select(
                Listing.id, Listing.remote_id, *[sa.case((predicates[field], 1), else_=0) for field in FIELDS]
            )
            .join(Product, Product.id == Listing.product_id)
            .where(self._scope(channel), sa.or_(*predicates.values()))
        )
        found = [
            Flagged(
                int(listing_id), str(remote_id), tuple(f for f, hit in zip(FIELDS, hits, strict=True) if hit)
            )
            for listing_id, remote_id, *hits in self.session.connection().execute(statement)
        ]
        found.sort(key=lambda flagged: flagged.listing_id)
        return found
