"""Reconciliation: per channel, what RIFF wants each listing to show against what the channel showed at the
last pull (price, quantity, state), with the likely cause of each mismatch and a one-call fix.

The comparison reads listings and products in batches (keyset on the listing id), so a channel with
50,000 listings is one pass with flat memory; the report keeps the counts of every mismatch and the first
``limit`` of them in full. The nightly ``sync.reconcile`` job runs a full pull of every channel first, so
the last-seen remote values are fresh.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.orm import Session

from riff.catalog import service as catalog
from riff.catalog.models import MovementReason, ProductStatus
from riff.catalog.pricing import effective_price
from riff.channels.contract import EndReason
from riff.channels.models import ListingState
from riff.core.errors import Conflict, NotFound, ValidationFailed
from riff.sync import push
from riff.sync.conflicts import same
from riff.sync.consts import ENDED_FOR_STOCK, EventKind, Outcome
from riff.sync.locks import lock_products
from riff.sync.repository import LocalRow, SyncRepository

ACK_ENDED = "sync_ended_acknowledged"  # listings.extras: "leave it ended" was chosen for this listing
Action = Literal["push_local", "accept_remote"]


@dataclasses.dataclass
class Mismatch:
    listing_id: int
    product_id: int
    channel: str
    remote_id: str
    field: str  # price | quantity | state
    local: Any
    remote: Any
    cause: str
    fixes: list[str]

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("local", "remote"):
            if isinstance(data[key], Decimal):
                data[key] = str(data[key])
        return data


@dataclasses.dataclass
class ChannelReport:
    channel: str
    listings: int = 0
    live: int = 0
    counts: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"price": 0, "quantity": 0, "state": 0}
    )
    mismatches: list[Mismatch] = dataclasses.field(default_factory=list)
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "listings": self.listings,
            "live": self.live,
            "mismatch_counts": dict(self.counts),
            "mismatches": [m.as_json() for m in self.mismatches],
            "truncated": self.truncated,
        }


def _available(row: LocalRow) -> bool:
    return row.status not in (ProductStatus.SOLD, ProductStatus.ARCHIVED) and row.quantity > 0


def row_mismatches(row: LocalRow, channel: str, rule: Any, jobs: list[str]) -> list[Mismatch]:
    """Pure: the mismatches of one listing (``jobs``: kinds of its queued or running jobs)."""
    found: list[Mismatch] = []
    extras = row.extras or {}

    def mismatch(field: str, local: Any, remote: Any, cause: str, fixes: list[str]) -> None:
        found.append(
            Mismatch(
                row.listing_id, row.product_id, channel, row.remote_id, field, local, remote, cause, fixes
            )
        )

    def push_cause(what: str) -> str:
        if f"{channel}.update" in jobs:
            return f"a {what} update is queued for this listing"
        if row.last_error:
            return f"the last push failed: {row.last_error}"
        if row.remote_updated_at and (
            row.last_pushed_at is None or row.remote_updated_at > row.last_pushed_at
        ):
            return f"changed on {channel} after RIFF's last push"
        return f"RIFF's {what} changed and was not pushed"

    if row.state == ListingState.LIVE:
        if not _available(row):
            if f"{channel}.end" in jobs:
                cause = "the end job is queued (the item is sold or out of stock)"
            elif row.last_error:
                cause = f"ending it failed: {row.last_error}"
            else:
                cause = "live on the channel while RIFF has no stock: the sale was not propagated"
            mismatch("state", "not in stock", "live", cause, ["push_local"])
            return found
        expected = effective_price(row.base_price, rule, row.price_override)
        if row.remote_price is not None and not same(expected, row.remote_price):
            mismatch(
                "price", expected, row.remote_price, push_cause("price"), ["push_local", "accept_remote"]
            )
        if (
            row.is_stocked_item
            and push.holds_quantity(channel)
            and row.remote_quantity is not None
            and row.remote_quantity != row.quantity
        ):
            mismatch(
                "quantity",
                row.quantity,
                row.remote_quantity,
                push_cause("quantity"),
                ["push_local", "accept_remote"],
            )
    elif (
        row.state in (ListingState.ENDED, ListingState.SOLD)
        and _available(row)
        and row.status == ProductStatus.ACTIVE
    ):
        if not extras.get(ACK_ENDED):
            if f"{channel}.publish" in jobs:
                cause = "a publish is queued"
            elif extras.get(ENDED_FOR_STOCK):
                cause = "ended when stock ran out; stock is back"
            elif row.last_error:
                cause = row.last_error
            else:
                cause = f"{row.state} on {channel} while in stock (ended there, or a cancelled sale)"
            mismatch("state", "in stock", str(row.state), cause, ["push_local", "accept_remote"])
    return found


def channel_report(session: Session, channel: str, *, limit: int = 200) -> ChannelReport:
    repository = SyncRepository(session)
    rule = repository.price_rule(channel)
    report = ChannelReport(channel=channel)
    for batch in repository.iter_local_rows(channel):
        jobs = repository.queued_listing_jobs([row.listing_id for row in batch])
        for row in batch:
            report.listings += 1
            report.live += row.state == ListingState.LIVE
            for mismatch in row_mismatches(row, channel, rule, jobs.get(row.listing_id, [])):
                report.counts[mismatch.field] += 1
                if len(report.mismatches) < limit:
                    report.mismatches.append(mismatch)
                else:
                    report.truncated = True
    return report


def report(session: Session, channel: str | None = None, *, limit: int = 200) -> list[ChannelReport]:
    repository = SyncRepository(session)
    channels = [channel] if channel else sorted({a.channel for a in repository.accounts()})
    return [channel_report(session, name, limit=limit) for name in channels]


def fix(session: Session, listing_id: int, action: Action, *, actor: str) -> dict[str, Any]:
    """Apply one fix to every mismatch of a listing: ``push_local`` (RIFF's values to the channel) or
    ``accept_remote`` (the channel's values into RIFF)."""
    repository = SyncRepository(session)
    listing = repository.listing(listing_id)
    if listing is None or listing.remote_id is None:
        raise NotFound(f"listing {listing_id} not found (or never published)", field="listing_id")
    lock_products(session, [listing.product_id])
    session.refresh(listing)
    row = repository.local_rows(listing.channel, [listing.remote_id]).get(listing.remote_id)
    if row is None:  # pragma: no cover - the listing was just loaded
        raise NotFound(f"listing {listing_id} not found", field="listing_id")
    jobs = repository.queued_listing_jobs([listing.id]).get(listing.id, [])
    mismatches = row_mismatches(row, listing.channel, repository.price_rule(listing.channel), jobs)
    if not mismatches:
        raise Conflict(f"listing {listing_id} matches the channel: nothing to fix", code="in_sync")
    product = listing.product
    done: list[dict[str, Any]] = []
    for mismatch in mismatches:
        if action not in mismatch.fixes:
            raise ValidationFailed(
                f"{mismatch.field}: {action} is not possible here ({mismatch.cause}); use {' or '.join(mismatch.fixes)}",
                field="action",
            )
        before = {"local": mismatch.as_json()["local"], "remote": mismatch.as_json()["remote"]}
        if mismatch.field == "price":
            if action == "push_local":
                push.enqueue_update(session, listing, {"price"})
            else:
                before["price_override"] = (
                    str(listing.price_override) if listing.price_override is not None else None
                )
                listing.price_override = listing.remote_price
        elif mismatch.field == "quantity":
            if action == "push_local":
                push.enqueue_update(session, listing, {"quantity"})
            else:
                catalog.set_quantity(
                    session, product, int(listing.remote_quantity or 0), MovementReason.ADJUSTMENT, actor,
                    f"reconciliation: {listing.channel}'s count", sync=False,
                )  # fmt: skip
                push.product_changed(
                    session, product, ["quantity"], actor=actor, exclude_listing_ids={listing.id}
                )
        elif mismatch.remote == "live":
            push.enqueue_end(
                session, listing, EndReason.SOLD_ELSEWHERE if product.quantity == 0 else EndReason.NOT_SOLD
            )
        elif action == "push_local":
            push.republish(session, product, listing, actor=actor)
            listing.extras = {k: v for k, v in (listing.extras or {}).items() if k != ACK_ENDED}
        else:
            listing.extras = {**(listing.extras or {}), ACK_ENDED: True}
        done.append({"field": mismatch.field, "action": action, "cause": mismatch.cause})
        repository.add_event(
            channel=listing.channel, product_id=listing.product_id, listing_id=listing.id,
            kind=EventKind.RECONCILE_FIX,
            outcome=Outcome.PUSHED_LOCAL if action == "push_local" else Outcome.ACCEPTED_REMOTE,
            before=before, after={"field": mismatch.field, "action": action},
            message=f"reconciliation: {mismatch.field} of listing {listing.remote_id} on {listing.channel}: {action}",
            actor=actor,
        )  # fmt: skip
    session.flush()
    return {"listing_id": listing.id, "fixed": done}
