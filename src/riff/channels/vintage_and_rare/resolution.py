"""Batched ID resolution (shared/reference/001_*.txt, "V&R Batched ID Resolution", implemented in full).

V&R usually returns no id for a new listing; the id has to be found afterwards in the inventory export
(~3 MB, 1,500+ rows, 30-60 s). Instead of one export per created listing:

- **Phase 1** (``tasks.publish``, per job): create the listing; if the redirect names the id, done (no
  export at all); otherwise store ``match_criteria`` (brand, model, sku, created_at, last known V&R id, and
  year/price/finish to break ties) in the job's payload - *before* submitting, so a worker killed at any
  moment leaves them behind - and end the job ``completed_pending_id``.
- **Phase 2** (``resolve_pending``): one export download resolves every pending job. Triggers: the queue has
  no more runnable V&R create jobs; ``MAX_BATCH_SIZE`` jobs are pending; the worker shuts down gracefully
  (a job-engine shutdown hook); ``POST /api/vr/resolve-pending``.

Matching, per job, over export rows newer than the job's last known V&R id and not already RIFF's:
1. the export's external id equals the SKU (when V&R kept it);
2. else exact brand (case-insensitive) and fuzzy model (rapidfuzz ``token_set_ratio`` >= threshold), ranked
   by model score, then year, price and finish agreement, then the higher id; the newest job picks first and
   each row goes to one job only (ids grow with creation, so two identical Stratocasters each get their own,
   in order). With no known floor yet (RIFF has never seen an export nor a V&R id) the price must agree too.

The floor ("last known V&R id") is the highest of RIFF's V&R listing ids and the highest id of the last
export any job downloaded (kept on the account as ``last_export_max_id``).

Unmatched jobs stay pending and are retried on the next cycle (V&R may be slow to index); after
``MAX_RESOLUTION_ATTEMPTS`` cycles they fail with the reason. Pending for over an hour = flagged for manual
review (``GET /api/vr/resolution-status``). An export that cannot be downloaded counts as no attempt: the
batch is retried later and never blocks new creates. Every resolved job is saved in its own transaction, so
a partial batch keeps what it found.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from rapidfuzz import fuzz

from riff.channels import service
from riff.channels.contract import ProductSnapshot
from riff.channels.errors import ChannelError
from riff.channels.models import ChannelAccount, Listing, ListingState
from riff.channels.repository import ListingRepository
from riff.channels.vintage_and_rare import consts, repository
from riff.channels.vintage_and_rare.inventory_csv import InventoryRow
from riff.channels.vintage_and_rare.mapping import listing_url, normalize_brand
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.security import load_secret_key
from riff.core.settings import Settings

log = get_logger(__name__)

PUBLISH_KIND = f"{consts.SLUG}.publish"
RESOLVE_KIND = f"{consts.SLUG}.resolve_ids"
EXTRAS_KEY = consts.SLUG  # listing.extras[EXTRAS_KEY]: the pending submission, warnings
PENDING_LIMIT = 500

Key = TypeVar("Key")


@dataclasses.dataclass(frozen=True)
class MatchCriteria:
    brand: str
    model: str
    sku: str
    created_at: str
    last_known_vr_id: int = 0
    year: str | None = None
    price: str | None = None
    finish: str | None = None

    @classmethod
    def for_product(
        cls, product: ProductSnapshot, *, brand: str, last_known_vr_id: int, now: dt.datetime | None = None
    ) -> MatchCriteria:
        from riff.channels.vintage_and_rare.mapping import model_name

        return cls(
            brand=brand,
            model=model_name(product),
            sku=product.sku,
            created_at=(now or utcnow()).isoformat(),
            last_known_vr_id=last_known_vr_id,
            year=str(product.year) if product.year else None,
            price=f"{product.price.quantize(Decimal('0.01'))}",
            finish=product.finish or None,
        )

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, data: Any) -> MatchCriteria | None:
        if not isinstance(data, dict) or not data.get("brand") or not data.get("model"):
            return None
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["last_known_vr_id"] = int(values.get("last_known_vr_id") or 0)
        values.setdefault("sku", "")
        values.setdefault("created_at", "")
        return cls(**values)


def _model_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def model_score(wanted: str, found: str) -> float:
    return float(fuzz.token_set_ratio(_model_text(wanted), _model_text(found)))


def _same_price(wanted: str | None, found: Decimal | None) -> bool:
    if wanted is None or found is None:
        return False
    try:
        return Decimal(wanted) == found
    except InvalidOperation:
        return False


def find_by_sku(sku: str, rows: Sequence[InventoryRow], *, newer_than: int = 0) -> InventoryRow | None:
    wanted = sku.strip().lower()
    found = [
        r for r in rows if r.external_id and r.external_id.lower() == wanted and r.product_id > newer_than
    ]
    return max(found, key=lambda r: r.product_id) if found else None


class _ExportIndex:
    """One export, indexed once for a whole batch: rows by SKU and by brand, each model text normalized once
    (matching a batch of ten used to normalize all 1,500 rows ten times)."""

    def __init__(self, rows: Sequence[InventoryRow]) -> None:
        self.by_sku: dict[str, list[InventoryRow]] = {}
        self.by_brand: dict[str, list[InventoryRow]] = {}
        for row in rows:
            if row.external_id:
                self.by_sku.setdefault(row.external_id.lower(), []).append(row)
            self.by_brand.setdefault(normalize_brand(row.brand), []).append(row)
        self._texts: dict[str, str] = {}

    def score(self, wanted: str, found: str) -> float:
        """``model_score``, with each text normalized once."""
        return float(fuzz.token_set_ratio(self._text(wanted), self._text(found)))

    def _text(self, text: str) -> str:
        normalized = self._texts.get(text)
        if normalized is None:
            normalized = self._texts[text] = _model_text(text)
        return normalized


def match_batch(
    jobs: Sequence[tuple[Key, MatchCriteria]],
    rows: Sequence[InventoryRow],
    *,
    threshold: float = consts.MODEL_MATCH_THRESHOLD,
    taken: set[int] | None = None,
) -> dict[Key, InventoryRow]:
    """Rows for as many jobs as possible; ``jobs`` in creation order, ``taken`` ids already belong to RIFF."""
    index = _ExportIndex(rows)
    used = set(taken or ())
    matched: dict[Key, InventoryRow] = {}
    for key, criteria in jobs:  # pass 1: the SKU, where the export kept it
        sku = criteria.sku.strip().lower() if criteria.sku else ""
        candidates = [r for r in index.by_sku.get(sku, ()) if r.product_id not in used] if sku else []
        row = (
            find_by_sku(criteria.sku, candidates, newer_than=criteria.last_known_vr_id)
            if candidates
            else None
        )
        if row is not None:
            matched[key] = row
            used.add(row.product_id)
    # Pass 2: brand + fuzzy model among the newer rows. Ids grow with creation, so the newest job takes the
    # best, highest-id row first: two identical Stratocasters created in a row get their own ids, in order.
    for key, criteria in reversed(jobs):
        if key in matched:
            continue
        # Without a known floor (no export seen yet, no V&R listing in RIFF) any old row could match:
        # then the price must agree too (the export shows exactly the price the form was sent with).
        strict = criteria.last_known_vr_id <= 0
        ranked: list[tuple[tuple[float, int, int, float, int], InventoryRow]] = []
        for row in index.by_brand.get(normalize_brand(criteria.brand), ()):
            if row.product_id in used or row.product_id <= criteria.last_known_vr_id:
                continue
            if row.external_id and criteria.sku and row.external_id.lower() != criteria.sku.lower():
                continue  # the export kept another listing's SKU on this row: not ours
            same_price = _same_price(criteria.price, row.price)
            if strict and criteria.price is not None and not same_price:
                continue
            score = index.score(criteria.model, row.model)
            if score < threshold:
                continue
            rank = (
                score,
                int(bool(criteria.year) and criteria.year == row.year),
                int(same_price),
                index.score(criteria.finish, row.finish or "") if criteria.finish else 0.0,
                row.product_id,
            )
            ranked.append((rank, row))
        if ranked:
            best = max(ranked, key=lambda item: item[0])[1]
            matched[key] = best
            used.add(best.product_id)
    return matched


# --- phase 2: the batch --------------------------------------------------------------------------------------


@dataclasses.dataclass
class ResolutionReport:
    trigger: str
    pending: int = 0
    resolved: int = 0
    failed: int = 0
    unmatched: int = 0
    downloads: int = 0
    rows: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    resolved_ids: dict[int, str] = dataclasses.field(default_factory=dict)  # job id -> V&R id

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["resolved_ids"] = {str(k): v for k, v in self.resolved_ids.items()}
        return data

    def api(self) -> dict[str, Any]:
        """``POST /api/vr/resolve-pending``'s answer."""
        return {"resolved": self.resolved, "failed": self.failed, "errors": list(self.errors),
                "pending": self.unmatched, "downloads": self.downloads}  # fmt: skip


