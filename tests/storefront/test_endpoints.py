"""The public storefront feed: endpoints, filters, pagination, caching, privacy, CORS."""

from __future__ import annotations

import time
from decimal import Decimal

from fastapi.testclient import TestClient

from riff.catalog.models import Product
from riff.core.db import Database

from .conftest import ALLOWED_ORIGIN, SECRET_COST, SECRET_NOTE, Shop


def ids(response: object) -> list[str]:
    return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


class TestData:
    def test_lists_active_items_newest_first_without_login(self, public: TestClient, shop: Shop) -> None:
        response = public.get("/api/data")

        assert response.status_code == 200
        body = response.json()
        expected = [f"riff-{i}" for i in reversed(shop.record_ids)] + [
            f"riff-{shop.amp_id}",
            f"riff-{shop.guitar_id}",
        ]
        assert ids(response) == expected
        assert body["pagination"] == {"page": 1, "per_page": 50, "pages": 1, "items": 5}
        record = body["items"][0]
        assert record["record"]["artist"] == "Nina Crowe" and record["record"]["genres"] == ["Jazz", "Blues"]
        assert record["listing_id"] == "150900002"
        assert record["channels"] == [
            {"channel": "discogs", "url": "https://www.discogs.com/sell/item/150900002"}
        ]
        assert record["images"] == ["https://img.example/cover-2.jpg"]
        guitar = body["items"][-1]
        assert guitar["category"] == {"slug": "electric-guitars", "name": "Electric guitars"}
        assert guitar["price"] == {"value": "1500.00", "currency": "GBP"} and guitar["record"] is None

    def test_pagination(self, public: TestClient, shop: Shop) -> None:
        first = public.get("/api/data", params={"per_page": 2})
        third = public.get("/api/data", params={"per_page": 2, "page": 3})

        assert first.json()["pagination"] == {"page": 1, "per_page": 2, "pages": 3, "items": 5}
        assert len(ids(first)) == 2 and ids(third) == [f"riff-{shop.guitar_id}"]
        assert public.get("/api/data", params={"per_page": 500}).status_code == 422

    def test_one_item_by_feed_id_or_discogs_listing_id(self, public: TestClient, shop: Shop) -> None:
        by_feed = public.get(f"/api/data/riff-{shop.record_ids[0]}")
        by_discogs = public.get(f"/api/data/{shop.discogs_listing_id}")

        assert by_feed.status_code == 200 and by_feed.json()["listing_id"] == shop.discogs_listing_id
        assert by_discogs.json() == by_feed.json()
        assert public.get(f"/api/data/riff-{shop.draft_id}").status_code == 404  # drafts are never public
        assert public.get(f"/api/data/riff-{shop.sold_id}").status_code == 404
        assert public.get("/api/data/nonsense").json()["error"]["code"] == "not_found"


class TestSearch:
    def test_filters(self, public: TestClient, shop: Shop) -> None:
        def found(**params: str) -> list[str]:
            response = public.get("/api/search", params=params)
            assert response.status_code == 200
            return ids(response)

        r0, r1, r2 = (f"riff-{i}" for i in shop.record_ids)
        assert found(q="indigo") == [r0]
        assert found(q="stratocaster") == [f"riff-{shop.guitar_id}"]
        assert found(artist="kraft") == [r1]
        assert found(genre="jazz") == [r2, r0]
        assert found(genre="jazz", format="vinyl") == [r2, r0]
        assert found(format="cd") == [r1]
        assert found(brand="FENDER") == [f"riff-{shop.guitar_id}"]
        assert found(category="amps") == [f"riff-{shop.amp_id}"]
        assert found(category="records") == [r2, r1, r0]
        assert found(category="no-such-category") == []
        assert found(q="gibson") == []  # the draft and the sold one are not for sale


class TestStats:
    def test_counts(self, public: TestClient, shop: Shop) -> None:
        body = public.get("/api/stats").json()

        assert body["total_listings"] == 5
        assert body["by_channel"] == {"discogs": 3, "reverb": 1}
        assert body["by_category"] == {"amps": 1, "electric-guitars": 1, "records": 3}
        assert body["last_updated"]


class TestPrivacy:
    def test_cost_notes_drafts_and_attributes_never_appear(self, public: TestClient, shop: Shop) -> None:
        bodies = [
            public.get("/api/data").text,
            public.get("/api/search", params={"q": "gibson"}).text,
            public.get(f"/api/data/riff-{shop.guitar_id}").text,
            public.get("/api/stats").text,
        ]
        for text in bodies:
            assert SECRET_NOTE not in text and str(SECRET_COST) not in text
            assert "SECRET-SERIAL" not in text and "Gibson draft" not in text
            assert '"cost"' not in text and '"notes"' not in text and '"sku"' not in text


class TestCaching:
    def test_etag_and_304(self, public: TestClient, database: Database, shop: Shop) -> None:
        first = public.get("/api/data")
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "public, max-age=60"
        assert first.headers["Last-Modified"].endswith("GMT")

        again = public.get("/api/data", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
        other_page = public.get("/api/data", params={"page": 2}, headers={"If-None-Match": etag})
        assert other_page.status_code == 200  # another query is another representation
        since = public.get("/api/data", headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304

        time.sleep(0.01)
        with database.session() as session:
            product = session.get(Product, shop.amp_id)
            assert product is not None
            product.base_price = Decimal("1400.00")
        changed = public.get("/api/data", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag


class TestCors:
    def test_allowed_origin_only(self, public: TestClient, shop: Shop) -> None:
        allowed = public.get("/api/stats", headers={"Origin": ALLOWED_ORIGIN})
        other = public.get("/api/stats", headers={"Origin": "https://evil.example"})
        missing = public.get(f"/api/data/riff-{shop.draft_id}", headers={"Origin": ALLOWED_ORIGIN})

        assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
        assert "Origin" in allowed.headers["Vary"]
        assert "Access-Control-Allow-Origin" not in other.headers
        assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN

    def test_preflight(self, public: TestClient, shop: Shop) -> None:
        headers = {
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        }
        allowed = public.options("/api/search", headers=headers)
        refused = public.options("/api/search", headers={**headers, "Origin": "https://evil.example"})

        assert allowed.status_code == 204
        assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        assert "If-None-Match" in allowed.headers["Access-Control-Allow-Headers"]
        assert "Access-Control-Allow-Origin" not in refused.headers

    def test_no_origins_configured_means_no_cors(self, client: TestClient, shop: Shop) -> None:
        response = client.get("/api/data", headers={"Origin": ALLOWED_ORIGIN})

        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
