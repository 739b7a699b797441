"""GET /users/{username}/inventory: the documented request, pagination, sorting, owner fields, errors."""

from __future__ import annotations

from decimal import Decimal

import httpx

from riff_sandbox.runner import RunningSandbox

from .conftest import SEED_SIZE, client_for
from .shapes import sample, shape_problems

INVENTORY = "/users/riff_records/inventory"


def test_documented_request_has_the_documented_shape(http: httpx.Client) -> None:
    documented = sample("inventory_page.json")
    response = http.get(
        INVENTORY,
        params={"status": "For Sale", "sort": "listed", "sort_order": "desc", "page": 1, "per_page": 50},
    )

    assert response.status_code == 200
    body = response.json()
    assert shape_problems(body, documented["body"]) == []
    assert body["pagination"]["items"] == SEED_SIZE
    assert body["pagination"]["per_page"] == 50
    assert all(listing["status"] == "For Sale" for listing in body["listings"])
    release = body["listings"][0]["release"]
    assert {"artist", "title", "format", "catalog_number", "year", "thumbnail", "images"} <= set(release)
    assert set(release["stats"]["community"]) == {"in_wantlist", "in_collection"}


def test_pagination_object_and_link_header(http: httpx.Client) -> None:
    first = http.get(INVENTORY, params={"per_page": 100})
    pagination = first.json()["pagination"]

    assert pagination == {
        "per_page": 100,
        "items": SEED_SIZE,
        "page": 1,
        "pages": 2,
        "urls": {"next": pagination["urls"]["next"], "last": pagination["urls"]["last"]},
    }
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    second = http.get(pagination["urls"]["next"])
    assert second.json()["pagination"]["page"] == 2
    assert set(second.json()["pagination"]["urls"]) == {"first", "prev"}
    ids = [item["id"] for item in first.json()["listings"] + second.json()["listings"]]
    assert len(ids) == len(set(ids)) == SEED_SIZE


def test_per_page_is_capped_at_100(http: httpx.Client) -> None:
    body = http.get(INVENTORY, params={"per_page": 500}).json()

    assert body["pagination"]["per_page"] == 100
    assert len(body["listings"]) == 100


def test_sorting(http: httpx.Client) -> None:
    listed = http.get(INVENTORY, params={"sort": "listed", "sort_order": "desc", "per_page": 100}).json()[
        "listings"
    ]
    prices = http.get(INVENTORY, params={"sort": "price", "sort_order": "asc", "per_page": 100}).json()[
        "listings"
    ]

    posted = [item["posted"] for item in listed]
    assert posted == sorted(posted, reverse=True)
    values = [Decimal(str(item["price"]["value"])) for item in prices]
    assert values == sorted(values)


def test_owner_sees_private_fields_and_every_status(http: httpx.Client, discogs: RunningSandbox) -> None:
    owner = http.get(INVENTORY, params={"status": "Sold", "per_page": 100}).json()
    with client_for(discogs, auth=False) as anonymous:
        public = anonymous.get(INVENTORY, params={"status": "Sold"}).json()

    assert owner["listings"] and all(item["status"] == "Sold" for item in owner["listings"])
    assert {"external_id", "location", "weight", "format_quantity", "quantity", "in_cart"} <= set(
        owner["listings"][0]
    )
    assert all(
        item["status"] == "For Sale" for item in public["listings"]
    )  # others only see what is for sale
    assert "location" not in public["listings"][0]


def test_bad_status_is_a_422_with_the_documented_message(http: httpx.Client) -> None:
    documented = next(e for e in sample("errors.json")["examples"] if e["status"] == 422)
    response = http.get(INVENTORY, params={"status": "bogus"})

    assert response.status_code == 422
    assert response.json() == documented["body"]


def test_unknown_user_is_404(http: httpx.Client) -> None:
    response = http.get("/users/nobody_here/inventory")

    assert response.status_code == 404
    assert response.json() == {"message": "The request resource was not found."}
