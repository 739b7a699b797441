"""Records domain logic. A record is a product (catalog) plus a ``records`` row; both are created and
changed together, in the caller's transaction. Services flush, never commit.

The product side is derived from the record where a record knows better: the title ("Artist - Title"),
the condition (from the media grade), the year, the category (``records``) and the category's attributes
(format, artist, label, catalog number, grades as short codes), so other channels and the catalog's own
filters see a consistent product.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog import service as catalog_service
from riff.catalog.categories import CategoryIndex
from riff.catalog.models import Category, Condition, MovementReason, Product
from riff.catalog.repository import ProductRepository
from riff.catalog.schemas import ProductCreate
from riff.core.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from riff.core.logging import get_logger
from riff.records.consts import (
    CARRIER_BY_FORMAT_WORD,
    CONDITION_BY_GRADE,
    FACET_ARTIST,
    FACET_FORMAT,
    FACET_GENRE,
    FACET_LABEL,
    FACET_STYLE,
    MAX_ITEM_CHARS,
    MAX_LIST_ITEMS,
    MEDIA_GRADE_CODES,
    RECORDS_ATTRIBUTE_SCHEMA,
    RECORDS_CATEGORY_NAME,
    RECORDS_CATEGORY_SLUG,
    SLEEVE_GRADE_CODES,
    MediaGrade,
    SleeveGrade,
)
from riff.records.models import Record
from riff.records.repository import RecordRepository
from riff.records.schemas import (
    PRODUCT_UPDATE_FIELDS,
    ListingLink,
    RecordCreate,
    RecordFields,
    RecordOut,
    RecordPage,
    RecordQuery,
    RecordUpdate,
)

log = get_logger(__name__)

RECORD_FIELDS = tuple(RecordFields.model_fields)
MAX_PRODUCT_TITLE = 300
MAX_ATTRIBUTE_TEXT = 500
_QUANTITY_PREFIX = re.compile(r"^\d+\s*x\s*", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


# --- derived values -------------------------------------------------------------------------------------


def format_words(format_text: str | None, formats: Iterable[str] = ()) -> list[str]:
    """'2xLP, Album, RE' -> ['Vinyl', 'LP', 'Album', 'RE']: the carrier(s) first, then each word."""
    words: list[str] = []
    for part in re.split(r"[,+]", format_text or ""):
        word = _QUANTITY_PREFIX.sub("", part.strip())
        if word:
            words.append(word)
    words.extend(f.strip() for f in formats if f.strip())
    carriers = [CARRIER_BY_FORMAT_WORD[w.lower()] for w in words if w.lower() in CARRIER_BY_FORMAT_WORD]
    return list(dict.fromkeys([*carriers, *words]))[:MAX_LIST_ITEMS]


def format_code(words: Sequence[str]) -> str:
    """The catalog's ``format`` attribute (lp, ep, single, 78, cassette, cd, box_set) for format words."""
    lowered = {w.lower() for w in words}
    if lowered & {"box", "box set"}:
        return "box_set"
    if lowered & {"cass", "cassette"}:
        return "cassette"
    if lowered & {"cd", "cdr", "sacd"}:
        return "cd"
    if lowered & {"78 rpm", "shellac"}:
        return "78"
    if lowered & {'7"', "single", "45 rpm"} and not lowered & {"lp", "album"}:
        return "single"
    if "ep" in lowered:
        return "ep"
    return "lp"


def display_artist(artist: str | None, artists: Sequence[str]) -> str:
    return (artist or " & ".join(artists)).strip()


def product_title(artist: str, title: str) -> str:
    text = f"{artist} - {title}" if artist and title else (title or artist or "Untitled record")
    return text[:MAX_PRODUCT_TITLE]


def condition_for(media: MediaGrade | str | None) -> Condition | None:
    return CONDITION_BY_GRADE.get(MediaGrade(media)) if media else None


def record_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {"format": format_code(values["formats"])}
    if values["artist"]:
        attributes["artist"] = values["artist"][:MAX_ATTRIBUTE_TEXT]
    if values["labels"]:
        attributes["label"] = values["labels"][0][:MAX_ATTRIBUTE_TEXT]
    if values["catalog_number"]:
        attributes["catalog_number"] = values["catalog_number"][:MAX_ATTRIBUTE_TEXT]
    if values["media_condition"]:
        attributes["media_condition"] = MEDIA_GRADE_CODES[MediaGrade(values["media_condition"])]
    if values["sleeve_condition"]:
        code = SLEEVE_GRADE_CODES[SleeveGrade(values["sleeve_condition"])]
        if code is not None:
            attributes["sleeve_condition"] = code
    return attributes


