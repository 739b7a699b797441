"""``VintageAndRareChannel``: the channel contract on top of the website client.

V&R quirks the contract has to absorb (docs/channels/vintage_and_rare.md):

- Creating a listing usually returns **no id**: ``create_listing`` reports what it knows and the job layer
  resolves the id later from the CSV export, in batches (``resolution.py``). ``publish`` (the plain contract
  method) resolves at once with one export download.
- **No orders, no webhooks**: a sale on V&R shows up as ``product sold = yes`` in the export (pull sync).
- **End** is "mark as sold" (the site has no other way to take an item off sale short of deleting it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx

from riff.channels.adapter_base import ChannelAdapterBase
from riff.channels.contract import (
    Capabilities,
    EndReason,
    ListingSnapshot,
    ProductSnapshot,
    RemoteListing,
    RemoteListingRef,
    RemoteOrder,
    RemoteState,
    WebhookEvent,
)
from riff.channels.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient
from riff.channels.http import RateLimiter, RequestCounters
from riff.channels.vintage_and_rare import brands, browser, consts, forms, images, inventory_csv, mapping
from riff.channels.vintage_and_rare.brands import BrandCheck, BrandValidator
from riff.channels.vintage_and_rare.client import SiteMaintenance, VintageAndRareClient
from riff.channels.vintage_and_rare.cookies import CookieJar, cookie_status
from riff.channels.vintage_and_rare.mapping import VintageAndRareConfig, VintageAndRareSecrets
from riff.channels.vintage_and_rare.session import Upload
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings, get_vr_settings
from riff.core.logging import get_logger

log = get_logger(__name__)

MEDIA_ARRAYS = (
    "thumb_name[]", "file_unique_id[]", "product_media_id[]", "original_name[]", "media_type[]", "size[]",
    "new_upload[]", "video_file_name[]", "description_name[]",
)  # fmt: skip


@dataclasses.dataclass
class CreateOutcome:
    """What one create attempt knows afterwards.

    ``remote_id`` when the site revealed it; else ``ambiguous`` tells "submitted, no id" (False) from "the
    submission may or may not have reached V&R" (True: a timeout or 5xx after sending); both are resolved
    from the export, never by submitting again."""

    remote_id: str | None
    method: str
    ambiguous: bool = False
    landing_url: str | None = None


class _FallBack(Exception):
    """The HTTP create failed before anything was submitted: the browser may succeed."""

    def __init__(self, error: ChannelError | Exception) -> None:
        super().__init__(str(error))
        self.error = error


class VintageAndRareChannel(ChannelAdapterBase[VintageAndRareConfig, VintageAndRareClient]):
    slug = consts.SLUG
    display_name = consts.DISPLAY_NAME
    default_base_url = consts.DEFAULT_BASE_URL
    config_model = VintageAndRareConfig
    secrets_model = VintageAndRareSecrets
    capabilities = Capabilities(
        webhooks=False,
        quantity_above_one=False,
        max_images=consts.MAX_IMAGES,
        variations=False,
        incremental_listing_fetch=False,  # the export is all or nothing
        order_polling=False,
    )
    # Declared nightly downtime (UTC); the account's ``maintenance_window`` config overrides it.
    maintenance_window_utc: ClassVar[tuple[dt.time, dt.time]] = consts.MAINTENANCE_WINDOW_UTC

    def __init__(
        self,
        *,
        config: Mapping[str, Any] | VintageAndRareConfig,
        secrets: Mapping[str, Any] | VintageAndRareSecrets,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        counters: RequestCounters | None = None,
        settings: VintageAndRareSettings | None = None,
        jar: CookieJar | None = None,
    ) -> None:
        self.config = self._coerce(VintageAndRareConfig, config)
        self.settings = settings or get_vr_settings()
        username, password = mapping.resolved_secrets(
            secrets,
            self.settings.username,
            self.settings.password.get_secret_value() if self.settings.password else None,
        )
        self.base_url = (self._base_url_or_default(base_url)).rstrip("/")
        self.jar = jar or CookieJar.load(
            path=self.settings.cookie_store_path(),
            base64_text=self.settings.cookies_base64.get_secret_value()
            if self.settings.cookies_base64
            else None,
        )
        self.client = VintageAndRareClient(
            base_url=self.base_url,
            settings=self.settings,
            jar=self.jar,
            username=username,
            password=password,
            backend=self.config.http_backend,
            maintenance_window=mapping.parse_window(self.config.maintenance_window),
            rate_limiter=rate_limiter,
            counters=counters,
            transport=transport,
        )
        self._image_transport: httpx.AsyncBaseTransport | None = None
        self.export_max_id = 0  # the highest id in an export this adapter downloaded

    @classmethod
    def preflight(cls, product: ProductSnapshot, config: Mapping[str, Any]) -> None:
        """Refuse, without any request, what V&R cannot take (currency, price, brand, model, category)."""
        mapping.check_listable(product, VintageAndRareConfig.model_validate(dict(config)))

    def listing_url(self, remote_id: str) -> str:
        return mapping.listing_url(self.base_url, remote_id)

    # --- brands -------------------------------------------------------------------------------------------

    def brand_validator(self, local_lookup: Callable[[str], bool] | None = None) -> BrandValidator:
        settings = self.settings

        async def ajax(brand: str) -> str | None:
            return await self.client.check_brand_exists(brand, timeout_seconds=settings.brand_timeout)

        return BrandValidator(
            scope=self.base_url,
            ajax_check=ajax,
            local_lookup=local_lookup,
            known_brands=brands.load_known_brands(settings.known_brands_file),
            cache=brands.shared_cache(settings.brand_cache_ttl, settings.brand_cache_max),
            timeout_seconds=settings.brand_timeout,
        )

    async def validate_brand(
        self, brand: str, local_lookup: Callable[[str], bool] | None = None
    ) -> BrandCheck:
        return await self.brand_validator(local_lookup).validate(brand)

    async def suggest_brands(self, term: str) -> list[dict[str, str]]:
        return await self.client.suggest_brands(term)

    async def brand_to_list(
        self, brand: str, local_lookup: Callable[[str], bool] | None = None
    ) -> tuple[str, str | None]:
        """The brand to put on the form and a warning when it is the fallback brand.

        Accepted -> itself. Refused by V&R -> the configured fallback brand with a warning (or ``Rejected``
        when ``use_fallback_brand`` is off). Unknown because V&R cannot be asked -> ``Transient``."""
        check = await self.validate_brand(brand, local_lookup)
        if check.valid:
            return brand, None
        if check.valid is None:
            raise Transient(
                f"cannot validate the brand {brand!r} with V&R now ({check.message}); will retry",
                channel=self.slug,
                field="brand",
            )
        if not self.config.use_fallback_brand:
            raise Rejected(f"V&R does not accept the brand {brand!r}", channel=self.slug, field="brand")
        warning = brands.fallback_warning(brand, self.config.default_brand)
        log.warning("vintage_and_rare.brand.fallback", brand=brand, fallback=self.config.default_brand)
        return self.config.default_brand, warning

    # --- create -------------------------------------------------------------------------------------------

    async def create_listing(
        self, product: ProductSnapshot, *, brand: str, prefetch_next: bool = False
    ) -> CreateOutcome:
        """Fill and submit the add form once (HTTP or browser, per ``create_method``; HTTP falls back to
        the browser when it fails before submitting). Never resubmits what the site may have saved.

        ``prefetch_next``: another create follows (the caller knows the queue): while the site processes
        this post, the HTTP path loads the add form that create will fill (``NEXT_FORMS``)."""
        mapping.check_listable(product, self.config)
        urls = [image.url for image in sorted(product.images, key=lambda i: i.position)]
        async with images.downloaded(urls, transport=self._image_transport) as local_images:
            if self.config.create_method == "http":
                try:
                    return await self._create_http(product, brand, local_images, prefetch_next=prefetch_next)
                except _FallBack as fallback:
                    if not self.config.browser_fallback:
                        raise _channel_error(fallback.error) from None
                    log.warning(
                        "vintage_and_rare.create.fallback_to_browser", error=str(fallback.error)[:300]
                    )
            return await self._create_browser(product, brand, local_images)

    async def _create_http(
        self,
        product: ProductSnapshot,
        brand: str,
        local_images: Sequence[images.LocalImage],
        *,
        prefetch_next: bool = False,
    ) -> CreateOutcome:
        ahead = _FormAhead(self) if prefetch_next else None
        try:
            outcome = await self._post_add_form(product, brand, local_images, ahead)
        except BaseException:
            if ahead is not None:
                await ahead.settle(wait=False)
            raise
        if ahead is not None:
            await ahead.settle(wait=True)
        return outcome

    async def _post_add_form(
        self,
        product: ProductSnapshot,
        brand: str,
        local_images: Sequence[images.LocalImage],
        ahead: _FormAhead | None,
    ) -> CreateOutcome:
        for round_number in range(2):
            # A form loaded for this create while the previous one was posted; else load it now.
            form = NEXT_FORMS.take(self._form_key()) if round_number == 0 else None
            loaded_ahead = form is not None
            if form is None:
                try:
                    form = await self.client.get_add_form()
                except (Rejected, AuthExpired, RateLimited, SiteMaintenance):
                    raise  # the browser would meet the same answer
                except (ChannelError, forms.FormNotFound) as exc:
                    raise _FallBack(exc) from None
            if not form.has("form_token") or not form.has("recipient_name"):
                raise _FallBack(
                    ChannelError("the add form has changed (no form_token/recipient_name)", channel=self.slug)
                )
            self._fill_add_form(form, product, brand)
            uploads = [
                Upload(f"image_{n}", image.filename, image.path.read_bytes(), image.content_type)
                for n, image in enumerate(local_images, start=1)
            ]
            if ahead is not None:
                ahead.start()  # the next create's form loads while the site processes this post
            try:
                response = await self.client.submit_item_form(consts.ADD_FORM_PATH, form.values(), uploads)
            except ChannelError as exc:
                if getattr(exc, "processed_unknown", False):
                    log.warning("vintage_and_rare.create.ambiguous", sku=product.sku, error=exc.message[:300])
                    return CreateOutcome(remote_id=None, method="http", ambiguous=True)
                raise
            location = response.location if response.is_redirect else None
            if location and "/login" in location:
                if round_number == 0:
                    await self.client.login(force=True)  # the session died between the form and the post
                    continue
                break  # logged in again and sent back to the login page: nothing was saved
            if location:
                remote_id = mapping.item_id_from_url(location)
                log.info("vintage_and_rare.create.ok", sku=product.sku, remote_id=remote_id, method="http")
                return CreateOutcome(remote_id=remote_id, method="http", landing_url=location)
            errors = forms.page_errors(response.content)
            if errors and loaded_ahead:
                # The site refused a form loaded ahead (its token may no longer be valid). A refusal saves
                # nothing, so the create goes once more with a form loaded now.
                log.warning(
                    "vintage_and_rare.create.form_ahead_refused", sku=product.sku, error=errors[0][:300]
                )
                continue
            if errors:
                raise Rejected("; ".join(errors), channel=self.slug, field=browser._field_of(errors[0]))
            raise _FallBack(ChannelError(f"the add form answered {response.status} without a redirect or an error",
                                         channel=self.slug))  # fmt: skip
        raise AuthExpired("V&R keeps losing the session while RIFF submits the add form", channel=self.slug)

    def _form_key(self) -> tuple[str, str] | None:
        """Which forms loaded ahead this create may use: the site's, from this PHP session."""
        cookie = self.jar.get(consts.SESSION_COOKIE, self.client.session.host)
        return (self.base_url, cookie.value) if cookie is not None else None

    def _fill_add_form(self, form: forms.HtmlForm, product: ProductSnapshot, brand: str) -> None:
        for name, value in mapping.form_values(product, brand, self.config).items():
            form.set(name, value)
        for name, checked in mapping.form_checkboxes(self.config).items():
            form.set_checked(name, checked)
        form.set_checked("call_price", False)
        form.set("item_desc", product.description or "")
        form.drop("shipping_fees_region[]")
        form.drop("shipping_fees_fee[]")
        for region, fee in mapping.shipping_fees(self.config).items():
            form.append("shipping_fees_region[]", region)
            form.append("shipping_fees_fee[]", fee)

    async def _create_browser(
        self, product: ProductSnapshot, brand: str, local_images: Sequence[images.LocalImage]
    ) -> CreateOutcome:
        values = mapping.form_values(product, brand, self.config)
        categories = [values.pop(f"categ_level_{level}") for level in range(4)]
        browser_form = browser.BrowserForm(
            values=values,
            checkboxes={**mapping.form_checkboxes(self.config), "call_price": False},
            categories=[c for c in categories if c],
            shipping_fees=mapping.shipping_fees(self.config),
            description=product.description or "",
            image_paths=[image.path for image in local_images],
        )
        cookies = self.jar.cookies()
        username, password = self.client.username, self.client.password

        def drive() -> tuple[str, list[Any]]:
            with browser.running_browser(self.settings, self.base_url, self.settings.user_agent) as session:
                session.load_cookies(cookies)
                try:
                    landing = session.create_listing(browser_form, username=username, password=password)
                finally:
                    harvested = session.cookies()
                return landing, harvested

        self.client.check_maintenance()
        try:
            landing, harvested = await asyncio.to_thread(drive)
        except browser.SubmittedButUnconfirmed as exc:
            log.warning("vintage_and_rare.create.ambiguous", sku=product.sku, error=exc.message[:300])
            return CreateOutcome(remote_id=None, method="browser", ambiguous=True)
        self.jar.update(harvested)
        remote_id = mapping.item_id_from_url(landing)
        log.info("vintage_and_rare.create.ok", sku=product.sku, remote_id=remote_id, method="browser")
        return CreateOutcome(remote_id=remote_id, method="browser", landing_url=landing)

    # --- the channel contract -------------------------------------------------------------------------------

    async def publish(self, product: ProductSnapshot, *, remote_id: str | None = None) -> RemoteListingRef:
        """Create and find the id at once (one export download when the site does not reveal it).

        Idempotent: a known ``remote_id`` is reused, and a row in the export carrying our SKU counts as the
        listing (when V&R kept the SKU). The V&R job handlers batch the id look-ups instead (``tasks.py``)."""
        if remote_id:
            return RemoteListingRef(id=remote_id, url=self.listing_url(remote_id), state=RemoteState.LIVE)
        from riff.channels.vintage_and_rare import resolution

        mapping.check_listable(product, self.config)
        rows = await self.inventory_rows()
        existing = resolution.find_by_sku(product.sku, rows)
        if existing is not None:
            return RemoteListingRef(id=str(existing.product_id), url=self.listing_url(str(existing.product_id)),
                                    state=RemoteState.SOLD if existing.sold else RemoteState.LIVE)  # fmt: skip
        last_known = max((row.product_id for row in rows), default=0)
        brand, _warning = await self.brand_to_list(product.brand or "")
        outcome = await self.create_listing(product, brand=brand)
        if outcome.remote_id:
            return RemoteListingRef(
                id=outcome.remote_id, url=self.listing_url(outcome.remote_id), state=RemoteState.LIVE
            )
        criteria = resolution.MatchCriteria.for_product(product, brand=brand, last_known_vr_id=last_known)
        found = resolution.match_batch([(0, criteria)], await self.inventory_rows(),
                                       threshold=self.config.model_match_threshold)  # fmt: skip
        if 0 not in found:
            raise Transient(
                "the listing was submitted but is not in the V&R export yet",
                channel=self.slug,
                retry_after=60,
            )
        found_id = str(found[0].product_id)
        return RemoteListingRef(id=found_id, url=self.listing_url(found_id), state=RemoteState.LIVE)

    async def update(self, listing: ListingSnapshot, changed_fields: set[str]) -> RemoteListingRef:
        """Through the edit form, sending back every field it does not change (the site empties a field
        left out), and never the unchanged description (the form corrupts its HTML)."""
        product = listing.product
        changes = mapping.edit_changes(product, changed_fields)
        if changed_fields & {"quantity", "is_stocked_item"} and product.quantity <= 0:
            await self.end(listing, EndReason.SOLD_ELSEWHERE)
            return RemoteListingRef(
                id=listing.remote_id, url=self.listing_url(listing.remote_id), state=RemoteState.SOLD
            )
        touches_form = bool(changes) or bool(changed_fields & {"brand", "description", "images"})
        if not touches_form:
            return RemoteListingRef(
                id=listing.remote_id, url=self.listing_url(listing.remote_id), state=RemoteState.UNKNOWN
            )
        warning = None
        for round_number in range(2):
            form = await self.client.get_edit_form(listing.remote_id)
            for name, value in changes.items():
                form.set(name, value)
            if "brand" in changed_fields:
                brand, warning = await self.brand_to_list(product.brand or "")
                form.set("recipient_name", brand)
            if "description" in changed_fields:
                form.set("item_desc", product.description or "")
            else:
                form.drop("item_desc")  # a round trip through the textarea corrupts the HTML
            if "images" in changed_fields:
                await self._replace_images(form, product)
            path = consts.EDIT_FORM_PATH.format(id=listing.remote_id)
            response = await self.client.submit_item_form(path, form.values(), template=consts.EDIT_FORM_PATH)
            location = response.location if response.is_redirect else None
            if location and "/login" in location and round_number == 0:
                await self.client.login(force=True)
                continue
            if location:
                log.info("vintage_and_rare.update.ok", remote_id=listing.remote_id, fields=sorted(changed_fields),
                         warning=warning)  # fmt: skip
                return RemoteListingRef(id=listing.remote_id, url=self.listing_url(listing.remote_id),
                                        state=RemoteState.UNKNOWN)  # fmt: skip
            errors = forms.page_errors(response.content)
            message = (
                "; ".join(errors) if errors else f"the edit form answered {response.status} without saving"
            )
            raise Rejected(message, channel=self.slug, field=browser._field_of(message))
        raise AuthExpired("V&R keeps losing the session while RIFF submits the edit form", channel=self.slug)

    async def _replace_images(self, form: forms.HtmlForm, product: ProductSnapshot) -> None:
        old_media = [v for v in form.get_all("product_media_id[]") if v and v != "0"]
        urls = [image.url for image in sorted(product.images, key=lambda i: i.position)]
        async with images.downloaded(urls, transport=self._image_transport) as local_images:
            uploads = [
                Upload("filename[0]", i.filename, i.path.read_bytes(), i.content_type) for i in local_images
            ]
            user_id = form.get("user_id") or ""
            stored = await self.client.dropzone_upload(user_id, uploads) if uploads else []
        for name in MEDIA_ARRAYS:
            form.drop(name)
        for item, image in zip(stored, local_images, strict=False):
            form.append("thumb_name[]", str(item.get("thumbnailName") or ""))
            form.append("file_unique_id[]", str(item.get("file_unique_id") or ""))
            form.append("product_media_id[]", "0")
            form.append("original_name[]", image.filename)
            form.append("media_type[]", "photo")
            form.append("size[]", str(item.get("size") or image.size))
            form.append("new_upload[]", "1")
            form.append("video_file_name[]", "")
            form.append("description_name[]", "")
        for media_id in old_media:
            form.append("delete_item_images[]", media_id)

    async def end(self, listing: ListingSnapshot, reason: EndReason) -> RemoteListingRef:
        """Mark as sold (V&R's only "end"); an item already sold answers ``true`` too."""
        done = await self.client.mark_as_sold(listing.remote_id)
        if done is False:
            raise NotFound(f"V&R item {listing.remote_id} was not found (deleted?)", channel=self.slug)
        return RemoteListingRef(
            id=listing.remote_id, url=self.listing_url(listing.remote_id), state=RemoteState.SOLD
        )

    async def end_remote(self, remote_id: str) -> RemoteListingRef:
        done = await self.client.mark_as_sold(remote_id)
        if done is False:
            raise NotFound(f"V&R item {remote_id} was not found (deleted?)", channel=self.slug)
        return RemoteListingRef(id=remote_id, url=self.listing_url(remote_id), state=RemoteState.SOLD)

    async def relist(self, remote_id: str) -> RemoteListingRef:
        """``restore_from_sold``: back on sale. ``false`` means not sold or unknown."""
        done = await self.client.restore_from_sold(remote_id)
        if done is False:
            raise Rejected(
                f"V&R could not restore item {remote_id} (not sold, or deleted)", channel=self.slug
            )
        return RemoteListingRef(id=remote_id, url=self.listing_url(remote_id), state=RemoteState.LIVE)

    async def delete(self, remote_id: str) -> RemoteListingRef:
        done = await self.client.delete_item(remote_id)
        if done is False:
            raise NotFound(f"V&R item {remote_id} was not found", channel=self.slug)
        return RemoteListingRef(id=remote_id, state=RemoteState.ENDED)

    # --- the inventory export ---------------------------------------------------------------------------

    async def download_inventory(self, directory: Path | None = None) -> Path:
        return await self.client.download_inventory(directory)

    async def inventory_rows(self) -> list[inventory_csv.InventoryRow]:
        """Download and parse the whole export (one ~3 MB download on the real site)."""
        path = await self.download_inventory()
        try:
            rows = await asyncio.to_thread(lambda: list(inventory_csv.parse_rows(path)))
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        self.export_max_id = max([self.export_max_id, *(row.product_id for row in rows)])
        return rows

    def pending_account_updates(self) -> tuple[dict[str, Any], dict[str, str]] | None:
        """Saved on the account after a job (``riff.channels.tasks.connected``): the floor for new ids."""
        if self.export_max_id > self.config.last_export_max_id:
            return {"last_export_max_id": self.export_max_id}, {}
        return None

    async def fetch_listings(self, since: dt.datetime | None = None) -> AsyncIterator[RemoteListing]:
        """Every item in the export (``since`` is ignored: the export cannot filter)."""
        for row in await self.inventory_rows():
            yield inventory_csv.remote_listing(row, self.base_url, self.config.currency)

    # --- no orders, no webhooks -----------------------------------------------------------------------------

    async def fetch_orders(self, since: dt.datetime) -> list[RemoteOrder]:
        return []  # V&R offers no order data to read; a sale shows in the export as "product sold"

    async def fetch_order(self, remote_id: str) -> RemoteOrder:
        raise NotFound("V&R has no order API", channel=self.slug)

    async def mark_shipped(self, order_id: str, carrier: str, tracking: str) -> RemoteOrder | None:
        return None  # nothing to tell V&R: shipping is arranged with the buyer directly

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        raise Rejected("Vintage & Rare sends no webhooks", channel=self.slug)

    async def handle_webhook(self, event: WebhookEvent) -> RemoteOrder | RemoteListing | None:
        return None

    # --- cookies ---------------------------------------------------------------------------------------------

    async def harvest_cookies(self, *, log_in: bool = True) -> dict[str, Any]:
        count = await self.client.harvest_cookies(log_in=log_in)
        return {"cookies": count, **self.cookies_status()}

    def cookies_status(self) -> dict[str, Any]:
        status = cookie_status(self.jar.cookies(), warn_days=self.settings.cookie_warn_days)
        status["store"] = str(self.jar.path) if self.jar.path else None
        return status


