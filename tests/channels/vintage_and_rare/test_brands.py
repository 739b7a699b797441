"""Brand validation through each fallback (V&R AJAX, local products, known-brands file, api_unavailable)
and the cache, through ``GET /api/vr/validate-brand``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from riff.channels.models import Listing, ListingState
from riff.channels.vintage_and_rare.brands import BrandCache, BrandCheck
from riff.channels.vintage_and_rare.settings import reset_vr_settings_cache
from riff.core.db import Database
from riff_sandbox.runner import RunningSandbox

from .factories import create_product

CHECK = "/ajax/check_brand_exists"


def _checks(sandbox: RunningSandbox) -> int:
    return len(sandbox.control.requests(path_prefix=CHECK))


def _validate(client: TestClient, brand: str) -> dict[str, object]:
    response = client.get("/api/vr/validate-brand", params={"brand": brand})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _ajax_down(sandbox: RunningSandbox) -> None:
    sandbox.control.faults(error_5xx_burst=1000, path_prefix=CHECK)


class TestValidateBrand:
    def test_site_answer_then_cache(
        self, owner_client: TestClient, sandbox: RunningSandbox, account_id: int
    ) -> None:
        first = _validate(owner_client, "Fender")
        assert first == {"brand": "Fender", "valid": True, "brand_id": "383", "source": "vr_ajax", "cached": False,
                         "error_code": None, "message": None}  # fmt: skip
        second = _validate(owner_client, "fender")
        assert second["valid"] is True and second["cached"] is True and second["brand_id"] == "383"
        assert _checks(sandbox) == 1  # the cache answered the second time
        refused = _validate(owner_client, "Zzyzx Guitars")
        assert refused["valid"] is False and refused["source"] == "vr_ajax"
        check = sandbox.control.requests(path_prefix=CHECK)[0]
        assert check["headers"]["x-requested-with"] == "XMLHttpRequest"
        assert check["headers"]["origin"] == sandbox.base_url and check["body"] == "brand_name=Fender"

    def test_local_products_when_the_site_cannot_answer(
        self, owner_client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int
    ) -> None:
        with database.session() as session:
            product = create_product(session, brand="Burns London")
            session.add(Listing(product_id=product.id, channel="vintage_and_rare", account_id=account_id,
                                remote_id="99", state=ListingState.LIVE, extras={}))  # fmt: skip
        _ajax_down(sandbox)
        answer = _validate(owner_client, "burns london")
        assert answer["valid"] is True and answer["source"] == "local_products"
        assert "failed" in str(answer["message"])
        assert _validate(owner_client, "burns london")["cached"] is False  # fallback answers are not cached

    def test_known_brands_file_then_api_unavailable(
        self,
        owner_client: TestClient,
        sandbox: RunningSandbox,
        account_id: int,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        known = tmp_path / "known.json"
        known.write_text(json.dumps(["Vox", "Watkins"]))
        monkeypatch.setenv("VR_KNOWN_BRANDS_FILE", str(known))
        reset_vr_settings_cache()
        _ajax_down(sandbox)
        assert _validate(owner_client, "WATKINS")["source"] == "known_brands"
        unknown = _validate(owner_client, "Fender")  # not in this file, no listing in RIFF
        assert unknown["valid"] is None and unknown["error_code"] == "api_unavailable"

    def test_a_slow_site_times_out_after_vr_brand_timeout(
        self,
        owner_client: TestClient,
        sandbox: RunningSandbox,
        account_id: int,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("VR_BRAND_TIMEOUT", "0.2")
        reset_vr_settings_cache()
        sandbox.control.faults(latency_ms=1500, path_prefix=CHECK)
        answer = _validate(owner_client, "Gretsch")
        assert answer["source"] == "known_brands" and "0.2 s" in str(answer["message"])

    def test_suggestions(self, owner_client: TestClient, sandbox: RunningSandbox, account_id: int) -> None:
        answer = owner_client.get("/api/vr/brand-suggestions", params={"term": "Ric"}).json()
        assert answer["suggestions"] == [
            {"name": "Rickenbacker", "id": "1021"},
            {"name": "B.C. Rich", "id": "1385"},
        ]


class TestBrandCache:
    def test_ttl_and_size(self) -> None:
        cache = BrandCache(ttl_seconds=10, max_entries=2)
        for name in ("A", "B", "C"):
            cache.put("site", BrandCheck(brand=name, valid=True), now=0)
        assert len(cache) == 2 and cache.get("site", "A", now=1) is None  # the oldest went first
        assert cache.get("site", "b", now=5) is not None
        assert cache.get("site", "B", now=11) is None  # expired
        assert cache.get("other-site", "C", now=1) is None  # a sandbox never answers for production