def record_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for a ``records`` row from record fields (missing ones empty)."""
    artists = list(fields.get("artists") or [])
    artist = display_artist(fields.get("artist"), artists)
    if not artists and artist:
        artists = [artist[:MAX_ITEM_CHARS]]
    formats = list(fields.get("formats") or [])
    format_text = fields.get("format_text")
    if format_text or formats:
        formats = format_words(format_text, formats)
    media = fields.get("media_condition")
    sleeve = fields.get("sleeve_condition")
    values = {
        "release_id": fields.get("release_id"),
        "artist": artist,
        "artists": artists,
        "title": fields.get("title") or "",
        "labels": list(fields.get("labels") or []),
        "catalog_number": fields.get("catalog_number"),
        "format_text": format_text,
        "formats": formats,
        "year": fields.get("year"),
        "genres": list(fields.get("genres") or []),
        "styles": list(fields.get("styles") or []),
        "media_condition": str(MediaGrade(media)) if media else None,
        "sleeve_condition": str(SleeveGrade(sleeve)) if sleeve else None,
        "have_count": fields.get("have_count"),
        "want_count": fields.get("want_count"),
        "cover_image_url": fields.get("cover_image_url"),
        "listed_at": fields.get("listed_at"),
    }
    values["search_text"] = search_text(values)
    return values


def search_text(values: Mapping[str, Any]) -> str:
    parts: list[str] = [values["artist"], *values["artists"], values["title"], *values["labels"]]
    parts += [values["catalog_number"] or "", values["format_text"] or "", *values["formats"]]
    parts += [*values["genres"], *values["styles"], str(values["year"] or "")]
    return " ".join(p for p in parts if p).lower()


def facets(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for kind, items in (
        (FACET_GENRE, values["genres"]),
        (FACET_STYLE, values["styles"]),
        (FACET_FORMAT, values["formats"]),
        (FACET_LABEL, values["labels"]),
        (FACET_ARTIST, values["artists"]),
    ):
        found.extend((kind, item.strip().lower()[:MAX_ITEM_CHARS]) for item in items if item.strip())
    return list(dict.fromkeys(found))


def current_fields(record: Record) -> dict[str, Any]:
    return {name: getattr(record, name) for name in RECORD_FIELDS}


# --- the records category --------------------------------------------------------------------------------


def ensure_category(session: Session) -> Category:
    """The catalog's ``records`` category (seeded by migration 0003); created the same way when missing."""
    repository = RecordRepository(session)
    category = repository.category(RECORDS_CATEGORY_SLUG)
    if category is None:
        category = repository.add_category(
            Category(
                slug=RECORDS_CATEGORY_SLUG,
                name=RECORDS_CATEGORY_NAME,
                attribute_schema=RECORDS_ATTRIBUTE_SCHEMA,
            )
        )
        log.info("records.category.create.ok", slug=RECORDS_CATEGORY_SLUG)
    return category


# --- create ------------------------------------------------------------------------------------------------


def product_create(data: RecordCreate, values: Mapping[str, Any]) -> ProductCreate:
    condition = data.condition or condition_for(values["media_condition"]) or Condition.GOOD
    return ProductCreate(
        sku=data.sku,
        title=data.product_title or product_title(values["artist"], values["title"]),
        price=data.price,
        currency=data.currency,
        condition=condition,
        quantity=data.quantity,
        is_stocked_item=data.is_stocked_item,
        status=data.status,
        year=values["year"],
        category=RECORDS_CATEGORY_SLUG,
        description=data.description,
        cost=data.cost,
        notes=data.notes,
        attributes=record_attributes(values),
    )


def create_records(
    session: Session,
    items: Sequence[tuple[RecordCreate, str | None]],
    *,
    actor: str,
    reason: MovementReason = MovementReason.INITIAL,
    checked_at: dt.datetime | None = None,
) -> list[Product]:
    """Insert many record products in one batch (the Discogs sync, imports): products, records, facets."""
    if not items:
        return []
    ensure_category(session)
    values = [record_values(data.model_dump(include=set(RECORD_FIELDS))) for data, _ in items]
    creates = [
        (product_create(data, v), reference) for (data, reference), v in zip(items, values, strict=True)
    ]
    products = catalog_service.create_products(
        session, creates, actor=actor, reason=reason, categories=CategoryIndex.load(session)
    )
    repository = RecordRepository(session)
    repository.insert_records(
        [
            {"product_id": product.id, "release_checked_at": checked_at, **v}
            for product, v in zip(products, values, strict=True)
        ]
    )
    repository.insert_facets(
        [
            {"product_id": product.id, "kind": kind, "value": value}
            for product, v in zip(products, values, strict=True)
            for kind, value in facets(v)
        ]
    )
    log.info("records.record.create.ok", count=len(products), actor=actor)
    return products


