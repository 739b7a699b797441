"""Keyword-only factories for records tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.models import Product, ProductStatus
from riff.records import service
from riff.records.schemas import RecordCreate


def create_record(
    session: Session,
    *,
    sku: str = "REC-1",
    artist: str = "Miles Harbor Quintet",
    title: str = "Kind Of Indigo",
    price: Decimal = Decimal("120.00"),
    status: ProductStatus = ProductStatus.ACTIVE,
    **fields: Any,
) -> Product:
    data = RecordCreate(
        sku=sku,
        artist=artist,
        title=title,
        price=price,
        currency="USD",
        status=status,
        **{
            "release_id": 1900007,
            "labels": ["Columbine"],
            "catalog_number": "CL 1355",
            "format_text": "LP, Album",
            "year": 1959,
            "genres": ["Jazz"],
            "styles": ["Modal", "Cool Jazz"],
            "media_condition": "VG+",
            "sleeve_condition": "VG",
            **fields,
        },
    )
    return service.create_record(session, data, actor="test")
