"""Product pages: create (``/products/new``) and edit (``/products/{id}``) every field, images, listings.

The forms are plain HTML forms (they work without JavaScript); the images, listing and attribute panels
are htmx partials. Saving keeps the optimistic lock: the form carries the version it was read at, and a
save over someone else's change is refused with the conflict explained and the user's values kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from riff.auth.deps import CurrentUser, Writer
from riff.auth.models import User
from riff.catalog import images
from riff.catalog import queries as catalog_queries
from riff.catalog import service as catalog
from riff.catalog.attributes import AttributeSchema, coerce_text
from riff.catalog.categories import CategoryIndex
from riff.catalog.image_endpoints import public_base_url
from riff.catalog.models import Condition, Product, ProductStatus
from riff.catalog.schemas import ProductCreate, ProductUpdate
from riff.channels import service as channels
from riff.channels.models import ListingState
from riff.core.deps import ReadSession, get_database
from riff.core.errors import NotFound, RiffError, ValidationFailed, VersionConflict
from riff.core.logging import get_logger
from riff.jobs import service as jobs
from riff.web.common import REFRESH_PROGRESS_SECONDS, enabled_accounts, error_page
from riff.web.repository import UiRepository
from riff.web.templating import flash, redirect, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = ("sku", "title", "brand", "model", "finish", "decade", "currency", "description", "notes")
NUMBER_FIELDS = ("year", "quantity", "price", "cost")
CHOICE_FIELDS = ("condition", "status", "category")
ATTRIBUTE_PREFIX = "attr."
HISTORY_LIMIT = 50
ACTIVE_LISTING_STATES = (ListingState.PENDING,)


# ---- form <-> values ----------------------------------------------------------------------------


def _blank_values() -> dict[str, Any]:
    return {
        "sku": "", "title": "", "brand": "", "model": "", "finish": "", "decade": "", "currency": "GBP",
        "description": "", "notes": "", "year": "", "quantity": "1", "price": "", "cost": "",
        "condition": Condition.GOOD.value, "status": ProductStatus.DRAFT.value, "category": "",
        "is_stocked_item": False, "attributes": {},
    }  # fmt: skip


def _product_values(product: Product) -> dict[str, Any]:
    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "sku": product.sku,
        "title": product.title,
        "brand": text(product.brand),
        "model": text(product.model),
        "finish": text(product.finish),
        "decade": text(product.decade),
        "currency": product.currency,
        "description": product.description or "",
        "notes": product.notes or "",
        "year": text(product.year),
        "quantity": str(product.quantity),
        "price": text(product.base_price),
        "cost": text(product.cost),
        "condition": product.condition.value,
        "status": product.status.value,
        "category": product.category.slug if product.category else "",
        "is_stocked_item": product.is_stocked_item,
        "attributes": {
            k: ("true" if v is True else "false" if v is False else str(v))
            for k, v in (product.attributes or {}).items()
        },
        "version": product.version,
    }


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: str(form.get(name) or "").strip() for name in (*TEXT_FIELDS, *NUMBER_FIELDS, *CHOICE_FIELDS)
    }
    values["description"] = str(form.get("description") or "")  # keep the author's spacing
    values["notes"] = str(form.get("notes") or "")
    values["is_stocked_item"] = form.get("is_stocked_item") in ("on", "true", "1")
    values["attributes"] = {
        key[len(ATTRIBUTE_PREFIX) :]: str(value).strip()
        for key, value in form.multi_items()
        if key.startswith(ATTRIBUTE_PREFIX) and isinstance(value, str)
    }
    return values


def _schema(session: Session, category_slug: str | None) -> AttributeSchema:
    index = CategoryIndex.load(session)
    category = index.by_slug.get(category_slug or "")
    return index.schema_for(category)


def _typed_attributes(
    values: Mapping[str, str], schema: AttributeSchema, errors: dict[str, str]
) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for name in schema:
        try:
            typed[name] = coerce_text(name, values.get(name, ""), schema)
        except ValidationFailed as exc:
            errors[ATTRIBUTE_PREFIX + name] = exc.message
    return typed


def _api_payload(values: Mapping[str, Any]) -> dict[str, Any]:
    """Form strings -> the catalog schema's fields (blank optional fields are None)."""
    payload: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *NUMBER_FIELDS, *CHOICE_FIELDS):
        value = values.get(name, "")
        payload["price" if name == "price" else name] = value if value != "" else None
    payload["description"] = values.get("description", "")
    payload["notes"] = values.get("notes", "")
    payload["is_stocked_item"] = bool(values.get("is_stocked_item"))
    return payload


