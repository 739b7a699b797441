"""Contract: Reverb orders.

Documented examples (samples/, copies of shared/reference/api_samples/reverb/):
- order.json: "Real order object from GET https://api.reverb.com/api/my/orders/selling/all (captured 2025-11,
  public repo tommytoolman/inventory_system ...). ALL buyer personal data replaced with placeholders."
- orders_page.json: "Envelope from reverb-api.com/docs/retrieve-orders ({total,current_page,total_pages,orders});
  order = order.json (anonymised real order)."
- ship_order_request.json: "Mark shipped: POST /api/my/orders/selling/{order_number}/ship (reverbdotcom/
  reverb-magento-2 ...; EDOS Orders::ship) ... After shipping the order shows status 'shipped', shipping_provider,
  shipping_code, shipped_at, shipping_date and _links.web_tracking (observed in real orders)."
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from riff_sandbox.runner import RunningSandbox

from .conftest import api_path, seeded
from .shapes import assert_same_shape, sample

ORDER = sample("order.json")["body"]
PAGE = sample("orders_page.json")
SHIP = sample("ship_order_request.json")
SHIPPED_KEYS = {"shipping_provider", "shipping_code", "shipped_at", "shipping_date"}
SHIPPED_EXTRA = {f"$.{k}" for k in SHIPPED_KEYS} | {"$._links.web_tracking"}


def paid_order(reverb: RunningSandbox, http: httpx.Client) -> dict[str, Any]:
    return reverb.control.purchase(seeded(http)["id"])["order"]  # type: ignore[no-any-return]


class TestOrdersPage:
    def test_documented_request_gets_the_documented_envelope(self, http: httpx.Client) -> None:
        method, url = PAGE["_request"].split(" ", 1)

        response = http.request(method, api_path(url))  # a November 2025 window: no demo orders in it

        assert response.status_code == 200
        assert response.json() == {"total": 0, "current_page": 1, "total_pages": 0, "orders": []}

    def test_orders_have_the_documented_shape(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        paid_order(reverb, http)
        start = (datetime.now(UTC) - timedelta(days=365)).isoformat()

        body = http.get(
            "/api/my/orders/selling/all", params={"updated_start_date": start, "per_page": 50}
        ).json()

        assert set(body) == set(PAGE["body"])  # single page: no _links, as documented
        assert body["total"] == len(body["orders"]) > 1
        for order in body["orders"]:
            shipped = "shipping_code" in order
            assert_same_shape(order, ORDER, may_be_extra=SHIPPED_EXTRA if shipped else ())
            assert order["status"] in {
                "unpaid",
                "paid",
                "shipped",
                "received",
                "picked_up",
                "cancelled",
                "refunded",
            }

    def test_updated_window_selects_recent_changes(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        before = datetime.now(UTC) - timedelta(seconds=1)
        order = paid_order(reverb, http)

        recent = http.get(
            "/api/my/orders/selling/all", params={"updated_start_date": before.isoformat()}
        ).json()
        old = http.get("/api/my/orders/selling/all", params={"updated_end_date": before.isoformat()}).json()

        assert [o["order_number"] for o in recent["orders"]] == [order["order_number"]]
        assert order["order_number"] not in {o["order_number"] for o in old["orders"]}

    def test_documented_date_format_with_minus_zero_offset(self, http: httpx.Client) -> None:
        response = http.get(
            "/api/my/orders/selling/all", params={"updated_start_date": "2015-01-01T12:00-00:00"}
        )

        assert response.status_code == 200 and response.json()["total"] >= 1

    def test_pages_link_to_the_next(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        first = http.get("/api/my/orders/selling/all", params={"per_page": 2}).json()

        assert first["current_page"] == 1 and first["total_pages"] > 1
        assert first["_links"]["next"]["href"].startswith(f"{reverb.base_url}/api/my/orders/selling/all?")
        second = http.get(first["_links"]["next"]["href"]).json()
        assert second["current_page"] == 2
        assert not {o["order_number"] for o in first["orders"]} & {
            o["order_number"] for o in second["orders"]
        }

    def test_single_order(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        order = paid_order(reverb, http)

        fetched = http.get(f"/api/my/orders/selling/{order['order_number']}")

        assert fetched.status_code == 200
        assert_same_shape(fetched.json(), ORDER)
        assert fetched.json()["_links"]["self"]["href"].endswith(
            f"/api/my/orders/selling/{order['order_number']}"
        )
        assert http.get("/api/my/orders/selling/1").status_code == 404


class TestShip:
    def test_documented_ship_request(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        order = paid_order(reverb, http)
        request = SHIP["_request"]
        path = api_path(request["url"]).replace("24282217", order["order_number"])

        response = http.request(request["method"], path, json=request["body"])

        assert response.status_code == 200
        shipped = http.get(f"/api/my/orders/selling/{order['order_number']}").json()
        assert_same_shape(shipped, ORDER, may_be_extra=SHIPPED_EXTRA)
        excerpt = SHIP["order_after_ship_excerpt"]
        assert shipped["status"] == excerpt["status"]
        assert (shipped["shipping_provider"], shipped["shipping_code"]) == ("DHL", "3030302671")
        assert shipped["shipping_method"] == excerpt["shipping_method"]
        assert shipped["_links"]["web_tracking"] == excerpt["_links"]["web_tracking"]
        assert shipped["shipping_date"] == shipped["shipped_at"][:10]
        assert_same_shape({k: shipped[k] for k in SHIPPED_KEYS}, {k: excerpt[k] for k in SHIPPED_KEYS})

    def test_unknown_provider_and_missing_tracking_are_refused(
        self, reverb: RunningSandbox, http: httpx.Client
    ) -> None:
        order = paid_order(reverb, http)

        response = http.post(
            f"/api/my/orders/selling/{order['order_number']}/ship", json={"provider": "Pigeon"}
        )

        assert response.status_code == 422
        assert set(response.json()["errors"]) == {"provider", "tracking_number"}

    def test_unpaid_orders_cannot_ship(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        order = reverb.control.purchase(seeded(http)["id"], paid=False)["order"]

        response = http.post(
            f"/api/my/orders/selling/{order['order_number']}/ship",
            json={"provider": "UPS", "tracking_number": "1Z"},
        )

        assert response.status_code == 422

    def test_awaiting_shipment_lists_paid_unshipped_orders(
        self, reverb: RunningSandbox, http: httpx.Client
    ) -> None:
        order = paid_order(reverb, http)
        waiting = http.get("/api/my/orders/selling/awaiting_shipment", params={"per_page": 100}).json()[
            "orders"
        ]
        assert order["order_number"] in {o["order_number"] for o in waiting}

        http.post(
            f"/api/my/orders/selling/{order['order_number']}/ship",
            json={"provider": "UPS", "tracking_number": "1Z9"},
        )

        waiting = http.get("/api/my/orders/selling/awaiting_shipment", params={"per_page": 100}).json()[
            "orders"
        ]
        assert order["order_number"] not in {o["order_number"] for o in waiting}
