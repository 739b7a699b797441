"""Reconciliation: per channel, what RIFF wants each listing to show against what the channel showed at the
last pull (price, quantity, state), with the likely cause of each mismatch and a one-call fix.

The report is computed when asked for, so it is always current (a fix shows at once), and the database
does the comparing (``riff.sync.reconcile_repository``): one pass over the channel's listings joined with
their products sends back only the listings that disagree, with the fields that do, which gives the
counts; then only the page shown (``limit`` mismatches after the listing id cursor ``after``) is read in
full and given its causes and fixes by ``row_mismatches`` (the rules the SQL mirrors; a listing on which
the two disagree is logged), with the queued jobs of those listings only. So the cost is one indexed scan
in the database plus the mismatches shown, not a Python comparison of every listing. The nightly
``sync.reconcile`` job runs a full pull of every channel first, so the last-seen remote values are fresh,
and keeps each channel's summary for the status page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.orm import Session

from riff.catalog import service as catalog
from riff.catalog.models import MovementReason, ProductStatus
from riff.catalog.pricing import effective_price
from riff.channels.contract import EndReason
from riff.channels.models import ListingState
from riff.core.clock import utcnow
from riff.core.errors import Conflict, NotFound, ValidationFailed
from riff.core.logging import get_logger
from riff.sync import push
from riff.sync.conflicts import same
from riff.sync.consts import ENDED_FOR_STOCK, EventKind, Outcome
from riff.sync.locks import lock_products
from riff.sync.reconcile_repository import ACK_ENDED, ReconcileRepository
from riff.sync.repository import LocalRow, SyncRepository

log = get_logger(__name__)

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
    truncated: bool = False  # more mismatches than ``mismatches`` holds, after the cursor
    after: int = 0  # the cursor this page starts after (a listing id; 0: the first page)
    before: int = 0  # mismatches of the listings up to the cursor (earlier pages)
    next_after: int | None = None  # the cursor of the next page, when there is one
    at: dt.datetime | None = None  # when the comparison ran

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
        if extras.get(ACK_ENDED) is not True:
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


def channel_report(session: Session, channel: str, *, limit: int = 200, after: int = 0) -> ChannelReport:
    """The channel's counts, and its first ``limit`` mismatches in listing id order after listing ``after``.

    ``next_after`` continues where this page stops; a listing whose mismatches do not all fit is shown
    again, whole, on the next page (unless it is the only listing on this one).
    """
    repository = ReconcileRepository(session)
    sync_repository = SyncRepository(session)
    rule = sync_repository.price_rule(channel)
    predicates = repository.predicates(rule, holds_quantity=push.holds_quantity(channel))
    listings, live = repository.listing_counts(channel)
    report = ChannelReport(channel=channel, listings=listings, live=live, after=after, at=utcnow())
    flagged = repository.flagged(channel, predicates)
    for item in flagged:
        for field in item.fields:
            report.counts[field] += 1
        if item.listing_id <= after:
            report.before += len(item.fields)
    pending = [item for item in flagged if item.listing_id > after] if limit > 0 else []
    last_whole: int | None = None
    for start in range(0, len(pending), max(limit, 1)):
        if len(report.mismatches) >= limit:
            break
        chunk = pending[start : start + limit]
        rows = sync_repository.local_rows(channel, [item.remote_id for item in chunk])
        jobs = sync_repository.queued_listing_jobs([item.listing_id for item in chunk])
        for item in chunk:
            row = rows.get(item.remote_id)
            found = row_mismatches(row, channel, rule, jobs.get(item.listing_id, [])) if row else []
            if [m.field for m in found] != list(item.fields):  # SQL and Python disagree: never silently
                log.warning(
                    "sync.reconcile.rules.disagree", channel=channel, listing_id=item.listing_id,
                    sql=list(item.fields), python=[m.field for m in found],
                )  # fmt: skip
            room = limit - len(report.mismatches)
            report.mismatches.extend(found[:room])
            if len(found) <= room or last_whole is None:  # (one listing over ``limit``: move on anyway)
                last_whole = item.listing_id
            if len(report.mismatches) >= limit:
                break
    report.truncated = report.total - report.before > len(report.mismatches)
    if report.truncated and last_whole is not None:
        report.next_after = last_whole
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