def _validation_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        name = loc[0] if loc else "form"
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.setdefault(name, message)
    return errors


def _riff_error_field(exc: RiffError) -> str:
    field = exc.field or "form"
    if field.startswith("attributes."):
        return ATTRIBUTE_PREFIX + field.split(".", 1)[1]
    return field


# ---- page contexts ------------------------------------------------------------------------------


def _form_context(session: Session, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "categories": UiRepository(session).categories(),
        "conditions": [c.value for c in Condition],
        "statuses": [s.value for s in ProductStatus],
        "attribute_schema": _schema(session, values.get("category")),
    }


def listings_context(session: Session, product: Product) -> dict[str, Any]:
    accounts = enabled_accounts(session)
    listings = {listing.channel: listing for listing in channels.list_product_listings(session, product.id)}
    rows: list[dict[str, Any]] = []
    for channel in dict.fromkeys([*(a.channel for a in accounts), *listings]):
        account = next((a for a in accounts if a.channel == channel), None)
        rows.append({"channel": channel, "account": account, "listing": listings.get(channel)})
    active_jobs = UiRepository(session).active_job_count_for_product(product.id)
    pending = any(listing.state in ACTIVE_LISTING_STATES for listing in listings.values())
    return {
        "product": product,
        "listing_rows": rows,
        "prices": catalog_queries.product_prices(session, product),
        "active_jobs": active_jobs,
        "poll": pending or active_jobs > 0,
        "poll_seconds": REFRESH_PROGRESS_SECONDS * 2,
    }


def images_context(session: Session, product: Product) -> dict[str, Any]:
    return {
        "product": product,
        "images": images.list_images(session, product.id),
        "max_images": images.MAX_IMAGES_PER_PRODUCT,
    }


def _history_context(session: Session, product: Product) -> dict[str, Any]:
    product_jobs, _ = jobs.list_jobs(session, product_id=product.id, limit=10)
    return {
        "events": UiRepository(session).events(product_id=product.id, limit=HISTORY_LIMIT),
        "movements": catalog.stock_movements(session, product)[:HISTORY_LIMIT],
        "product_jobs": product_jobs,
    }


def _product_page(
    request: Request,
    session: Session,
    product: Product,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": product.title,
        "mode": "edit",
        "conflict": conflict,
        **_form_context(session, values or _product_values(product), errors or {}),
        **listings_context(session, product),
        **images_context(session, product),
        **_history_context(session, product),
    }
    return render(request, "products/detail.html", context, status_code=status_code)


