"""Accounts API: secrets are write-only (never returned, never logged) and encrypted at rest."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.auth.consts import is_public_path
from riff.core.db import Database

SECRET = "very-secret-reverb-token-42"


def _create(client: TestClient, **overrides: object) -> dict[str, object]:
    body = {
        "channel": "reverb",
        "name": "main shop",
        "config": {"currency": "GBP", "shipping_profile_id": "1"},
        "secrets": {"token": SECRET},
        **overrides,
    }
    response = client.post("/api/channels/accounts", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


class TestAccountsApi:
    def test_create_list_patch_never_return_secrets(
        self, owner_client: TestClient, database: Database, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        created = _create(owner_client)
        assert created["secret_keys"] == ["token"]
        assert created["status"] == "ok"
        listed = owner_client.get("/api/channels/accounts").json()
        patched = owner_client.patch(
            f"/api/channels/accounts/{created['id']}",
            json={
                "secrets": {"webhook_token": "hook-secret-abc"},
                "config": {"publish": False},
                "enabled": False,
            },
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["secret_keys"] == ["token", "webhook_token"]
        assert patched.json()["config"]["publish"] is False
        assert patched.json()["enabled"] is False
        for text in (repr(created), repr(listed), patched.text, caplog.text):
            assert SECRET not in text
            assert "hook-secret-abc" not in text
        with database.engine.connect() as conn:
            raw = repr(conn.execute(sa.text("SELECT * FROM channel_accounts")).all())
        assert SECRET not in raw and "hook-secret-abc" not in raw

    def test_only_owners_manage_accounts(self, make_client) -> None:  # type: ignore[no-untyped-def]
        staff = make_client("staff")
        response = staff.post("/api/channels/accounts", json={"channel": "reverb", "secrets": {"token": "x"}})
        assert response.status_code == 403
        assert staff.get("/api/channels/accounts").status_code == 200

    def test_bad_input_is_4xx(self, owner_client: TestClient) -> None:
        missing = owner_client.post("/api/channels/accounts", json={"channel": "reverb", "secrets": {}})
        assert missing.status_code == 422
        assert missing.json()["error"]["field"] == "secrets.token"
        unknown = owner_client.post(
            "/api/channels/accounts", json={"channel": "myspace", "secrets": {"token": "x"}}
        )
        assert unknown.status_code == 422
        assert owner_client.patch("/api/channels/accounts/999", json={"enabled": True}).status_code == 404

    def test_channels_catalogue(self, owner_client: TestClient) -> None:
        channels = {c["slug"]: c for c in owner_client.get("/api/channels").json()}
        assert channels["reverb"]["capabilities"]["webhooks"] is True
        assert "token" in channels["reverb"]["secrets_schema"]["properties"]
        assert channels["ebay"]["available"] is True


# Marketplaces call /webhooks/... without a login: the auth gate (riff.auth.consts) must list the prefix as
# public and exempt it from CSRF. Until it does, these tests are expected to fail (not skipped).
WEBHOOKS_PUBLIC = is_public_path("/webhooks/reverb/token")
needs_public_webhooks = pytest.mark.xfail(
    not WEBHOOKS_PUBLIC,
    reason="riff.auth.consts does not yet make /webhooks/ public and CSRF-exempt",
    strict=True,
)


@needs_public_webhooks
class TestWebhookEndpoint:
    def test_unknown_token_is_404(self, owner_client: TestClient, client: TestClient) -> None:
        _create(owner_client, secrets={"token": SECRET, "webhook_token": "right-token"})
        assert client.post("/webhooks/reverb/wrong-token", content=b"{}").status_code == 404
        assert client.post("/webhooks/nowhere/right-token", content=b"{}").status_code == 404

    def test_malformed_body_is_400(self, owner_client: TestClient, client: TestClient) -> None:
        _create(owner_client, secrets={"token": SECRET, "webhook_token": "right-token"})
        assert client.post("/webhooks/reverb/right-token", content=b"not json").status_code == 400
