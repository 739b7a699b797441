"""Vintage & Rare's own JSON API (``/api/vr/...``): brand validation, item actions, cookies, ID resolution.

Item actions and the cookie harvest are jobs (V&R runs one job at a time: one session, one browser); they
answer 202 with the job id. Brand checks and the manual ID resolution answer at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from riff.auth.deps import current_user, require_writer
from riff.auth.models import User
from riff.channels import service
from riff.channels.errors import ChannelError
from riff.channels.repository import ListingRepository
from riff.channels.vintage_and_rare import consts, repository, resolution
from riff.channels.vintage_and_rare.cookies import CookieFormatError, CookieJar, cookie_status
from riff.channels.vintage_and_rare.settings import get_vr_settings
from riff.core.deps import DbSession, ReadSession
from riff.core.errors import Conflict
from riff.jobs import HIGH, URGENT, enqueue

router = APIRouter(prefix="/api/vr", tags=["channels", "vintage_and_rare"])

Reader = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(require_writer)]
SLUG = consts.SLUG


def _open(request: Request, session: Any) -> Any:
    account = service.resolve_account(session, SLUG)
    return service.open_channel(account, request.app.state.master_key)


@router.get("/validate-brand")
async def validate_brand(
    request: Request,
    session: ReadSession,
    _user: Reader,
    brand: Annotated[str, Query(min_length=1, max_length=120)],
) -> dict[str, Any]:
    """Does V&R accept this brand? Cache, then the site's AJAX check (3 s), then the local products table,
    then the known-brands file; else ``{"valid": null, "error_code": "api_unavailable"}``."""
    database = request.app.state.database

    def local_lookup(name: str) -> bool:
        with database.read_session() as read:
            return repository.brand_listed(read, name)

    channel = _open(request, session)
    try:
        check = await channel.validate_brand(brand, local_lookup)
    finally:
        await channel.aclose()
    return check.as_dict()  # type: ignore[no-any-return]


@router.get("/brand-suggestions")
async def brand_suggestions(
    request: Request,
    session: ReadSession,
    _user: Reader,
    term: Annotated[str, Query(min_length=1, max_length=120)],
) -> dict[str, Any]:
    """The site's brand autocomplete."""
    channel = _open(request, session)
    try:
        suggestions = await channel.suggest_brands(term)
    except ChannelError as exc:
        return {"term": term, "suggestions": [], "error": exc.message}
    finally:
        await channel.aclose()
    return {"term": term, "suggestions": suggestions}


def _remote_job(session: Any, action: str, remote_id: str) -> dict[str, Any]:
    if not remote_id.isdigit():
        raise Conflict(f"{remote_id!r} is not a V&R item id", field="id")
    account = service.resolve_account(session, SLUG)
    listing = ListingRepository(session).by_remote_id(SLUG, remote_id)
    if action == "end" and listing is not None:
        from riff.channels.contract import EndReason

        _, job_id = service.end_product_listing(session, listing.product, SLUG, EndReason.NOT_SOLD)
    else:
        job = enqueue(
            session,
            f"{SLUG}.{action}",
            channel=SLUG,
            product_id=listing.product_id if listing else None,
            payload={"remote_id": remote_id, "account_id": account.id},
            priority=URGENT if action == "end" else HIGH,
            coalesce_key=f"{SLUG}.{action}:{remote_id}",
        )
        job_id = job.id if job is not None else None
    return {
        "remote_id": remote_id,
        "action": action,
        "listing_id": listing.id if listing else None,
        "job_id": job_id,
    }


@router.post("/listings/{remote_id}/end", status_code=202)
def end_listing(remote_id: str, session: DbSession, _user: Writer) -> dict[str, Any]:
    """Mark the V&R item as sold (V&R's way to take an item off sale)."""
    return _remote_job(session, "end", remote_id)


@router.post("/listings/{remote_id}/delete", status_code=202)
def delete_listing(remote_id: str, session: DbSession, _user: Writer) -> dict[str, Any]:
    return _remote_job(session, "delete", remote_id)


@router.post("/listings/{remote_id}/relist", status_code=202)
def relist_listing(remote_id: str, session: DbSession, _user: Writer) -> dict[str, Any]:
    """Restore a sold item (``restore_from_sold``)."""
    return _remote_job(session, "relist", remote_id)


@router.post("/sync", status_code=202)
def sync(session: DbSession, _user: Writer) -> dict[str, Any]:
    """Download the inventory export and refresh every V&R listing (a ``pull_listings`` job)."""
    return {"job_id": service.request_pull_listings(session, SLUG)}


# --- cookies --------------------------------------------------------------------------------------------------


@router.post("/harvest-cookies", status_code=202)
def harvest_cookies(session: DbSession, _user: Writer, log_in: bool = True) -> dict[str, Any]:
    """A real browser (local Chromium or SELENIUM_GRID_URL) passes Cloudflare and logs in; its cookies
    replace the stored ones. Runs as a job; follow it with ``GET /api/vr/harvest-status``."""
    account = service.resolve_account(session, SLUG)
    job = enqueue(
        session,
        f"{SLUG}.harvest_cookies",
        channel=SLUG,
        payload={"account_id": account.id, "log_in": log_in},
        priority=HIGH,
        coalesce_key=f"{SLUG}.harvest_cookies",
    )
    return {"job_id": job.id if job is not None else None, "status": "queued"}


@router.get("/harvest-status")
def harvest_status(session: ReadSession, _user: Reader) -> dict[str, Any]:
    """The latest cookie harvest: queued, in_progress, completed (with the cookie report) or failed."""
    from riff.jobs.service import list_jobs

    jobs, _ = list_jobs(session, kind=f"{SLUG}.harvest_cookies", limit=1)
    if not jobs:
        return {"status": "never", "job_id": None}
    job = jobs[0]
    return {
        "job_id": job.id,
        "status": job.status,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
        "error": job.last_error_message,
    }


@router.get("/cookies-status")
def cookies_status(_user: Reader) -> dict[str, Any]:
    """Every stored cookie with its expiry and days left; warnings before cf_clearance expires."""
    settings = get_vr_settings()
    try:
        jar = CookieJar.load(
            path=settings.cookie_store_path(),
            base64_text=settings.cookies_base64.get_secret_value() if settings.cookies_base64 else None,
        )
    except CookieFormatError as exc:
        return {"cookies": [], "warnings": [str(exc)], "store": str(settings.cookie_store_path())}
    status = cookie_status(jar.cookies(), warn_days=settings.cookie_warn_days)
    status["store"] = str(settings.cookie_store_path())
    return status


# --- batched ID resolution ------------------------------------------------------------------------------------


@router.post("/resolve-pending")
async def resolve_pending(request: Request, _user: Writer) -> dict[str, Any]:
    """Resolve every ``completed_pending_id`` V&R job now, with one export download."""
    try:
        report = await resolution.resolve_pending(
            request.app.state.database, request.app.state.settings, trigger="manual"
        )
    except ChannelError as exc:
        resolution.record_download_failure(request.app.state.database, "manual", exc)
        return {
            "resolved": 0,
            "failed": 0,
            "errors": [f"the V&R export could not be downloaded: {exc.message}"],
        }
    return report.api()


@router.get("/resolution-status")
def resolution_status(session: ReadSession, _user: Reader) -> dict[str, Any]:
    """``pending_count``, ``oldest_pending``, ``last_resolution``, and ``needs_review``: jobs pending for more
    than an hour, for the UI to flag."""
    return resolution.status(session)