def create_record(session: Session, data: RecordCreate, *, actor: str) -> Product:
    if ProductRepository(session).sku_taken(data.sku):
        raise Conflict(f"SKU {data.sku!r} already exists", field="sku", code="duplicate_sku")
    return create_records(session, [(data, None)], actor=actor)[0]


# --- change ------------------------------------------------------------------------------------------------


def set_record(
    session: Session,
    product: Product,
    fields: Mapping[str, Any],
    *,
    actor: str,
    product_changes: Mapping[str, Any] | None = None,
    reason: MovementReason = MovementReason.ADJUSTMENT,
    reference: str | None = None,
    derive_title: bool = True,
    checked_at: dt.datetime | None = None,
    came_from_listing: int | None = None,
) -> list[str]:
    """Merge record ``fields`` into the product's record (creating it when the product has none) and
    apply ``product_changes`` (API names: price, status, quantity, ...) together with what the record
    implies for the product (title, condition, year, category attributes). Returns what changed.

    The change is pushed to the product's other channels as every product change is; ``came_from_listing``
    names the listing the change was read from (a Discogs sync), which already shows it and gets no echo."""
    repository = RecordRepository(session)
    record = repository.get(product.id)
    before = current_fields(record) if record is not None else {}
    merged = {**before, **{k: v for k, v in fields.items() if k in RECORD_FIELDS}}
    if "format_text" in fields and "formats" not in fields:
        merged["formats"] = []  # re-derived from the new format text
    values = record_values(merged)
    changed_record = [
        name for name in RECORD_FIELDS if values.get(name) != before.get(name) and name in values
    ]

    sent: dict[str, Any] = dict(product_changes or {})
    old_title = product_title(before.get("artist") or "", before.get("title") or "") if before else None
    has_name = bool(values["artist"] or values["title"])
    if derive_title and has_name and "title" not in sent and (record is None or product.title == old_title):
        sent["title"] = product_title(values["artist"], values["title"])
    if "condition" not in sent and values["media_condition"] and "media_condition" in changed_record:
        sent["condition"] = condition_for(values["media_condition"])
    if values["year"] is not None and "year" in changed_record:
        sent["year"] = values["year"]
    category = ensure_category(session)
    if product.category_id != category.id:
        sent["category"] = RECORDS_CATEGORY_SLUG
    attributes = record_attributes(values)
    if any((product.attributes or {}).get(k) != v for k, v in attributes.items()):
        sent["attributes"] = attributes
    prepared = catalog_service.prepare_changes(session, product, sent)
    if came_from_listing is None:
        changed = catalog_service.write_changes(
            session, product, prepared, actor=actor, reason=reason, reference=reference
        )
    else:
        changed = write_pulled_changes(
            session,
            product,
            prepared,
            actor=actor,
            reason=reason,
            reference=reference,
            listing_id=came_from_listing,
        )

    if record is None:
        record = Record(product_id=product.id, **values)
        session.add(record)
    elif changed_record:
        for name, value in values.items():
            setattr(record, name, value)
    if checked_at is not None:
        record.release_checked_at = checked_at
    session.flush()
    if changed_record or not before:
        repository.replace_facets(product.id, facets(values))
    if changed_record:
        log.info("records.record.update.ok", sku=product.sku, fields=changed_record, actor=actor)
    return [*changed, *(f"record.{name}" for name in changed_record)]


def write_pulled_changes(
    session: Session,
    product: Product,
    prepared: catalog_service.PreparedChanges,
    *,
    actor: str,
    reason: MovementReason,
    reference: str | None,
    listing_id: int,
) -> list[str]:
    """``catalog.service.write_changes`` for a change read from a channel's listing: the other channels get
    it (``riff.sync.push``), the listing it came from does not (as ``riff.sync.pull`` does)."""
    from riff.sync import push  # late, as the catalog does: riff.sync builds on the catalog

    for name, value in prepared.values.items():
        setattr(product, name, value)
    session.flush()
    if prepared.quantity is not None:
        catalog_service.set_quantity(
            session,
            product,
            prepared.quantity,
            reason,
            actor,
            reference,
            expected_version=product.version,
            sync=False,
        )
    changed = prepared.changed
    if changed:
        log.info("catalog.product.update.success", sku=product.sku, fields=changed, actor=actor)
        push.product_changed(session, product, changed, actor=actor, exclude_listing_ids={listing_id})
    return changed