@dataclasses.dataclass
class PendingJob:
    job_id: int
    listing_id: int | None
    account_id: int | None
    criteria: MatchCriteria | None
    attempts: int
    pending_since: dt.datetime | None
    product_id: int | None


def pending_jobs(session: Any) -> list[PendingJob]:
    """Every ``completed_pending_id`` V&R publish job, oldest first."""
    from riff.jobs.consts import JobStatus
    from riff.jobs.service import list_jobs

    jobs, _ = list_jobs(
        session, statuses=[JobStatus.COMPLETED_PENDING_ID.value], kind=PUBLISH_KIND, limit=PENDING_LIMIT
    )
    accounts = repository.listing_accounts(session, [job.listing_id for job in jobs if job.listing_id])
    found = []
    for job in sorted(jobs, key=lambda j: j.id):
        payload = job.payload or {}
        criteria = MatchCriteria.from_payload(payload.get("match_criteria"))
        found.append(
            PendingJob(
                job_id=job.id,
                listing_id=job.listing_id,
                account_id=accounts.get(job.listing_id) if job.listing_id else None,
                criteria=criteria,
                attempts=int(payload.get("resolution_attempts") or 0),
                pending_since=_parse(criteria.created_at if criteria else None)
                or job.started_at
                or job.created_at,
                product_id=job.product_id,
            )
        )
    return found


