"""Records tables: ``records`` (one row per record product, keyed by ``product_id``) and
``record_facets`` (one row per genre/style/format/label/artist value, for exact filters by join)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riff.catalog.models import Product
from riff.core.models import Base, JSONType, TimestampMixin, UTCDateTime


class Record(TimestampMixin, Base):
    """The record-specific part of a product: what Discogs calls the release, plus the copy's grades."""

    __tablename__ = "records"

    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    release_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)  # Discogs release id
    artist: Mapped[str] = mapped_column(sa.String(500), default="")  # display form, e.g. "A & B"
    artists: Mapped[list[str]] = mapped_column(JSONType, default=list)
    title: Mapped[str] = mapped_column(sa.String(500), default="")  # the release title
    labels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    catalog_number: Mapped[str | None] = mapped_column(sa.String(200))
    format_text: Mapped[str | None] = mapped_column(sa.String(300))  # as Discogs shows it: "2xLP, Album, RE"
    formats: Mapped[list[str]] = mapped_column(JSONType, default=list)  # carriers + descriptions
    year: Mapped[int | None] = mapped_column(sa.Integer)
    genres: Mapped[list[str]] = mapped_column(JSONType, default=list)
    styles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    media_condition: Mapped[str | None] = mapped_column(sa.String(40))  # riff.records.consts.MediaGrade
    sleeve_condition: Mapped[str | None] = mapped_column(sa.String(40))  # riff.records.consts.SleeveGrade
    have_count: Mapped[int | None] = mapped_column(sa.Integer)  # Discogs community "have" (in collection)
    want_count: Mapped[int | None] = mapped_column(sa.Integer)  # Discogs community "want" (in wantlist)
    cover_image_url: Mapped[str | None] = mapped_column(sa.String(1000))
    # When this copy was first offered for sale (Discogs' ``posted``): "newest first" in lists.
    listed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Lower-cased artist, title, labels, catalog number and formats: the records' free-text search.
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    # When the release's full data (genres, styles, labels) was last read from Discogs' database.
    release_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship(lazy="joined")


class RecordFacet(Base):
    __tablename__ = "record_facets"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "kind", "value", name="uq_record_facets_product_kind_value"),
        sa.Index("ix_record_facets_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("records.product_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))  # genre | style | format | label | artist
    value: Mapped[str] = mapped_column(sa.String(200))  # lower-cased
