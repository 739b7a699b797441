"""Contract, the other direction: RIFF's eBay client builds the documented requests and reads the documented
responses (data/; sources in data/README.md). No network."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree

from riff.channels.contract import ImageRef, OrderStatus, ProductSnapshot, RemoteState
from riff.channels.ebay import mapping, trading
from riff.channels.ebay.mapping import EbayConfig
from riff.channels.ebay.trading import CallLimitReached, DuplicateListing

from .conftest import NS, documented, parse, structure

CONFIG = EbayConfig(
    shipping_profile_id="252277357017",
    return_profile_id="252277356017",
    payment_profile_id="252277358017",
    postal_code="WC2H 8NA",
)
# The documented AddFixedPriceItem example as a RIFF product.
TELECASTER = ProductSnapshot(
    product_id=52,
    sku="RIFF-10000052",
    title="Fender Telecaster 1968 - Olympic White",
    brand="Fender",
    model="Telecaster",
    year=1968,
    finish="White",
    condition="excellent",
    description="<p>1968 Fender Telecaster, all original.</p>",
    price=Decimal("11999.00"),
    currency="GBP",
    images=[ImageRef(url="https://i.ebayimg.com/images/g/xwAAAeSwMFZolFHi/s-l1600.jpg")],
)


def response_for(name: str, call_name: str) -> httpx.Response:
    request = httpx.Request(
        "POST", "https://api.ebay.com/ws/api.dll", headers={"X-EBAY-API-CALL-NAME": call_name}
    )
    return httpx.Response(200, content=documented(name), request=request)


def built(element: Any) -> Any:
    return parse(trading.serialize(element))


class TestRequestsRiffBuilds:
    def test_add_fixed_price_item_has_every_documented_element(self) -> None:
        ours = built(mapping.add_item_request(TELECASTER, CONFIG, "9CEBD9A6825644EC8D06C436D6CF494B"))
        theirs = parse(documented("trading_AddFixedPriceItem_request.xml"))
        assert structure(theirs) <= structure(ours)
        extra = {p.rsplit("/", 1)[-1] for p in structure(ours) - structure(theirs)}
        assert extra == {"UUID", "InventoryTrackingMethod"}  # idempotency and look-up by SKU
        item = ours.find("e:Item", NS)
        for name in (
            "Title",
            "StartPrice",
            "ConditionID",
            "Currency",
            "SKU",
            "ListingDuration",
            "ListingType",
        ):
            assert item.findtext(f"e:{name}", namespaces=NS) == theirs.findtext(
                f"e:Item/e:{name}", namespaces=NS
            )

    def test_revise_inventory_status_end_complete_sale(self) -> None:
        status = mapping.inventory_status(
            "257054628589",
            TELECASTER.model_copy(update={"price": Decimal("11499")}),
            {"price", "quantity"},
            CONFIG,
        )
        ours = built(mapping.revise_inventory_request([status]))
        theirs = parse(documented("trading_ReviseInventoryStatus_request.xml"))
        assert structure(ours) == structure(theirs)
        assert ours.findtext("e:InventoryStatus/e:StartPrice", namespaces=NS) == "11499.00"

        end = built(mapping.end_item_request("257054628553", "NotAvailable"))
        assert etree.tostring(end, method="c14n") == etree.tostring(
            parse(documented("trading_EndFixedPriceItem_request.xml")), method="c14n"
        )

        shipped = dt.datetime(2025, 11, 5, 10, 32, 45, tzinfo=dt.UTC)
        sale = built(mapping.complete_sale_request("12-13456-78901", "dhl", "3030302671", shipped))
        assert etree.tostring(sale, method="c14n") == etree.tostring(
            parse(documented("trading_CompleteSale_request.xml")), method="c14n"
        )


class TestResponsesRiffReads:
    def test_get_my_ebay_selling(self) -> None:
        answer = trading.read_response(documented("trading_GetMyeBaySelling_response.xml"))
        listings = [
            mapping.remote_listing(item, RemoteState.LIVE)
            for item in answer.findall("ActiveList/ItemArray/Item")
        ]
        assert [listing.remote_id for listing in listings] == ["257054628553", "257054628589"]
        first = listings[0]
        assert first.price == Decimal("31999.0") and first.currency == "GBP"
        assert first.quantity == 1
        assert first.state == RemoteState.LIVE
        assert (
            first.url
            == "https://www.ebay.co.uk/itm/Fender-Stratocaster-1969-Black-HENDRIX-SPEC-UBER-RARE-/257054628553"
        )
        assert first.updated_at == dt.datetime(2025, 8, 7, 7, 7, 28, tzinfo=dt.UTC)
        assert first.raw["SellerProfiles"]["SellerShippingProfile"]["ShippingProfileID"] == "252277357017"

    def test_get_orders(self) -> None:
        answer = trading.read_response(documented("trading_GetOrders_response.xml"))
        [order] = [mapping.remote_order(node) for node in answer.findall("OrderArray/Order")]
        assert order.remote_id == "12-13456-78901"
        assert order.status == OrderStatus.PAID  # Completed, not shipped yet
        assert order.total == Decimal("11524.0") and order.subtotal == Decimal("11499.0")
        assert order.shipping == Decimal("25.0") and order.currency == "GBP"
        assert order.buyer_name == "Some Buyer"
        assert order.buyer_email is None  # eBay's "Invalid Request" mask
        assert order.shipping_address is not None and order.shipping_address.postal_code == "M1 1AA"
        assert order.shipping_address.phone is None
        [line] = order.lines
        assert (line.sku, line.remote_listing_id, line.quantity, line.price) == (
            "RIFF-10000052",
            "257054628589",
            1,
            Decimal("11499.0"),
        )
        assert order.paid_at == dt.datetime(2025, 11, 5, 9, 14, 22, tzinfo=dt.UTC)
        assert mapping.order_dedupe_key(order) == "order:12-13456-78901:Completed:2025-11-05T09:14:22.000Z:"
        assert answer.text("HasMoreOrders") == "false"

    def test_add_end_complete_sale_answers(self) -> None:
        assert (
            trading.read_response(documented("trading_AddFixedPriceItem_response.xml")).text("ItemID")
            == "257054628589"
        )
        for name in ("trading_EndFixedPriceItem_response.xml", "trading_CompleteSale_response.xml"):
            answer = trading.read_response(documented(name))
            assert answer.ack == "Success" and answer.issues == ()

    def test_revise_inventory_status_warning_is_an_answer_not_a_failure(self) -> None:
        response = response_for("trading_ReviseInventoryStatus_response.xml", "ReviseInventoryStatus")
        assert trading.response_check(response) is None
        answer = trading.read_response(response.content)
        assert answer.ack == "Warning"
        assert [w.code for w in answer.warnings] == ["21917091"]
        assert [trading.text(s, "ItemID") for s in answer.findall("InventoryStatus")] == [
            "257054628589",
            "257054628553",
        ]

    def test_the_real_duplicate_failure(self) -> None:
        error = trading.response_check(response_for("trading_Failure_response.xml", "AddFixedPriceItem"))
        assert isinstance(error, DuplicateListing)
        assert error.item_id == "110120484396"
        assert error.message.startswith(
            "This Listing is a duplicate of your item: 66666666666622222222222 (110120484396)."
        )
        assert error.retryable is False

    def test_the_call_limit_failure(self) -> None:
        error = trading.response_check(
            response_for("trading_CallLimit_error_response.xml", "GetMyeBaySelling")
        )
        assert isinstance(error, CallLimitReached)
        assert error.retryable is True and error.retry_after is not None and 0 < error.retry_after <= 3600
        assert error.message == (
            "Your application has exceeded usage limit on this call, please make call to Developer Analytics API "
            "to check your call usage."
        )

    def test_a_cut_off_body_is_transient(self) -> None:
        request = httpx.Request("POST", "https://api.ebay.com/ws/api.dll")
        cut = documented("trading_GetOrders_response.xml")[:300]
        error = trading.response_check(httpx.Response(200, content=cut, request=request))
        assert error is not None and error.retryable is True


@pytest.mark.parametrize("name", ["trading_GetMyeBaySelling_request.xml", "trading_GetOrders_request.xml"])
def test_riffs_list_requests_use_the_documented_elements(name: str) -> None:
    theirs = {p.rsplit("/", 1)[-1] for p in structure(parse(documented(name)))}
    # What RIFF's client sends for these calls (client.py builds them; the names must be eBay's).
    ours = {
        "trading_GetMyeBaySelling_request.xml": {
            "GetMyeBaySellingRequest",
            "ActiveList",
            "Include",
            "Pagination",
            "EntriesPerPage",
            "PageNumber",
            "DetailLevel",
        },
        "trading_GetOrders_request.xml": {
            "GetOrdersRequest",
            "ModTimeFrom",
            "ModTimeTo",
            "OrderRole",
            "OrderStatus",
            "Pagination",
            "EntriesPerPage",
            "PageNumber",
            "DetailLevel",
        },
    }[name]
    assert ours <= theirs
