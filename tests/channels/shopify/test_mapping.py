"""Pure mapping: RIFF snapshots -> GraphQL inputs, GraphQL nodes (the documented samples) -> RIFF types."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riff.channels.contract import OrderStatus, RemoteState
from riff.channels.errors import Rejected
from riff.channels.shopify import mapping
from riff.channels.shopify.client import CostTracker, throttle_wait, user_errors_rejected
from riff.channels.shopify.mapping import ShopifyConfig

from .conftest import product

DATA = Path(__file__).parent / "data"
LOCATION = "gid://shopify/Location/76543210"


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


class TestProductInput:
    def test_create_input_has_the_documented_shape(self) -> None:
        documented = sample("productSet_mutation.json")["_request"]["body"]["variables"]["input"]
        built = mapping.create_input(product(), ShopifyConfig(), LOCATION)
        assert set(documented) <= set(built)
        assert set(documented["variants"][0]) <= set(built["variants"][0])
        variant = built["variants"][0]
        assert variant["sku"] == "RIFF-S-0001" and variant["price"] == "11999.00"
        assert variant["inventoryItem"] == {"tracked": True}
        assert variant["inventoryQuantities"] == [
            {"locationId": LOCATION, "name": "available", "quantity": 1}
        ]
        assert built["status"] == "ACTIVE" and built["vendor"] == "Fender"
        assert built["productType"] == "Electric Guitars"
        assert built["files"][0] == {
            "originalSource": "https://img.example.com/RIFF-S-0001/0.jpg",
            "alt": "Fender Telecaster 1968 - Olympic White",
            "contentType": "IMAGE",
        }

    def test_stocked_items_send_their_count_and_drafts_their_status(self) -> None:
        built = mapping.create_input(
            product(is_stocked_item=True, quantity=4), ShopifyConfig(publish=False), LOCATION
        )
        assert built["variants"][0]["inventoryQuantities"][0]["quantity"] == 4
        assert built["status"] == "DRAFT"

    def test_a_taxonomy_mapping_sets_the_category(self) -> None:
        category = "gid://shopify/TaxonomyCategory/ae-2-8-2"
        built = mapping.create_input(product(category_remote_ids=[category]), ShopifyConfig(), LOCATION)
        assert built["category"] == category

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"condition": "like-new-ish"}, "condition"),
            ({"category_slug": "theremins"}, "category"),
            ({"currency": "EUR"}, "currency"),
            ({"images": []}, "images"),
            ({"price": Decimal("-1")}, "price"),
        ],
    )
    def test_what_shopify_cannot_take_is_refused_first(self, overrides: dict[str, Any], field: str) -> None:
        with pytest.raises(Rejected) as caught:
            mapping.create_input(product(**overrides), ShopifyConfig(), LOCATION)
        assert caught.value.field == field

    def test_update_sends_only_what_changed_and_keeps_the_shops_tags(self) -> None:
        changed = mapping.update_input(
            product(year=1969, title="Tele 1969"),
            {"title", "year"},
            ["staff-pick", "Year: 1968", "Brand: Fender"],
        )
        assert set(changed) == {"title", "tags"}
        assert "staff-pick" in changed["tags"] and "Year: 1969" in changed["tags"]
        assert "Year: 1968" not in changed["tags"]

    def test_unknown_update_fields_are_refused(self) -> None:
        with pytest.raises(Rejected):
            mapping.check_update_fields({"price", "sku"})


class TestNodes:
    def test_a_products_page_node(self) -> None:
        node = sample("products_query_page.json")["body"]["data"]["products"]["edges"][0]["node"]
        listing = mapping.remote_listing(node, "GBP")
        assert listing.remote_id == "gid://shopify/Product/8058604055434"
        assert listing.sku == "RIFF-10000052"
        assert listing.price == Decimal("11999.00")
        assert listing.quantity == 1
        assert listing.state == RemoteState.LIVE
        assert (
            listing.updated_at is not None and listing.updated_at.isoformat() == "2025-11-05T10:32:45+00:00"
        )

    @pytest.mark.parametrize(
        ("status", "stock", "tracked", "state"),
        [
            ("ACTIVE", 1, True, RemoteState.LIVE),
            ("ACTIVE", 0, True, RemoteState.SOLD),
            ("ACTIVE", 0, False, RemoteState.LIVE),
            ("DRAFT", 1, True, RemoteState.DRAFT),
            ("DRAFT", 0, True, RemoteState.ENDED),
            ("ARCHIVED", 1, True, RemoteState.ENDED),
        ],
    )
    def test_listing_states(self, status: str, stock: int, tracked: bool, state: RemoteState) -> None:
        node = {
            "id": "gid://shopify/Product/1",
            "status": status,
            "variants": {"nodes": [{"inventoryQuantity": stock, "inventoryItem": {"tracked": tracked}}]},
        }
        assert mapping.listing_state(node) == state

    def test_an_orders_page_node(self) -> None:
        node = sample("orders_query_page.json")["body"]["data"]["orders"]["nodes"][0]
        order = mapping.remote_order(node)
        assert order.remote_id == "gid://shopify/Order/5896545558666"
        assert order.status == OrderStatus.PAID
        assert order.total == Decimal("12024.0")
        assert order.shipping_address is not None and order.shipping_address.country_code == "GB"
        assert [(line.sku, line.quantity, line.price) for line in order.lines] == [
            ("RIFF-10000052", 1, Decimal("11999.0"))
        ]

    def test_a_webhook_and_a_poll_of_the_same_order_state_share_one_key(self) -> None:
        """The REST webhook body (HMAC vector) and the GraphQL node (orders page) are the same order state."""
        polled = mapping.remote_order(sample("orders_query_page.json")["body"]["data"]["orders"]["nodes"][0])
        delivered = json.loads(sample("webhook_orders_create_hmac_vector.json")["raw_body"])
        webhook_key = mapping.order_state_key(
            delivered["admin_graphql_api_id"],
            delivered["updated_at"],
            mapping.webhook_order_status(delivered),
        )
        assert (
            webhook_key == mapping.remote_order_key(polled) == "order:5896545558666:2025-11-05T09:14:22Z:paid"
        )

    @pytest.mark.parametrize(
        ("financial", "fulfillment", "cancelled", "status"),
        [
            ("PENDING", "UNFULFILLED", False, OrderStatus.UNPAID),
            ("PAID", "UNFULFILLED", False, OrderStatus.PAID),
            ("PAID", "FULFILLED", False, OrderStatus.SHIPPED),
            ("REFUNDED", "FULFILLED", False, OrderStatus.REFUNDED),
            ("PAID", "UNFULFILLED", True, OrderStatus.CANCELLED),
            ("paid", "fulfilled", False, OrderStatus.SHIPPED),  # the REST spelling in webhooks
        ],
    )
    def test_order_statuses(
        self, financial: str, fulfillment: str, cancelled: bool, status: OrderStatus
    ) -> None:
        assert mapping.order_status(financial, fulfillment, cancelled) == status


class TestFulfillment:
    ORDERS = [
        {"id": "gid://shopify/FulfillmentOrder/1", "status": "CLOSED", "lineItems": {"nodes": []}},
        {
            "id": "gid://shopify/FulfillmentOrder/2",
            "status": "OPEN",
            "lineItems": {
                "nodes": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/3", "remainingQuantity": 1},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/4", "remainingQuantity": 0},
                ]
            },
        },
    ]

    def test_open_lines_with_tracking(self) -> None:
        built = mapping.fulfillment_input(self.ORDERS, "royal_mail", " RM123 ", True)
        assert built == {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/2",
                    "fulfillmentOrderLineItems": [
                        {"id": "gid://shopify/FulfillmentOrderLineItem/3", "quantity": 1}
                    ],
                }
            ],
            "trackingInfo": {"number": "RM123", "company": "Royal Mail"},
            "notifyCustomer": True,
        }

    def test_nothing_open_and_bad_input(self) -> None:
        assert mapping.fulfillment_input(self.ORDERS[:1], "dhl", "1", True) is None
        with pytest.raises(Rejected):
            mapping.fulfillment_input(self.ORDERS, "pigeon", "1", True)
        with pytest.raises(Rejected):
            mapping.fulfillment_input(self.ORDERS, "dhl", " ", True)


class TestCost:
    def test_the_wait_for_a_throttled_query_comes_from_its_cost(self) -> None:
        cost = sample("throttled_error.json")["body"]["extensions"]["cost"]
        assert throttle_wait(cost) == pytest.approx((752 - 43.5) / 100.0)

    def test_the_tracker_projects_the_bucket_forward(self) -> None:
        tracker = CostTracker()
        assert tracker.wait_for(500, now=0.0) == 0.0  # nothing known yet: send
        tracker.observe(
            {"maximumAvailable": 1000.0, "currentlyAvailable": 100.0, "restoreRate": 50.0}, now=10.0
        )
        assert tracker.wait_for(100, now=10.0) == 0.0
        assert tracker.wait_for(300, now=10.0) == pytest.approx(4.0)
        assert tracker.wait_for(300, now=12.0) == pytest.approx(2.0)
        assert tracker.wait_for(300, now=14.0) == 0.0
        assert tracker.projected(now=100.0) == 1000.0

    def test_user_errors_keep_shopifys_words_and_field_path(self) -> None:
        errors = [
            {
                "code": "COMPARE_QUANTITY_STALE",
                "field": ["input", "quantities", "0", "compareQuantity"],
                "message": "The compareQuantity value does not match persisted value.",
            }
        ]
        rejected = user_errors_rejected("InventorySet", errors)
        assert rejected.field == "input.quantities.0.compareQuantity"
        assert rejected.message == (
            "input.quantities.0.compareQuantity: The compareQuantity value does not match persisted value."
            " [COMPARE_QUANTITY_STALE]"
        )
        assert rejected.body == errors
