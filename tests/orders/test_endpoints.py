"""The unified order API: one list for every channel (filters, search, dates, pages), one order with its
shipments, CSV export for accounting, packing slip and pick list PDFs, cancel -> stock back -> relist."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from fulfilment.factories import GB_BUYER, create_product, list_on, record_order
from riff.catalog.models import Product, StockMovement
from riff.channels.contract import OrderStatus
from riff.channels.models import ChannelAccount
from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.jobs.models import Job


def _orders(database: Database, frozen_clock: FrozenClock) -> dict[str, int]:
    """Three channels, three days: reverb (US buyer, paid), ebay (GB buyer, paid), shopify (cancelled)."""
    ids = {}
    with database.session() as session:
        for channel in ("reverb", "ebay", "shopify"):
            config = {"currency": "GBP", "shipping_profile_id": "15655"} if channel == "reverb" else {}
            session.add(ChannelAccount(channel=channel, name="default", enabled=True, config=config))
        guitar = create_product(session, sku="RIFF-GTR-1")
        amp = create_product(session, sku="RIFF-AMP-1", title="Vox AC30 1964")
        ids["reverb"] = record_order(session, "R-100", listing=list_on(session, guitar, "reverb")).id
    frozen_clock.advance(days=1)
    with database.session() as session:
        ids["ebay"] = record_order(
            session,
            "E-200",
            channel="ebay",
            listing=list_on(session, amp, "ebay"),
            title="Vox AC30 1964",
            address=GB_BUYER,
            buyer_name="Jo Tester",
            buyer_email="jo@example.co.uk",
            total=Decimal("2400.00"),
            fees=None,
        ).id
    frozen_clock.advance(days=1)
    with database.session() as session:
        ids["shopify"] = record_order(
            session,
            "S-300",
            channel="shopify",
            sku="NOT-IN-RIFF",
            title='=HYPERLINK("http://evil")',
            status=OrderStatus.CANCELLED,
            buyer_name="+Robin Muster",
        ).id
    return ids


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_one_list_for_every_channel_with_filters_search_and_dates(
    owner_client: TestClient, database: Database, frozen_clock: FrozenClock
) -> None:
    ids = _orders(database, frozen_clock)
    assert _ids(owner_client.get("/api/orders")) == [
        ids["shopify"],
        ids["ebay"],
        ids["reverb"],
    ]  # newest first
    assert _ids(owner_client.get("/api/orders", params={"channel": "ebay"})) == [ids["ebay"]]
    assert _ids(owner_client.get("/api/orders", params={"status": "cancelled"})) == [ids["shopify"]]
    assert _ids(owner_client.get("/api/orders", params={"q": "jo@example"})) == [ids["ebay"]]
    assert _ids(owner_client.get("/api/orders", params={"q": "gtr-1"})) == [ids["reverb"]]  # a SKU on a line
    assert _ids(owner_client.get("/api/orders", params={"q": "R-100"})) == [ids["reverb"]]
    assert _ids(owner_client.get("/api/orders", params={"q": "100%_"})) == []  # LIKE wildcards are literal
    day_two = (frozen_clock.now - dt.timedelta(days=1)).date().isoformat()
    assert _ids(owner_client.get("/api/orders", params={"date_from": day_two, "date_to": day_two})) == [
        ids["ebay"]
    ]
    page = owner_client.get("/api/orders", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [ids["reverb"]]
    assert owner_client.get("/api/orders", params={"status": "lost"}).status_code == 422

    detail = owner_client.get(f"/api/orders/{ids['reverb']}").json()
    assert detail["channel"] == "reverb" and detail["remote_order_id"] == "R-100"
    assert detail["shipping_address"]["postal_code"] == "37203" and detail["customs_required"] is True
    assert Decimal(detail["fees"]) == Decimal("625.00") and detail["lines"][0]["stock_state"] == "applied"
    assert owner_client.get(f"/api/orders/{ids['ebay']}").json()["customs_required"] is False
    assert owner_client.get("/api/orders/999999").status_code == 404


def test_csv_export_for_accounting(
    owner_client: TestClient, database: Database, frozen_clock: FrozenClock
) -> None:
    ids = _orders(database, frozen_clock)
    response = owner_client.get("/api/orders/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["riff_order_id"]) for r in rows] == [
        ids["reverb"],
        ids["ebay"],
        ids["shopify"],
    ]  # oldest first
    reverb = rows[0]
    assert (reverb["channel"], reverb["order_id"], reverb["status"]) == ("reverb", "R-100", "paid")
    assert (reverb["total"], reverb["fees"], reverb["net"], reverb["currency"]) == (
        "12500.00",
        "625.00",
        "11875.00",
        "GBP",
    )
    assert reverb["ship_to_country"] == "US" and reverb["skus"] == "RIFF-GTR-1"
    assert (
        rows[2]["items"].startswith("'=HYPERLINK") and rows[2]["buyer_name"] == "'+Robin Muster"
    )  # no formulas
    only_ebay = list(
        csv.DictReader(
            io.StringIO(owner_client.get("/api/orders/export.csv", params={"channel": "ebay"}).text)
        )
    )
    assert [r["order_id"] for r in only_ebay] == ["E-200"]


def test_packing_slip_and_pick_list_are_pdfs(
    owner_client: TestClient, database: Database, frozen_clock: FrozenClock
) -> None:
    ids = _orders(database, frozen_clock)
    slip = owner_client.get(f"/api/orders/{ids['reverb']}/packing-slip.pdf")
    assert slip.status_code == 200 and slip.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(slip.content)).pages[0].extract_text()
    assert "Packing slip" in text and "R-100" in text and "Nashville" in text and "RIFF-GTR-1" in text
    picked = owner_client.get("/api/orders/pick-list.pdf")
    text = PdfReader(io.BytesIO(picked.content)).pages[0].extract_text()
    assert "2 orders" in text and "RIFF-GTR-1" in text and "RIFF-AMP-1" in text and "NOT-IN-RIFF" not in text
    chosen = owner_client.get("/api/orders/pick-list.pdf", params={"ids": str(ids["ebay"])})
    assert "1 orders" in PdfReader(io.BytesIO(chosen.content)).pages[0].extract_text()
    assert owner_client.get("/api/orders/pick-list.pdf", params={"ids": "x"}).status_code == 422


def test_cancel_restores_stock_once_and_offers_the_relist(
    owner_client: TestClient, make_client: Any, database: Database, frozen_clock: FrozenClock
) -> None:
    ids = _orders(database, frozen_clock)
    with database.read_session() as session:
        guitar = session.scalars(sa.select(Product).where(Product.sku == "RIFF-GTR-1")).one()
        assert guitar.quantity == 0
        session.expunge(guitar)
    reader = make_client("read_only")
    assert reader.post(f"/api/orders/{ids['reverb']}/cancel").status_code == 403

    cancelled = owner_client.post(
        f"/api/orders/{ids['reverb']}/cancel", json={"reason": "buyer changed their mind"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["relist_offer"] == {"channels": ["reverb"], "product_ids": [guitar.id]}
    assert (
        owner_client.post(f"/api/orders/{ids['reverb']}/cancel").status_code == 200
    )  # a repeat changes nothing
    with database.read_session() as session:
        assert session.get(Product, guitar.id).quantity == 1  # type: ignore[union-attr]
        reasons = list(
            session.scalars(
                sa.select(StockMovement.reason)
                .where(StockMovement.product_id == guitar.id)
                .order_by(StockMovement.id)
            )
        )
    assert reasons[-2:] == ["sale", "cancel"]

    assert (
        owner_client.post(f"/api/orders/{ids['reverb']}/relist", json={"channels": ["ebay"]}).status_code
        == 422
    )
    relisted = owner_client.post(f"/api/orders/{ids['reverb']}/relist", json={})
    assert relisted.status_code == 202, relisted.text
    assert list(relisted.json()["relisted"][str(guitar.id)]) == ["reverb"]
    assert relisted.json()["refused"] == {}
    with database.read_session() as session:
        assert session.scalars(sa.select(Job.kind).where(Job.kind == "reverb.publish")).all() == [
            "reverb.publish"
        ]
    assert owner_client.post(f"/api/orders/{ids['ebay']}/relist", json={}).status_code == 409  # not cancelled
    assert owner_client.get(f"/api/orders/{ids['ebay']}").json()["relist_offer"] is None
