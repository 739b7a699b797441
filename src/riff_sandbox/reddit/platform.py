"""The Reddit Data API sandbox: marketplace subreddits (r/rawdenim, r/Gear4Sale, r/VinylCollectors) with
WTS/FS posts and weekly Buy/Sell/Trade threads whose comments offer items, generated from vintage goods.

- ``POST /api/v1/access_token``: HTTP Basic ``client_id:client_secret``; ``grant_type=client_credentials``
  or ``password`` -> ``{access_token, token_type: "bearer", expires_in: 3600, scope: "*"}``
- ``GET /r/{sub}/search`` (q, restrict_sr, sort new|relevance|top|comments, t, limit <= 100, after),
  ``GET /r/{sub}/new`` and ``/r/{sub}/hot`` (stickied first): ``{"kind": "Listing", "data": {after, before,
  dist, children: [{"kind": "t3", "data": {...}}]}}``
- ``GET /comments/{id}``: ``[Listing(t3), Listing(t1 ...)]``

Every API response carries ``x-ratelimit-used`` (integer), ``x-ratelimit-remaining`` (float) and
``x-ratelimit-reset`` (seconds) for a ``window_requests`` per ``window_seconds`` window (1,000 per 600 s);
beyond it 429. Errors ``{"message": "...", "error": <status>}`` (api_samples/reddit/error_403.json).

Control: ``POST /_sandbox/reddit/expire_access_tokens``, ``POST /_sandbox/reddit/limits``
``{"window_requests", "window_seconds", "reset"}``, ``GET /_sandbox/reddit/usage``.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from riff_sandbox.ebay_browse import goods as demo
from riff_sandbox.toolkit.oauth import (
    basic_client_ok,
    bearer_token_ok,
    expire_access_tokens,
    form_fields,
    store_access_token,
)
from riff_sandbox.toolkit.platform import SandboxPlatform
from riff_sandbox.toolkit.store import Transaction

NAME = "reddit"
POSTS = "posts"
COMMENTS = "comments"
KIND_ACCESS = "access"
MAX_LIMIT = 100
SUBREDDITS = {"denim": "rawdenim", "guitar": "Gear4Sale", "bass": "Gear4Sale", "amp": "Gear4Sale",
              "record": "VinylCollectors"}  # fmt: skip
USERS = ("indigo_ian", "selvedge_sam", "fuzzface77", "tele_tim", "cratedigger_jo", "bluenote_ben", "wornwell",
         "tube_guru", "jazzbo_jen", "fadefanatic", "neckdate", "ringwear_rick")  # fmt: skip


class RedditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = "riffSandboxClient"
    client_secret: str = "riff-sandbox-reddit-secret"
    access_token_ttl_seconds: int = Field(3600, ge=1)
    window_requests: int = Field(1000, ge=1)
    window_seconds: int = Field(600, ge=1)
    bst_comments: int = Field(30, ge=0, le=500)


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"message": message, "error": status}, status_code=status, headers=dict(headers or {})
    )


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _price_text(rng: Any, price: float) -> str:
    whole = int(round(price))
    style = rng.random()
    if style < 0.45:
        return f"${whole:,} shipped"
    if style < 0.65:
        return f"${whole:,}"
    if style < 0.8:
        return f"{whole} shipped"
    if style < 0.9:
        return f"asking {whole} obo"
    return f"{whole} USD"


def _post_title(good: demo.Good, rng: Any, price: str) -> str:
    tag = rng.choice(("[WTS]", "[WTS]", "[FS]", "[H]"))
    location = rng.choice(("", " [US-CA]", " [US-NY]", " [US]", " [USA-TX]"))
    if good.category == "record":
        return f"{tag}{location} {good.model} - {good.brand} {good.year} {good.condition} - {price}"
    if good.category == "denim":
        size = good.size or ""
        return f"{tag}{location} {good.brand} {good.model} {size} - {price}"
    year = rng.choice((str(good.year), f"'{str(good.year)[2:]}", good.decade))
    body = f"{year} {good.brand} {good.model}" if rng.random() < 0.6 else f"{good.brand} {good.model} {year}"
    if tag == "[H]":
        return f"[H]{location} {body} [W] PayPal, {price}"
    return f"{tag}{location} {body} - {price}"


class RedditSandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = ""
    platform_prefixes: ClassVar[tuple[str, ...]] = ("/api", "/r/", "/comments")
    default_token: ClassVar[str | None] = None
    default_seed_size: ClassVar[int] = 180
    options_model = RedditOptions
    options: RedditOptions

    def __init__(self, sandbox: Any, options: BaseModel) -> None:
        super().__init__(sandbox, options)
        self._lock = threading.Lock()
        self._window_requests = self.options.window_requests
        self._window_seconds = self.options.window_seconds
        self._window_start = time.time()
        self._used = 0

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: Any, size: int, now: datetime) -> None:
        with self._lock:
            self._used = 0
            self._window_start = time.time()
        counter = 1_000_000
        for good in demo.make_goods(rng, size, now):
            counter += rng.randint(1, 40)
            post_id = _base36(counter * 997)
            subreddit = SUBREDDITS[good.category]
            price = _price_text(rng, good.price_usd)
            title = _post_title(good, rng, price)
            sold = good.sold
            if sold and rng.random() < 0.5:
                title = f"[SOLD] {title}"
            created = good.created_at.timestamp()
            tx.put(POSTS, post_id, {
                "id": post_id, "name": f"t3_{post_id}", "subreddit": subreddit, "title": title,
                "selftext": f"{good.detail}\n\nTimestamps: imgur.com/a/{post_id}. {price}. PayPal G&S, CONUS only.",
                "author": rng.choice(USERS), "score": rng.randint(0, 120), "ups": 0, "num_comments": rng.randint(0, 40),
                "created_utc": created, "created": created, "stickied": False, "over_18": False, "is_self": True,
                "link_flair_text": "Sold" if sold else rng.choice(("Selling", "WTS", None)),
                "permalink": f"/r/{subreddit}/comments/{post_id}/{'_'.join(title.lower().split()[:5])}/",
                "url": f"https://i.redd.it/{post_id}.jpg" if rng.random() < 0.4 else f"https://www.reddit.com/r/{subreddit}/comments/{post_id}/",
                "subreddit_name_prefixed": f"r/{subreddit}", "subreddit_type": "public", "_text": demo.search_text(title, good.detail),
            })  # fmt: skip
        # One weekly BST thread per subreddit, stickied, with item comments.
        for number, subreddit in enumerate(sorted(set(SUBREDDITS.values()))):
            thread_id = _base36((counter + 500 + number) * 997)
            created = (now - timedelta(days=2)).timestamp()
            title = f"Weekly Buy/Sell/Trade Thread - Week of {(now - timedelta(days=2)):%B %d, %Y}"
            tx.put(POSTS, thread_id, {
                "id": thread_id, "name": f"t3_{thread_id}", "subreddit": subreddit, "title": title,
                "selftext": "Post what you have and what you want. Include prices and timestamps.",
                "author": "AutoModerator", "score": 25, "num_comments": self.options.bst_comments,
                "created_utc": created, "created": created, "stickied": True, "is_self": True,
                "link_flair_text": None, "permalink": f"/r/{subreddit}/comments/{thread_id}/weekly_bst_thread/",
                "url": f"https://www.reddit.com/r/{subreddit}/comments/{thread_id}/", "_text": demo.search_text(title),
                "subreddit_name_prefixed": f"r/{subreddit}", "subreddit_type": "public",
            })  # fmt: skip
            categories = [c for c, s in SUBREDDITS.items() if s == subreddit]
            for index in range(self.options.bst_comments):
                good = demo.make_good(rng, 10_000 + number * 1000 + index, now)
                while good.category not in categories:
                    good = demo.make_good(rng, 10_000 + number * 1000 + index, now)
                comment_id = _base36((counter + 2000 + number * 1000 + index) * 991)
                price = _price_text(rng, good.price_usd)
                size_text = f" size {good.size}" if good.size else ""
                if rng.random() < 0.15:
                    body = f"**WTB** {good.brand} {good.model}{size_text}, budget around {price.split()[0]}"
                else:
                    line = f"**WTS** {good.brand} {good.model}{size_text} - {price}"
                    if good.sold and rng.random() < 0.6:
                        line = f"~~{line}~~ SOLD"
                    body = f"{line}\n\n{good.detail} Pics: imgur.com/a/{comment_id}"
                tx.put(COMMENTS, comment_id, {
                    "id": comment_id, "name": f"t1_{comment_id}", "link_id": f"t3_{thread_id}",
                    "parent_id": f"t3_{thread_id}", "subreddit": subreddit, "author": rng.choice(USERS),
                    "body": body, "score": rng.randint(1, 15), "created_utc": created + 600 * (index + 1),
                    "permalink": f"/r/{subreddit}/comments/{thread_id}/weekly_bst_thread/{comment_id}/",
                    "replies": "", "depth": 0, "stickied": False,
                })  # fmt: skip

    def router(self) -> APIRouter:
        router = APIRouter(tags=["reddit api"])

        @router.post("/api/v1/access_token")
        async def access_token(request: Request) -> Response:
            body = (await request.body()).decode("utf-8", "replace")
            return self.issue_token(request.headers.get("authorization", ""), body)

        @router.get("/r/{subreddit}/search")
        def search(request: Request, subreddit: str) -> Response:
            return self._guarded(request, lambda: self.listing(request, subreddit, "search"))

        @router.get("/r/{subreddit}/new")
        def new(request: Request, subreddit: str) -> Response:
            return self._guarded(request, lambda: self.listing(request, subreddit, "new"))

        @router.get("/r/{subreddit}/hot")
        def hot(request: Request, subreddit: str) -> Response:
            return self._guarded(request, lambda: self.listing(request, subreddit, "hot"))

        @router.get("/comments/{post_id}")
        def comments(request: Request, post_id: str) -> Response:
            return self._guarded(request, lambda: self.comments(request, post_id))

        return router

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        return error(status, message, headers)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        return error(429, "Too Many Requests", {"retry-after": str(retry_after_seconds), **self._headers()})

    def install(self, app: Any) -> None:
        app.add_api_route(f"/_sandbox/{NAME}/expire_access_tokens", self._expire_tokens, methods=["POST"])
        app.add_api_route(f"/_sandbox/{NAME}/limits", self._limits, methods=["POST"])
        app.add_api_route(f"/_sandbox/{NAME}/usage", self._usage, methods=["GET"])

    # OAuth and the rate-limit window ---------------------------------------------------------------

    def issue_token(self, authorization: str, body: str) -> Response:
        if not basic_client_ok(authorization, self.options.client_id, self.options.client_secret):
            return error(401, "Unauthorized")
        form = form_fields(body)
        grant = form.get("grant_type")
        if grant not in (
            "client_credentials",
            "password",
            "https://oauth.reddit.com/grants/installed_client",
        ):
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if grant == "password" and not (form.get("username") and form.get("password")):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        ttl = self.options.access_token_ttl_seconds
        token = (
            "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIiwidHlwIjoiSldUIn0."
            + secrets.token_urlsafe(30)
        )
        store_access_token(self.sandbox.tokens, token, kind=KIND_ACCESS, ttl_seconds=ttl)
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": ttl, "scope": "*"})

    def _roll(self, now: float) -> None:
        if now - self._window_start >= self._window_seconds:
            self._window_start = now - (now - self._window_start) % self._window_seconds
            self._used = 0

    def _headers(self) -> dict[str, str]:
        now = time.time()
        with self._lock:
            self._roll(now)
            reset = max(0, math.ceil(self._window_start + self._window_seconds - now))
            remaining = max(0, self._window_requests - self._used)
            return {"x-ratelimit-used": str(self._used), "x-ratelimit-remaining": f"{float(remaining):.1f}",
                    "x-ratelimit-reset": str(reset)}  # fmt: skip

    def _take(self) -> bool:
        now = time.time()
        with self._lock:
            self._roll(now)
            if self._used >= self._window_requests:
                return False
            self._used += 1
            return True

    def _guarded(self, request: Request, handler: Any) -> Response:
        if not bearer_token_ok(self.sandbox.tokens, request.headers.get("authorization", ""), KIND_ACCESS):
            return error(401, "Unauthorized")
        if not request.headers.get("user-agent"):
            return error(403, "Forbidden")
        if not self._take():
            headers = self._headers()
            return error(429, "Too Many Requests", {**headers, "retry-after": headers["x-ratelimit-reset"]})
        response: Response = handler()
        response.headers.update(self._headers())
        return response

    # Listings ------------------------------------------------------------------------------------

    def listing(self, request: Request, subreddit: str, kind: str) -> Response:
        params = request.query_params
        try:
            limit = max(1, min(MAX_LIMIT, int(params.get("limit", "25"))))
        except ValueError:
            limit = 25
        with self.sandbox.store.transaction() as tx:
            posts = [p for p in tx.list(POSTS) if p["subreddit"].lower() == subreddit.lower()]
        if not posts:
            return error(404, "Not Found")
        if kind == "search":
            q = params.get("q", "")
            posts = [p for p in posts if demo.matches_keywords(p["_text"], q)] if q.strip() else []
        sort = params.get("sort", "new" if kind == "new" else "relevance")
        if kind == "hot":
            posts.sort(
                key=lambda p: (
                    not p.get("stickied"),
                    -(p["score"] / (1 + (time.time() - p["created_utc"]) / 45000)),
                )
            )
        elif sort == "top":
            posts.sort(key=lambda p: -p["score"])
        elif sort == "comments":
            posts.sort(key=lambda p: -p["num_comments"])
        else:
            posts.sort(key=lambda p: -p["created_utc"])
        after = params.get("after")
        start = 0
        if after:
            names = [p["name"] for p in posts]
            start = names.index(after) + 1 if after in names else len(posts)
        page = posts[start : start + limit]
        next_after = page[-1]["name"] if page and start + limit < len(posts) else None
        return JSONResponse({
            "kind": "Listing",
            "data": {"after": next_after, "before": None, "dist": len(page), "modhash": None, "geo_filter": "",
                     "children": [{"kind": "t3", "data": _public(p)} for p in page]},
        })  # fmt: skip

    def comments(self, request: Request, post_id: str) -> Response:
        with self.sandbox.store.transaction() as tx:
            post = tx.get(POSTS, post_id)
            comments = [c for c in tx.list(COMMENTS) if c["link_id"] == f"t3_{post_id}"] if post else []
        if post is None:
            return error(404, "Not Found")
        try:
            limit = max(1, int(request.query_params.get("limit", "200")))
        except ValueError:
            limit = 200
        if request.query_params.get("sort") == "new":
            comments.sort(key=lambda c: -c["created_utc"])
        shown = comments[:limit]
        children: list[dict[str, Any]] = [{"kind": "t1", "data": c} for c in shown]
        if len(comments) > limit:
            rest = [c["id"] for c in comments[limit:]]
            children.append({"kind": "more", "data": {"count": len(rest), "name": f"t1_{rest[0]}", "id": rest[0],
                                                      "parent_id": f"t3_{post_id}", "depth": 0, "children": rest}})  # fmt: skip
        return JSONResponse([
            {"kind": "Listing", "data": {"after": None, "before": None, "dist": 1, "modhash": None, "geo_filter": "",
                                         "children": [{"kind": "t3", "data": _public(post)}]}},
            {"kind": "Listing", "data": {"after": None, "before": None, "dist": None, "modhash": None,
                                         "geo_filter": "", "children": children}},
        ])  # fmt: skip

    # Control -------------------------------------------------------------------------------------

    def _expire_tokens(self) -> dict[str, Any]:
        return expire_access_tokens(self.sandbox.store, KIND_ACCESS)

    def _limits(self, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with self._lock:
            if "window_requests" in body:
                self._window_requests = max(1, int(body["window_requests"]))
            if "window_seconds" in body:
                self._window_seconds = max(1, int(body["window_seconds"]))
            if body.get("reset"):
                self._used = 0
                self._window_start = time.time()
            return {
                "window_requests": self._window_requests,
                "window_seconds": self._window_seconds,
                "used": self._used,
            }

    def _usage(self) -> dict[str, Any]:
        with self._lock:
            return {
                "window_requests": self._window_requests,
                "window_seconds": self._window_seconds,
                "used": self._used,
            }


def _public(record: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if not k.startswith("_")}
    body.setdefault("ups", body.get("score", 0))
    body.setdefault("downs", 0)
    body.setdefault("upvote_ratio", 0.97)
    return body