def pending_count(session: Any) -> int:
    from riff.jobs.consts import JobStatus
    from riff.jobs.service import list_jobs

    _, total = list_jobs(session, statuses=[JobStatus.COMPLETED_PENDING_ID.value], kind=PUBLISH_KIND, limit=1)
    return int(total)


def enqueue_resolution(session: Any, *, trigger: str, delay_seconds: float = 0.0) -> int | None:
    """Queue one batch (coalesced: a batch already waiting absorbs this request)."""
    from riff.jobs import enqueue
    from riff.jobs.consts import Priority

    job = enqueue(
        session,
        RESOLVE_KIND,
        channel=consts.SLUG,
        payload={"trigger": trigger},
        priority=Priority.HIGH,  # a full batch is resolved before the next creates run
        coalesce_key=RESOLVE_KIND,
        run_after=utcnow() + dt.timedelta(seconds=delay_seconds) if delay_seconds else None,
    )
    return job.id if job is not None else None


async def resolve_pending(
    database: Database,
    settings: Settings,
    *,
    trigger: str,
    rate_limiter: Any = None,
    max_attempts: int = consts.MAX_RESOLUTION_ATTEMPTS,
) -> ResolutionReport:
    """Phase 2: one export download per account resolves every pending job. Raises ``ChannelError`` when the
    export cannot be downloaded (nothing counted as an attempt; the caller retries later)."""
    report = ResolutionReport(trigger=trigger)
    with database.read_session() as session:
        pending = pending_jobs(session)
        taken = {int(k) for k in repository.known_remote_ids(session) if k.isdigit()}
    report.pending = len(pending)
    if not pending:
        return report
    by_account: dict[int | None, list[PendingJob]] = {}
    for job in pending:
        by_account.setdefault(job.account_id, []).append(job)
    master_key = load_secret_key(settings)
    for account_id, jobs in by_account.items():
        with database.read_session() as session:
            account: ChannelAccount = service.resolve_account(session, consts.SLUG, account_id)
            session.expunge(account)
        channel: Any = service.open_channel(account, master_key, rate_limiter=rate_limiter)
        try:
            rows = await channel.inventory_rows()
            threshold = float(getattr(channel.config, "model_match_threshold", consts.MODEL_MATCH_THRESHOLD))
            base_url = channel.base_url
        finally:
            await channel.aclose()
        updates = channel.pending_account_updates()
        if updates:
            with database.session() as session:
                service.store_channel_updates(session, master_key, account.id, config=updates[0])
        report.downloads += 1
        report.rows += len(rows)
        _apply(database, jobs, rows, taken, threshold, base_url, report, max_attempts)
    _record(database, report)
    log.info(
        "vintage_and_rare.resolution.done",
        **{k: v for k, v in report.as_dict().items() if k != "resolved_ids"},
    )
    return report