FormKey = tuple[str, str]  # (site, PHP session id)


class NextForms:
    """Add forms loaded ahead of the creates that will fill them: at most one per site and PHP session, each
    handed out once, and only while younger than ``max_age_seconds``. Process-wide (an adapter lives for one
    job; the form is for the next job's create). Thread-safe.

    Never a form reused: each create posts a form loaded for it alone (the site issues a ``form_token`` per page
    view and accepts it once); only *when* it is loaded changes."""

    def __init__(self, max_age_seconds: float = consts.NEXT_FORM_MAX_AGE_SECONDS) -> None:
        self.max_age_seconds = max_age_seconds
        self._forms: dict[FormKey, tuple[float, forms.HtmlForm]] = {}
        self._lock = threading.Lock()

    def put(self, key: FormKey | None, form: forms.HtmlForm, *, now: float | None = None) -> None:
        if key is None:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            for stale in [k for k, (at, _) in self._forms.items() if now - at > self.max_age_seconds]:
                del self._forms[stale]
            self._forms[key] = (now, form)  # an older one for the same session goes unused: no harm

    def take(self, key: FormKey | None, *, now: float | None = None) -> forms.HtmlForm | None:
        if key is None:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._forms.pop(key, None)
        if entry is None or now - entry[0] > self.max_age_seconds:
            return None
        return entry[1]

    def clear(self) -> None:
        with self._lock:
            self._forms.clear()


