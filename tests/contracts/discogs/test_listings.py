"""Marketplace listings: get, create, edit, delete; authentication and the User-Agent rule."""

from __future__ import annotations

import httpx

from riff_sandbox.runner import RunningSandbox

from .conftest import TIMEOUT, client_for
from .shapes import sample, shape_problems


def _first_for_sale(http: httpx.Client) -> dict:  # type: ignore[type-arg]
    return http.get("/users/riff_records/inventory", params={"per_page": 1}).json()["listings"][0]  # type: ignore[no-any-return]


def test_get_listing_has_the_documented_shape(http: httpx.Client) -> None:
    listing = _first_for_sale(http)
    response = http.get(f"/marketplace/listings/{listing['id']}", params={"curr_abbr": "USD"})

    assert response.status_code == 200
    assert shape_problems(response.json(), sample("listing.json")["body"]) == []


def test_create_edit_delete(http: httpx.Client) -> None:
    documented = sample("new_listing_response.json")
    created = http.post("/marketplace/listings", json=documented["_request"]["body"])

    assert created.status_code == 201
    assert shape_problems(created.json(), documented["body"]) == []
    listing_id = created.json()["listing_id"]
    shown = http.get(f"/marketplace/listings/{listing_id}").json()
    assert (shown["status"], shown["sleeve_condition"], shown["external_id"]) == (
        "Draft",
        "Generic",
        "SKU-0001",
    )
    assert shown["price"] == {"currency": "USD", "value": 10.0}

    edit = {"release_id": 1, "condition": "Near Mint (NM or M-)", "price": 12.5, "status": "For Sale"}
    assert http.post(f"/marketplace/listings/{listing_id}", json=edit).status_code == 204
    shown = http.get(f"/marketplace/listings/{listing_id}").json()
    assert (shown["status"], shown["condition"], shown["price"]["value"]) == (
        "For Sale",
        "Near Mint (NM or M-)",
        12.5,
    )

    assert http.delete(f"/marketplace/listings/{listing_id}").status_code == 204
    gone = http.get(f"/marketplace/listings/{listing_id}")
    assert gone.status_code == 404
    assert gone.json() == {"message": "The request resource was not found."}


def test_validation_messages(http: httpx.Client) -> None:
    missing = http.post(
        "/marketplace/listings", json={"release_id": 1, "condition": "Mint (M)", "status": "For Sale"}
    )
    bad_condition = http.post(
        "/marketplace/listings",
        json={"release_id": 1, "condition": "Great", "price": 5, "status": "For Sale"},
    )
    listing = _first_for_sale(http)
    partial_edit = http.post(f"/marketplace/listings/{listing['id']}", json={"price": 3})

    assert (missing.status_code, missing.json()) == (422, {"message": "Missing required field: price."})
    assert bad_condition.status_code == 422
    assert bad_condition.json()["message"].startswith("Invalid condition: expected one of ")
    assert partial_edit.status_code == 422  # release_id, condition, price and status are required on edit


def test_credentials(discogs: RunningSandbox) -> None:
    body = {"release_id": 1, "condition": "Mint (M)", "price": 5, "status": "For Sale"}
    with client_for(discogs, auth=False) as anonymous:
        unauthenticated = anonymous.post("/marketplace/listings", json=body)
    with client_for(discogs, token="not-a-token") as wrong:
        bad_token = wrong.get("/users/riff_records/inventory")
    with httpx.Client(
        base_url=discogs.api_base_url,
        headers={
            "User-Agent": "T/1",
            "Authorization": "Discogs key=sandbox-discogs-key, secret=sandbox-discogs-secret",
        },
        timeout=TIMEOUT,
        trust_env=False,
    ) as app_only:
        app_write = app_only.post("/marketplace/listings", json=body)
        app_read = app_only.get("/releases/1900001")
    with httpx.Client(
        base_url=discogs.api_base_url, headers={"User-Agent": "T/1"}, timeout=TIMEOUT, trust_env=False
    ) as query:
        query_token = query.get("/oauth/identity", params={"token": discogs.token})

    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == 'OAuth realm="https://api.discogs.com"'
    assert unauthenticated.json() == {"message": "You must authenticate to access this resource."}
    assert bad_token.status_code == 401
    assert (app_write.status_code, app_write.json()) == (
        403,
        {"message": "You don't have permission to access this resource."},
    )
    assert app_read.status_code == 200
    assert query_token.json()["username"] == "riff_records"


def test_a_request_without_user_agent_is_refused(discogs: RunningSandbox) -> None:
    with client_for(discogs) as client:
        del client.headers["User-Agent"]
        refused = client.get("/releases/1900001")

    assert (refused.status_code, refused.content) == (403, b"")  # blocked without a word, as Discogs does
    logged = discogs.control.requests(path_prefix="/releases")
    assert [entry["status"] for entry in logged] == [403]
