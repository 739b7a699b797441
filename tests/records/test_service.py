"""Records service: a record is a product plus its records row, created and changed together."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riff.catalog.models import Condition, ProductStatus
from riff.core.db import Database
from riff.core.errors import Conflict, VersionConflict
from riff.records import service
from riff.records.models import Record
from riff.records.schemas import RecordQuery, RecordUpdate

from .factories import create_record


class TestCreateRecord:
    def test_the_product_follows_the_record(self, database: Database) -> None:
        with database.session() as session:
            product = create_record(session)
            record = session.get(Record, product.id)

            assert product.title == "Miles Harbor Quintet - Kind Of Indigo"
            assert product.condition == Condition.VERY_GOOD  # VG+
            assert (product.year, product.decade) == (1959, "1950s")
            assert product.category is not None and product.category.slug == "records"
            assert product.attributes == {
                "format": "lp",
                "artist": "Miles Harbor Quintet",
                "label": "Columbine",
                "catalog_number": "CL 1355",
                "media_condition": "VG+",
                "sleeve_condition": "VG",
            }
            assert record is not None
            assert record.media_condition == "Very Good Plus (VG+)"
            assert record.sleeve_condition == "Very Good (VG)"
            assert record.formats == ["Vinyl", "LP", "Album"]
            assert record.artists == ["Miles Harbor Quintet"]

    def test_duplicate_sku(self, database: Database) -> None:
        with database.session() as session:
            create_record(session)
            with pytest.raises(Conflict):
                create_record(session)

    def test_format_words(self) -> None:
        assert service.format_words('2xLP, Album, RE + 7", Single') == [
            "Vinyl",
            "LP",
            "Album",
            "RE",
            '7"',
            "Single",
        ]
        assert service.format_code(service.format_words("CD, Album")) == "cd"
        assert service.format_code(service.format_words('7", Single')) == "single"
        assert service.format_code(service.format_words("Cass, Album")) == "cassette"


class TestUpdateRecord:
    def test_record_and_product_fields_change_together(self, database: Database) -> None:
        with database.session() as session:
            product = create_record(session)
            changes = RecordUpdate(
                version=product.version,
                price=Decimal("99.00"),
                media_condition="NM",
                genres=["Jazz", "Blues"],
            )
            changed = service.update_record(session, product, changes, actor="test")
            record = session.get(Record, product.id)

            assert {"price", "condition", "record.media_condition", "record.genres"} <= set(changed)
            assert product.base_price == Decimal("99.00") and product.condition == Condition.EXCELLENT
            assert record is not None and record.genres == ["Jazz", "Blues"]
            assert product.attributes["media_condition"] == "NM"
            found = service.search(session, RecordQuery(genre="blues"))
            assert [r.sku for r in found.items] == ["REC-1"]

    def test_a_stale_version_is_refused(self, database: Database) -> None:
        with database.session() as session:
            product = create_record(session)
            with pytest.raises(VersionConflict):
                service.update_record(
                    session, product, RecordUpdate(version=product.version + 1, title="X"), actor="t"
                )


class TestSearch:
    def test_filters(self, database: Database) -> None:
        with database.session() as session:
            create_record(session)
            create_record(
                session,
                sku="REC-2",
                artist="Kraftwerker",
                title="Autobahnen",
                genres=["Electronic"],
                styles=["Krautrock"],
                format_text="CD, Album, RM",
                labels=["Philips Light"],
            )
            create_record(
                session,
                sku="REC-3",
                artist="Kraftwerker",
                title="Trans-Europa Line",
                status=ProductStatus.ARCHIVED,
            )

            def skus(**query: object) -> list[str]:
                return [r.sku for r in service.search(session, RecordQuery.model_validate(query)).items]

            assert skus(artist="kraft") == ["REC-2"]  # archived records are not listed by default
            assert skus(genre="JAZZ") == ["REC-1"]
            assert skus(format="vinyl") == ["REC-1"]
            assert skus(format="cd") == ["REC-2"]
            assert skus(label="philips light") == ["REC-2"]
            assert skus(q="autobahn krautrock") == ["REC-2"]
            assert skus(q="indigo", genre="electronic") == []
            assert skus(status="archived") == ["REC-3"]
            assert sorted(skus()) == ["REC-1", "REC-2"]

    def test_release_data_fills_every_record_of_the_release(self, database: Database) -> None:
        release = {
            "artists": [{"name": "Miles Harbor"}, {"name": "Quintet Players"}],
            "labels": [{"name": "Columbine", "catno": "CL 1355"}],
            "formats": [{"name": "Vinyl", "qty": "1", "descriptions": ["LP", "Album", "Mono"]}],
            "genres": ["Jazz"],
            "styles": ["Modal"],
            "community": {"have": 1200, "want": 3400},
            "images": [{"type": "primary", "uri": "https://img.example/r.jpg"}],
            "year": 1959,
        }
        with database.session() as session:
            first = create_record(session, sku="A", genres=[], styles=[])
            second = create_record(session, sku="B", genres=[], styles=[])
            updated = service.apply_release(session, 1900007, release, actor="t", now=first.created_at)
            records = [session.get(Record, p.id) for p in (first, second)]

        assert updated == 2
        for record in records:
            assert record is not None
            assert (record.genres, record.styles, record.have_count, record.want_count) == (
                ["Jazz"],
                ["Modal"],
                1200,
                3400,
            )
            assert "Mono" in record.formats and record.cover_image_url == "https://img.example/r.jpg"
            assert record.release_checked_at is not None
