"""The order pages without a browser: filters and search on /orders, and the detail page's cancel and
relist forms (the session's CSRF token, redirects and flashes)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fulfilment.factories import GB_BUYER, create_product, list_on, record_order
from riff.auth.models import Role
from riff.auth.service import create_user
from riff.catalog.models import Product
from riff.channels.models import ChannelAccount
from riff.core.db import Database

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login(client: TestClient, database: Database) -> str:
    with database.session() as session:
        create_user(session, username="packer", password=PASSWORD, role=Role.STAFF)
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "packer", "password": PASSWORD, "csrf_token": token})
    return CSRF.search(client.get("/orders").text).group(1)  # type: ignore[union-attr]


def test_order_pages_search_cancel_and_relist(client: TestClient, database: Database) -> None:
    with database.session() as session:
        session.add(ChannelAccount(channel="reverb", name="default", enabled=True,
                                   config={"currency": "GBP", "shipping_profile_id": "15655"}))  # fmt: skip
        guitar = create_product(session, sku="RIFF-PAGE-1")
        order_id = record_order(
            session, "R-777", listing=list_on(session, guitar, "reverb"), address=GB_BUYER
        ).id
        record_order(session, "E-778", channel="ebay", sku="OTHER-1", buyer_name="Sam Sample")
        product_id = guitar.id
    token = _login(client, database)

    listing = client.get("/orders", params={"q": "R-777"}).text
    assert "R-777" in listing and "E-778" not in listing
    assert "/api/orders/export.csv?q=R-777" in listing
    detail = client.get(f"/orders/{order_id}").text
    assert 'id="label-form"' in detail and "Customs" not in detail  # London -> Manchester: no customs
    assert 'id="cancel-order"' in detail

    cancelled = client.post(f"/orders/{order_id}/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert cancelled.status_code == 303
    page = client.get(f"/orders/{order_id}").text
    assert "Order cancelled: the stock is back" in page and 'id="relist-form"' in page
    with database.read_session() as session:
        assert session.get(Product, product_id).quantity == 1  # type: ignore[union-attr]

    relisted = client.post(
        f"/orders/{order_id}/relist", data={"csrf_token": token, "channels": "reverb"}, follow_redirects=False
    )
    assert relisted.status_code == 303
    assert "Relisting 1 item(s)." in client.get(f"/orders/{order_id}").text
    refused = client.post(f"/orders/{order_id}/cancel", data={}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    from riff.jobs.models import Job

    with database.read_session() as session:
        assert session.scalars(sa.select(Job.kind).where(Job.kind == "reverb.publish")).all() == [
            "reverb.publish"
        ]
