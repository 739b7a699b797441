"""The Vintage & Rare site's state and what its pages, forms and AJAX endpoints do to it.

All methods run inside one store transaction and never render HTML (``pages.py`` does). Items are the
seller's listings; brands, categories, sessions, form tokens, clearances and uploads live beside them.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import isoformat_utc, parse_datetime
from riff_sandbox.vintage_and_rare.consts import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FIRST_ITEM_ID,
    FIRST_MEDIA_ID,
    MAX_BRAND_SUGGESTIONS,
    MAX_IMAGES,
    SELLER_USER_ID,
    SHIPPING_REGIONS,
    SHOP_SLUG,
    VAT_RATE_PERCENT,
)

Record = dict[str, Any]

ITEMS = "items"
SESSIONS = "sessions"
UPLOADS = "uploads"
MEDIA_FILES = "media_files"

MAX_STORED_IMAGE_BYTES = 512 * 1024
CHECKBOXES = (
    "call_price",
    "available_for_shipment",
    "local_pickup",
    "show_vat",
    "in_collective",
    "in_inventory",
    "in_reseller",
    "buy_now",
    "free_shipping",
)
TEXT_FIELDS = (
    "recipient_name",
    "model_name",
    "year",
    "finish_color",
    "price",
    "discounted_price",
    "external_id",
    "processing_time",
    "collective_discount",
    "offer_discount",
    "youtube_upload",
    "external_url",
)
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class VintageAndRareOptions(BaseModel):
    """Sandbox settings (``riff_sandbox.testing.running("vintage_and_rare", tmp, **options)``); everything
    but the credentials can also be changed while it runs: ``POST /_sandbox/vintage_and_rare/settings``."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(DEFAULT_USERNAME, description="The dealer account's login")
    password: str = Field(DEFAULT_PASSWORD, description="The dealer account's password")
    cloudflare: bool = Field(True, description="Challenge requests without a valid cf_clearance cookie")
    clearance_ttl_seconds: float = Field(30 * 86400, gt=0, description="How long a cf_clearance stays valid")
    detect_webdriver: bool = Field(True, description="Refuse challenges solved with navigator.webdriver true")
    session_ttl_seconds: float = Field(7200, gt=0, description="PHP session idle lifetime")
    id_in_redirect: bool = Field(
        False, description="The add form's redirect names the new item (the real site often does not)"
    )
    export_external_id_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of export rows that keep the external id (the real export drops it)",
    )
    export_seconds: float = Field(0.0, ge=0, le=600, description="Minimum time the CSV export takes")
    index_delay_seconds: float = Field(0.0, ge=0, description="A new item reaches the export only this late")
    create_seconds: float = Field(0.0, ge=0, le=600, description="Minimum time the add-item POST takes")
    require_export_referer: bool = Field(
        True, description="The CSV needs the export page visited first in the session (Referer check)"
    )
    maintenance_window_utc: str | None = Field(
        "03:00-05:00",
        description="Nightly maintenance (HH:MM-HH:MM UTC): every page answers 503; null: never",
    )
    maintenance_now: bool = Field(False, description="Answer 503 maintenance now, whatever the time")


@functools.cache
def _load(name: str) -> Any:
    return json.loads(
        resources.files("riff_sandbox.vintage_and_rare").joinpath("data", name).read_text("utf-8")
    )


def category_tree() -> list[dict[str, Any]]:
    return list(_load("categories.json")["categories"])


@functools.cache
def _category_index() -> dict[tuple[str, ...], str]:
    """Path of ids -> name, for every prefix of every path."""
    index: dict[tuple[str, ...], str] = {}

    def walk(nodes: list[dict[str, Any]], prefix: tuple[str, ...]) -> None:
        for node in nodes:
            path = (*prefix, str(node["id"]))
            index[path] = node["name"]
            walk(node.get("children") or [], path)

    walk(category_tree(), ())
    return index


def category_path_names(path: Sequence[str]) -> list[str] | None:
    """Names along a path of ids, or None when the path is not in the tree."""
    names = []
    for depth in range(1, len(path) + 1):
        name = _category_index().get(tuple(path[:depth]))
        if name is None:
            return None
        names.append(name)
    return names


def category_has_children(path: Sequence[str]) -> bool:
    return any(len(key) == len(path) + 1 and key[: len(path)] == tuple(path) for key in _category_index())


def brands() -> list[dict[str, str]]:
    return list(_load("brands.json")["brands"])


def in_window(window: str | None, now: datetime) -> bool:
    if not window:
        return False
    match = _WINDOW.match(window)
    if not match:
        return False
    start = time(int(match.group(1)), int(match.group(2)))
    end = time(int(match.group(3)), int(match.group(4)))
    current = now.time().replace(tzinfo=None)
    if start <= end:
        return start <= current < end
    return current >= start or current < end  # a window across midnight


