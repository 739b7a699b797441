"""Vintage & Rare job handlers. V&R jobs run one at a time across every worker (channel concurrency 1 in
``riff.jobs.consts``): one website session, one browser.

``vintage_and_rare.publish`` is phase 1 of the batched ID resolution (``resolution.py``):

1. idempotency: the listing already has a V&R id -> skip; another job's submission is awaiting its id ->
   skip; *this* job already submitted in an earlier attempt (the worker died afterwards) -> straight to
   pending, never a second submission;
2. validate the brand (cache -> V&R AJAX -> local products -> known brands; an unaccepted brand is listed
   under the fallback brand with a warning on the listing), map the category (``Rejected`` before any
   request when unmapped);
3. write the match criteria into the job's payload and a marker on the listing, committed *before* the
   form is submitted;
4. submit once (HTTP form, or the browser; HTTP falls back to the browser when it fails before submitting);
5. the redirect names the id -> recorded, ``completed``, zero export downloads; otherwise
   ``completed_pending_id``, and a resolution batch is queued when no runnable V&R create job is left or
   ``MAX_BATCH_SIZE`` jobs are pending.

``vintage_and_rare.resolve_ids`` is phase 2; the worker shutdown hook and ``POST /api/vr/resolve-pending``
run it too.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from riff.channels import service
from riff.channels import tasks as shared
from riff.channels.contract import RemoteOrder, RemoteState
from riff.channels.errors import ChannelError, NotFound, Transient
from riff.channels.models import AccountStatus, ChannelAccount, Listing, ListingState
from riff.channels.repository import ChannelAccountRepository, ListingRepository
from riff.channels.vintage_and_rare import consts, mapping, repository, resolution
from riff.channels.vintage_and_rare.adapter import VintageAndRareChannel
from riff.channels.vintage_and_rare.resolution import EXTRAS_KEY, MatchCriteria
from riff.channels.vintage_and_rare.settings import get_vr_settings
from riff.core.clock import utcnow
from riff.core.logging import get_logger
from riff.jobs import HookContext, job_handler, on_worker_shutdown, update_job_payload

log = get_logger(__name__)

SLUG = consts.SLUG
PUBLISH_KIND = resolution.PUBLISH_KIND
RESOLVE_KIND = resolution.RESOLVE_KIND
SHUTDOWN_RESOLUTION_TIMEOUT_SECONDS = 300.0
# Selenium creates take ~45-60 s on the real site, a browser bootstrap a few more.
PUBLISH_TIMEOUT_SECONDS = 15 * 60.0


def _order_key(order: RemoteOrder) -> str:
    return f"{SLUG}:{order.remote_id}:{order.status}"


def _marker(listing: Listing) -> dict[str, Any]:
    return dict((listing.extras or {}).get(EXTRAS_KEY) or {})


def _set_marker(listing: Listing, marker: dict[str, Any] | None) -> None:
    extras = dict(listing.extras or {})
    if marker is None:
        extras.pop(EXTRAS_KEY, None)
    else:
        extras[EXTRAS_KEY] = marker
    listing.extras = extras


def _job_pending(ctx: Any, job_id: int) -> bool:
    from riff.jobs.consts import JobStatus
    from riff.jobs.service import get_job

    with ctx.database.read_session() as session:
        try:
            return str(get_job(session, job_id).status) == JobStatus.COMPLETED_PENDING_ID.value
        except Exception:
            return False


# --- phase 1 ----------------------------------------------------------------------------------------------


@job_handler(PUBLISH_KIND, max_attempts=8, timeout_seconds=PUBLISH_TIMEOUT_SECONDS)
async def publish(ctx: Any) -> Any:
    with ctx.database.read_session() as session:  # everything the create needs to know, in one read
        listing = shared._require_listing(session, ctx)
        account = _usable_account(session, listing.account_id)
        if listing.remote_id:
            return {"remote_id": listing.remote_id, "skipped": "the product is already listed on V&R"}
        marker = _marker(listing)
        snapshot = service.product_snapshot(session, listing.product, SLUG, listing)
        last_known_id = max(
            repository.max_known_remote_id(session),
            int((account.config or {}).get("last_export_max_id") or 0),
        )
        _, creates_waiting = repository.publish_queue(session, PUBLISH_KIND, utcnow())
    other_job = marker.get("pending_job_id")
    if marker.get("state") in ("submitting", "submitted") and other_job not in (None, ctx.job_id):
        if _job_pending(ctx, int(other_job)):
            return {"skipped": f"job {other_job} submitted this listing; its V&R id is being resolved"}
    if ctx.payload.get("submission_started"):
        # An earlier attempt of this job submitted (or may have submitted) the form, then the worker died.
        log.warning(f"{SLUG}.publish.resumed", job_id=ctx.job_id, listing_id=ctx.listing_id)
        return _finish_pending(ctx, ambiguous=True, warning=(marker.get("warnings") or [None])[0])

    def local_lookup(brand: str) -> bool:
        with ctx.database.read_session() as session:
            return repository.brand_listed(session, brand)

    try:
        async with shared.connected(ctx, account) as opened:
            channel = cast(VintageAndRareChannel, opened)
            mapping.check_listable(snapshot, channel.config)  # Rejected before any request
            brand, warning = await channel.brand_to_list(snapshot.brand or "", local_lookup)
            criteria = MatchCriteria.for_product(snapshot, brand=brand, last_known_vr_id=last_known_id)
            _write_ahead(ctx, criteria, warning)
            try:
                # Another create waits: its add form loads while the site processes this one's post.
                outcome = await channel.create_listing(
                    snapshot, brand=brand, prefetch_next=creates_waiting > 0
                )
            except ChannelError:
                _clear_write_ahead(ctx)  # refused or not sent: nothing exists on V&R
                raise
    except ChannelError as exc:
        shared.record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    if outcome.remote_id:
        url = channel.listing_url(outcome.remote_id)
        with ctx.database.session() as session:
            listing = shared._require_listing(session, ctx)
            listing.remote_id = outcome.remote_id
            listing.remote_url = url
            listing.state = ListingState.LIVE
            listing.account_id = account.id
            listing.remote_price = snapshot.price
            listing.remote_currency = snapshot.currency
            listing.remote_quantity = 1
            listing.last_pushed_at = utcnow()
            listing.last_error = warning
            _set_marker(listing, {"state": "resolved", "remote_id": outcome.remote_id, "method": outcome.method,
                                  "warnings": [warning] if warning else []})  # fmt: skip
        log.info(f"{SLUG}.listing.publish.ok", listing_id=ctx.listing_id, remote_id=outcome.remote_id)
        return {"remote_id": outcome.remote_id, "url": url, "method": outcome.method, "csv_downloads": 0,
                "warning": warning}  # fmt: skip
    return _finish_pending(ctx, ambiguous=outcome.ambiguous, warning=warning, method=outcome.method)


def _usable_account(session: Any, account_id: int | None) -> ChannelAccount:
    """``riff.channels.tasks._load_account`` within the handler's own read: the account, detached;
    ``AuthExpired`` while it needs attention; rescheduled to the end of a RIFF maintenance window."""
    from riff.sync.pull import wait_out_window

    account = service.resolve_account(session, SLUG, account_id)
    session.expunge(account)
    wait_out_window(session, SLUG, account.id)
    service.ensure_usable(account)
    return account


def _write_ahead(ctx: Any, criteria: MatchCriteria, warning: str | None) -> None:
    """Committed before the submit: whatever happens next, the criteria to find the listing survive."""
    now = utcnow().isoformat()
    with ctx.database.session() as session:
        update_job_payload(
            session, ctx.job_id, {"match_criteria": criteria.to_payload(), "submission_started": now}
        )
        listing = shared._require_listing(session, ctx)
        _set_marker(listing, {"state": "submitting", "pending_job_id": ctx.job_id, "submission_started": now,
                              "match_criteria": criteria.to_payload(), "warnings": [warning] if warning else []})  # fmt: skip


def _clear_write_ahead(ctx: Any) -> None:
    with ctx.database.session() as session:
        update_job_payload(session, ctx.job_id, {"submission_started": None})
        listing = session.get(Listing, ctx.listing_id) if ctx.listing_id else None
        if listing is not None:
            _set_marker(listing, None)


def _finish_pending(ctx: Any, *, ambiguous: bool, warning: str | None, method: str | None = None) -> Any:
    """``completed_pending_id`` for this job, and the batch trigger check, in one transaction."""
    settings = get_vr_settings()
    now = utcnow()
    with ctx.database.session() as session:
        listing = shared._require_listing(session, ctx)
        marker = _marker(listing)
        marker.update(
            state="submitted", pending_job_id=ctx.job_id, submitted_at=now.isoformat(), ambiguous=ambiguous
        )
        _set_marker(listing, marker)
        listing.last_pushed_at = now
        listing.last_error = warning
        update_job_payload(session, ctx.job_id, {"listing_created": not ambiguous, "submitted_at": now.isoformat(),
                                                 "submission_ambiguous": ambiguous})  # fmt: skip
        pending, queued = repository.publish_queue(session, PUBLISH_KIND, now)
        pending += 1  # this job becomes pending when the handler returns
        trigger = None
        if pending >= settings.max_batch_size:
            trigger = "max_batch"
        elif queued == 0:
            trigger = "queue_empty"
        if trigger is not None:
            resolution.enqueue_resolution(session, trigger=trigger)
    log.info(f"{SLUG}.listing.publish.pending_id", listing_id=ctx.listing_id, pending=pending, queued=queued,
             trigger=trigger, ambiguous=ambiguous)  # fmt: skip
    return ctx.pending_id(
        {
            "pending_id": True,
            "method": method,
            "ambiguous": ambiguous,
            "resolution_trigger": trigger,
            "warning": warning,
        }  # fmt: skip
    )


# --- phase 2 ----------------------------------------------------------------------------------------------


# A failed export download is retried with the engine's backoff (RIFF_JOBS_BACKOFF_*: 10 s, 20 s, 40 s, ...).
@job_handler(RESOLVE_KIND, max_attempts=10, timeout_seconds=600.0)
async def resolve_ids(ctx: Any) -> dict[str, Any]:
    trigger = str(ctx.payload.get("trigger") or "job")
    try:
        report = await resolution.resolve_pending(
            ctx.database, ctx.settings, trigger=trigger, rate_limiter=shared._rate_limiter(ctx)
        )
    except ChannelError as exc:
        # The export failed: nothing was attempted; the engine retries this batch later (with backoff),
        # and creates keep running meanwhile.
        resolution.record_download_failure(ctx.database, trigger, exc)
        if not exc.retryable:
            raise Transient(f"the V&R export failed: {exc.message}", channel=SLUG, retry_after=300.0) from exc
        raise
    if report.unmatched:
        with ctx.database.session() as session:
            resolution.enqueue_resolution(
                session, trigger="retry_unmatched", delay_seconds=consts.RESOLUTION_RETRY_SECONDS
            )
    return report.as_dict()


@on_worker_shutdown
def resolve_on_shutdown(ctx: HookContext) -> None:
    """Graceful shutdown: one last batch before the worker exits, so nothing waits for the next worker."""
    if RESOLVE_KIND not in _registered_kinds():
        return
    with ctx.database.read_session() as session:
        if resolution.pending_count(session) == 0:
            return
    try:
        report = asyncio.run(
            asyncio.wait_for(
                resolution.resolve_pending(ctx.database, ctx.settings, trigger="shutdown"),
                SHUTDOWN_RESOLUTION_TIMEOUT_SECONDS,
            )
        )
    except Exception as exc:  # never keep a worker from exiting; the next batch will find these jobs
        log.warning(f"{SLUG}.resolution.shutdown_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        return
    log.info(
        f"{SLUG}.resolution.shutdown",
        resolved=report.resolved,
        failed=report.failed,
        pending=report.unmatched,
    )


def _registered_kinds() -> frozenset[str]:
    from riff.jobs.registry import registered_kinds

    return registered_kinds()


# --- the shared bodies --------------------------------------------------------------------------------------


@job_handler(f"{SLUG}.update", max_attempts=8)
async def update(ctx: Any) -> dict[str, Any]:
    return await shared.update(ctx, SLUG)


@job_handler(f"{SLUG}.end", max_attempts=12)
async def end(ctx: Any) -> dict[str, Any]:
    if ctx.listing_id is None and ctx.payload.get("remote_id"):
        return await _remote_action(ctx, "end")
    return await shared.end(ctx, SLUG)


@job_handler(f"{SLUG}.pull_listings", max_attempts=5, timeout_seconds=900.0)
async def pull_listings(ctx: Any) -> dict[str, Any]:
    return await shared.pull_listings(ctx, SLUG)


@job_handler(f"{SLUG}.fetch_orders", max_attempts=3)
async def fetch_orders(ctx: Any) -> dict[str, Any]:
    return await shared.fetch_orders(ctx, SLUG, _order_key)


@job_handler(f"{SLUG}.mark_shipped", max_attempts=3)
async def mark_shipped(ctx: Any) -> dict[str, Any]:
    return await shared.mark_shipped(ctx, SLUG)


@job_handler(f"{SLUG}.webhook", max_attempts=3)
async def webhook(ctx: Any) -> dict[str, Any]:
    return await shared.handle_webhook(ctx, SLUG)


# --- V&R-only actions (``/api/vr/listings/{id}/...``) ------------------------------------------------------


@job_handler(f"{SLUG}.delete", max_attempts=8)
async def delete(ctx: Any) -> dict[str, Any]:
    return await _remote_action(ctx, "delete")


@job_handler(f"{SLUG}.relist", max_attempts=8)
async def relist(ctx: Any) -> dict[str, Any]:
    return await _remote_action(ctx, "relist")


async def _remote_action(ctx: Any, action: str) -> dict[str, Any]:
    remote_id = str(ctx.payload["remote_id"])
    with ctx.database.read_session() as session:
        listing = ListingRepository(session).by_remote_id(SLUG, remote_id)
        listing_id = listing.id if listing is not None else None
        account = shared._load_account(
            ctx, SLUG, listing.account_id if listing is not None else ctx.payload.get("account_id")
        )
    state: RemoteState
    try:
        async with shared.connected(ctx, account) as channel:
            if action == "end":
                state = (await channel.end_remote(remote_id)).state  # type: ignore[attr-defined]
            elif action == "relist":
                state = (await channel.relist(remote_id)).state  # type: ignore[attr-defined]
            else:
                state = (await channel.delete(remote_id)).state  # type: ignore[attr-defined]
    except NotFound:
        if action == "relist":
            raise
        state = RemoteState.ENDED
    except ChannelError as exc:
        shared.record_failure(ctx.database, exc, account_id=account.id, listing_id=listing_id)
        raise
    if listing_id is not None:
        with ctx.database.session() as session:
            stored = session.get(Listing, listing_id)
            if stored is not None:
                stored.state = {RemoteState.SOLD: ListingState.SOLD, RemoteState.LIVE: ListingState.LIVE}.get(
                    state, ListingState.ENDED
                )
                stored.last_pushed_at = utcnow()
                stored.last_error = None
                if action == "delete":
                    extras = dict(stored.extras or {})
                    extras.setdefault("previous_remote_ids", []).append(remote_id)
                    stored.extras = extras
                    stored.remote_id = None
    return {"remote_id": remote_id, "action": action, "state": str(state), "listing_id": listing_id}


# --- cookies -------------------------------------------------------------------------------------------------


@job_handler(f"{SLUG}.harvest_cookies", max_attempts=2, timeout_seconds=300.0)
async def harvest_cookies(ctx: Any) -> dict[str, Any]:
    """A real browser passes Cloudflare (and logs in); the cookies land in the cookie store every V&R
    process reads. A V&R account marked ``needs_attention`` is usable again afterwards."""
    account = _account_for_harvest(ctx)
    async with shared.connected(ctx, account) as channel:
        status = await channel.harvest_cookies(log_in=bool(ctx.payload.get("log_in", True)))  # type: ignore[attr-defined]
    reset_attention(ctx.database, account.id)
    return status  # type: ignore[no-any-return]


def _account_for_harvest(ctx: Any) -> Any:
    with ctx.database.read_session() as session:
        account = service.resolve_account(session, SLUG, ctx.payload.get("account_id"))
        session.expunge(account)
    return account


def reset_attention(database: Any, account_id: int) -> None:
    with database.session() as session:
        account = session.get(ChannelAccount, account_id)
        if account is not None and account.status == AccountStatus.NEEDS_ATTENTION:
            ChannelAccountRepository(session).set_status(account_id, AccountStatus.OK, None)


__all__ = ["publish", "resolve_ids", "resolve_on_shutdown"]
