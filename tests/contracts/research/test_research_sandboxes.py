"""Contract tests: the research sandboxes (eBay Browse, Etsy Open API v3, Reddit) answer in the shapes of
the documented samples (samples/, copied from shared/reference/api_samples), over loopback HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

SAMPLES = Path(__file__).parent / "samples"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningSandbox]]:
    data = tmp_path_factory.mktemp("research-contracts")
    with running("ebay_browse", data, seed_size=60) as ebay, running("etsy", data, seed_size=60) as etsy, \
            running("reddit", data, seed_size=40, bst_comments=8) as reddit:  # fmt: skip
        yield {"ebay": ebay, "etsy": etsy, "reddit": reddit}


def keys(value: dict[str, Any]) -> set[str]:
    return {k for k in value if not k.startswith("_")}


# ---- eBay Browse ---------------------------------------------------------------------------------------------


def ebay_token(http: httpx.Client) -> str:
    response = http.post(
        "/identity/v1/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "https://api.ebay.com/oauth/api_scope"},
        headers={"Authorization": basic("RIFF-sandbox-PRD-0123456789-abcdef", "PRD-sandbox-secret")},
    )
    assert response.status_code == 200
    body = response.json()
    assert keys(body) == keys(sample("oauth_client_credentials_token.json")["body"])
    assert body["expires_in"] == 7200 and body["token_type"] == "Application Access Token"
    return str(body["access_token"])


def test_ebay_browse_search_matches_the_documented_shape(sandboxes: dict[str, RunningSandbox]) -> None:
    documented = sample("browse_item_summary_search.json")["body"]
    with httpx.Client(base_url=sandboxes["ebay"].base_url, timeout=TIMEOUT, trust_env=False) as http:
        token = ebay_token(http)
        headers = {"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_GB"}
        response = http.get("/buy/browse/v1/item_summary/search", headers=headers,
                            params={"q": "vintage", "limit": 5, "offset": 0, "filter": "price:[10..100000],priceCurrency:GBP"})  # fmt: skip
        assert response.status_code == 200
        body = response.json()
        assert (
            {"href", "total", "limit", "offset", "itemSummaries", "next"}
            <= keys(body)
            <= keys(documented) | {"prev"}
        )
        item, expected = body["itemSummaries"][0], documented["itemSummaries"][0]
        assert keys(item) >= keys(expected) - {
            "availableCoupons",
            "topRatedBuyingExperience",
            "priorityListing",
        }
        assert isinstance(item["price"]["value"], str) and isinstance(item["seller"]["feedbackScore"], int)
        assert isinstance(item["seller"]["feedbackPercentage"], str) and item["itemId"].startswith("v1|")
        nxt = http.get(body["next"].split(sandboxes["ebay"].base_url, 1)[1], headers=headers).json()
        assert nxt["offset"] == 5 and nxt["itemSummaries"][0]["itemId"] != item["itemId"]


def test_ebay_errors_match_rest_errors(sandboxes: dict[str, RunningSandbox]) -> None:
    documented = {e["status"]: e["body"]["errors"][0] for e in sample("rest_errors.json")["examples"]}
    ebay = sandboxes["ebay"]
    with httpx.Client(base_url=ebay.base_url, timeout=TIMEOUT, trust_env=False) as http:
        token = ebay_token(http)
        path = "/buy/browse/v1/item_summary/search"
        bad_filter = http.get(
            path, headers={"Authorization": f"Bearer {token}"}, params={"q": "x", "filter": "price:[abc..]"}
        )
        assert bad_filter.status_code == 400
        assert bad_filter.json()["errors"][0]["errorId"] == documented[400]["errorId"]
        assert bad_filter.json()["errors"][0]["parameters"][0]["name"] == "filter"
        assert (
            http.get(
                path, headers={"Authorization": f"Bearer {token}"}, params={"q": "x", "limit": 201}
            ).status_code
            == 400
        )
        unauthorised = http.get(path, headers={"Authorization": "Bearer nope"}, params={"q": "x"})
        assert unauthorised.status_code == 401
        assert {k: unauthorised.json()["errors"][0][k] for k in ("errorId", "message")} == {
            "errorId": documented[401]["errorId"], "message": documented[401]["message"]}  # fmt: skip
        ebay.control._call("POST", "/ebay_browse/expire_access_tokens")
        assert (
            http.get(path, headers={"Authorization": f"Bearer {token}"}, params={"q": "x"}).status_code == 401
        )
        token = ebay_token(http)
        ebay.control._call("POST", "/ebay_browse/quota", json={"daily_call_limit": 0})
        quota = http.get(path, headers={"Authorization": f"Bearer {token}"}, params={"q": "x"})
        assert quota.status_code == 429 and quota.json()["errors"][0]["errorId"] == documented[429]["errorId"]
        ebay.control._call("POST", "/ebay_browse/quota", json={"daily_call_limit": 5000, "reset_usage": True})
        refused = http.post("/identity/v1/oauth2/token", data={"grant_type": "client_credentials"},
                            headers={"Authorization": basic("x", "y")})  # fmt: skip
        assert refused.status_code == 401
        assert refused.json() == sample("oauth_client_credentials_token.json")["error_example"]["body"]


# ---- Etsy ----------------------------------------------------------------------------------------------------

ETSY_KEY = "riffsandboxkeystring0001:riffsandboxsecret"


def test_etsy_listings_match_the_documented_shape(sandboxes: dict[str, RunningSandbox]) -> None:
    documented = sample("etsy_listing.json")["body"]
    with httpx.Client(base_url=sandboxes["etsy"].base_url, timeout=TIMEOUT, trust_env=False,
                      headers={"x-api-key": ETSY_KEY}) as http:  # fmt: skip
        response = http.get(
            "/v3/application/listings/active", params={"keywords": "vintage", "limit": 3, "offset": 0}
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "results"} and len(body["results"]) == 3 and body["count"] > 3
        listing = body["results"][0]
        core = {"listing_id", "user_id", "shop_id", "title", "description", "state", "created_timestamp", "url",
                "num_favorers", "tags", "materials", "when_made", "price", "taxonomy_id", "quantity"}  # fmt: skip
        assert core <= keys(listing) <= keys(documented) | {"images"}
        assert set(listing["price"]) == set(documented["price"]) and isinstance(
            listing["price"]["amount"], int
        )
        for header in (
            "x-limit-per-second",
            "x-remaining-this-second",
            "x-limit-per-day",
            "x-remaining-today",
        ):
            assert header in response.headers
        batch = http.get("/v3/application/listings/batch",
                         params={"listing_ids": f"{listing['listing_id']}", "includes": "Images"}).json()  # fmt: skip
        image = batch["results"][0]["images"][0]
        assert {"listing_image_id", "url_75x75", "url_570xN", "url_fullxfull", "rank"} <= set(image)
        assert http.get("/v3/application/listings/active", params={"limit": 101}).status_code == 400
        assert http.get("/v3/application/listings/1").json() == {"error": "Listing with ID 1 not found"}


def test_etsy_auth_and_rate_limit_errors(sandboxes: dict[str, RunningSandbox]) -> None:
    documented = {e["status"]: e for e in sample("etsy_errors_and_rate_limit.json")["examples"]}
    etsy = sandboxes["etsy"]
    with httpx.Client(base_url=etsy.base_url, timeout=TIMEOUT, trust_env=False) as http:
        no_secret = http.get("/v3/application/listings/active", headers={"x-api-key": ETSY_KEY.split(":")[0]})
        assert no_secret.status_code == 403 and no_secret.json() == documented[403]["body"]
        etsy.control._call("POST", "/etsy/limits", json={"qps": 1, "reset_usage": True})
        statuses = [
            http.get("/v3/application/listings/active", headers={"x-api-key": ETSY_KEY}) for _ in range(3)
        ]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, "two of three quick requests share a second, and the second of those is refused"
        assert set(documented[429]["headers"]) <= set(limited[0].headers)
        assert (
            limited[0]
            .json()["error"]
            .startswith("You have exceeded your quota of: 1 requests per 1 second(s)")
        )
        etsy.control._call("POST", "/etsy/limits", json={"qps": 10, "reset_usage": True})


# ---- Reddit --------------------------------------------------------------------------------------------------


def reddit_token(http: httpx.Client) -> str:
    response = http.post("/api/v1/access_token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": basic("riffSandboxClient", "riff-sandbox-reddit-secret")})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert keys(body) == keys(sample("access_token_response.json")["body"]) and body["token_type"] == "bearer"
    return str(body["access_token"])


def test_reddit_listings_comments_and_headers(sandboxes: dict[str, RunningSandbox]) -> None:
    documented = sample("subreddit_hot_listing.json")
    with httpx.Client(base_url=sandboxes["reddit"].base_url, timeout=TIMEOUT, trust_env=False,
                      headers={"User-Agent": "python:riff.contracts:0.1 (by /u/riff)"}) as http:  # fmt: skip
        auth = {"Authorization": f"bearer {reddit_token(http)}"}
        hot = http.get("/r/rawdenim/hot", params={"limit": 5, "raw_json": 1}, headers=auth)
        assert hot.status_code == 200
        body = hot.json()
        assert body["kind"] == "Listing" and set(body["data"]) == set(documented["data"])
        post, expected = body["data"]["children"][0]["data"], documented["data"]["children"][0]["data"]
        shared = {"id", "name", "title", "selftext", "author", "score", "num_comments", "created_utc", "permalink",
                  "subreddit", "stickied", "url", "link_flair_text", "ups", "upvote_ratio"}  # fmt: skip
        assert shared <= keys(post) and shared <= keys(expected)
        assert post["stickied"] and "Buy/Sell/Trade" in post["title"]
        headers = sample("listing_response_headers.json")["headers"]
        for name in ("x-ratelimit-used", "x-ratelimit-remaining", "x-ratelimit-reset"):
            assert name in hot.headers and name in headers
        int(hot.headers["x-ratelimit-used"]), float(hot.headers["x-ratelimit-remaining"])
        page = http.get(
            "/r/rawdenim/search",
            params={"q": "WTS", "restrict_sr": 1, "sort": "new", "limit": 3},
            headers=auth,
        )
        after = page.json()["data"]["after"]
        assert after and after.startswith("t3_")
        nxt = http.get(
            "/r/rawdenim/search", params={"q": "WTS", "limit": 3, "after": after}, headers=auth
        ).json()
        assert nxt["data"]["children"][0]["data"]["name"] not in {
            c["data"]["name"] for c in page.json()["data"]["children"]
        }
        comments = http.get(f"/comments/{post['id']}", params={"limit": 5}, headers=auth).json()
        assert isinstance(comments, list) and len(comments) == 2
        assert comments[0]["data"]["children"][0]["kind"] == "t3"
        kinds = [c["kind"] for c in comments[1]["data"]["children"]]
        assert kinds[:5] == ["t1"] * 5 and kinds[-1] == "more"
        unauthorised = http.get("/r/rawdenim/new", headers={"Authorization": "bearer nope"})
        assert unauthorised.status_code == 401 and set(unauthorised.json()) == set(
            sample("error_403.json")["body"]
        )