def _apply(
    database: Database,
    jobs: list[PendingJob],
    rows: list[InventoryRow],
    taken: set[int],
    threshold: float,
    base_url: str,
    report: ResolutionReport,
    max_attempts: int,
) -> None:
    from riff.jobs import fail_pending_id, resolve_pending_id, update_job_payload

    with_criteria = [(job.job_id, job.criteria) for job in jobs if job.criteria is not None]
    matches = match_batch(with_criteria, rows, threshold=threshold, taken=taken)  # type: ignore[arg-type]
    now = utcnow()
    for job in jobs:
        row = matches.get(job.job_id)
        with database.session() as session:  # one transaction per job: partial batches keep their results
            listing = session.get(Listing, job.listing_id) if job.listing_id else None
            if row is not None and listing is not None:
                remote_id = str(row.product_id)
                if _claim(session, listing, remote_id, row, base_url, now):
                    resolve_pending_id(session, job.job_id, {
                        "remote_id": remote_id, "url": listing.remote_url, "resolved_by": report.trigger,
                        "resolved_at": now.isoformat(), "csv_rows": len(rows),
                    })  # fmt: skip
                    report.resolved += 1
                    report.resolved_ids[job.job_id] = remote_id
                    taken.add(row.product_id)
                    continue
            attempts = job.attempts + 1
            criteria = job.criteria
            reason = (
                f"no row in the V&R export (of {len(rows)}) matched brand {criteria.brand!r}, model "
                f"{criteria.model!r}{f', sku {criteria.sku!r}' if criteria.sku else ''} newer than V&R id "
                f"{criteria.last_known_vr_id}"
                if criteria is not None
                else "the job has no match criteria"
            )
            if listing is None:
                reason = "the listing no longer exists in RIFF"
            if attempts >= max_attempts or criteria is None or listing is None:
                message = (
                    f"V&R id not resolved after {attempts} attempt(s): {reason}. The listing may exist on V&R: "
                    "check the seller's items there before publishing again."
                )
                update_job_payload(session, job.job_id, {"resolution_attempts": attempts, "submission_started": None,
                                                         "resolution_failed_at": now.isoformat()})  # fmt: skip
                fail_pending_id(session, job.job_id, message)
                if listing is not None:
                    listing.state = ListingState.ERROR
                    listing.last_error = message
                    _set_marker(listing, state="unresolved", message=message)
                report.failed += 1
                report.errors.append(f"Job {job.job_id}: {reason}")
                log.warning(
                    "vintage_and_rare.resolution.failed", job_id=job.job_id, attempts=attempts, reason=reason
                )
            else:
                update_job_payload(session, job.job_id, {"resolution_attempts": attempts,
                                                         "last_resolution_error": reason,
                                                         "last_resolution_at": now.isoformat()})  # fmt: skip
                report.unmatched += 1
                if job.pending_since is not None and now - job.pending_since > consts.STALE_PENDING:
                    log.warning("vintage_and_rare.resolution.stale", job_id=job.job_id,
                                pending_since=job.pending_since.isoformat())  # fmt: skip


