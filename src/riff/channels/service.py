"""Channel domain logic: accounts (encrypted secrets), product snapshots, listing requests, the event inbox.

Services never commit. Requests to a marketplace are never made here: they are jobs, enqueued in the
caller's transaction so a job exists exactly when the change that caused it was committed.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets as secrets_module
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from riff.catalog.models import Product
from riff.catalog.pricing import effective_price
from riff.channels.contract import (
    Channel,
    EndReason,
    ImageRef,
    ListingSnapshot,
    ProductSnapshot,
    RemoteOrder,
    WebhookEvent,
)
from riff.channels.errors import AuthExpired, ChannelError
from riff.channels.http import RateLimiter
from riff.channels.models import AccountStatus, ChannelAccount, ChannelEvent, Listing, ListingState
from riff.channels.registry import channel_class
from riff.channels.repository import (
    ChannelAccountRepository,
    ChannelEventRepository,
    ListingRepository,
    PricingRepository,
)
from riff.channels.schemas import AccountCreate, AccountRead, AccountUpdate
from riff.core.clock import utcnow
from riff.core.errors import Conflict, NotFound, ValidationFailed
from riff.core.logging import get_logger
from riff.core.security import SecretBox
from riff.sync.models import SyncEvent

log = get_logger(__name__)

WEBHOOK_TOKEN_KEY = "webhook_token"
ORDER_EVENT_KIND = "order_event"


# --- accounts ---------------------------------------------------------------------------------------


def read_secrets(box: SecretBox, account: ChannelAccount) -> dict[str, str]:
    if not account.secrets_encrypted:
        return {}
    data = json.loads(box.decrypt(account.secrets_encrypted))
    return {str(k): str(v) for k, v in data.items() if v is not None}


def _write_secrets(box: SecretBox, account: ChannelAccount, values: dict[str, str]) -> None:
    account.secrets_encrypted = box.encrypt(json.dumps(values, sort_keys=True)) if values else None


def _validate(model: type[BaseModel], data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Validate against the channel's model; returns the keys given, normalized (``"77"`` for a string)."""
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        # Pydantic's message never includes a secret's value for missing/extra keys; we do not echo input.
        raise ValidationFailed(f"{prefix}.{field}: {first['msg']}", field=f"{prefix}.{field}") from None
    return validated.model_dump(mode="json", exclude_unset=True)


def account_read(box: SecretBox, account: ChannelAccount) -> AccountRead:
    read = AccountRead.model_validate(account)
    try:
        read.secret_keys = sorted(read_secrets(box, account))
    except ValueError:
        read.secret_keys = []
    return read


def list_accounts(session: Session, channel: str | None = None) -> Sequence[ChannelAccount]:
    return ChannelAccountRepository(session).list(channel)


def get_account(session: Session, account_id: int) -> ChannelAccount:
    account = ChannelAccountRepository(session).get(account_id)
    if account is None:
        raise NotFound(f"channel account {account_id} not found", field="account_id")
    return account


def create_account(session: Session, box: SecretBox, data: AccountCreate) -> ChannelAccount:
    cls = channel_class(data.channel)
    config = _validate(cls.config_model, data.config, "config")
    _validate(cls.secrets_model, data.secrets, "secrets")
    repository = ChannelAccountRepository(session)
    if repository.get_by_name(data.channel, data.name) is not None:
        raise Conflict(f"a {data.channel} account named {data.name!r} already exists", field="name")
    account = ChannelAccount(
        channel=data.channel,
        name=data.name,
        enabled=data.enabled,
        is_sandbox=data.is_sandbox,
        base_url=data.base_url,
        config=config,
        status=AccountStatus.OK,
    )
    _write_secrets(box, account, dict(data.secrets))
    repository.create(account)
    log.info("channels.account.create.ok", account_id=account.id, channel=account.channel, name=account.name)
    return account


