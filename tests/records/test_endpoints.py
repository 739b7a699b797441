"""Records JSON API: /api/records."""

from __future__ import annotations

from fastapi.testclient import TestClient

from riff.core.db import Database

from .factories import create_record

NEW = {
    "sku": "REC-NEW",
    "price": "35.00",
    "currency": "USD",
    "status": "active",
    "release_id": 1900021,
    "artist": "Neu Horizon",
    "title": "Neu Horizon '75",
    "labels": ["Brain Records Co"],
    "format_text": "LP, Album",
    "genres": ["Rock", "Electronic"],
    "styles": ["Krautrock"],
    "media_condition": "NM",
    "sleeve_condition": "VG+",
}


def test_create_read_update_list(owner_client: TestClient) -> None:
    created = owner_client.post("/api/records", json=NEW)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["product_title"] == "Neu Horizon - Neu Horizon '75"
    assert body["media_condition"] == "Near Mint (NM or M-)"
    assert body["formats"] == ["Vinyl", "LP", "Album"]
    product_id = body["product_id"]

    patched = owner_client.patch(
        f"/api/records/{product_id}",
        json={"version": body["version"], "price": "30.00", "styles": ["Kosmische"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["price"] == "30.00" and patched.json()["styles"] == ["Kosmische"]
    stale = owner_client.patch(
        f"/api/records/{product_id}", json={"version": body["version"], "price": "1.00"}
    )
    assert stale.status_code == 409

    listed = owner_client.get(
        "/api/records", params={"artist": "horizon", "genre": "electronic", "format": "Vinyl"}
    )
    assert listed.status_code == 200
    assert [item["sku"] for item in listed.json()["items"]] == ["REC-NEW"]
    assert owner_client.get(f"/api/records/{product_id}").json()["sku"] == "REC-NEW"


def test_validation_and_errors(owner_client: TestClient, database: Database) -> None:
    bad_grade = owner_client.post("/api/records", json={**NEW, "media_condition": "Shiny"})
    assert bad_grade.status_code == 422
    assert bad_grade.json()["error"]["field"] == "media_condition"
    assert owner_client.get("/api/records/999999").status_code == 404
    with database.session() as session:
        create_record(session)
    assert owner_client.get("/api/records", params={"limit": 0}).status_code == 422


def test_login_required(client: TestClient) -> None:
    assert client.get("/api/records").status_code == 401