def _new_page(
    request: Request, session: Session, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    chosen = set(values.get("publish_to", []))
    context = {
        "title": "Add product",
        "mode": "new",
        "accounts": enabled_accounts(session),
        "publish_to": chosen,
        **_form_context(session, values, errors),
    }
    return render(request, "products/new.html", context, status_code=status_code)


# ---- create ---------------------------------------------------------------------------------------


@router.get("/products/new", response_class=HTMLResponse)
def new_product(request: Request, session: ReadSession, _user: Writer) -> HTMLResponse:
    return _new_page(request, session, _blank_values(), {})


def _uploads(form: Any) -> list[UploadFile]:
    return [f for f in form.getlist("images") if isinstance(f, UploadFile) and f.filename]


@router.post("/products/new", response_class=HTMLResponse)
async def create_product(request: Request, user: Writer) -> Response:
    form = await request.form()
    values = _form_values(form)
    values["publish_to"] = [str(c) for c in form.getlist("publish_to")]
    uploads = [(upload.filename, await upload.read(images.MAX_IMAGE_BYTES + 1)) for upload in _uploads(form)]
    database = get_database(request)
    data_dir: Path = request.app.state.settings.data_dir
    errors: dict[str, str] = {}
    written: list[str] = []
    try:
        with database.session() as session:
            typed = _typed_attributes(values["attributes"], _schema(session, values["category"]), errors)
            if errors:
                raise ValidationFailed("check the highlighted fields")
            try:
                data = ProductCreate.model_validate(
                    {**_api_payload(values), "attributes": {k: v for k, v in typed.items() if v is not None}}
                )
            except ValidationError as exc:
                errors.update(_validation_errors(exc))
                raise ValidationFailed("check the highlighted fields") from None
            product = catalog.create_product(session, data, actor=user.username)
            for filename, content in uploads:
                try:
                    image = images.add_image(
                        session, product, content, data_dir=data_dir, public_base_url=public_base_url(request)
                    )
                except RiffError as exc:
                    errors["images"] = f"{filename}: {exc.message}"
                    raise
                if image.file_path:
                    written.append(image.file_path)
            product_id = product.id
    except RiffError as exc:
        images.remove_files(data_dir, written)
        if not errors:
            errors[_riff_error_field(exc)] = exc.message
        with database.read_session() as session:
            return _new_page(request, session, values, errors, status_code=422)
    flash(request, f"Created {values['sku']}.", "success")
    _publish_many(request, user, product_id, values["publish_to"])
    log.info("web.product.create.success", product_id=product_id, actor=user.username, images=len(uploads))
    return redirect(request, f"/products/{product_id}")


def _publish_many(request: Request, user: User, product_id: int, chosen: list[str]) -> None:
    if not chosen:
        return
    sent: list[str] = []
    with get_database(request).session() as session:
        product = catalog.get_product(session, product_id)
        for channel in dict.fromkeys(chosen):
            try:
                with session.begin_nested():
                    channels.publish_product(session, product, channel)
                sent.append(channel)
            except RiffError as exc:
                flash(request, f"Not published on {channel}: {exc.message}", "error")
    if sent:
        names = ", ".join(sent)
        flash(request, f"Publishing on {names}; the Listings panel shows progress.", "info")
    log.info("web.product.publish.requested", product_id=product_id, channels=sent, actor=user.username)


# ---- view and edit --------------------------------------------------------------------------------


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(request: Request, product_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    try:
        product = catalog.get_product(session, product_id)
    except NotFound as exc:
        return error_page(request, exc)
    return _product_page(request, session, product)


@router.post("/products/{product_id}", response_class=HTMLResponse)
async def save_product(request: Request, product_id: int, user: Writer) -> Response:
    form = await request.form()
    values = _form_values(form)
    version_text = str(form.get("version") or "")
    values["version"] = int(version_text) if version_text.isdigit() else 0
    database = get_database(request)
    errors: dict[str, str] = {}
    conflict: str | None = None
    try:
        with database.session() as session:
            product = catalog.get_product_for_update(session, product_id)
            schema = _schema(session, values["category"])
            typed = _typed_attributes(values["attributes"], schema, errors)
            # Attributes the new category does not know are removed, not left to fail validation.
            typed.update({name: None for name in (product.attributes or {}) if name not in schema})
            if errors:
                raise ValidationFailed("check the highlighted fields")
            try:
                changes = ProductUpdate.model_validate(
                    {**_api_payload(values), "attributes": typed, "version": values["version"] or 1}
                )
            except ValidationError as exc:
                errors.update(_validation_errors(exc))
                raise ValidationFailed("check the highlighted fields") from None
            changed = catalog.update_product(session, product, changes, actor=user.username)
    except NotFound as exc:
        return error_page(request, exc)
    except VersionConflict as exc:
        current = (exc.details or {}).get("current_version")
        conflict = (
            "Someone else saved this product while you were editing it, so your changes were not saved. "
            "Your values are still in the form: check them against the history below, then save again "
            "to overwrite, or reload the page to start from the saved version."
        )
        values["version"] = current or values["version"]
    except RiffError as exc:
        if not errors:
            errors[_riff_error_field(exc)] = exc.message
    if conflict or errors:
        with database.read_session() as session:
            product = catalog.get_product(session, product_id)
            return _product_page(
                request, session, product, values, errors, conflict, status_code=409 if conflict else 422
            )
    if changed:
        flash(request, f"Saved: {', '.join(changed)}.", "success")
    else:
        flash(request, "No changes to save.", "info")
    return redirect(request, f"/products/{product_id}")


@router.get("/products/{product_id}/attributes", response_class=HTMLResponse)
@router.get("/products/new/attributes", response_class=HTMLResponse)
def attribute_fields(
    request: Request,
    session: ReadSession,
    _user: CurrentUser,
    product_id: int | None = None,
    category: str = "",
) -> HTMLResponse:
    """The category's attribute inputs, swapped in when the category select changes."""
    current: dict[str, Any] = {}
    if product_id is not None:
        product = session.get(Product, product_id)
        current = _product_values(product)["attributes"] if product else {}
    given = {
        k[len(ATTRIBUTE_PREFIX) :]: v
        for k, v in request.query_params.items()
        if k.startswith(ATTRIBUTE_PREFIX)
    }
    return render(
        request,
        "products/partials/attributes.html",
        {
            "attribute_schema": _schema(session, category),
            "values": {"attributes": {**current, **given}},
            "errors": {},
        },
    )


# ---- listings panel --------------------------------------------------------------------------------


def _listings_panel(request: Request, session: Session, product_id: int) -> HTMLResponse:
    product = catalog.get_product(session, product_id)
    return render(request, "products/partials/listings.html", listings_context(session, product))


@router.get("/products/{product_id}/listings", response_class=HTMLResponse)
def listings_panel(
    request: Request, product_id: int, session: ReadSession, _user: CurrentUser
) -> HTMLResponse:
    return _listings_panel(request, session, product_id)


@router.post("/products/{product_id}/listings/{channel}/{action}", response_class=HTMLResponse)
def listing_action(request: Request, product_id: int, channel: str, action: str, user: Writer) -> Response:
    if action not in ("publish", "end"):
        return error_page(request, NotFound(f"no listing action {action!r}"))
    database = get_database(request)
    try:
        with database.session() as session:
            product = catalog.get_product(session, product_id)
            if action == "publish":
                channels.publish_product(session, product, channel)
            else:
                channels.end_product_listing(session, product, channel)
        verb = "Publishing on" if action == "publish" else "Ending the listing on"
        flash(request, f"{verb} {channel}…", "info")
        log.info(
            "web.listing.action.requested",
            product_id=product_id,
            channel=channel,
            action=action,
            actor=user.username,
        )
    except RiffError as exc:
        flash(request, f"{channel}: {exc.message}", "error")
    with database.read_session() as session:
        return _listings_panel(request, session, product_id)


# ---- images panel ------------------------------------------------------------------------------------


def _images_panel(request: Request, session: Session, product_id: int) -> HTMLResponse:
    product = catalog.get_product(session, product_id)
    return render(
        request, "products/partials/images.html", {**images_context(session, product), "user_can_write": True}
    )


@router.get("/products/{product_id}/images", response_class=HTMLResponse)
def images_panel(request: Request, product_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    return _images_panel(request, session, product_id)


@router.post("/products/{product_id}/images", response_class=HTMLResponse)
async def upload_images(request: Request, product_id: int, user: Writer) -> Response:
    form = await request.form()
    database = get_database(request)
    data_dir: Path = request.app.state.settings.data_dir
    uploads = _uploads(form)
    if not uploads:
        flash(request, "Choose one or more pictures to upload.", "warning")
    written: list[str] = []
    try:
        with database.session() as session:
            product = catalog.get_product(session, product_id)
            for upload in uploads:
                content = await upload.read(images.MAX_IMAGE_BYTES + 1)
                try:
                    image = images.add_image(
                        session, product, content, data_dir=data_dir, public_base_url=public_base_url(request)
                    )
                except RiffError as exc:
                    raise ValidationFailed(f"{upload.filename}: {exc.message}") from None
                written.extend([image.file_path] if image.file_path else [])
            if uploads:
                images.push_image_change(session, product, actor=user.username)
        if uploads:
            flash(request, f"Added {len(uploads)} picture(s).", "success")
    except RiffError as exc:
        images.remove_files(data_dir, written)
        flash(request, f"No pictures added: {exc.message}", "error")
    log.info("web.images.upload.done", product_id=product_id, count=len(uploads), actor=user.username)
    with database.read_session() as session:
        return _images_panel(request, session, product_id)


@router.post("/products/{product_id}/images/{image_id}/move", response_class=HTMLResponse)
def move_image(request: Request, product_id: int, image_id: int, user: Writer, offset: int = 0) -> Response:
    database = get_database(request)
    try:
        with database.session() as session:
            product = catalog.get_product(session, product_id)
            images.move_image(session, product, image_id, max(-1, min(1, offset)))
            images.push_image_change(session, product, actor=user.username)
    except RiffError as exc:
        flash(request, exc.message, "error")
    with database.read_session() as session:
        return _images_panel(request, session, product_id)


@router.post("/products/{product_id}/images/{image_id}/delete", response_class=HTMLResponse)
def delete_image(request: Request, product_id: int, image_id: int, user: Writer) -> Response:
    database = get_database(request)
    files: list[str] = []
    try:
        with database.session() as session:
            product = catalog.get_product(session, product_id)
            files = images.delete_image(session, product, image_id)
            images.push_image_change(session, product, actor=user.username)
        images.remove_files(request.app.state.settings.data_dir, files)
        flash(request, "Picture removed.", "success")
    except RiffError as exc:
        flash(request, exc.message, "error")
    with database.read_session() as session:
        return _images_panel(request, session, product_id)