def update_account(
    session: Session, box: SecretBox, account: ChannelAccount, data: AccountUpdate
) -> ChannelAccount:
    cls = channel_class(account.channel)
    values = data.model_dump(exclude_unset=True, exclude={"config", "secrets"})
    if "name" in values and values["name"] != account.name:
        if ChannelAccountRepository(session).get_by_name(account.channel, values["name"]) is not None:
            raise Conflict(
                f"a {account.channel} account named {values['name']!r} already exists", field="name"
            )
    for key, value in values.items():
        setattr(account, key, value)
    if data.config is not None:
        config = dict(account.config or {})
        for key, value in data.config.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        account.config = _validate(cls.config_model, config, "config")
    if data.secrets is not None:
        current = read_secrets(box, account)
        for key, secret in data.secrets.items():
            if secret is None:
                current.pop(key, None)
            else:
                current[key] = secret
        _validate(cls.secrets_model, current, "secrets")
        _write_secrets(box, account, current)
        # New credentials are the user's answer to "needs attention": let jobs try again.
        account.status = AccountStatus.OK
        account.status_message = None
    session.flush()
    log.info("channels.account.update.ok", account_id=account.id, fields=sorted(data.model_fields_set))
    return account


def store_channel_updates(
    session: Session,
    master_key: bytes,
    account_id: int,
    *,
    config: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> None:
    """Merge values a channel maintains itself (an OAuth access token, its expiry, call counts) into the
    account. Unlike ``update_account`` this leaves ``status`` alone: a token refresh is not the user's answer
    to "needs attention"."""
    account = get_account(session, account_id)
    if config:
        account.config = {**(account.config or {}), **config}
    if secrets:
        box = SecretBox(master_key)
        _write_secrets(box, account, {**read_secrets(box, account), **secrets})
    session.flush()
    log.info("channels.account.updates.ok", account_id=account_id, config_keys=sorted(config or {}))


def set_enabled(session: Session, account: ChannelAccount, enabled: bool) -> ChannelAccount:
    account.enabled = enabled
    session.flush()
    return account


def rotate_webhook_token(session: Session, box: SecretBox, account: ChannelAccount) -> str:
    """A fresh secret path token for ``/webhooks/<channel>/{token}``; shown once, stored encrypted."""
    token = secrets_module.token_urlsafe(32)
    current = read_secrets(box, account)
    current[WEBHOOK_TOKEN_KEY] = token
    _write_secrets(box, account, current)
    session.flush()
    return token


def find_account_by_webhook_token(
    session: Session, box: SecretBox, channel: str, token: str
) -> ChannelAccount | None:
    """Compare the path token with every enabled account's, in constant time (no early exit on a match)."""
    found: ChannelAccount | None = None
    for account in ChannelAccountRepository(session).list(channel):
        try:
            expected = read_secrets(box, account).get(WEBHOOK_TOKEN_KEY)
        except ValueError:
            continue
        if expected and hmac.compare_digest(expected.encode(), token.encode()) and account.enabled:
            found = found or account
    return found


def resolve_account(session: Session, channel: str, account_id: int | None = None) -> ChannelAccount:
    channel_class(channel)
    if account_id is not None:
        account = get_account(session, account_id)
        if account.channel != channel:
            raise Conflict(
                f"account {account_id} belongs to {account.channel}, not {channel}", field="account_id"
            )
        return account
    enabled = ChannelAccountRepository(session).first_enabled(channel)
    if enabled is None:
        raise Conflict(
            f"no enabled {channel} account: add one with `riff channels add {channel}`", field="channel"
        )
    return enabled


def mark_needs_attention(session: Session, account_id: int, message: str) -> None:
    ChannelAccountRepository(session).set_status(account_id, AccountStatus.NEEDS_ATTENTION, message)
    log.warning("channels.account.needs_attention", account_id=account_id, message=message)


def ensure_usable(account: ChannelAccount) -> None:
    """Fail fast, without a request, while an account waits for the user (no retry storm)."""
    if account.status == AccountStatus.NEEDS_ATTENTION:
        raise AuthExpired(
            account.status_message or f"the {account.channel} account needs attention",
            channel=account.channel,
        )
    if not account.enabled:
        raise AuthExpired(
            f"the {account.channel} account {account.name!r} is disabled", channel=account.channel
        )


def open_channel(
    account: ChannelAccount,
    master_key: bytes,
    *,
    rate_limiter: RateLimiter | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Channel:
    cls = channel_class(account.channel)
    return cls(  # type: ignore[call-arg]
        config=account.config or {},
        secrets=read_secrets(SecretBox(master_key), account),
        base_url=account.base_url or cls.default_base_url,
        transport=transport,
        rate_limiter=rate_limiter,
    )


# --- snapshots ----------------------------------------------------------------------------------------


def product_snapshot(
    session: Session, product: Product, channel: str, listing: Listing | None = None
) -> ProductSnapshot:
    """The product as ``channel`` shows it: effective price, mapped category, public image URLs."""
    pricing = PricingRepository(session)
    price = effective_price(
        product.base_price, pricing.rule_for(channel), listing.price_override if listing else None
    )
    remote_ids: list[str] = []
    if product.category_id is not None:
        mapping = pricing.category_mapping(product.category_id, channel)
        if mapping is not None:
            remote_ids = list(mapping.remote_ids or [])
    images = [
        ImageRef(url=image.source_url, position=image.position)
        for image in product.images
        if image.source_url
    ]
    return ProductSnapshot(
        product_id=product.id,
        sku=product.sku,
        title=product.title,
        brand=product.brand,
        model=product.model,
        year=product.year,
        decade=product.decade,
        finish=product.finish,
        condition=str(product.condition),
        description=product.description or "",
        price=price,
        currency=product.currency,
        quantity=product.quantity,
        is_stocked_item=product.is_stocked_item,
        category_slug=product.category.slug if product.category is not None else None,
        category_remote_ids=remote_ids,
        images=images,
        attributes=dict(product.attributes or {}),
    )


def listing_snapshot(session: Session, listing: Listing) -> ListingSnapshot:
    if not listing.remote_id:
        raise Conflict(f"listing {listing.id} has no remote id yet", field="listing_id")
    return ListingSnapshot(
        listing_id=listing.id,
        remote_id=listing.remote_id,
        product=product_snapshot(session, listing.product, listing.channel, listing),
    )


# --- listing requests (enqueue jobs) -----------------------------------------------------------------


def _enqueue(session: Session, kind: str, **kwargs: Any) -> int | None:
    from riff.jobs import enqueue  # the job engine's public API

    job = enqueue(session, kind, **kwargs)
    job_id = getattr(job, "id", job)
    return job_id if isinstance(job_id, int) else None


def _priority(name: str) -> int:
    from riff.jobs.consts import Priority

    return int(Priority[name])


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found", field="product_id")
    return product


def list_product_listings(session: Session, product_id: int) -> Sequence[Listing]:
    get_product(session, product_id)
    return ListingRepository(session).for_product(product_id)


def publish_product(
    session: Session, product: Product, channel: str, *, price_override: Decimal | None = None
) -> tuple[Listing, int | None]:
    """Create (or reuse) the product's listing row for ``channel`` and enqueue ``<channel>.publish``."""
    account = resolve_account(session, channel)
    repository = ListingRepository(session)
    listing = repository.for_product_channel(product.id, channel)
    if listing is None:
        listing = repository.create(
            Listing(
                product_id=product.id,
                channel=channel,
                account_id=account.id,
                state=ListingState.PENDING,
                extras={},
            )
        )
    else:
        listing.account_id = listing.account_id or account.id
        if listing.state in (ListingState.ENDED, ListingState.ERROR, ListingState.SOLD):
            listing.state = ListingState.PENDING
    if price_override is not None:
        listing.price_override = price_override
    # Validate now what can be validated without the network, so the user sees a bad mapping at once.
    cls = channel_class(channel)
    _preflight(cls, account, product_snapshot(session, product, channel, listing))
    listing.last_error = None
    session.flush()
    job_id = _enqueue(
        session,
        f"{channel}.publish",
        channel=channel,
        product_id=product.id,
        listing_id=listing.id,
        priority=_priority("NORMAL"),
        coalesce_key=f"{channel}.publish:{listing.id}",
    )
    return listing, job_id


def _preflight(cls: type[Channel], account: ChannelAccount, snapshot: ProductSnapshot) -> None:
    preflight = getattr(cls, "preflight", None)
    if preflight is None:
        return
    try:
        preflight(snapshot, account.config or {})
    except ChannelError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from None


def update_listing(session: Session, listing: Listing, changed_fields: set[str]) -> int | None:
    """Enqueue ``<channel>.update`` sending only ``changed_fields``: one queued job per listing, carrying
    the union of the fields changed before it starts (``riff.sync.push.enqueue_update``)."""
    if not changed_fields:
        return None
    from riff.sync.push import enqueue_update  # the sync engine owns coalescing of listing pushes

    return enqueue_update(session, listing, changed_fields)


def end_product_listing(
    session: Session, product: Product, channel: str, reason: EndReason = EndReason.NOT_SOLD
) -> tuple[Listing, int | None]:
    listing = ListingRepository(session).for_product_channel(product.id, channel)
    if listing is None:
        raise NotFound(f"product {product.id} has no {channel} listing", field="channel")
    if listing.remote_id is None:
        # Never reached the channel: nothing to end remotely.
        listing.state = ListingState.ENDED
        session.flush()
        return listing, None
    job_id = _enqueue(
        session,
        f"{channel}.end",
        channel=channel,
        product_id=product.id,
        listing_id=listing.id,
        payload={"reason": str(reason)},
        priority=_priority("URGENT"),
        coalesce_key=f"{channel}.end:{listing.id}",
    )
    return listing, job_id


def request_mark_shipped(
    session: Session, channel: str, order_id: str, carrier: str, tracking: str
) -> int | None:
    resolve_account(session, channel)
    return _enqueue(
        session,
        f"{channel}.mark_shipped",
        channel=channel,
        payload={"order_id": order_id, "carrier": carrier, "tracking": tracking},
        priority=_priority("HIGH"),
    )


def request_pull_listings(session: Session, channel: str) -> int | None:
    resolve_account(session, channel)
    return _enqueue(
        session,
        f"{channel}.pull_listings",
        channel=channel,
        priority=_priority("LOW"),
        coalesce_key=f"{channel}.pull_listings",
    )


def request_fetch_orders(session: Session, channel: str, since: dt.datetime | None = None) -> int | None:
    resolve_account(session, channel)
    payload = {"since": since.isoformat()} if since else {}
    return _enqueue(
        session,
        f"{channel}.fetch_orders",
        channel=channel,
        payload=payload,
        priority=_priority("LOW"),
        coalesce_key=f"{channel}.fetch_orders",
    )


# --- inbox --------------------------------------------------------------------------------------------


def record_event(
    session: Session, account: ChannelAccount, event: WebhookEvent, *, enqueue_handler: bool = True
) -> int | None:
    """Store one inbound event; the handler job is enqueued only when the row is new. Returns its id."""
    event_id = ChannelEventRepository(session).insert_if_new(
        {
            "channel": event.channel,
            "account_id": account.id,
            "external_id": event.dedupe_key[:200],
            "topic": event.topic[:80],
            "object_id": event.external_id[:120],
            "payload": event.payload,
            "received_at": utcnow(),
        }
    )
    if event_id is None:
        log.info(f"{event.channel}.webhook.duplicate", topic=event.topic, object_id=event.external_id)
        return None
    if enqueue_handler:
        _enqueue(
            session,
            f"{event.channel}.webhook",
            channel=event.channel,
            payload={"event_id": event_id, "account_id": account.id},
            priority=_priority("HIGH"),
        )
        from riff.sync.sales import order_event_received  # a sale delivery ends the others at once

        order_event_received(session, event.channel, event.topic, event.payload)
    return event_id


def get_event(session: Session, event_id: int) -> ChannelEvent:
    event = ChannelEventRepository(session).get(event_id)
    if event is None:
        raise NotFound(f"channel event {event_id} not found")
    return event


def record_remote_order(session: Session, channel: str, order: RemoteOrder, *, source: str) -> SyncEvent:
    """Hand a confirmed order to the rest of RIFF: one ``sync_events`` row per order state seen."""
    listing = None
    for line in order.lines:
        if line.remote_listing_id:
            listing = ListingRepository(session).by_remote_id(channel, line.remote_listing_id)
            if listing is not None:
                break
    event = SyncEvent(
        channel=channel,
        product_id=listing.product_id if listing else None,
        listing_id=listing.id if listing else None,
        kind=ORDER_EVENT_KIND,
        after=order.model_dump(mode="json", exclude={"raw"}),
        outcome="ok",
        message=f"{channel} order {order.remote_id} {order.status} (via {source})",
        actor=f"{channel}:{source}",
    )
    session.add(event)
    session.flush()
    from riff.sync import sales  # the sync engine: order record, stock, ending the other listings

    sales.process_remote_order(session, channel, order, source=source)
    return event
