"""/api/products and /api/pricing/rules over HTTP, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from riff.catalog.models import Product
from riff.channels.models import ListingState
from riff.core.clock import FrozenClock
from riff.core.db import Database

from .factories import create_guitar_categories, create_listing, create_price_rule, create_product

NEW_PRODUCT: dict[str, Any] = {
    "sku": "TELE-65",
    "title": "Fender Telecaster 1965 Blonde",
    "brand": "Fender",
    "model": "Telecaster",
    "year": 1965,
    "condition": "very_good",
    "price": "1234.10",
    "quantity": 1,
    "status": "active",
}


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]  # type: ignore[no-any-return]


def skus(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["sku"] for item in response.json()["items"]]


class TestAuth:
    def test_no_token_is_401_and_read_only_cannot_write(
        self, client: TestClient, reader_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            product_id = create_product(session, sku="A").id
        assert client.get("/api/products").status_code == 401
        assert client.post("/api/products", json=NEW_PRODUCT).status_code == 401
        assert client.get("/api/pricing/rules").status_code == 401
        assert reader_client.get("/api/products").status_code == 200
        assert reader_client.get(f"/api/products/{product_id}").status_code == 200
        writes = [
            reader_client.post("/api/products", json=NEW_PRODUCT),
            reader_client.patch(f"/api/products/{product_id}", json={"version": 1, "title": "x"}),
            reader_client.delete(f"/api/products/{product_id}"),
            reader_client.post("/api/products/bulk", json=[{"sku": "A", "price": "1"}]),
            reader_client.put("/api/pricing/rules/ebay", json={"markup_percent": "1"}),
            reader_client.post("/api/import/csv", files={"file": ("p.csv", b"sku\nA\n")}),
            reader_client.post(f"/api/products/{product_id}/stock", json={"delta": 1}),
        ]
        assert [r.status_code for r in writes] == [403] * len(writes)
        assert error(writes[0])["code"] == "forbidden"


class TestCrud:
    def test_create_read_update_archive(self, owner_client: TestClient, database: Database) -> None:
        with database.session() as session:
            create_price_rule(session, channel="ebay", markup_percent="10", price_endings="49,99")
            create_price_rule(session, channel="reverb", markup_percent="5")
        created = owner_client.post("/api/products", json=NEW_PRODUCT)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["decade"] == "1960s"
        assert body["version"] == 1
        assert body["channel_prices"] == {"ebay": "1399.00", "reverb": "1295.81"}
        product_id = body["id"]

        assert owner_client.get(f"/api/products/{product_id}").json()["sku"] == "TELE-65"
        assert owner_client.get("/api/products/by-sku/TELE-65").json()["id"] == product_id
        assert error(owner_client.get("/api/products/by-sku/NOPE"))["code"] == "not_found"
        assert owner_client.get("/api/products/999999").status_code == 404

        patched = owner_client.patch(
            f"/api/products/{product_id}", json={"version": 1, "price": "1000", "title": "Tele"}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["version"] == 2
        assert patched.json()["channel_prices"]["ebay"] == "1149.00"

        stale = owner_client.patch(f"/api/products/{product_id}", json={"version": 1, "title": "Late"})
        assert stale.status_code == 409
        assert error(stale)["code"] == "version_conflict"
        assert error(stale)["details"] == {"current_version": 2}

        missing_version = owner_client.patch(f"/api/products/{product_id}", json={"title": "No version"})
        assert missing_version.status_code == 422
        assert error(missing_version)["field"] == "version"

        archived = owner_client.delete(f"/api/products/{product_id}")
        assert archived.status_code == 200
        assert archived.json()["status"] == "archived"
        assert skus(owner_client.get("/api/products")) == []
        assert skus(owner_client.get("/api/products", params={"status": "archived"})) == ["TELE-65"]

    def test_listing_override_wins_in_channel_prices(
        self, owner_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_price_rule(session, channel="ebay", markup_percent="10", price_endings="49,99")
            product = create_product(session, sku="OVR", price="1000")
            create_listing(session, product=product, channel="ebay", price_override="1111")
        body = owner_client.get(f"/api/products/{product.id}").json()
        assert body["channel_prices"] == {"ebay": "1111.00"}
        assert body["listings"][0]["channel"] == "ebay"

    def test_bad_input_is_422_naming_the_field(self, owner_client: TestClient) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"price": "-1"}, "price"),
            ({"price": "1.001"}, "price"),
            ({"sku": ""}, "sku"),
            ({"quantity": 2}, "quantity"),
            ({"year": 1965, "decade": "1970s"}, "decade"),
            ({"currency": "pounds"}, "currency"),
            ({"status": "deleted"}, "status"),
            ({"category": "spaceships"}, "category"),
            ({"attributes": {"colour": "red"}}, "attributes.colour"),
            ({"unknown_field": 1}, "unknown_field"),
        ]
        for change, field in cases:
            response = owner_client.post("/api/products", json={**NEW_PRODUCT, **change})
            assert (change, response.status_code, error(response)["field"]) == (change, 422, field)

    def test_attributes_validated_against_category(
        self, owner_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_guitar_categories(session)
        product = {**NEW_PRODUCT, "category": "electric-guitars"}
        ok = owner_client.post(
            "/api/products", json={**product, "attributes": {"handedness": "left", "number_of_strings": 6}}
        )
        assert ok.status_code == 201, ok.text
        assert ok.json()["attributes"] == {"handedness": "left", "number_of_strings": 6}
        wrong_type = owner_client.post(
            "/api/products", json={**product, "sku": "B", "attributes": {"number_of_strings": "six"}}
        )
        assert error(wrong_type)["field"] == "attributes.number_of_strings"
        # moving to a category without that attribute is refused, naming it
        moved = owner_client.patch(
            f"/api/products/{ok.json()['id']}", json={"version": 1, "category": "records"}
        )
        assert moved.status_code == 422
        assert error(moved)["field"] in {"attributes.handedness", "attributes.format"}
        removed = owner_client.patch(
            f"/api/products/{ok.json()['id']}", json={"version": 1, "attributes": {"handedness": None}}
        )
        assert removed.json()["attributes"] == {"number_of_strings": 6}

    def test_duplicate_sku_is_409(self, owner_client: TestClient) -> None:
        assert owner_client.post("/api/products", json=NEW_PRODUCT).status_code == 201
        duplicate = owner_client.post("/api/products", json=NEW_PRODUCT)
        assert duplicate.status_code == 409
        assert error(duplicate)["field"] == "sku"

    def test_stock_endpoint_and_movements(self, owner_client: TestClient, database: Database) -> None:
        with database.session() as session:
            product_id = create_product(session, sku="ST", quantity=1).id
        sold = owner_client.post(f"/api/products/{product_id}/stock", json={"delta": -1, "reason": "sale"})
        assert sold.status_code == 200
        assert sold.json()["quantity_after"] == 0
        refused = owner_client.post(f"/api/products/{product_id}/stock", json={"delta": -1, "reason": "sale"})
        assert refused.status_code == 409
        assert error(refused)["code"] == "insufficient_stock"
        history = owner_client.get(f"/api/products/{product_id}/stock-movements").json()
        assert [(m["reason"], m["quantity_after"]) for m in history] == [("sale", 0), ("initial", 1)]


@pytest.fixture
def catalog(database: Database, frozen_clock: FrozenClock) -> dict[str, int]:
    """Six products with distinct prices, brands, statuses, listings and update times."""
    with database.session() as session:
        create_guitar_categories(session)
        made = {}
        specs: list[dict[str, Any]] = [
            {"sku": "F-TELE", "title": "Fender Telecaster 1965", "brand": "Fender", "model": "Telecaster",
             "price": "2500", "category": "electric-guitars", "description": "Butterscotch blonde ash body"},
            {"sku": "F-STRAT", "title": "Fender Stratocaster 1972", "brand": "fender", "model": "Stratocaster",
             "price": "1800", "quantity": 0, "category": "guitars", "year": 1972},
            {"sku": "G-LP", "title": "Gibson Les Paul Standard", "brand": "Gibson", "model": "Les Paul",
             "price": "4200", "status": "draft", "category": "electric-guitars", "year": 1990},
            {"sku": "V-AC30", "title": "Vox AC30 amplifier", "brand": "Vox", "model": "AC30", "price": "900",
             "year": 1964},
            {"sku": "LP-DRAKE", "title": "Nick Drake - Pink Moon (Island ILPS 9184)", "brand": None, "model": None,
             "price": "350", "category": "records", "attributes": {"format": "lp"}, "year": 1972},
            {"sku": "B-PEDALS", "title": "Boss DS-1 distortion", "brand": "Boss", "model": "DS-1", "price": "45",
             "quantity": 12, "is_stocked_item": True, "status": "sold", "year": 1985},
        ]  # fmt: skip
        for spec in specs:
            frozen_clock.advance(minutes=1)
            made[spec["sku"]] = create_product(session, **spec).id
        tele = session.get_one(Product, made["F-TELE"])
        strat = session.get_one(Product, made["F-STRAT"])
        create_listing(session, product=tele, channel="reverb", state=ListingState.LIVE)
        create_listing(session, product=strat, channel="reverb", state=ListingState.ENDED)
        create_listing(session, product=strat, channel="ebay", state=ListingState.LIVE)
    return made


NEWEST_FIRST = ["B-PEDALS", "LP-DRAKE", "V-AC30", "G-LP", "F-STRAT", "F-TELE"]


# One client and catalog per database for all of these: creating users (argon2) dominates otherwise.
FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({}, NEWEST_FIRST),
    ({"status": "active"}, ["LP-DRAKE", "V-AC30", "F-STRAT", "F-TELE"]),
    ({"status": "draft,sold"}, ["B-PEDALS", "G-LP"]),
    ({"brand": "FENDER"}, ["F-STRAT", "F-TELE"]),
    ({"category": "guitars"}, ["G-LP", "F-STRAT", "F-TELE"]),
    ({"category": "electric-guitars"}, ["G-LP", "F-TELE"]),
    ({"channel": "reverb"}, ["F-STRAT", "F-TELE"]),
    ({"channel": "reverb", "listing_state": "live"}, ["F-TELE"]),
    ({"listing_state": "live"}, ["F-STRAT", "F-TELE"]),
    ({"channel": "discogs"}, []),
    ({"price_min": "900", "price_max": "2500"}, ["V-AC30", "F-STRAT", "F-TELE"]),
    ({"quantity_min": 1, "status": "active,sold"}, ["B-PEDALS", "LP-DRAKE", "V-AC30", "F-TELE"]),
    ({"quantity_max": 0}, ["F-STRAT"]),
    ({"q": "telecaster"}, ["F-TELE"]),
    ({"q": "TELE"}, ["F-TELE"]),
    ({"q": "fender 65"}, []),
    ({"q": "fender 1965"}, ["F-TELE"]),
    ({"q": "blonde"}, ["F-TELE"]),
    ({"q": "drake pink"}, ["LP-DRAKE"]),
    ({"q": "ILPS-9184"}, ["LP-DRAKE"]),
    ({"q": "f-str"}, ["F-STRAT"]),
    ({"q": "caster"}, []),
    ({"q": "gibson", "status": "draft"}, ["G-LP"]),
    ({"q": "ds"}, ["B-PEDALS"]),
    ({"q": "ds", "status": "active"}, []),
    ({"q": "fender", "price_max": "2000", "channel": "ebay"}, ["F-STRAT"]),
    ({"q": "!!!"}, NEWEST_FIRST),
]
BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"status": "gone"}, "status"),
    ({"category": "nope"}, "category"),
    ({"channel": "myspace"}, "channel"),
    ({"listing_state": "flying"}, "listing_state"),
    ({"price_min": "cheap"}, "price_min"),
    ({"quantity_min": -1}, "quantity_min"),
    ({"limit": 201}, "limit"),
    ({"limit": 0}, "limit"),
    ({"offset": -1}, "offset"),
    ({"sort": "-colour"}, "sort"),
]


class TestListFilters:
    def test_filters(self, owner_client: TestClient, catalog: dict[str, int]) -> None:
        for params, expected in FILTER_CASES:
            response = owner_client.get("/api/products", params=params)
            assert (params, skus(response)) == (params, expected)
            assert (params, response.json()["total"]) == (params, len(expected))

    def test_bad_filter_is_422_naming_the_parameter(self, owner_client: TestClient) -> None:
        for params, field in BAD_FILTERS:
            response = owner_client.get("/api/products", params=params)
            assert (params, response.status_code, error(response)["field"]) == (params, 422, field)
        assert "colour" in error(owner_client.get("/api/products", params={"sort": "colour"}))["message"]


class TestSortingAndPaging:
    def test_sorting(self, owner_client: TestClient, catalog: dict[str, int]) -> None:
        by_price = skus(
            owner_client.get("/api/products", params={"sort": "price", "status": "active,draft,sold"})
        )
        assert by_price == ["B-PEDALS", "LP-DRAKE", "V-AC30", "F-STRAT", "F-TELE", "G-LP"]
        by_price_desc = skus(owner_client.get("/api/products", params={"sort": "-price"}))
        assert by_price_desc == ["G-LP", "F-TELE", "F-STRAT", "V-AC30", "LP-DRAKE", "B-PEDALS"]
        assert skus(owner_client.get("/api/products", params={"sort": "updated_at"}))[0] == "F-TELE"
        # brand is nullable: NULLs last in both directions, on both databases
        assert skus(owner_client.get("/api/products", params={"sort": "brand"}))[-1] == "LP-DRAKE"
        assert skus(owner_client.get("/api/products", params={"sort": "-brand"}))[-1] == "LP-DRAKE"
        assert skus(owner_client.get("/api/products", params={"sort": "year,-price"}))[:2] == [
            "V-AC30",
            "F-TELE",
        ]

    def test_pagination_and_total(self, owner_client: TestClient, catalog: dict[str, int]) -> None:
        pages = [
            owner_client.get("/api/products", params={"limit": 2, "offset": offset, "sort": "sku"}).json()
            for offset in (0, 2, 4, 6)
        ]
        assert [p["total"] for p in pages] == [6, 6, 6, 6]
        assert [[i["sku"] for i in p["items"]] for p in pages] == [
            ["B-PEDALS", "F-STRAT"],
            ["F-TELE", "G-LP"],
            ["LP-DRAKE", "V-AC30"],
            [],
        ]
        searched = owner_client.get(
            "/api/products", params={"q": "fender", "limit": 1, "offset": 1, "sort": "sku"}
        )
        assert searched.json()["total"] == 2
        assert skus(searched) == ["F-TELE"]
        beyond = owner_client.get("/api/products", params={"q": "fender", "limit": 1, "offset": 5})
        assert beyond.json() == {"items": [], "total": 2, "limit": 1, "offset": 5}

    def test_updated_at_follows_edits(
        self, owner_client: TestClient, catalog: dict[str, int], frozen_clock: FrozenClock
    ) -> None:
        frozen_clock.advance(hours=1)
        owner_client.patch(f"/api/products/{catalog['F-TELE']}", json={"version": 1, "finish": "Blonde"})
        first = owner_client.get("/api/products").json()["items"][0]
        assert first["sku"] == "F-TELE"
        assert dt.datetime.fromisoformat(first["updated_at"]) == frozen_clock.now


class TestBulk:
    def test_applies_every_item_with_movements(
        self, owner_client: TestClient, catalog: dict[str, int]
    ) -> None:
        response = owner_client.post(
            "/api/products/bulk",
            json=[
                {"sku": "F-TELE", "price": "2600"},
                {"sku": "B-PEDALS", "quantity": 10, "status": "active"},
                {"sku": "V-AC30", "price": "900.00"},
            ],
        )
        assert response.status_code == 200, response.text
        assert response.json()["updated"] == 2
        assert response.json()["unchanged"] == 1
        pedals = owner_client.get(f"/api/products/{catalog['B-PEDALS']}").json()
        assert (pedals["quantity"], pedals["status"]) == (10, "active")
        history = owner_client.get(f"/api/products/{catalog['B-PEDALS']}/stock-movements").json()
        assert history[0]["delta"] == -2
        assert history[0]["reason"] == "adjustment"

    def test_all_or_nothing_with_per_item_errors(
        self, owner_client: TestClient, catalog: dict[str, int]
    ) -> None:
        response = owner_client.post(
            "/api/products/bulk",
            json={
                "items": [
                    {"sku": "F-TELE", "price": "1"},
                    {"sku": "NOPE", "price": "10"},
                    {"sku": "V-AC30", "price": "-5"},
                    {"sku": "G-LP", "status": "gone"},
                    {"sku": "F-STRAT", "quantity": 2},
                    {"sku": "F-TELE", "price": "2"},
                ]
            },
        )
        assert response.status_code == 422
        body = error(response)
        problems = {(d["index"], d["sku"], d["field"]) for d in body["details"]}
        assert problems == {
            (1, "NOPE", "sku"),
            (2, "V-AC30", "price"),
            (3, "G-LP", "status"),
            (4, "F-STRAT", "quantity"),
            (5, "F-TELE", "sku"),
        }
        assert body["field"] == "items[1].sku"
        assert owner_client.get(f"/api/products/{catalog['F-TELE']}").json()["price"] == "2500.00"

    def test_empty_or_malformed_body(self, owner_client: TestClient) -> None:
        assert owner_client.post("/api/products/bulk", json=[]).status_code == 422
        assert owner_client.post("/api/products/bulk", json={"x": 1}).status_code == 422
        malformed = owner_client.post("/api/products/bulk", json=["F-TELE"])
        assert malformed.status_code == 422
        assert error(malformed)["details"][0]["index"] == 0


class TestPriceRules:
    def test_read_and_change_rules(
        self, owner_client: TestClient, staff_client: TestClient, database: Database
    ) -> None:
        with database.session() as session:
            create_price_rule(session, channel="ebay", markup_percent="10", price_endings="49,99")
            product_id = create_product(session, sku="R", price="1000").id
        assert owner_client.get("/api/pricing/rules").json() == [
            {"channel": "ebay", "markup_percent": "10.00", "price_endings": "49,99"}
        ]
        assert owner_client.get("/api/pricing/rules/reverb").status_code == 404
        created = staff_client.put("/api/pricing/rules/reverb", json={"markup_percent": "7.5"})
        assert created.status_code == 200
        assert created.json() == {"channel": "reverb", "markup_percent": "7.50", "price_endings": ""}
        changed = staff_client.put(
            "/api/pricing/rules/ebay", json={"markup_percent": "0", "price_endings": "95"}
        )
        assert changed.json()["price_endings"] == "95"
        prices = owner_client.get(f"/api/products/{product_id}").json()["channel_prices"]
        assert prices == {"ebay": "1095.00", "reverb": "1075.00"}

    def test_bad_rules_are_422(self, owner_client: TestClient) -> None:
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("myspace", {"markup_percent": "1"}, "channel"),
            ("ebay", {"price_endings": "149"}, "price_endings"),
            ("ebay", {"markup_percent": "5000"}, "markup_percent"),
            ("ebay", {"markup_percent": "abc"}, "markup_percent"),
        ]
        for channel, body, field in cases:
            response = owner_client.put(f"/api/pricing/rules/{channel}", json=body)
            assert (channel, body, response.status_code, error(response)["field"]) == (
                channel,
                body,
                422,
                field,
            )


def test_money_is_exact(owner_client: TestClient) -> None:
    created = owner_client.post("/api/products", json={**NEW_PRODUCT, "price": 0.1, "cost": "0.20"}).json()
    assert Decimal(created["price"]) + Decimal(created["cost"]) == Decimal("0.30")