NEXT_FORMS = NextForms()


class _FormAhead:
    """Loads the next create's add form while this create's post is in flight, then keeps it in
    ``NEXT_FORMS``. Best effort: it never logs in, never starts a browser, and a failure only means the next
    create loads its form itself."""

    def __init__(self, channel: VintageAndRareChannel) -> None:
        self.channel = channel
        self.task: asyncio.Task[tuple[FormKey | None, forms.HtmlForm]] | None = None

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._load())
            self.task.add_done_callback(_consume_outcome)

    async def _load(self) -> tuple[FormKey | None, forms.HtmlForm]:
        await asyncio.sleep(consts.NEXT_FORM_DELAY_SECONDS)  # the post goes out first
        form = await self.channel.client.get_add_form(quiet=True)
        return self.channel._form_key(), form  # the session that was served this form

    async def settle(self, *, wait: bool) -> None:
        """Keep the form if it loaded (waiting up to ``NEXT_FORM_WAIT_SECONDS`` when ``wait``), else drop it."""
        task = self.task
        if task is None:
            return
        if wait and not task.done():
            await asyncio.wait([task], timeout=consts.NEXT_FORM_WAIT_SECONDS)
        if not task.done():
            task.cancel()
            return
        if task.cancelled() or task.exception() is not None:
            log.info("vintage_and_rare.create.form_ahead_unavailable",
                     error=None if task.cancelled() else str(task.exception())[:200])  # fmt: skip
            return
        key, form = task.result()
        if form.has("form_token") and form.has("recipient_name"):
            NEXT_FORMS.put(key, form)


def _consume_outcome(task: asyncio.Task[Any]) -> None:
    """A form loaded ahead that nobody waits for: its outcome is read, so asyncio does not warn."""
    if not task.cancelled():
        task.exception()


def _channel_error(error: ChannelError | Exception) -> ChannelError:
    if isinstance(error, ChannelError):
        return error
    return ChannelError(str(error), channel=consts.SLUG)


__all__ = ["NEXT_FORMS", "CreateOutcome", "NextForms", "VintageAndRareChannel"]
