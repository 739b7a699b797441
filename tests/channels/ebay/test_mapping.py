"""Pure mapping: RIFF snapshots -> Trading XML, error classification, the call budget (no I/O)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from riff.channels.contract import ImageRef
from riff.channels.ebay import mapping, trading
from riff.channels.ebay.adapter import merged_usage
from riff.channels.ebay.mapping import EbayConfig, EbaySecrets
from riff.channels.ebay.trading import AlreadyEnded, CallLimitReached, DuplicateListing, Issue
from riff.channels.errors import AuthExpired, NotFound, Rejected, Transient

from .conftest import product

CONFIG = EbayConfig(
    shipping_profile_id="252277357017", return_profile_id="252277356017", postal_code="WC2H 8NA"
)
NS = {"e": "urn:ebay:apis:eBLBaseComponents"}


def xml(element: Any) -> Any:
    return etree.fromstring(trading.serialize(element))


class TestAddItem:
    def test_fields_and_order(self) -> None:
        root = xml(mapping.add_item_request(product(), CONFIG, "A" * 32))
        assert root.tag == "{urn:ebay:apis:eBLBaseComponents}AddFixedPriceItemRequest"
        item = root.find("e:Item", NS)
        names = [child.tag.split("}")[1] for child in item]
        assert names[:3] == ["Title", "Description", "PrimaryCategory"]
        assert {
            "StartPrice",
            "ConditionID",
            "Quantity",
            "SKU",
            "PictureDetails",
            "ItemSpecifics",
            "UUID",
        } <= set(names)
        assert "ShippingDetails" not in names  # a business policy replaces inline shipping
        assert "ReturnPolicy" not in names
        assert item.findtext("e:Description", namespaces=NS) == "<p>Refretted in 1990; original pickups.</p>"

    def test_without_policies_inline_shipping_and_returns(self) -> None:
        config = EbayConfig(shipping_cost=Decimal("60"))
        item = xml(mapping.add_item_request(product(), config, "A" * 32)).find("e:Item", NS)
        option = item.find("e:ShippingDetails/e:ShippingServiceOptions", NS)
        assert option.findtext("e:ShippingService", namespaces=NS) == "UK_OtherCourier24"
        assert option.findtext("e:ShippingServiceCost", namespaces=NS) == "60.00"
        assert item.findtext("e:ReturnPolicy/e:ReturnsWithinOption", namespaces=NS) == "Days_30"

    @pytest.mark.parametrize(
        ("overrides", "config", "field"),
        [
            ({"currency": "USD"}, CONFIG, "currency"),
            ({"images": []}, CONFIG, "images"),
            ({"images": [ImageRef(url="file:///tmp/a.jpg")]}, CONFIG, "images"),
            ({"condition": "mint"}, CONFIG, "condition"),
            ({"category_slug": "theremins"}, CONFIG, "category"),
            ({"price": Decimal("0")}, CONFIG, "price"),
            ({}, EbayConfig(), "shipping_profile_id"),
        ],
    )
    def test_refused_before_any_call(self, overrides: dict[str, Any], config: EbayConfig, field: str) -> None:
        with pytest.raises(Rejected) as caught:
            mapping.check_publishable(product(**overrides), config)
        assert caught.value.field == field

    def test_category_mapping_row_wins(self) -> None:
        assert mapping.category_id(product(category_slug="amps")) == "38072"
        assert mapping.category_id(product(category_slug="amps", category_remote_ids=["12345"])) == "12345"
        assert mapping.category_id(product()) == "33034"

    def test_title_is_cut_at_a_word_boundary(self) -> None:
        title = "Gibson Les Paul Standard 1959 Reissue Historic Heritage Cherry Sunburst VOS Murphy Aged"
        cut = mapping.title(product(title=title))
        assert len(cut) <= 80 and title.startswith(cut) and not cut.endswith(" ")
        assert mapping.title(product(title="Short")) == "Short"

    def test_uuid_is_stable_per_product_and_changes_for_a_relist(self) -> None:
        first = mapping.listing_uuid(product())
        assert re.fullmatch(r"[0-9A-F]{32}", first)
        assert mapping.listing_uuid(product()) == first  # every attempt, every process
        assert mapping.listing_uuid(product(sku="RIFF-OTHER")) != first
        assert mapping.listing_uuid(product(), relist_of="257100000001") != first

    def test_stocked_items_send_their_count(self) -> None:
        assert mapping.quantity(product(quantity=3)) == 1
        assert mapping.quantity(product(quantity=3, is_stocked_item=True)) == 3


class TestRevise:
    def test_only_changed_fields(self) -> None:
        root = xml(mapping.revise_item_request("42", product(), {"price", "model"}, CONFIG))
        item = root.find("e:Item", NS)
        assert [child.tag.split("}")[1] for child in item] == ["ItemID", "StartPrice", "ItemSpecifics"]

    def test_inventory_status_carries_price_and_quantity_only_when_changed(self) -> None:
        assert mapping.inventory_status("42", product(), {"price"}, CONFIG) == {
            "ItemID": "42",
            "SKU": "RIFF-T-0001",
            "StartPrice": "12500.00",
        }
        status = mapping.inventory_status(
            "42", product(quantity=2, is_stocked_item=True), {"quantity"}, CONFIG
        )
        assert status["Quantity"] == "2" and "StartPrice" not in status

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(Rejected):
            mapping.revise_item_request("42", product(), {"price", "weight"}, CONFIG)


def issue(
    code: str, message: str = "Something.", *parameters: str, classification: str = "RequestError"
) -> Issue:
    return Issue(code, "Error", "Short.", message, classification, tuple(parameters))


class TestErrorTable:
    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("518", CallLimitReached),
            ("931", AuthExpired),
            ("932", AuthExpired),
            ("21917053", AuthExpired),
            ("17", NotFound),
            ("1047", AlreadyEnded),
            ("488", DuplicateListing),
            ("21919067", DuplicateListing),
            ("10007", Transient),
            ("37", Rejected),
        ],
    )
    def test_codes(self, code: str, expected: type) -> None:
        assert type(trading.error_for([issue(code)], call_name="X")) is expected

    def test_system_errors_are_transient_and_others_rejected(self) -> None:
        assert (
            type(trading.error_for([issue("99", classification="SystemError")], call_name="X")) is Transient
        )
        error = trading.error_for(
            [issue("37", "Input data for tag <Item.StartPrice> is invalid or missing.", "Item.StartPrice")],
            call_name="AddFixedPriceItem",
        )
        assert type(error) is Rejected
        assert error.field == "price"
        assert error.message == "Input data for tag <Item.StartPrice> is invalid or missing."

    def test_duplicate_uuid_names_the_existing_item(self) -> None:
        error = trading.error_for(
            [
                issue(
                    "488",
                    "The specified UUID has already been used; ListedByRequestAppId=1, item ID=4503632367.",
                    "1",
                    "4503632367",
                )
            ],
            call_name="AddFixedPriceItem",
        )
        assert isinstance(error, DuplicateListing) and error.item_id == "4503632367"

    def test_quota_retry_is_within_the_hour_or_at_utc_midnight(self) -> None:
        assert trading.seconds_until_quota_retry(dt.datetime(2026, 1, 1, 23, 50, tzinfo=dt.UTC)) == 600
        assert trading.seconds_until_quota_retry(dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)) == 3600
        assert CallLimitReached.penalizes_channel is False


class TestSecretsAndBudget:
    def test_secrets_need_a_usable_token(self) -> None:
        with pytest.raises(ValueError, match="refresh_token"):
            EbaySecrets.model_validate({})
        with pytest.raises(ValueError, match="client_id"):
            EbaySecrets.model_validate({"refresh_token": "r"})
        EbaySecrets.model_validate({"access_token": "a"})

    def test_usage_is_per_utc_day(self) -> None:
        now = dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)
        stored = {"day": "2026-01-02", "counts": {"GetItem": 3}}
        assert merged_usage(stored, {"GetItem": 2, "AddFixedPriceItem": 1}, now) == {
            "day": "2026-01-02",
            "counts": {"AddFixedPriceItem": 1, "GetItem": 5},
        }
        yesterday = {"day": "2026-01-01", "counts": {"GetItem": 300}}
        assert merged_usage(yesterday, {"GetItem": 1}, now)["counts"] == {"GetItem": 1}

    def test_budget_prefers_ebays_numbers_of_the_same_day(self) -> None:
        now = dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)
        config = EbayConfig(
            call_usage={"day": "2026-01-02", "counts": {"GetItem": 5, "AddFixedPriceItem": 2}},
            api_access_rules={
                "fetched_at": "2026-01-02T09:00:00+00:00",
                "rules": [
                    {"call_name": "ApplicationAggregate", "daily_usage": 40, "daily_hard_limit": 5000},
                    {"call_name": "AddFixedPriceItem", "daily_usage": 1, "daily_hard_limit": 100},
                ],
            },
        )
        budget = mapping.call_budget(config, now)
        rows = {row["call_name"]: row for row in budget["calls"]}
        assert rows["AddFixedPriceItem"] == {
            "call_name": "AddFixedPriceItem",
            "used": 2,
            "limit": 100,
            "remaining": 98,
            "used_by_riff_today": 2,
            "reported_by_ebay": 1,
        }
        assert rows["GetItem"]["limit"] == 5000 and rows["GetItem"]["used"] == 5
        assert budget["aggregate"]["used"] == 40 and budget["aggregate"]["remaining"] == 4960
        next_day = mapping.call_budget(config, now + dt.timedelta(days=1))
        assert next_day["calls"][0]["used"] == 0 and next_day["aggregate"]["used"] == 0
