"""The research API (/api/research/...) with filters and validation errors, and the research pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from catalog.factories import create_product
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.research import trends
from riff.research.models import MarketListing, MarketSyncJob

LISTINGS = [
    # platform, title, brand, price_base, size, condition, category, era, sold, trend
    (
        "ebay",
        "Levi's 501 Big E W32 L30",
        "Levi's",
        "450",
        "W32 L30",
        "very_good",
        "denim",
        "1960s",
        None,
        None,
    ),
    (
        "ebay",
        "Levi's 505 Orange Tab W34 L32",
        "Levi's",
        "90",
        "W34 L32",
        "good",
        "denim",
        "1970s",
        None,
        None,
    ),
    ("etsy", "Vintage 70s Lee Riders W30", "Lee", "70", "W30", "good", "denim", "1970s", False, 5.0),
    (
        "reddit",
        "1965 Fender Stratocaster sunburst",
        "Fender",
        "12000",
        None,
        "excellent",
        "guitar",
        "1960s",
        True,
        40.0,
    ),
    (
        "reddit",
        "Fender Deluxe Reverb 1966 blackface",
        "Fender",
        "2400",
        None,
        "very_good",
        "amp",
        "1960s",
        False,
        12.0,
    ),
    (
        "etsy",
        "Blue Train Blue Note 1577 mono",
        "Blue Note",
        "1800",
        None,
        "very_good",
        "record",
        "1950s",
        False,
        2.0,
    ),
]


def seed(database: Database) -> list[int]:
    now = utcnow()
    ids = []
    with database.session() as session:
        for index, (platform, title, brand, price, size, condition, category, era, sold, trend) in enumerate(
            LISTINGS
        ):
            listing = MarketListing(
                platform=platform, external_id=f"e{index}", title=title, description=f"{title}, lovely", brand=brand,
                price=Decimal(price), currency="GBP", price_base=Decimal(price), size=size, condition=condition,
                category=category, era=era, sold=sold, trend_score=trend, engagement_score=trend, image_urls=[],
                ai_tags=[], raw={"id": index}, first_seen_at=now - dt.timedelta(hours=index),
                last_seen_at=now,
            )  # fmt: skip
            session.add(listing)
            session.flush()
            ids.append(listing.id)
        session.add(MarketSyncJob(platform="ebay", status="completed", trigger="schedule", queries=[], started_at=now,
                                  finished_at=now, duration_seconds=1.5, requests=3, fetched=2, added=2, updated=0,
                                  unchanged=0, errors=0))  # fmt: skip
        session.add(MarketSyncJob(platform="etsy", status="failed", trigger="manual", queries=[], started_at=now,
                                  requests=1, fetched=0, added=0, updated=0, unchanged=0, errors=1,
                                  error_detail="RateLimited: slow down"))  # fmt: skip
        trends.compute_trends(session, now - dt.timedelta(days=1), now + dt.timedelta(days=1), currency="GBP")
    return ids


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_authentication_is_required(client: TestClient) -> None:
    for path in ("/api/research/listings", "/api/research/stats", "/api/research/trends/summary"):
        response = client.get(path)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_listings_filters_sort_and_pagination(database: Database, owner_client: TestClient) -> None:
    ids = seed(database)
    api = "/api/research/listings"
    assert len(titles(owner_client.get(api))) == 6
    assert titles(owner_client.get(api, params={"platform": "etsy"})) == ["Vintage 70s Lee Riders W30",
                                                                         "Blue Train Blue Note 1577 mono"]  # fmt: skip
    assert set(titles(owner_client.get(api, params={"brand": "levi's"}))) == {LISTINGS[0][1], LISTINGS[1][1]}
    assert titles(owner_client.get(api, params={"min_price": "100", "max_price": "2000", "sort_by": "price",
                                                "sort_order": "asc"})) == [LISTINGS[0][1], LISTINGS[5][1]]  # fmt: skip
    assert titles(owner_client.get(api, params={"size": "w32 l30"})) == [LISTINGS[0][1]]
    assert titles(owner_client.get(api, params={"condition": "excellent"})) == [LISTINGS[3][1]]
    assert titles(owner_client.get(api, params={"category": "amp"})) == [LISTINGS[4][1]]
    assert titles(owner_client.get(api, params={"era": "1970s", "sold": "false"})) == [LISTINGS[2][1]]
    assert titles(owner_client.get(api, params={"sort_by": "trend_score"}))[:2] == [
        LISTINGS[3][1],
        LISTINGS[4][1],
    ]
    page = owner_client.get(api, params={"limit": 2, "offset": 2, "sort_by": "created_at"}).json()
    assert (page["total"], page["limit"], page["offset"]) == (6, 2, 2)
    assert [i["title"] for i in page["items"]] == [LISTINGS[2][1], LISTINGS[3][1]]

    detail = owner_client.get(f"{api}/{ids[0]}")
    assert (
        detail.status_code == 200 and detail.json()["raw"] == {"id": 0} and detail.json()["brand"] == "Levi's"
    )
    assert owner_client.get(f"{api}/999999").json()["error"]["code"] == "not_found"


VALIDATION_CASES: list[tuple[dict[str, Any], str]] = [
    ({"limit": 201}, "limit"),
    ({"limit": 0}, "limit"),
    ({"offset": -1}, "offset"),
    ({"platform": "craigslist"}, "platform"),
    ({"sort_by": "title"}, "sort_by"),
    ({"sort_order": "sideways"}, "sort_order"),
    ({"min_price": "-1"}, "min_price"),
    ({"min_price": "500", "max_price": "100"}, "min_price"),
    ({"condition": "battered"}, "condition"),
    ({"era": "1965"}, "era"),
]


def test_listing_validation_errors(owner_client: TestClient) -> None:
    for params, field in VALIDATION_CASES:
        response = owner_client.get("/api/research/listings", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["field"] == field, params


def test_search_trends_brands_summary_jobs_and_stats(database: Database, owner_client: TestClient) -> None:
    seed(database)
    found = owner_client.get("/api/research/listings/search", params={"q": "fender 1966"})
    assert titles(found) == [LISTINGS[4][1]]
    assert (
        len(
            titles(
                owner_client.get("/api/research/listings/search", params={"q": "levi's", "platform": "ebay"})
            )
        )
        == 2
    )
    assert owner_client.get("/api/research/listings/search", params={"q": "x"}).status_code == 422

    rows = owner_client.get("/api/research/trends", params={"days": 7}).json()
    assert rows and all(r["platform"] == "all" and r["brand"] == "" for r in rows)
    assert sum(r["listing_count"] for r in rows) == 6
    ebay = owner_client.get("/api/research/trends", params={"platform": "ebay", "days": 7}).json()
    assert sum(r["listing_count"] for r in ebay) == 2
    fender = owner_client.get("/api/research/trends", params={"brand": "Fender"}).json()
    assert sum(r["listing_count"] for r in fender) == 2
    assert owner_client.get("/api/research/trends", params={"days": 91}).json()["error"]["field"] == "days"
    assert owner_client.get("/api/research/trends", params={"category": "cars"}).status_code == 422

    brands = owner_client.get("/api/research/trends/brands", params={"days": 7, "limit": 2}).json()
    assert [b["brand"] for b in brands] == ["Fender", "Levi's"] and brands[0]["listings"] == 2
    assert owner_client.get("/api/research/trends/brands", params={"limit": 51}).status_code == 422

    summary = owner_client.get("/api/research/trends/summary", params={"days": 7}).json()
    assert summary["total_listings"] == 6 and summary["listings_by_platform"] == {
        "ebay": 2,
        "etsy": 2,
        "reddit": 2,
    }
    assert Decimal(summary["max_price"]) == Decimal("12000") and len(summary["top_brands"]) == 4

    history = owner_client.get("/api/research/sync-jobs", params={"status": "failed"}).json()
    assert history["total"] == 1 and history["items"][0]["error_detail"] == "RateLimited: slow down"
    assert owner_client.get("/api/research/sync-jobs", params={"platform": "etsy"}).json()["total"] == 1
    assert owner_client.get("/api/research/sync-jobs", params={"status": "odd"}).status_code == 422
    assert owner_client.get("/api/research/sync-jobs", params={"limit": 101}).status_code == 422

    stats = owner_client.get("/api/research/stats").json()
    assert stats["database"] == "ok" and stats["total_listings"] == 6
    assert (
        stats["platforms"]["etsy"]["last_sync_status"] == "failed"
        and stats["platforms"]["etsy"]["last_error"]
    )
    assert (
        stats["platforms"]["ebay"]["last_success_at"] is not None
        and stats["platforms"]["reddit"]["last_sync_at"] is None
    )


def test_sync_trigger_status_and_analysis(
    database: Database, owner_client: TestClient, make_client: Any
) -> None:
    ids = seed(database)
    accepted = owner_client.post(
        "/api/research/sync", json={"platform": "all", "query": "levis 501", "limit": 50}
    )
    assert accepted.status_code == 202
    jobs = accepted.json()["jobs"]
    assert set(jobs) == {"ebay", "etsy", "reddit"} and all(isinstance(v, int) for v in jobs.values())
    again = owner_client.post("/api/research/sync", json={"platform": "ebay", "query": "levis 501"}).json()
    assert again["jobs"] == {"ebay": None}  # merged into the queued one
    status = owner_client.get(f"/api/research/sync/{jobs['ebay']}").json()
    assert status["status"] == "queued" and status["payload"]["query"] == "levis 501" and status["runs"] == []
    assert owner_client.get("/api/research/sync/999999").status_code == 404
    assert owner_client.post("/api/research/sync", json={"platform": "craigslist"}).status_code == 422
    assert owner_client.post("/api/research/sync", json={"limit": 0}).status_code == 422
    reader = make_client("read_only")
    assert reader.post("/api/research/sync", json={}).status_code == 403
    assert reader.get("/api/research/stats").status_code == 200

    analysis = owner_client.post(f"/api/research/listings/{ids[0]}/analyze")
    assert analysis.status_code == 202 and analysis.json()["job_id"]
    assert owner_client.post("/api/research/listings/999999/analyze").status_code == 404


def test_price_suggestion_and_saved_searches(database: Database, owner_client: TestClient) -> None:
    seed(database)
    with database.session() as session:
        product_id = create_product(session, title="Fender Stratocaster 1965 sunburst", model="Stratocaster",
                                    year=1965, price="11000.00").id  # fmt: skip
    suggestion = owner_client.get(f"/api/research/products/{product_id}/price-suggestion").json()
    assert suggestion["comparables"]["count"] == 1 and suggestion["suggested"]["price"] == "12000.00"
    assert set(suggestion["channels"]) == {"reverb", "discogs", "ebay"}
    assert owner_client.get("/api/research/products/999999/price-suggestion").status_code == 404

    body = {"name": "Big E", "query": "big e", "platforms": ["ebay", "reddit"], "min_price": "100",
            "max_price": "1000", "filters": {"category": "denim"}, "notify_url": "http://127.0.0.1:9/hook"}  # fmt: skip
    created = owner_client.post("/api/research/saved-searches", json=body)
    assert created.status_code == 201, created.text
    search_id = created.json()["id"]
    assert owner_client.get(f"/api/research/saved-searches/{search_id}").json()["platforms"] == [
        "ebay",
        "reddit",
    ]
    patched = owner_client.patch(f"/api/research/saved-searches/{search_id}", json={"notify_enabled": False})
    assert patched.json()["notify_enabled"] is False
    assert [s["id"] for s in owner_client.get("/api/research/saved-searches").json()] == [search_id]
    for bad, field in (
        ({**body, "platforms": ["myspace"]}, "platforms"),
        ({**body, "notify_url": "ftp://example"}, "notify_url"),
        ({**body, "min_price": "500", "max_price": "100"}, None),
        ({**body, "filters": {"colour": "blue"}}, "filters"),
        ({**body, "name": ""}, "name"),
    ):
        response = owner_client.post("/api/research/saved-searches", json=bad)
        assert response.status_code == 422, bad
        if field:
            assert response.json()["error"]["field"] == field
    assert owner_client.delete(f"/api/research/saved-searches/{search_id}").status_code == 204
    assert owner_client.get(f"/api/research/saved-searches/{search_id}").status_code == 404


def test_research_pages_render_charts(database: Database, owner_client: TestClient) -> None:
    ids = seed(database)
    with database.session() as session:
        product_id = create_product(
            session, title="Fender Stratocaster 1965", model="Stratocaster", year=1965
        ).id
    page = owner_client.get("/research", params={"days": 7})
    assert page.status_code == 200 and page.text.count("<svg") == 3
    assert "Price distribution" in page.text and "Top brands" in page.text and "<script>" not in page.text
    assert "style=" not in page.text.split("<main", 1)[1]
    listings = owner_client.get("/research/listings", params={"category": "denim", "sort": "price"})
    assert (
        listings.status_code == 200
        and "Levi&#39;s 501 Big E" in listings.text
        and "Blue Train" not in listings.text
    )
    detail = owner_client.get(f"/research/listings/{ids[3]}")
    assert detail.status_code == 200 and "1965 Fender Stratocaster" in detail.text
    assert owner_client.get("/research/listings/999999").status_code == 404
    partial = owner_client.get(f"/research/products/{product_id}/price-suggestion")
    assert partial.status_code == 200 and "Market price" in partial.text and "<html" not in partial.text


def test_charts_are_plain_svg_with_escaped_labels() -> None:
    from riff.research import charts

    bars = charts.bar_chart([("<script>alert(1)</script>", 3.0), ("Levi's", 1.0)], title="Top <brands>")
    assert (
        bars.startswith("<svg")
        and "<script>" not in bars
        and "&lt;script&gt;" in bars
        and "style=" not in bars
    )
    histogram = charts.histogram([Decimal(v) for v in (10, 20, 20, 30, 500)], title="Prices", currency="GBP")
    assert histogram.count("<rect") == 12
    assert "No data yet" in charts.line_chart([], title="Empty")
    line = charts.line_chart(
        [("01 Mar", 10.0), ("02 Mar", None), ("03 Mar", 30.0)], title="Median", counts=[1, 0, 2]
    )
    assert line.count("<circle") == 2
