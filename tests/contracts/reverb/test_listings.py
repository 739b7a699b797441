"""Contract: Reverb listings.

Documented examples (samples/, copies of shared/reference/api_samples/reverb/):
- listing.json: "Real GET https://api.reverb.com/api/listings/{id} response (Accept-Version 3.0,
  X-Display-Currency GBP) captured 2025-09-06 ... tommytoolman/inventory_system ... REV-91978727.json"
- my_listings_page.json: "Envelope keys for GET /api/my/listings?state=all&page=1&per_page=50:
  total/current_page/total_pages/listings/_links.next.href|_links.prev.href ..."
- create_listing_request.json: "reverb-api.com/docs/create-listings (request body example ...)"
- update_price_inventory_request.json: "Update = PUT /api/listings/{id} with only changed fields ..."
- end_listing_request.json: "End listing: PUT /api/my/listings/{id}/state/end with {reason} ... Drafts cannot
  be ended (422) - delete them with DELETE /api/listings/{id}."
Other facts: shared/reference/platform_apis.md section 1 and original_riff.md 3.1 (see docs/channels/reverb.md).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx

from riff_sandbox.runner import RunningSandbox

from .conftest import api_path, client_for, seeded
from .shapes import assert_same_shape, sample

LISTING = sample("listing.json")["body"]
PAGE = sample("my_listings_page.json")
CREATE = sample("create_listing_request.json")
UPDATE = sample("update_price_inventory_request.json")
END = sample("end_listing_request.json")

# Keys the real listing has only when they apply (a shipping profile, a comparison page).
OPTIONAL = {"$.shipping_profile", "$.comparison_shopping_page_id", "$._links.comparison_shopping"}
# /my/listings items carry sku (platform_apis.md: "sku(on /my)"); the copied sample item does not. The sample
# is a single page with "_links": {}; its _source documents _links.next when more pages exist.
MY_LISTINGS_EXTRA = {"$.body.listings[].sku", "$.body._links.next"}
# Drafts have not been published; origin_country_code is only known when the seller sent it.
UNPUBLISHED_NULLS = {"$.published_at", "$.origin_country_code"}


def documented_create_body(http: httpx.Client) -> dict[str, Any]:
    """The documented body with its placeholders filled the documented way (from the reference endpoints)."""
    body = copy.deepcopy(CREATE["body"])
    categories = http.get("/api/categories/flat").json()["categories"]
    conditions = http.get("/api/listing_conditions").json()["conditions"]
    body["categories"] = [
        {"uuid": next(c["uuid"] for c in categories if c["full_name"] == "Electric Guitars")}
    ]
    body["condition"] = {"uuid": next(c["uuid"] for c in conditions if c["display_name"] == "Excellent")}
    return body


def wait_for_state(http: httpx.Client, listing_id: int, state: str, timeout: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        listing: dict[str, Any] = http.get(f"/api/listings/{listing_id}").json()
        if listing["state"]["slug"] == state or time.monotonic() > deadline:
            return listing
        time.sleep(0.02)


class TestGetListing:
    def test_live_listing_has_the_documented_shape(self, http: httpx.Client) -> None:
        listing = seeded(http)

        response = http.get(f"/api/listings/{listing['id']}")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/hal+json")
        assert_same_shape(response.json(), LISTING, may_be_missing=OPTIONAL)
        assert response.json()["state"] == {"slug": "live", "description": "Live"}

    def test_links_are_absolute_on_the_sandbox_host(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        listing = http.get(f"/api/listings/{seeded(http)['id']}").json()
        links = listing["_links"]

        assert links["self"]["href"].startswith(f"{reverb.base_url}/api/listings/{listing['id']}-")
        assert links["update"]["method"] == "PUT"
        assert links["end"] == {
            "href": f"{reverb.base_url}/api/my/listings/{listing['id']}/state/end",
            "method": "PUT",
        }
        assert links["web"]["href"].startswith(f"{reverb.base_url}/item/{listing['id']}-")
        assert http.get(links["self"]["href"]).json()["id"] == listing["id"]  # the id-slug form resolves
        assert http.get(links["web"]["href"]).status_code == 200

    def test_money_is_rendered_like_reverb(self, http: httpx.Client) -> None:
        price = http.get(f"/api/listings/{seeded(http)['id']}").json()["price"]

        assert price["amount"] == f"{price['amount_cents'] / 100:.2f}"
        assert price["currency"] == "GBP" and price["symbol"] == "£"
        whole, pence = divmod(price["amount_cents"], 100)
        assert price["display"] == (f"£{whole:,}" if pence == 0 else f"£{whole:,}.{pence:02d}")  # "£9,699"

    def test_sku_only_on_my_listings(self, http: httpx.Client) -> None:
        mine = seeded(http)

        assert "sku" in mine
        assert "sku" not in http.get(f"/api/listings/{mine['id']}").json()

    def test_unknown_listing_is_404_with_message(self, http: httpx.Client) -> None:
        response = http.get("/api/listings/1")

        assert response.status_code == 404
        assert set(response.json()) == {"message"}


class TestMyListings:
    def test_documented_request_gets_the_documented_envelope(self, reverb: RunningSandbox) -> None:
        method, url = PAGE["_request"].split(" ", 1)
        with client_for(reverb) as client:
            response = client.request(method, api_path(url))

        assert response.status_code == 200
        body = response.json()
        in_items = {"$.body.listings[]." + path[2:] for path in OPTIONAL | UNPUBLISHED_NULLS}
        assert_same_shape(
            {"body": body},
            {"body": PAGE["body"]},
            may_be_extra=MY_LISTINGS_EXTRA,
            may_be_missing=in_items,
            may_be_null=in_items,
        )
        assert (body["total"], body["current_page"], body["total_pages"]) == (60, 1, 2)
        assert body["_links"] == {
            "next": {"href": f"{reverb.base_url}/api/my/listings?state=all&page=2&per_page=50"}
        }

    def test_following_next_reaches_every_listing_once(self, http: httpx.Client) -> None:
        seen: list[int] = []
        url: str | None = "/api/my/listings?state=all&per_page=7"
        while url:
            body = http.get(url).json()
            seen += [listing["id"] for listing in body["listings"]]
            url = body["_links"].get("next", {}).get("href")

        assert len(seen) == len(set(seen)) == 60
        assert "prev" in http.get("/api/my/listings?state=all&per_page=7&page=2").json()["_links"]

    def test_without_state_only_live_listings(self, http: httpx.Client) -> None:
        listings = http.get("/api/my/listings", params={"per_page": 100}).json()["listings"]

        assert listings and {item["state"]["slug"] for item in listings} == {"live"}

    def test_sku_lookup_across_states(self, http: httpx.Client) -> None:
        sold = seeded(http, "sold")

        found = http.get("/api/my/listings", params={"sku": sold["sku"], "state": "all"}).json()

        assert found["total"] == 1 and found["listings"][0]["id"] == sold["id"]
        assert http.get("/api/my/listings", params={"sku": sold["sku"]}).json()["total"] == 0

    def test_query_and_drafts(self, http: httpx.Client) -> None:
        draft = seeded(http, "draft")

        drafts = http.get("/api/my/listings/drafts", params={"per_page": 100}).json()["listings"]
        matches = http.get("/api/my/listings", params={"state": "draft", "query": draft["model"]}).json()

        assert draft["id"] in {item["id"] for item in drafts}
        assert draft["id"] in {item["id"] for item in matches["listings"]}


class TestCreateListing:
    def test_documented_request_creates_a_draft(self, reverb: RunningSandbox) -> None:
        request = CREATE["_request"]
        with client_for(reverb, request["headers"]) as client:
            response = client.request(
                request["method"], api_path(request["url"]), json=documented_create_body(client)
            )

        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"listing", "message"}
        assert_same_shape(body["listing"], LISTING, may_be_missing=OPTIONAL, may_be_null=UNPUBLISHED_NULLS)
        listing = body["listing"]
        assert listing["state"]["slug"] == "draft"  # creates a draft unless publish: true
        assert (listing["make"], listing["model"], listing["year"]) == ("Fender", "Stratocaster", "1960s")
        assert listing["price"]["amount"] == "5000.00" and listing["price"]["currency"] == "USD"
        assert (listing["inventory"], listing["has_inventory"], listing["upc_does_not_apply"]) == (
            5,
            True,
            False,
        )
        assert [r["region_code"] for r in listing["shipping"]["rates"]] == ["US_CON", "XX"]
        assert len(listing["photos"]) == 2

    def test_publish_is_asynchronous(self, http: httpx.Client) -> None:
        body = {**documented_create_body(http), "publish": True, "sku": "ASYNC-1"}

        created = http.post("/api/listings", json=body).json()["listing"]

        assert created["state"]["slug"] == "draft"
        live = wait_for_state(http, created["id"], "live")
        assert live["state"]["slug"] == "live" and live["published_at"]
        assert_same_shape(live, LISTING, may_be_missing=OPTIONAL, may_be_null={"$.origin_country_code"})

    def test_make_and_model_are_required(self, http: httpx.Client) -> None:
        response = http.post("/api/listings", json={"description": "no make or model"})

        assert response.status_code == 422
        assert response.json() == {
            "message": "Validation failed.",
            "errors": {"make": ["can't be blank"], "model": ["can't be blank"]},
        }

    def test_unknown_condition_and_category_are_refused(self, http: httpx.Client) -> None:
        response = http.post(
            "/api/listings",
            json={
                "make": "Fender",
                "model": "Telecaster",
                "condition": {"uuid": "nope"},
                "categories": [{"uuid": "nope"}],
            },  # fmt: skip
        )

        assert response.status_code == 422
        assert set(response.json()["errors"]) == {"condition", "categories"}

    def test_publish_without_photos_saves_the_draft_and_answers_422(self, http: httpx.Client) -> None:
        body = {**documented_create_body(http), "publish": True, "photos": []}

        response = http.post("/api/listings", json=body)

        assert response.status_code == 422
        assert set(response.json()) == {"message", "errors", "listing"}
        assert response.json()["errors"]["photos"]
        draft_id = response.json()["listing"]["id"]
        assert http.get(f"/api/listings/{draft_id}").json()["state"]["slug"] == "draft"


class TestUpdateListing:
    def test_documented_update_changes_only_the_sent_fields(self, http: httpx.Client) -> None:
        listing = seeded(http)
        request = UPDATE["_request"]
        path = api_path(request["url"]).replace("91978727", str(listing["id"]))

        response = http.request(request["method"], path, json=request["body"])

        assert response.status_code == 200
        assert set(response.json()) == {"listing", "message"}
        updated = http.get(f"/api/listings/{listing['id']}").json()
        assert (updated["price"]["amount"], updated["price"]["currency"]) == ("9499.00", "GBP")
        assert (updated["inventory"], updated["has_inventory"]) == (1, True)
        assert (updated["title"], updated["description"]) == (listing["title"], listing["description"])

    def test_put_with_state_ended_is_silently_ignored(self, http: httpx.Client) -> None:
        listing = seeded(http)

        response = http.put(f"/api/listings/{listing['id']}", json={"state": "ended"})

        assert response.status_code == 200
        assert http.get(f"/api/listings/{listing['id']}").json()["state"]["slug"] == "live"

    def test_price_must_be_positive(self, http: httpx.Client) -> None:
        response = http.put(
            f"/api/listings/{seeded(http)['id']}", json={"price": {"amount": "0", "currency": "GBP"}}
        )

        assert response.status_code == 422
        assert response.json()["errors"] == {"price": ["must be greater than 0"]}

    def test_inventory_zero_takes_it_off_sale(self, http: httpx.Client) -> None:
        listing = seeded(http)

        http.put(f"/api/listings/{listing['id']}", json={"inventory": 0})

        assert http.get(f"/api/listings/{listing['id']}").json()["state"]["slug"] == "ended"

    def test_publish_relists_an_ended_listing_with_the_same_id(self, http: httpx.Client) -> None:
        ended = seeded(http, "ended")

        response = http.put(f"/api/listings/{ended['id']}", json={"publish": True})

        assert response.status_code == 200
        assert wait_for_state(http, ended["id"], "live")["state"]["slug"] == "live"


class TestEndAndDelete:
    def test_documented_end_request_ends_a_live_listing(self, http: httpx.Client) -> None:
        listing = seeded(http)
        request = END["_request"]
        path = api_path(request["url"]).replace("91978727", str(listing["id"]))

        response = http.request(request["method"], path, json=request["body"])

        assert response.status_code == 200
        assert response.json()["listing"]["state"]["slug"] == "ended"
        assert http.get(f"/api/listings/{listing['id']}").json()["state"] == {
            "slug": "ended",
            "description": "Ended",
        }

    def test_ending_twice_is_422_with_a_message(self, http: httpx.Client) -> None:
        listing = seeded(http)
        http.put(f"/api/my/listings/{listing['id']}/state/end", json={"reason": "not_sold"})

        response = http.put(f"/api/my/listings/{listing['id']}/state/end", json={"reason": "not_sold"})

        assert response.status_code == 422
        assert set(response.json()) == {"message"}

    def test_drafts_cannot_be_ended_but_can_be_deleted(self, http: httpx.Client) -> None:
        draft = seeded(http, "draft")

        ended = http.put(f"/api/my/listings/{draft['id']}/state/end", json={"reason": "not_sold"})
        deleted = http.delete(f"/api/listings/{draft['id']}")

        assert ended.status_code == 422
        assert deleted.status_code == 200
        assert http.get(f"/api/listings/{draft['id']}").status_code == 404

    def test_published_listings_cannot_be_deleted(self, http: httpx.Client) -> None:
        response = http.delete(f"/api/listings/{seeded(http)['id']}")

        assert response.status_code == 400
        assert response.json() == {"message": "Only drafts can be deleted"}

    def test_end_reason_must_be_known(self, http: httpx.Client) -> None:
        response = http.put(f"/api/my/listings/{seeded(http)['id']}/state/end", json={"reason": "bored"})

        assert response.status_code == 422
        assert "reason" in response.json()["errors"]


class TestReferenceEndpoints:
    def test_conditions_and_categories_include_the_documented_uuids(self, http: httpx.Client) -> None:
        conditions = {c["uuid"]: c for c in http.get("/api/listing_conditions").json()["conditions"]}
        categories = {c["uuid"]: c for c in http.get("/api/categories/flat").json()["categories"]}

        assert conditions[LISTING["condition"]["uuid"]] == LISTING["condition"]
        assert (
            categories[LISTING["categories"][0]["uuid"]]["full_name"] == LISTING["categories"][0]["full_name"]
        )
