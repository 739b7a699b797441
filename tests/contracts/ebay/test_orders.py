"""Contract: eBay orders (GetOrders, CompleteSale) with the documented requests.

Documented examples (data/; sources in data/README.md): trading_GetOrders_request/response.xml (GetOrders call
reference, OrderType/TransactionType), trading_CompleteSale_request/response.xml (ShipmentType,
CompleteSaleRequestType).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree

from riff_sandbox.runner import RunningSandbox

from .conftest import NS, add_documented_item, assert_same_structure, call, documented, parse

ORDERS_RESPONSE = parse(documented("trading_GetOrders_response.xml"))
COMPLETE_SALE_RESPONSE = parse(documented("trading_CompleteSale_response.xml"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _orders_request(start: datetime, end: datetime) -> bytes:
    root = parse(documented("trading_GetOrders_request.xml"))
    root.find("e:ModTimeFrom", NS).text = _iso(start)
    root.find("e:ModTimeTo", NS).text = _iso(end)
    return bytes(etree.tostring(root))


def _sold(ebay: RunningSandbox) -> str:
    item_id = add_documented_item(ebay)
    return str(ebay.control.purchase(item_id)["order"]["order_id"])


class TestGetOrders:
    def test_the_documented_request_answers_its_window(self, ebay: RunningSandbox) -> None:
        answer = call(ebay, "GetOrders", documented("trading_GetOrders_request.xml"))  # a November 2025 week

        assert answer.findtext("e:Ack", namespaces=NS) == "Success"
        assert answer.findtext("e:HasMoreOrders", namespaces=NS) == "false"
        assert answer.findtext("e:ReturnedOrderCountActual", namespaces=NS) == "0"
        assert answer.findall("e:OrderArray/e:Order", NS) == []

    def test_orders_have_the_documented_structure(self, ebay: RunningSandbox) -> None:
        order_id = _sold(ebay)
        now = datetime.now(UTC)

        answer = call(
            ebay, "GetOrders", _orders_request(now - timedelta(minutes=5), now + timedelta(minutes=1))
        )

        orders = answer.findall("e:OrderArray/e:Order", NS)
        assert [o.findtext("e:OrderID", namespaces=NS) for o in orders] == [order_id]
        assert_same_structure(answer, ORDERS_RESPONSE)
        transaction = orders[0].find("e:TransactionArray/e:Transaction", NS)
        assert transaction.findtext("e:Item/e:SKU", namespaces=NS) == "RIFF-10000052"
        item_id = transaction.findtext("e:Item/e:ItemID", namespaces=NS)
        assert transaction.findtext("e:OrderLineItemID", namespaces=NS) == (
            f"{item_id}-{transaction.findtext('e:TransactionID', namespaces=NS)}"
        )

    def test_pagination_with_has_more_orders(self, ebay: RunningSandbox) -> None:
        for n in range(3):
            ebay.control.purchase(add_documented_item(ebay, f"RIFF-9000000{n}"))
        now = datetime.now(UTC)
        root = parse(_orders_request(now - timedelta(minutes=5), now + timedelta(minutes=1)))
        root.find("e:Pagination/e:EntriesPerPage", NS).text = "2"
        first = call(ebay, "GetOrders", etree.tostring(root))
        root.find("e:Pagination/e:PageNumber", NS).text = "2"
        second = call(ebay, "GetOrders", etree.tostring(root))

        assert first.findtext("e:HasMoreOrders", namespaces=NS) == "true"
        assert second.findtext("e:HasMoreOrders", namespaces=NS) == "false"
        assert len(first.findall("e:OrderArray/e:Order", NS)) == 2
        assert len(second.findall("e:OrderArray/e:Order", NS)) == 1


class TestCompleteSale:
    def test_the_documented_request_marks_the_order_shipped(self, ebay: RunningSandbox) -> None:
        order_id = _sold(ebay)
        root = parse(documented("trading_CompleteSale_request.xml"))
        root.find("e:OrderID", NS).text = order_id
        root.find("e:Shipment/e:ShippedTime", NS).text = _iso(datetime.now(UTC))

        answer = call(ebay, "CompleteSale", etree.tostring(root))

        assert_same_structure(answer, COMPLETE_SALE_RESPONSE)
        body = (
            b'<GetOrdersRequest xmlns="urn:ebay:apis:eBLBaseComponents"><OrderIDArray>'
            + f"<OrderID>{order_id}</OrderID>".encode()
            + b"</OrderIDArray><OrderRole>Seller</OrderRole></GetOrdersRequest>"
        )
        order = call(ebay, "GetOrders", body).find("e:OrderArray/e:Order", NS)
        assert order.findtext("e:ShippedTime", namespaces=NS)
        tracking = order.find(
            "e:TransactionArray/e:Transaction/e:ShippingDetails/e:ShipmentTrackingDetails", NS
        )
        assert tracking.findtext("e:ShippingCarrierUsed", namespaces=NS) == "DHL"
        assert tracking.findtext("e:ShipmentTrackingNumber", namespaces=NS) == "3030302671"

    def test_an_unknown_order_fails(self, ebay: RunningSandbox) -> None:
        answer = call(ebay, "CompleteSale", documented("trading_CompleteSale_request.xml"))  # 12-13456-78901
        assert answer.findtext("e:Ack", namespaces=NS) == "Failure"
