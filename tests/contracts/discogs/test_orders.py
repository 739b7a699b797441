"""Orders: the buyer simulator, list filters, status changes, the Shipped message; release look-ups."""

from __future__ import annotations

import httpx

from riff_sandbox.runner import RunningSandbox

from .shapes import sample, shape_problems


def _buy(http: httpx.Client, discogs: RunningSandbox) -> dict:  # type: ignore[type-arg]
    listing = http.get("/users/riff_records/inventory", params={"per_page": 1}).json()["listings"][0]
    return discogs.control.purchase(listing["id"])  # type: ignore[no-any-return]


def test_a_purchase_makes_an_order_and_sells_the_listing(http: httpx.Client, discogs: RunningSandbox) -> None:
    bought = _buy(http, discogs)
    order_id = bought["order"]["id"]

    order = http.get(f"/marketplace/orders/{order_id}")
    assert order.status_code == 200
    assert shape_problems(order.json(), sample("order.json")["body"]) == []
    assert order.json()["status"] == "Payment Received"
    listing_id = order.json()["items"][0]["id"]
    assert http.get(f"/marketplace/listings/{listing_id}").json()["status"] == "Sold"
    listed = http.get(
        "/marketplace/orders", params={"status": "Payment Received", "sort": "created", "sort_order": "desc"}
    )
    assert shape_problems(listed.json(), sample("orders_page.json")["body"]) == []
    assert listed.json()["orders"][0]["id"] == order_id


def test_created_after_and_last_activity_sort(http: httpx.Client, discogs: RunningSandbox) -> None:
    bought = _buy(http, discogs)
    created = bought["order"]["created"]

    recent = http.get("/marketplace/orders", params={"created_after": created}).json()["orders"]
    by_activity = http.get(
        "/marketplace/orders", params={"sort": "last_activity", "sort_order": "desc"}
    ).json()
    assert [o["id"] for o in recent] == [bought["order"]["id"]]
    activity = [o["last_activity"] for o in by_activity["orders"]]
    assert activity == sorted(activity, reverse=True)


def test_status_changes_and_the_shipped_message(http: httpx.Client, discogs: RunningSandbox) -> None:
    order_id = _buy(http, discogs)["order"]["id"]
    documented = sample("order_message_shipped.json")

    both = http.post(f"/marketplace/orders/{order_id}", json={"status": "In Progress", "shipping": 5})
    invalid = http.post(f"/marketplace/orders/{order_id}", json={"status": "Teleported"})
    progress = http.post(f"/marketplace/orders/{order_id}", json={"status": "In Progress"})
    message = http.post(f"/marketplace/orders/{order_id}/messages", json=documented["_request"]["body"])

    assert both.status_code == 422 and invalid.status_code == 422
    assert progress.status_code == 200 and progress.json()["status"] == "In Progress"
    assert message.status_code == 201
    assert shape_problems(message.json(), documented["body"]) == []
    assert message.json()["message"].startswith("Seller changed status from In Progress to Shipped")
    assert http.get(f"/marketplace/orders/{order_id}").json()["status"] == "Shipped"


def test_release_lookup(http: httpx.Client) -> None:
    release = http.get("/releases/1900003")
    missing = http.get("/releases/0")

    assert release.status_code == 200
    body = release.json()
    assert {
        "artists",
        "labels",
        "formats",
        "genres",
        "styles",
        "community",
        "images",
        "year",
        "title",
    } <= set(body)
    assert body["genres"] and body["labels"][0]["catno"]
    assert missing.status_code == 404
