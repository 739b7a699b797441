"""CSV import and export over HTTP, on both databases. Row numbers: header = 1, first data row = 2."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.catalog.models import Product, StockMovement
from riff.core.db import Database

from .factories import create_guitar_categories, create_product

HEADER = "sku,title,brand,model,year,price,quantity,is_stocked_item,status,category,attr.handedness,attr.number_of_strings"


def upload(client: TestClient, content: str | bytes, **params: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post("/api/import/csv", params=params, files={"file": ("stock.csv", data, "text/csv")})


def product_count(database: Database) -> int:
    with database.read_session() as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(Product)).scalar_one())


def movement_reasons(database: Database, sku: str) -> list[tuple[str, int, str]]:
    with database.read_session() as session:
        rows = session.execute(
            sa.select(StockMovement.reason, StockMovement.quantity_after, StockMovement.actor)
            .join(Product, Product.id == StockMovement.product_id)
            .where(Product.sku == sku)
            .order_by(StockMovement.id)
        ).all()
    return [(str(r[0]), r[1], r[2]) for r in rows]


GOOD = "\n".join(
    [
        HEADER,
        "TELE-1,Fender Telecaster 1965,Fender,Telecaster,1965,2500.00,1,false,active,electric-guitars,left,6",
        "PEDAL-1,Boss DS-1,Boss,DS-1,,45,10,true,active,,,",
    ]
)
MIXED = "\n".join(
    [
        HEADER,
        "OK-1,Good one,Fender,,1965,100,1,false,active,,,",
        "BAD-1,Negative,Fender,,1965,-5,1,false,active,,,",
        "",
        "BAD-2,Too many,Fender,,1965,100,3,false,active,,,",
        "OK-2,Another good one,Gibson,,,200,0,false,draft,guitars,right,",
        "BAD-3,Bad attr,Gibson,,,200,1,false,draft,guitars,sideways,six",
        ",No sku,Gibson,,,200,1,false,draft,,,",
        "OK-1,Duplicate,Gibson,,,200,1,false,draft,,,",
        "BAD-4,Wrong cat,Gibson,,,200,1,false,draft,spaceships,,",
        "BAD-5,,Gibson,,,,1,false,draft,,,",
    ]
)


class TestImport:
    def test_creates_products_with_import_movements(
        self, owner_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_guitar_categories(session)
        response = upload(owner_client, GOOD)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["updated"], report["unchanged"], report["written"]) == (
            2,
            0,
            0,
            True,
        )
        assert [(r["row"], r["sku"], r["action"]) for r in report["rows"]] == [
            (2, "TELE-1", "created"),
            (3, "PEDAL-1", "created"),
        ]
        tele = owner_client.get("/api/products/by-sku/TELE-1").json()
        assert tele["attributes"] == {"handedness": "left", "number_of_strings": 6}
        assert (tele["decade"], tele["category"], tele["price"]) == ("1960s", "electric-guitars", "2500.00")
        assert movement_reasons(database, "PEDAL-1")[0][:2] == ("import", 10)

    def test_bad_rows_are_all_reported_and_nothing_is_written(
        self, owner_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_guitar_categories(session)
        response = upload(owner_client, MIXED)
        assert response.status_code == 422
        error = response.json()["error"]
        assert [(e["row"], e["column"], e["sku"]) for e in error["details"]] == [
            (3, "price", "BAD-1"),
            (5, "quantity", "BAD-2"),  # row 4 is blank: skipped, but it keeps its number
            (7, "attr.number_of_strings", "BAD-3"),
            (8, "sku", None),
            (9, "sku", "OK-1"),
            (10, "category", "BAD-4"),
            (11, "title", "BAD-5"),
        ]
        assert all(e["reason"] for e in error["details"])
        assert next(e for e in error["details"] if e["row"] == 9)["reason"] == "SKU already in row 2"
        assert "row 3" in error["message"]
        assert product_count(database) == 0

    def test_skip_invalid_writes_only_good_rows(self, owner_client: TestClient, database: Database) -> None:
        with database.session() as session:
            create_guitar_categories(session)
        report = upload(owner_client, MIXED, skip_invalid="true").json()
        assert report["written"] is True
        assert [(r["row"], r["sku"], r["action"]) for r in report["rows"]] == [
            (2, "OK-1", "created"),
            (6, "OK-2", "created"),
        ]
        assert report["skipped"] == 7
        assert {e["row"] for e in report["errors"]} == {3, 5, 7, 8, 9, 10, 11}
        assert product_count(database) == 2

    def test_dry_run_reports_without_writing(self, owner_client: TestClient, database: Database) -> None:
        with database.session() as session:
            create_guitar_categories(session)
        report = upload(owner_client, MIXED, dry_run="true").json()
        assert (report["dry_run"], report["written"], report["created"]) == (True, False, 2)
        assert len({e["row"] for e in report["errors"]}) == 7
        assert product_count(database) == 0

    def test_reimport_is_idempotent_and_updates_by_sku(
        self, owner_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_guitar_categories(session)
        upload(owner_client, GOOD)
        again = upload(owner_client, GOOD).json()
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
        changed = GOOD.replace("45,10,true", "49,7,true").replace("left,6", ",6")
        report = upload(owner_client, changed).json()
        assert [(r["sku"], r["action"], sorted(r["changed"])) for r in report["rows"]] == [
            ("TELE-1", "updated", ["attributes"]),
            ("PEDAL-1", "updated", ["price", "quantity"]),
        ]
        assert product_count(database) == 2
        assert movement_reasons(database, "PEDAL-1")[-1][:2] == ("import", 7)
        assert owner_client.get("/api/products/by-sku/TELE-1").json()["attributes"] == {
            "number_of_strings": 6
        }

    def test_partial_columns_leave_other_fields_alone(
        self, owner_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_product(session, sku="P-1", brand="Fender", price="100", quantity=1)
        report = upload(owner_client, "sku;price\r\nP-1;150\r\n").json()  # ';' separated, CRLF
        assert report["rows"][0]["changed"] == ["price"]
        product = owner_client.get("/api/products/by-sku/P-1").json()
        assert (product["brand"], product["price"], product["quantity"]) == ("Fender", "150.00", 1)

    def test_bom_blank_lines_and_short_rows(self, owner_client: TestClient, database: Database) -> None:
        content = "\ufeffSKU,Title,Price\n\nA-1,First,10\nA-2,Second\n"
        response = upload(owner_client, content.encode("utf-8"))
        assert response.status_code == 422
        assert [(e["row"], e["column"]) for e in response.json()["error"]["details"]] == [(4, "price")]
        assert upload(owner_client, "\ufeffsku,title,price\nA-1,First,10\n".encode()).json()["created"] == 1

    def test_unusable_files_are_clear_422s(self, owner_client: TestClient) -> None:
        cases: list[tuple[bytes, str, str]] = [
            (b"", "file", "empty"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file", "not a CSV"),
            ("sku,title\nA,caf\xe9\n".encode("latin-1"), "file", "UTF-8"),
            (b"title,price\nA,1\n", "sku", "no 'sku' column"),
            (b"sku,title,colour\nA,B,red\n", "colour", "unknown column"),
            (b"sku,sku\nA,A\n", "sku", "twice"),
        ]
        for content, field, words in cases:
            response = upload(owner_client, content)
            error = response.json()["error"]
            assert (response.status_code, error["field"]) == (422, field), (content, error)
            assert words in error["message"], (content, error["message"])
        assert owner_client.post("/api/import/csv").status_code == 422  # no file at all


class TestExport:
    def test_export_then_import_changes_nothing(self, owner_client: TestClient, database: Database) -> None:
        with database.session() as session:
            create_guitar_categories(session)
            create_product(
                session,
                sku="RT-1",
                title='Fender "Nocaster", 1951',
                description='Line one, with commas\nline two with "quotes" and ünïcödé',
                category="electric-guitars",
                attributes={"handedness": "left", "number_of_strings": 6, "artist_owned": True},
                cost="1000.50",
            )
            create_product(session, sku="RT-2", brand=None, model=None, year=None, finish=None, quantity=0)
            create_product(
                session,
                sku="RT-3",
                category="records",
                attributes={"format": "lp"},
                is_stocked_item=True,
                quantity=5,
            )
            create_product(
                session,
                sku="RT-4",
                status=__import__("riff.catalog.models").catalog.models.ProductStatus.ARCHIVED,
            )
        exported = owner_client.get("/api/export/csv", params={"status": "draft,active,sold,archived"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["sku"] for r in rows] == ["RT-1", "RT-2", "RT-3", "RT-4"]
        assert rows[0]["attr.artist_owned"] == "true"
        assert rows[0]["description"].startswith("Line one, with commas\n")

        report = upload(owner_client, exported.content).json()
        assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 4), report

        with database.session() as session:
            session.execute(sa.delete(StockMovement))
            session.execute(sa.delete(Product))
        recreated = upload(owner_client, exported.content).json()
        assert recreated["created"] == 4
        assert (
            owner_client.get("/api/export/csv", params={"status": "draft,active,sold,archived"}).text
            == exported.text
        )

    def test_export_uses_list_filters(self, owner_client: TestClient, database: Database) -> None:
        with database.session() as session:
            create_product(session, sku="E-1", brand="Fender")
            create_product(session, sku="E-2", brand="Gibson")
        text = owner_client.get("/api/export/csv", params={"brand": "gibson"}).text
        assert [r["sku"] for r in csv.DictReader(io.StringIO(text))] == ["E-2"]
        assert owner_client.get("/api/export/csv", params={"sort": "nope"}).status_code == 422