def _claim(
    session: Any, listing: Listing, remote_id: str, row: InventoryRow, base_url: str, now: dt.datetime
) -> bool:
    """Record the found id on the listing (unless another listing holds it: then it is not ours)."""
    other = ListingRepository(session).by_remote_id(consts.SLUG, remote_id)
    if other is not None and other.id != listing.id:
        return False
    listing.remote_id = remote_id
    listing.remote_url = listing_url(base_url, remote_id)
    listing.state = ListingState.SOLD if row.sold else ListingState.LIVE
    listing.remote_price = row.price
    listing.last_pushed_at = listing.last_pushed_at or now
    marker = dict((listing.extras or {}).get(EXTRAS_KEY) or {})
    warnings = marker.get("warnings") or []
    listing.last_error = warnings[0] if warnings else None
    _set_marker(listing, state="resolved", remote_id=remote_id, resolved_at=now.isoformat())
    return True


def _set_marker(listing: Listing, **values: Any) -> None:
    extras = dict(listing.extras or {})
    marker = dict(extras.get(EXTRAS_KEY) or {})
    marker.update(values)
    extras[EXTRAS_KEY] = marker
    listing.extras = extras


def _record(database: Database, report: ResolutionReport) -> None:
    outcome = "ok" if not report.failed else "partial"
    message = (
        f"V&R id resolution ({report.trigger}): {report.resolved} resolved, {report.failed} failed, "
        f"{report.unmatched} still pending, {report.downloads} export download(s)"
    )
    with database.session() as session:
        repository.record_resolution(session, report.as_dict(), outcome=outcome, message=message)


def record_download_failure(database: Database, trigger: str, error: ChannelError) -> None:
    with database.session() as session:
        repository.record_resolution(
            session,
            {"trigger": trigger, "error": error.message[:500]},
            outcome="error",
            message=f"V&R id resolution ({trigger}): the export could not be downloaded: {error.message[:300]}",
        )


def status(session: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """``GET /api/vr/resolution-status``: pending count, oldest, last batch, and the pending jobs older than
    an hour (``needs_review``) for the UI."""
    now = now or utcnow()
    pending = pending_jobs(session)
    oldest = min((j.pending_since for j in pending if j.pending_since), default=None)
    last = repository.last_resolution(session)
    needs_review = [
        {
            "job_id": job.job_id,
            "product_id": job.product_id,
            "listing_id": job.listing_id,
            "sku": job.criteria.sku if job.criteria else None,
            "brand": job.criteria.brand if job.criteria else None,
            "model": job.criteria.model if job.criteria else None,
            "pending_since": job.pending_since.isoformat() if job.pending_since else None,
            "resolution_attempts": job.attempts,
        }
        for job in pending
        if job.pending_since is not None and now - job.pending_since > consts.STALE_PENDING
    ]
    return {
        "pending_count": len(pending),
        "oldest_pending": oldest.isoformat() if oldest else None,
        "last_resolution": last.at.isoformat() if last else None,
        "last_resolution_summary": (last.after if last else None),
        "last_resolution_outcome": last.outcome if last else None,
        "needs_review": needs_review,
        "needs_review_count": len(needs_review),
    }


def _parse(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
