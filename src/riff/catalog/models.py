"""Catalog tables: products, their images, categories and stock movements."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, Money, TimestampMixin, UTCDateTime


def str_enum(enum_cls: type[enum.Enum], length: int = 20) -> sa.Enum:
    # Stored as VARCHAR (no native PG enum), so adding a value never needs an ALTER TYPE migration.
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SOLD = "sold"
    ARCHIVED = "archived"


class Condition(enum.StrEnum):
    NEW = "new"
    EXCELLENT = "excellent"
    VERY_GOOD = "very_good"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


class MovementReason(enum.StrEnum):
    SALE = "sale"
    ADJUSTMENT = "adjustment"
    IMPORT = "import"
    RETURN = "return"
    CANCEL = "cancel"
    INITIAL = "initial"


class ImageHealth(enum.StrEnum):
    UNCHECKED = "unchecked"
    OK = "ok"
    BROKEN = "broken"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"))
    # JSON list of attribute definitions: {"name", "type": str|int|bool|choice, "choices", "required"}.
    attribute_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        sa.Index("ix_products_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    brand: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    model: Mapped[str | None] = mapped_column(sa.String(200))
    year: Mapped[int | None] = mapped_column(sa.Integer)
    decade: Mapped[str | None] = mapped_column(sa.String(10))
    finish: Mapped[str | None] = mapped_column(sa.String(120))
    condition: Mapped[Condition] = mapped_column(str_enum(Condition), default=Condition.GOOD)
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(sa.Text, default="")
    base_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3), default="GBP")
    cost: Mapped[Decimal | None] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(sa.Integer, default=1)
    is_stocked_item: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus), default=ProductStatus.DRAFT, index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    notes: Mapped[str] = mapped_column(sa.Text, default="")  # private: never in the storefront feed
    version: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)

    category: Mapped[Category | None] = relationship(lazy="joined")
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    source_url: Mapped[str | None] = mapped_column(sa.String(1000))
    file_path: Mapped[str | None] = mapped_column(sa.String(500))
    checksum: Mapped[str | None] = mapped_column(sa.String(64))
    width: Mapped[int | None] = mapped_column(sa.Integer)
    height: Mapped[int | None] = mapped_column(sa.Integer)
    health: Mapped[ImageHealth] = mapped_column(str_enum(ImageHealth), default=ImageHealth.UNCHECKED)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")


class StockMovement(Base):
    """Every quantity change. Quantity is never overwritten without one of these."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    delta: Mapped[int] = mapped_column(sa.Integer)
    quantity_after: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[MovementReason] = mapped_column(str_enum(MovementReason))
    actor: Mapped[str] = mapped_column(sa.String(120), default="system")
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