def update_record(session: Session, product: Product, changes: RecordUpdate, *, actor: str) -> list[str]:
    """PATCH: the product's version must be the one the client read (else VersionConflict)."""
    if changes.version != product.version:
        raise VersionConflict(
            f"version {changes.version} is stale: the product is at version {product.version}",
            field="version",
            details={"current_version": product.version},
        )
    sent = changes.model_fields_set
    fields = {name: getattr(changes, name) for name in sent if name in RECORD_FIELDS}
    product_changes: dict[str, Any] = {
        name: getattr(changes, name) for name in sent & set(PRODUCT_UPDATE_FIELDS)
    }
    if "product_title" in sent and changes.product_title:
        product_changes["title"] = changes.product_title
    return set_record(session, product, fields, actor=actor, product_changes=product_changes)


# --- read --------------------------------------------------------------------------------------------------


def get_record(session: Session, product_id: int) -> Record:
    record = RecordRepository(session).get(product_id)
    if record is None:
        raise NotFound(f"product {product_id} is not a record", field="product_id")
    return record


def records_out(session: Session, records: Sequence[Record]) -> list[RecordOut]:
    listings = RecordRepository(session).listings_for([r.product_id for r in records])
    out: list[RecordOut] = []
    for record in records:
        product = record.product
        out.append(
            RecordOut(
                product_id=product.id,
                sku=product.sku,
                product_title=product.title,
                status=product.status,
                price=product.base_price,
                currency=product.currency,
                quantity=product.quantity,
                condition=product.condition,
                version=product.version,
                created_at=product.created_at,
                updated_at=max(product.updated_at, record.updated_at),
                listings=[
                    ListingLink(
                        channel=link.channel,
                        state=str(link.state),
                        remote_id=link.remote_id,
                        url=link.remote_url,
                    )
                    for link in listings.get(product.id, [])
                ],
                **{name: getattr(record, name) for name in RECORD_FIELDS},
            )
        )
    return out


def search_words(q: str | None) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(q or "")))[:8]


def search(session: Session, query: RecordQuery) -> RecordPage:
    if query.year_min is not None and query.year_max is not None and query.year_min > query.year_max:
        raise ValidationFailed("year_min is after year_max", field="year_min")
    records, total = RecordRepository(session).search(query, search_words(query.q))
    return RecordPage(
        items=records_out(session, records), total=total, limit=query.limit, offset=query.offset
    )


# --- release data from Discogs' database -------------------------------------------------------------------


def release_fields(release: Mapping[str, Any]) -> dict[str, Any]:
    """What ``GET /releases/{id}`` adds to a record: artists, labels, formats, genres, styles, counts, cover."""
    artists = [
        str(a["name"]).strip() for a in release.get("artists") or [] if isinstance(a, dict) and a.get("name")
    ]
    labels = [
        str(lb["name"]).strip()
        for lb in release.get("labels") or []
        if isinstance(lb, dict) and lb.get("name")
    ]
    formats: list[str] = []
    for item in release.get("formats") or []:
        if isinstance(item, dict):
            formats += [str(item.get("name") or ""), *(str(d) for d in item.get("descriptions") or [])]
    community = release.get("community") or {}
    images = [i for i in release.get("images") or [] if isinstance(i, dict) and i.get("uri")]
    primary = next((i for i in images if i.get("type") == "primary"), images[0] if images else None)
    fields: dict[str, Any] = {
        "artists": [a[:MAX_ITEM_CHARS] for a in dict.fromkeys(artists)][:MAX_LIST_ITEMS],
        "labels": [lb[:MAX_ITEM_CHARS] for lb in dict.fromkeys(labels)][:MAX_LIST_ITEMS],
        "genres": [str(g)[:MAX_ITEM_CHARS] for g in release.get("genres") or []][:MAX_LIST_ITEMS],
        "styles": [str(s)[:MAX_ITEM_CHARS] for s in release.get("styles") or []][:MAX_LIST_ITEMS],
        "formats": [f[:MAX_ITEM_CHARS] for f in dict.fromkeys(f for f in formats if f)][:MAX_LIST_ITEMS],
    }
    if isinstance(community.get("have"), int):
        fields["have_count"] = community["have"]
    if isinstance(community.get("want"), int):
        fields["want_count"] = community["want"]
    if primary is not None:
        fields["cover_image_url"] = str(primary["uri"])[:1000]
    year = release.get("year")
    if isinstance(year, int) and 1800 <= year <= 2100:
        fields["year"] = year
    return fields


def apply_release(
    session: Session, release_id: int, release: Mapping[str, Any] | None, *, actor: str, now: dt.datetime
) -> int:
    """Store a release's data on every record of that release (``None``: not found; only marked checked)."""
    records = RecordRepository(session).by_release(release_id)
    fields = release_fields(release) if release is not None else {}
    for record in records:
        set_record(session, record.product, fields, actor=actor, derive_title=False, checked_at=now)
    return len(records)