def decade_of(year: str | int | None) -> str:
    try:
        value = int(str(year))
    except (TypeError, ValueError):
        return ""
    return f"{value // 10 * 10}s"


def money_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


@dataclass
class FormInput:
    """A submitted add/edit form: every value in order (repeated names keep all), plus uploaded files."""

    values: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (filename, data)

    def first(self, name: str) -> str | None:
        for key, value in self.values:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.values if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.values)


class FormErrors(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class VintageAndRareSite:
    def __init__(self, tx: Transaction, options: VintageAndRareOptions, now: datetime) -> None:
        self.tx = tx
        self.options = options
        self.now = now

    # Sessions ------------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> str | None:
        if not (
            secrets.compare_digest(username.encode(), self.options.username.encode())
            and secrets.compare_digest(password.encode(), self.options.password.encode())
        ):
            return None
        session_id = secrets.token_hex(13)  # PHP session ids are 26 characters of [0-9a-v]
        self.tx.put(
            SESSIONS,
            session_id,
            {
                "id": session_id,
                "user_id": SELLER_USER_ID,
                "username": self.options.username,
                "created_at": isoformat_utc(self.now),
                "last_seen_at": isoformat_utc(self.now),
                "export_visited": False,
                "form_tokens": [],
            },
        )
        return session_id

    def session(self, session_id: str | None) -> Record | None:
        """The logged-in session, touched; None when unknown or idle past ``session_ttl_seconds``."""
        if not session_id:
            return None
        record = self.tx.get(SESSIONS, session_id)
        if record is None:
            return None
        idle = self.now - parse_datetime(record["last_seen_at"])
        if idle.total_seconds() > self.options.session_ttl_seconds:
            self.tx.delete(SESSIONS, session_id)
            return None
        record["last_seen_at"] = isoformat_utc(self.now)
        self.tx.put(SESSIONS, session_id, record)
        return record

    def save_session(self, record: Record) -> None:
        self.tx.put(SESSIONS, record["id"], record)

    def logout(self, session_id: str | None) -> None:
        if session_id:
            self.tx.delete(SESSIONS, session_id)

    def expire_sessions(self) -> int:
        count = self.tx.count(SESSIONS)
        self.tx.clear_collection(SESSIONS)
        return count

    def new_form_token(self, session: Record) -> str:
        token = secrets.token_hex(16)
        session["form_tokens"] = [*session.get("form_tokens", [])[-19:], token]
        self.save_session(session)
        return token

    def consume_form_token(self, session: Record, token: str | None) -> bool:
        tokens = session.get("form_tokens", [])
        if not token or token not in tokens:
            return False
        session["form_tokens"] = [t for t in tokens if t != token]
        self.save_session(session)
        return True

    # Brands --------------------------------------------------------------------------------------

    def brand_id(self, name: str) -> str | None:
        wanted = name.strip().lower()
        if not wanted:
            return None
        return next((b["id"] for b in brands() if b["name"].lower() == wanted), None)

    def brand_name(self, name: str) -> str | None:
        wanted = name.strip().lower()
        return next((b["name"] for b in brands() if b["name"].lower() == wanted), None)

    def suggest_brands(self, term: str) -> list[dict[str, str]]:
        wanted = term.strip().lower()
        if not wanted:
            return []
        starts = [b for b in brands() if b["name"].lower().startswith(wanted)]
        contains = [b for b in brands() if wanted in b["name"].lower() and b not in starts]
        return [
            {"id": b["id"], "label": b["name"], "value": b["name"]}
            for b in (starts + contains)[:MAX_BRAND_SUGGESTIONS]
        ]

    # Items ---------------------------------------------------------------------------------------

    def item(self, item_id: int | str | None) -> Record | None:
        try:
            key = int(str(item_id))
        except (TypeError, ValueError):
            return None
        record = self.tx.get(ITEMS, key)
        return None if record is None or record.get("deleted") else record

    def items(self, *, include_deleted: bool = False) -> list[Record]:
        return [r for r in self.tx.list(ITEMS) if include_deleted or not r.get("deleted")]

    def save_item(self, record: Record) -> None:
        record["updated_at"] = isoformat_utc(self.now)
        self.tx.put(ITEMS, record["id"], record)

    def new_item_id(self) -> int:
        return self.tx.next_value("item_id", FIRST_ITEM_ID)

    def new_media_id(self) -> int:
        return self.tx.next_value("media_id", FIRST_MEDIA_ID)

    def exported_items(self) -> list[Record]:
        """What the CSV export shows now: not deleted, and indexed (``index_delay_seconds`` after creation,
        with the delay in force now)."""
        cutoff = isoformat_utc(self.now - timedelta(seconds=self.options.index_delay_seconds))
        return [r for r in self.items() if (r.get("created_at") or "") <= cutoff]

    def mark_sold(self, record: Record) -> None:
        if not record.get("sold"):
            record["sold"] = True
            record["sold_at"] = isoformat_utc(self.now)
        self.save_item(record)

    def restore_from_sold(self, record: Record) -> bool:
        if not record.get("sold"):
            return False
        record["sold"] = False
        record["sold_at"] = None
        self.save_item(record)
        return True

    def delete(self, record: Record) -> None:
        record["deleted"] = True
        record["deleted_at"] = isoformat_utc(self.now)
        self.tx.put(ITEMS, record["id"], record)

    # Uploads and media ---------------------------------------------------------------------------

    def store_upload(self, filename: str, data: bytes) -> Record:
        """A Dropzone upload: kept until an edit form submission attaches it (by ``file_unique_id``)."""
        unique_id = secrets.token_hex(10)
        safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename or "image.jpg")[-80:] or "image.jpg"
        record = {
            "success": True,
            "file_unique_id": unique_id,
            "thumbnailName": f"thumb_{unique_id}_{safe_name}",
            "fileName": f"{unique_id}_{safe_name}",
            "size": len(data),
            "user_id": SELLER_USER_ID,
        }
        self.tx.put(UPLOADS, unique_id, {**record, "data": _b64(data)})
        return record

    def new_media(self, filename: str, data: bytes | None) -> Record:
        media_id = self.new_media_id()
        if data is not None:
            self.tx.put(MEDIA_FILES, media_id, {"data": _b64(data)})
        return {
            "media_id": media_id,
            "file_name": filename or f"{media_id}.jpg",
            "size": len(data) if data is not None else 0,
            "path": f"/uploads/products/{SHOP_SLUG}/{media_id}/original.jpg",
        }

    def media_bytes(self, media_id: int) -> bytes | None:
        record = self.tx.get(MEDIA_FILES, media_id)
        if record is None or not record.get("data"):
            return None
        return base64.b64decode(record["data"])

    # The add/edit form ---------------------------------------------------------------------------

    def apply_form(self, form: FormInput, existing: Record | None) -> Record:
        """Validate a submitted add (``existing`` None) or edit form and return the item to save.

        Like the real PHP form, every field is taken from the submission: a field left out is emptied
        (unchecked, blank), so an edit must send back the values it does not change. Two exceptions, both
        the site's: ``item_desc`` left out keeps the description (clients leave it out because a
        round-trip through the form's textarea corrupts the HTML), and images are kept unless listed in
        ``delete_item_images[]``.
        """
        errors: list[str] = []
        brand_input = (form.first("recipient_name") or "").strip()
        brand = self.brand_name(brand_input) if brand_input else None
        if not brand_input:
            errors.append("Please enter the brand name.")
        elif brand is None:
            errors.append(
                f'The brand "{brand_input}" is not in our brand list. Please choose a brand from the suggestions.'
            )
        model = (form.first("model_name") or "").strip()
        if not model:
            errors.append("Please enter the model name.")
        price = _decimal(form.first("price"))
        if price is None or price <= 0:
            errors.append("Please enter a valid price.")
        year = (form.first("year") or "").strip()
        if year and not re.fullmatch(r"(18|19|20)\d{2}", year):
            errors.append("Year must be a 4-digit year.")
        categories = [(form.first(f"categ_level_{level}") or "").strip() for level in range(4)]
        while categories and not categories[-1]:
            categories.pop()
        if not categories:
            errors.append("Please select a category.")
        elif "" in categories or category_path_names(categories) is None:
            errors.append("Invalid category selection.")
        discounted = _decimal(form.first("discounted_price"))
        shipping = self._shipping(form, errors)
        media = self._media(form, existing, errors)
        if errors:
            raise FormErrors(errors)
        assert price is not None and brand is not None
        record: Record = dict(existing) if existing else {}
        record.update(
            brand=brand,
            brand_id=self.brand_id(brand),
            model=model,
            year=year,
            decade=(form.first("decade") or "").strip() or decade_of(year),
            finish=(form.first("finish_color") or "").strip(),
            price=money_text(price),
            discounted_price=money_text(discounted) if discounted else "",
            external_id=(form.first("external_id") or "").strip(),
            processing_time=(form.first("processing_time") or "").strip(),
            processing_unit=(form.first("hours_days_sel") or "Days").strip() or "Days",
            collective_discount=(form.first("collective_discount") or "").strip(),
            offer_discount=(form.first("offer_discount") or "").strip(),
            video_url=(form.first("youtube_upload") or "").strip(),
            external_url=(form.first("external_url") or "").strip(),
            categories=categories,
            shipping_fees=shipping,
            media=media,
            **{name: form.first(name) in ("1", "on", "yes", "true") for name in CHECKBOXES},
        )
        if existing is None or form.has("item_desc"):
            record["description"] = form.first("item_desc") or ""
        return record

    def _shipping(self, form: FormInput, errors: list[str]) -> dict[str, str]:
        regions = form.all("shipping_fees_region[]")
        fees = form.all("shipping_fees_fee[]")
        shipping: dict[str, str] = {}
        for region, fee in zip(regions, fees, strict=False):
            if not region and not fee:
                continue
            if region not in SHIPPING_REGIONS:
                errors.append(f'Unknown shipping region "{region}".')
                continue
            amount = _decimal(fee)
            if amount is None or amount < 0:
                errors.append(f"Please enter a valid shipping fee for {region}.")
                continue
            shipping[region] = money_text(amount)
        return shipping

    def _media(self, form: FormInput, existing: Record | None, errors: list[str]) -> list[Record]:
        current = list(existing.get("media") or []) if existing else []
        deleted = {str(v) for v in form.all("delete_item_images[]")}
        media_ids = form.all("product_media_id[]")
        media: list[Record] = []
        if existing is None:
            for number in range(1, MAX_IMAGES + 2):
                upload = form.files.get(f"image_{number}")
                if upload is None or not upload[1]:
                    continue
                if len(media) >= MAX_IMAGES:
                    errors.append(f"You can upload at most {MAX_IMAGES} images.")
                    break
                media.append(self.new_media(upload[0], _keep(upload[1])))
            return media
        if not media_ids:
            return [m for m in current if str(m["media_id"]) not in deleted]
        by_id = {str(m["media_id"]): m for m in current}
        unique_ids = form.all("file_unique_id[]")
        new_flags = form.all("new_upload[]")
        for index, media_id in enumerate(media_ids):
            is_new = index < len(new_flags) and new_flags[index] == "1"
            if is_new:
                unique_id = unique_ids[index] if index < len(unique_ids) else ""
                stored = self.tx.get(UPLOADS, unique_id) if unique_id else None
                if stored is None:
                    errors.append("An uploaded image was not found; please upload it again.")
                    continue
                self.tx.delete(UPLOADS, unique_id)
                media.append(self.new_media(stored["fileName"], base64.b64decode(stored["data"] or "")))
            elif media_id in by_id and media_id not in deleted:
                media.append(by_id[media_id])
        if len(media) > MAX_IMAGES:
            errors.append(f"You can upload at most {MAX_IMAGES} images.")
        return media

    def create_item(self, form: FormInput) -> Record:
        record = self.apply_form(form, None)
        item_id = self.new_item_id()
        created = isoformat_utc(self.now)
        record.update(
            id=item_id,
            user_id=SELLER_USER_ID,
            sold=False,
            sold_at=None,
            deleted=False,
            product_order=item_id - FIRST_ITEM_ID + 1,
            created_at=created,
        )
        self.save_item(record)
        return record

    # The CSV export ------------------------------------------------------------------------------

    def export_row(self, record: Record, base_url: str) -> list[str]:
        names = category_path_names(record.get("categories") or []) or []
        price = _decimal(record.get("price")) or Decimal(0)
        notax = price * 100 / (100 + VAT_RATE_PERCENT)
        keep_external = _keeps_external_id(record["id"], self.options.export_external_id_share)
        processing = record.get("processing_time") or ""
        return [
            record.get("brand") or "",
            ">".join(names),
            str(record["id"]),
            (record.get("external_id") or "") if keep_external else "",
            record.get("model") or "",
            money_text(price),
            money_text(notax),
            record.get("description") or "",
            record.get("year") or "",
            "yes" if record.get("sold") else "no",
            record.get("finish") or "",
            _yes_no(record.get("in_collective")),
            _yes_no(record.get("in_inventory")),
            _yes_no(record.get("in_reseller")),
            record.get("collective_discount") or "",
            _yes_no(record.get("free_shipping")),
            _yes_no(record.get("buy_now")),
            _yes_no(record.get("show_vat")),
            record.get("decade") or "",
            str(record.get("product_order") or ""),
            _yes_no(record.get("local_pickup")),
            _yes_no(record.get("available_for_shipment")),
            f"{processing} {record.get('processing_unit') or 'Days'}" if processing else "",
            record.get("offer_discount") or "",
            "|".join(base_url + m["path"] for m in record.get("media") or []),
            record.get("video_url") or "",
            record.get("external_url") or "",
            "",  # the export's trailing unnamed column
        ]


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _keeps_external_id(item_id: int, share: float) -> bool:
    if share >= 1:
        return True
    if share <= 0:
        return False
    return (item_id * 2654435761 % 2**32) / 2**32 < share  # a stable pseudo-random pick per item


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _keep(data: bytes) -> bytes | None:
    return data if len(data) <= MAX_STORED_IMAGE_BYTES else None
