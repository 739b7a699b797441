"""Pure mapping: RIFF snapshots -> Reverb payloads and Reverb payloads -> normalized types."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riff.channels.contract import EndReason, ImageRef, OrderStatus, ProductSnapshot, RemoteState
from riff.channels.errors import Rejected
from riff.channels.reverb import mapping
from riff.channels.reverb.mapping import ReverbConfig

DATA = Path(__file__).parent / "data"
EXCELLENT = "df268ad1-c462-4ba6-b6db-e007e23922ea"
ELECTRIC_GUITARS = "dfd39027-d134-4353-b9e4-57dc6be791b9"
AMPS = "09055aa7-ed49-459d-9452-aa959f288dc2"


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())["body"]  # type: ignore[no-any-return]


def snapshot(**overrides: Any) -> ProductSnapshot:
    values: dict[str, Any] = {
        "sku": "RIFF-1",
        "title": "Fender Stratocaster 1965",
        "brand": "Fender",
        "model": "Stratocaster",
        "year": 1965,
        "finish": "Sunburst",
        "condition": "excellent",
        "description": "Lovely",
        "price": Decimal("12500"),
        "currency": "GBP",
        "images": [
            ImageRef(url="https://img.example.com/b.jpg", position=1),
            ImageRef(url="https://img.example.com/a.jpg"),
        ],
    }
    values.update(overrides)
    return ProductSnapshot(**values)


CONFIG = ReverbConfig(currency="GBP", shipping_profile_id="15655")


class TestCreatePayload:
    def test_fields(self) -> None:
        payload = mapping.create_payload(snapshot(), CONFIG)
        assert payload["make"] == "Fender"
        assert payload["model"] == "Stratocaster"
        assert payload["condition"] == {"uuid": EXCELLENT}
        assert payload["categories"] == [{"uuid": ELECTRIC_GUITARS}]  # no category -> the channel default
        assert payload["price"] == {"amount": "12500.00", "currency": "GBP"}
        assert payload["photos"] == ["https://img.example.com/a.jpg", "https://img.example.com/b.jpg"]
        assert payload["publish"] is True
        assert payload["sku"] == "RIFF-1"
        assert payload["year"] == "1965"
        assert payload["shipping_profile_id"] == "15655"
        assert payload["has_inventory"] is False and payload["inventory"] == 1

    def test_category_from_mapping_row_then_table(self) -> None:
        assert mapping.create_payload(snapshot(category_remote_ids=["u-1"]), CONFIG)["categories"] == [
            {"uuid": "u-1"}
        ]
        assert mapping.create_payload(snapshot(category_slug="amps"), CONFIG)["categories"] == [
            {"uuid": AMPS}
        ]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"category_slug": "theremins"}, "category"),
            ({"condition": "mint-ish"}, "condition"),
            ({"currency": "USD"}, "currency"),
            ({"images": []}, "images"),
            ({"brand": None}, "brand"),
        ],
    )
    def test_unmapped_values_are_rejected_before_any_call(
        self, overrides: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(Rejected) as caught:
            mapping.create_payload(snapshot(**overrides), CONFIG)
        assert caught.value.field == field
        assert caught.value.retryable is False

    def test_publishing_needs_a_shipping_profile(self) -> None:
        with pytest.raises(Rejected, match="shipping_profile_id"):
            mapping.create_payload(snapshot(), ReverbConfig())
        assert "shipping_profile_id" not in mapping.create_payload(snapshot(), ReverbConfig(publish=False))

    def test_stocked_items_track_inventory(self) -> None:
        payload = mapping.create_payload(snapshot(is_stocked_item=True, quantity=4), CONFIG)
        assert payload["has_inventory"] is True and payload["inventory"] == 4


class TestUpdatePayload:
    def test_only_changed_fields(self) -> None:
        assert mapping.update_payload(snapshot(price=Decimal("9499")), {"price"}, CONFIG) == {
            "price": {"amount": "9499.00", "currency": "GBP"}
        }
        assert mapping.update_payload(snapshot(), {"title", "quantity"}, CONFIG) == {
            "title": "Fender Stratocaster 1965",
            "has_inventory": False,
            "inventory": 1,
        }

    def test_unknown_field_is_rejected(self) -> None:
        with pytest.raises(Rejected, match="sku"):
            mapping.update_payload(snapshot(), {"sku"}, CONFIG)


class TestFromReverb:
    def test_listing(self) -> None:
        listing = mapping.remote_listing(sample("listing.json"))
        assert listing.remote_id == "91978727"
        assert listing.state == RemoteState.LIVE
        assert listing.price == Decimal("9699.00")
        assert listing.currency == "GBP"
        assert listing.quantity == 1
        assert listing.url is not None and listing.url.startswith("https://reverb.com/item/91978727")
        assert listing.updated_at is not None and listing.updated_at.tzinfo is not None

    def test_state_is_an_object_or_a_string(self) -> None:
        assert mapping.listing_state({"state": {"slug": "ended"}}) == RemoteState.ENDED
        assert mapping.listing_state({"state": "draft"}) == RemoteState.DRAFT
        assert mapping.listing_state({"state": {"slug": "new-thing"}}) == RemoteState.UNKNOWN

    def test_order(self) -> None:
        order = mapping.remote_order(sample("order.json"))
        assert order.remote_id == "24282217"
        assert order.status == OrderStatus.PAID
        assert order.total == Decimal("6702.70") and order.currency == "GBP"
        assert order.lines[0].sku == "RIFF-10000051"
        assert order.lines[0].remote_listing_id == "92762008"
        assert order.shipping_address is not None and order.shipping_address.city == "Nashville"
        assert order.paid_at is not None and order.paid_at.utcoffset() is not None

    def test_ship_payload_and_end_reason(self) -> None:
        assert mapping.ship_payload("dhl", " 3030302671 ") == {
            "provider": "DHL",
            "tracking_number": "3030302671",
            "send_notification": True,
        }
        with pytest.raises(Rejected, match="carrier"):
            mapping.ship_payload("pigeon", "1")
        assert mapping.end_reason(EndReason.SOLD_HERE) == "reverb_sale"
        assert mapping.end_reason(EndReason.SOLD_ELSEWHERE) == "not_sold"
