"""The documented Admin GraphQL examples, sent to the sandbox; answers have the documented shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import WebhookReceiver

from .conftest import call, documented_path, query
from .shapes import sample, shape_problems

ACTIVE_ITEM = """{ products(first: 1, query: "status:active inventory_total:>0") {
  nodes { id variants(first: 1) { nodes { inventoryItem { id inventoryLevel(locationId: "gid://shopify/Location/76543210") {
    quantities(names: ["available"]) { quantity } } } } } } } }"""


def active_item(http: httpx.Client) -> tuple[str, int]:
    """(inventory item id, available) of a seeded one-of-a-kind product that is for sale."""
    node = query(http, ACTIVE_ITEM)["data"]["products"]["nodes"][0]
    item = node["variants"]["nodes"][0]["inventoryItem"]
    return item["id"], item["inventoryLevel"]["quantities"][0]["quantity"]


def assert_cost_extension(body: dict[str, Any]) -> None:
    documented = sample("productSet_mutation.json")["body"]["extensions"]
    assert shape_problems(body["extensions"], documented) == []


class TestProducts:
    def test_products_page_has_the_documented_shape_and_paginates(self, http: httpx.Client) -> None:
        documented = sample("products_query_page.json")
        # first: 20, not the sample's 50: 50 products x 10 variants would exceed the 1,000-point query limit.
        response = call(http, documented["_request"], first=20, query="status:active")
        assert response.status_code == 200
        body = response.json()
        assert shape_problems(body, documented["body"]) == []
        page = body["data"]["products"]
        assert page["pageInfo"]["hasNextPage"] is True
        after = call(
            http, documented["_request"], first=20, query="status:active", after=page["pageInfo"]["endCursor"]
        )
        seen = {edge["node"]["id"] for edge in page["edges"]}
        rest = {edge["node"]["id"] for edge in after.json()["data"]["products"]["edges"]}
        assert seen.isdisjoint(rest)
        statuses = {edge["node"]["status"] for edge in page["edges"]}
        assert statuses == {"ACTIVE"}
        assert all(edge["node"]["id"].startswith("gid://shopify/Product/") for edge in page["edges"])

    def test_product_set_creates_what_was_documented(self, http: httpx.Client) -> None:
        documented = sample("productSet_mutation.json")
        response = call(http, documented["_request"])
        assert response.status_code == 200
        body = response.json()
        assert shape_problems(body, documented["body"]) == []
        created = body["data"]["productSet"]
        assert created["userErrors"] == []
        assert created["product"]["title"] == "Fender Telecaster 1968 - Olympic White"
        assert created["product"]["status"] == "ACTIVE"
        variant = created["product"]["variants"]["nodes"][0]
        assert (variant["sku"], variant["price"]) == ("RIFF-10000052", "11999.00")

    def test_product_set_user_errors_carry_the_field_path(self, http: httpx.Client) -> None:
        documented = sample("productSet_mutation.json")["_request"]
        bad_input = dict(documented["body"]["variables"]["input"], title="")
        body = call(http, documented, input=bad_input).json()
        assert body["data"]["productSet"] == {
            "product": None,
            "userErrors": [{"field": ["input", "title"], "message": "Title can't be blank", "code": "BLANK"}],
        }


class TestInventory:
    def test_set_quantities_as_documented(self, http: httpx.Client) -> None:
        documented = sample("inventorySetQuantities_mutation.json")
        item_id, _ = active_item(http)
        variables = documented["_request"]["body"]["variables"]
        quantities = [dict(variables["input"]["quantities"][0], inventoryItemId=item_id)]
        response = call(http, documented["_request"], input=dict(variables["input"], quantities=quantities))
        body = response.json()
        assert shape_problems(body, documented["body"]) == []
        changes = body["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
        assert (
            changes
            == documented["body"]["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
        )
        assert active_item(http)[0] != item_id  # now 0: no longer "for sale"

    def test_a_stale_compare_quantity_is_the_documented_user_error(self, http: httpx.Client) -> None:
        documented = sample("inventorySetQuantities_mutation.json")
        item_id, available = active_item(http)
        variables = documented["_request"]["body"]["variables"]
        stale_input = dict(
            variables["input"],
            ignoreCompareQuantity=False,
            quantities=[
                dict(
                    variables["input"]["quantities"][0],
                    inventoryItemId=item_id,
                    compareQuantity=available + 5,
                )
            ],
        )
        body = call(http, documented["_request"], input=stale_input).json()
        assert body["data"] == documented["user_error_example"]["data"]

    def test_from_2026_04_change_from_quantity_is_compare_and_set(self, http: httpx.Client) -> None:
        item_id, available = active_item(http)
        mutation = """mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {
          userErrors { code field message } } }"""

        def set_to(quantity: int, **change: Any) -> list[dict[str, Any]]:
            entry = {
                "inventoryItemId": item_id,
                "locationId": "gid://shopify/Location/76543210",
                "quantity": quantity,
            }
            body = query(
                http,
                mutation,
                input={"name": "available", "reason": "correction", "quantities": [{**entry, **change}]},
            )
            return body["data"]["inventorySetQuantities"]["userErrors"]  # type: ignore[no-any-return]

        [missing] = set_to(3)
        assert missing["field"] == ["input", "quantities", "0", "changeFromQuantity"]
        [stale] = set_to(3, changeFromQuantity=available + 1)
        assert stale["code"] == "CHANGE_FROM_QUANTITY_STALE"
        assert stale["message"] == "The changeFromQuantity value does not match persisted value."
        assert set_to(3, changeFromQuantity=available) == []
        assert set_to(4, changeFromQuantity=None) == []  # explicit opt-out

    def test_an_idempotency_key_applies_an_adjustment_once(self, http: httpx.Client) -> None:
        item_id, available = active_item(http)
        key = str(uuid.uuid4())

        def adjust(version: str, directive: str = "", change_from: int | None = None) -> dict[str, Any]:
            document = (
                "mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input)"
                f" {directive} {{ inventoryAdjustmentGroup {{ changes {{ name delta }} }} userErrors {{ code field message }} }} }}"
            )
            change = {
                "delta": 2,
                "inventoryItemId": item_id,
                "locationId": "gid://shopify/Location/76543210",
                "changeFromQuantity": change_from,
            }
            return query(
                http, document, version, input={"name": "available", "reason": "restock", "changes": [change]}
            )

        first = adjust("2026-04", f'@idempotent(key: "{key}")', available)
        again = adjust("2026-04", f'@idempotent(key: "{key}")', available)  # a retry of the same request
        assert first["data"] == again["data"]
        assert first["data"]["inventoryAdjustQuantities"]["userErrors"] == []
        check = query(
            http,
            'query($id: ID!) { inventoryItem(id: $id) { inventoryLevel(locationId: "gid://shopify/Location/76543210")'
            ' { quantities(names: ["available"]) { quantity } } } }',
            id=item_id,
        )
        assert check["data"]["inventoryItem"]["inventoryLevel"]["quantities"][0]["quantity"] == available + 2

        without_key = adjust("2026-04", "", available + 2)
        assert without_key["data"] is None or without_key["data"]["inventoryAdjustQuantities"] is None
        assert without_key["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
        older = adjust("2025-10")  # before 2026-04 the key (and changeFromQuantity) were optional
        assert older["data"]["inventoryAdjustQuantities"]["userErrors"] == []


class TestOrders:
    def test_orders_page_has_the_documented_shape(self, http: httpx.Client) -> None:
        documented = sample("orders_query_page.json")
        request = json.loads(json.dumps(documented["_request"]))
        # Smaller nested pages than the sample: the documented query costs ~34,000 points under the rules.
        request["body"]["query"] = (
            request["body"]["query"]
            .replace("lineItems(first:50)", "lineItems(first:5)")
            .replace("fulfillmentOrders(first:5)", "fulfillmentOrders(first:2)")
        )
        response = call(http, request, first=5)
        body = response.json()
        assert "errors" not in body, body.get("errors")
        assert shape_problems(body, documented["body"]) == []
        orders = body["data"]["orders"]["nodes"]
        assert orders and all(o["id"].startswith("gid://shopify/Order/") for o in orders)
        updated = [o["updatedAt"] for o in orders]
        assert updated == sorted(updated)  # sortKey: UPDATED_AT

    def test_fulfillment_create_as_documented(self, http: httpx.Client, shopify: RunningSandbox) -> None:
        documented = sample("fulfillmentCreate_mutation.json")
        product_id = query(http, ACTIVE_ITEM)["data"]["products"]["nodes"][0]["id"]
        order_id = shopify.control.purchase(product_id.rsplit("/", 1)[1])["order"]["admin_graphql_api_id"]
        open_orders = query(
            http,
            "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 2) { nodes { id lineItems(first: 5) "
            "{ nodes { id remainingQuantity } } } } } }",
            id=order_id,
        )["data"]["order"]["fulfillmentOrders"]["nodes"]
        fulfillment = json.loads(json.dumps(documented["_request"]["body"]["variables"]["fulfillment"]))
        group = fulfillment["lineItemsByFulfillmentOrder"][0]
        group["fulfillmentOrderId"] = open_orders[0]["id"]
        group["fulfillmentOrderLineItems"][0]["id"] = open_orders[0]["lineItems"]["nodes"][0]["id"]
        body = call(http, documented["_request"], fulfillment=fulfillment).json()
        assert shape_problems(body, documented["body"]) == []
        created = body["data"]["fulfillmentCreate"]
        assert created["userErrors"] == []
        assert created["fulfillment"]["status"] == "SUCCESS"
        assert (
            created["fulfillment"]["trackingInfo"]
            == documented["body"]["data"]["fulfillmentCreate"]["fulfillment"]["trackingInfo"]
        )
        again = call(http, documented["_request"], fulfillment=fulfillment).json()["data"][
            "fulfillmentCreate"
        ]
        assert again["fulfillment"] is None and "unfulfillable" in again["userErrors"][0]["message"]


class TestErrorsAndThrottling:
    def test_a_bad_token_is_the_documented_401(self, shopify: RunningSandbox) -> None:
        documented = sample("errors.json")["examples"][0]
        response = httpx.post(
            f"{shopify.base_url}/admin/api/2025-10/graphql.json",
            json={"query": "{ shop { name } }"},
            headers={"X-Shopify-Access-Token": "shpat_not_a_real_token"},
            trust_env=False,
        )
        assert response.status_code == documented["status"]
        assert response.json() == documented["body"]

    def test_an_unknown_field_is_the_documented_validation_error(self, http: httpx.Client) -> None:
        documented = sample("errors.json")["examples"][1]
        response = http.post(
            "/admin/api/2025-10/graphql.json", json={"query": "{ prodcts(first: 1) { nodes { id } } }"}
        )
        assert response.status_code == documented["status"]
        assert response.json()["errors"] == documented["body"]["errors"]

    def test_throttled_is_the_documented_body(self, http: httpx.Client, shopify: RunningSandbox) -> None:
        documented = sample("throttled_error.json")
        httpx.post(
            f"{shopify.base_url}/_sandbox/shopify/throttle",
            json={"currently_available": 3, "restore_rate": 100},
            trust_env=False,
        ).raise_for_status()
        response = call(http, sample("products_query_page.json")["_request"], first=20)
        assert response.status_code == documented["status"]
        body = response.json()
        assert "data" not in body
        assert body["errors"] == documented["body"]["errors"]
        assert shape_problems(body, documented["body"]) == []
        cost = body["extensions"]["cost"]
        assert cost["actualQueryCost"] is None
        assert cost["requestedQueryCost"] > cost["throttleStatus"]["currentlyAvailable"]

    def test_every_answer_reports_its_cost(self, http: httpx.Client) -> None:
        body = query(http, "{ shop { name currencyCode } }")
        assert_cost_extension(body)
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 1 and cost["actualQueryCost"] == 1


class TestWebhooks:
    def test_deliveries_are_signed_as_documented(self, http: httpx.Client, shopify: RunningSandbox) -> None:
        vector = sample("webhook_orders_create_hmac_vector.json")
        product_id = query(http, ACTIVE_ITEM)["data"]["products"]["nodes"][0]["id"]
        secret = shopify.control.info()["options"]["client_secret"]
        with WebhookReceiver() as receiver:
            shopify.control.register_webhook(receiver.url + "/hooks", "orders/create")
            shopify.control.purchase(product_id.rsplit("/", 1)[1])
            [delivery] = receiver.wait_for(1)
        documented_headers = {name.lower() for name in vector["headers"]}
        assert documented_headers <= set(delivery.headers)
        expected = base64.b64encode(
            hmac.new(secret.encode(), delivery.body, hashlib.sha256).digest()
        ).decode()
        assert delivery.headers["x-shopify-hmac-sha256"] == expected
        assert delivery.headers["x-shopify-topic"] == "orders/create"
        assert shape_problems(delivery.json(), json.loads(vector["raw_body"])) == []

    def test_the_documented_vector_itself(self) -> None:
        vector = sample("webhook_orders_create_hmac_vector.json")
        digest = hmac.new(
            vector["client_secret"].encode(), vector["raw_body"].encode(), hashlib.sha256
        ).digest()
        assert base64.b64encode(digest).decode() == vector["headers"]["X-Shopify-Hmac-Sha256"]


@pytest.mark.parametrize("name", ["productSet_mutation.json", "fulfillmentCreate_mutation.json"])
def test_documented_requests_name_the_admin_graphql_endpoint(name: str) -> None:
    assert documented_path(sample(name)["_request"]["url"]) == "/admin/api/2025-10/graphql.json"
