"""The request log: every platform request recorded, filterable, clearable; control calls never logged."""

from __future__ import annotations

import httpx

from riff_sandbox.runner import RunningSandbox

from .conftest import first_listing


class TestRequestLog:
    def test_counts_exactly_the_calls_made(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.clear_requests()

        for page in (1, 2, 3):
            api.get("/my/listings", params={"page": page, "per_page": 10})
        api.get("/my/orders/selling/all")

        assert len(reverb.control.requests()) == 4
        assert len(reverb.control.requests(path_prefix="/api/my/listings")) == 3
        assert len(reverb.control.requests(path_prefix="/api/my/orders", method="GET")) == 1
        assert reverb.control.requests(method="POST") == []

    def test_records_method_path_query_body_status_and_redacts_auth(
        self, reverb: RunningSandbox, api: httpx.Client
    ) -> None:
        listing = first_listing(api)
        reverb.control.clear_requests()

        api.put(f"/listings/{listing['id']}", json={"price": {"amount": "1234.00", "currency": "GBP"}})
        api.get("/my/listings", params={"state": "all", "sku": listing["sku"]})

        put, get = reverb.control.requests()
        assert (put["method"], put["path"], put["status"]) == ("PUT", f"/api/listings/{listing['id']}", 200)
        assert put["body"] == {"price": {"amount": "1234.00", "currency": "GBP"}}
        assert put["headers"]["authorization"] == "Bearer [redacted]"
        assert reverb.token not in str(put)
        assert put["headers"]["accept-version"] == "3.0"
        assert get["query"] == f"state=all&sku={listing['sku']}"
        assert get["body"] is None
        assert put["at"] <= get["at"]

    def test_failed_and_faulted_requests_are_recorded(
        self, reverb: RunningSandbox, api: httpx.Client
    ) -> None:
        reverb.control.clear_requests()
        reverb.control.faults(error_5xx_burst=1)

        api.get("/my/listings")
        httpx.get(f"{reverb.api_base_url}/my/listings", trust_env=False)  # no token

        faulted, unauthorised = reverb.control.requests()
        assert (faulted["status"], faulted["fault"]) == (503, "server_error")
        assert (unauthorised["status"], unauthorised["fault"]) == (401, None)

    def test_control_calls_are_not_logged_and_clear_empties(
        self, reverb: RunningSandbox, api: httpx.Client
    ) -> None:
        api.get("/listing_conditions")
        reverb.control.info()
        reverb.control.get_faults()

        assert all(not r["path"].startswith("/_sandbox") for r in reverb.control.requests())
        reverb.control.clear_requests()
        assert reverb.control.requests() == []
