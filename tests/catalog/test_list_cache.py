"""/api/products pages are served again from the process's cache, and never once another process
(here: a second engine on the same database, as a worker or another host would be) has committed a
change to anything the page shows."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.catalog.models import Product
from riff.channels.models import ChannelPriceRule, Listing, ListingState
from riff.core.db import Database

from .factories import create_listing, create_price_rule, create_product


@pytest.fixture
def other_process(database: Database) -> Iterator[Database]:
    """Its own engine and pool: nothing it commits passes through the app under test."""
    other = Database(database.url)
    yield other
    other.dispose()


def page(client: TestClient, **params: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/products", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_repeated_page_is_served_from_the_cache(owner_client: TestClient, database: Database) -> None:
    with database.session() as session:
        create_product(session, sku="C-1")
    cache = owner_client.app.state.catalog_cache  # type: ignore[attr-defined]
    first = page(owner_client, brand="Fender")
    hits = cache.hits
    assert page(owner_client, brand="Fender") == first
    assert cache.hits == hits + 1
    page(owner_client, brand="Gibson")  # another query is another entry
    assert cache.hits == hits + 1


def test_a_product_changed_by_another_process_shows_at_once(
    owner_client: TestClient, database: Database, other_process: Database
) -> None:
    with database.session() as session:
        product_id = create_product(session, sku="C-1", price="1000.00").id
    assert page(owner_client)["items"][0]["price"] == "1000.00"
    with other_process.session() as session:
        session.execute(
            sa.update(Product).where(Product.id == product_id).values(base_price=Decimal("1111.00"))
        )
    assert page(owner_client)["items"][0]["price"] == "1111.00"
    with other_process.session() as session:
        create_product(session, sku="C-2")
    assert page(owner_client)["total"] == 2


def test_a_listing_ended_by_another_process_leaves_the_channel_filter_at_once(
    owner_client: TestClient, database: Database, other_process: Database
) -> None:
    with database.session() as session:
        create_listing(session, product=create_product(session, sku="C-1"), channel="reverb")
    assert page(owner_client, listing_state="live")["total"] == 1
    with other_process.session() as session:
        session.execute(sa.update(Listing).values(state=ListingState.ENDED))
    assert page(owner_client, listing_state="live")["total"] == 0


def test_a_price_rule_changed_by_another_process_reprices_the_page(
    owner_client: TestClient, database: Database, other_process: Database
) -> None:
    with database.session() as session:
        create_price_rule(session, channel="ebay", markup_percent="10")
        create_product(session, sku="C-1", price="1000.00")
    assert page(owner_client)["items"][0]["channel_prices"]["ebay"] == "1100.00"
    with other_process.session() as session:
        session.execute(sa.update(ChannelPriceRule).values(markup_percent=Decimal("20")))
    assert page(owner_client)["items"][0]["channel_prices"]["ebay"] == "1200.00"


def test_a_change_through_the_api_shows_in_the_next_page(
    owner_client: TestClient, database: Database
) -> None:
    with database.session() as session:
        product = create_product(session, sku="C-1")
        product_id, version = product.id, product.version
    assert page(owner_client)["items"][0]["title"] == "Fender Telecaster 1965 Sunburst"
    response = owner_client.patch(
        f"/api/products/{product_id}", json={"version": version, "title": "Renamed"}
    )
    assert response.status_code == 200, response.text
    assert page(owner_client)["items"][0]["title"] == "Renamed"


def test_bad_filters_are_still_422_when_a_good_page_is_cached(owner_client: TestClient) -> None:
    page(owner_client)
    response = owner_client.get("/api/products", params={"status": "bogus"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"
