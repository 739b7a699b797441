"""Reddit Data API collector: marketplace posts from subreddit search, plus the items offered in the
comments of each subreddit's Buy/Sell/Trade threads.

Facts (shared/reference/platform_apis.md 6): token ``POST /api/v1/access_token`` on www.reddit.com with
HTTP Basic ``client_id:client_secret`` and ``grant_type=client_credentials`` (application-only) or
``password`` (script app) -> ``{access_token, token_type: "bearer", expires_in: 3600}``; calls go to
oauth.reddit.com with ``Authorization: bearer <token>`` and a descriptive ``User-Agent``;
``/r/{sub}/search?q&restrict_sr=1&sort=new`` and ``/r/{sub}/new``, ``/r/{sub}/hot`` return Listings paged by
``after`` (a fullname, ``t3_xxx``) with ``limit`` <= 100; ``/comments/{id}`` returns ``[Listing(t3),
Listing(t1...)]``; every response carries ``x-ratelimit-used/remaining/reset`` (1,000 per 600 s window).

praw could be pointed at a custom host (``oauth_url``/``reddit_url``) but is synchronous and would
bypass RIFF's HTTP layer, rate limiter and error taxonomy, so this client follows the documented
endpoints itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from riff.channels.http import ChannelHttpClient
from riff.core.logging import get_logger
from riff.research import extraction
from riff.research.collectors.base import (
    CollectedListing,
    MultiBucketLimiter,
    NotConfigured,
    TokenCollector,
    client_channel,
    parse_timestamp,
)
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.consts import REDDIT_MAX_PAGE, Platform

log = get_logger(__name__)

TOKEN_PATH = "/api/v1/access_token"
SELLING = re.compile(
    r"\[\s*(?:wts|fs|h|for sale|selling|fs/ft|wts/wtt)\s*\]|\bfor sale\b|\bselling\b|\bwts\b", re.I
)
BST_THREAD = re.compile(
    r"\b(?:buy\s*/\s*sell(?:\s*/\s*trade)?|b\s*/\s*s\s*/\s*t|bst|buy,? sell,? (?:and|&) trade|marketplace)\b"
    r".*\bthread\b|\bweekly\b.*\b(?:buy|sell|bst)\b",
    re.I,
)
UK_SUBREDDITS = frozenset({"ukraw", "gearuk", "ukvinyl", "ukguitars"})
IMAGE_HOSTS = ("i.redd.it", "i.imgur.com", "preview.redd.it")


def parse_reddit_error(response: httpx.Response) -> tuple[str, str | None]:
    """``{"message": "Forbidden", "error": 403}``, ``{"explanation", "reason", "fields"}`` or plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or f"HTTP {response.status_code}", None
    if isinstance(body, dict):
        message = (
            body.get("explanation") or body.get("message") or body.get("reason") or str(body.get("error"))
        )
        fields = body.get("fields")
        return str(message), (str(fields[0]) if isinstance(fields, list) and fields else None)
    return str(body)[:300], None


def _default_currency(subreddit: str, title: str) -> str:
    if subreddit.lower() in UK_SUBREDDITS or re.search(r"\[\s*(?:uk|gb)[\]-]", title, re.I):
        return "GBP"
    if re.search(r"\[\s*(?:eu|de|fr|nl|it|es)[\]-]", title, re.I):
        return "EUR"
    if re.search(r"\[\s*(?:ca|can)[\]-]", title, re.I):
        return "CAD"
    return "USD"


def _post_images(post: dict[str, Any]) -> list[str]:
    urls: list[str] = []
    url = post.get("url_overridden_by_dest") or post.get("url")
    if isinstance(url, str) and any(host in url for host in IMAGE_HOSTS):
        urls.append(url)
    for image in (post.get("preview") or {}).get("images") or []:
        source = (image or {}).get("source") or {}
        if source.get("url") and source["url"] not in urls:
            urls.append(str(source["url"]))
    return urls[:10]


def parse_post(post: dict[str, Any], web_base: str) -> CollectedListing | None:
    """A t3 post that offers something for sale; None for WTB posts, threads and chatter."""
    title = str(post.get("title") or "")
    body = str(post.get("selftext") or "")
    if extraction.is_want_to_buy(title) or BST_THREAD.search(title):
        return None
    subreddit = str(post.get("subreddit") or "")
    currency = _default_currency(subreddit, title)
    price = extraction.primary_price(title, body, default_currency=currency)
    if price is None and not SELLING.search(title):
        return None
    flair = post.get("link_flair_text")
    permalink = str(post.get("permalink") or "")
    return CollectedListing(
        platform=Platform.REDDIT,
        external_id=str(post.get("name") or f"t3_{post.get('id')}"),
        title=extraction.clean_title(title) or title,
        url=web_base + permalink if permalink.startswith("/") else permalink or None,
        description=body,
        price=price.amount if price else None,
        currency=price.currency if price else None,
        image_urls=_post_images(post),
        seller=post.get("author"),
        listed_at=parse_timestamp(post.get("created_utc")),
        sold=extraction.looks_sold(title, flair if isinstance(flair, str) else None),
        score=float(post.get("score") or 0),
        comments=float(post.get("num_comments") or 0),
        raw={
            k: post.get(k)
            for k in (
                "id",
                "name",
                "subreddit",
                "title",
                "link_flair_text",
                "score",
                "num_comments",
                "created_utc",
                "permalink",
                "author",
                "url",
            )
        },  # fmt: skip
        default_currency=currency,
    )


def parse_comment(comment: dict[str, Any], thread: dict[str, Any], web_base: str) -> CollectedListing | None:
    """A top-level comment in a BST thread that offers an item with a price."""
    body = str(comment.get("body") or "")
    if not body or body in ("[deleted]", "[removed]"):
        return None
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    if extraction.is_want_to_buy(first_line) or re.match(r"^\s*\**\s*wtb\b", first_line, re.I):
        return None
    subreddit = str(thread.get("subreddit") or comment.get("subreddit") or "")
    currency = _default_currency(subreddit, first_line)
    price = extraction.primary_price(body, default_currency=currency)
    if price is None:
        return None
    title = re.sub(r"[*_#>~`]+", "", extraction.clean_title(first_line)).strip()
    title = (
        re.sub(r"^(?:wts|fs|for sale|selling|h)\b\s*[:\-]?\s*", "", title, flags=re.I)[:300] or "BST comment"
    )
    permalink = str(comment.get("permalink") or "")
    return CollectedListing(
        platform=Platform.REDDIT,
        external_id=str(comment.get("name") or f"t1_{comment.get('id')}"),
        title=title,
        url=web_base + permalink if permalink.startswith("/") else None,
        description=body,
        price=price.amount,
        currency=price.currency,
        seller=comment.get("author"),
        listed_at=parse_timestamp(comment.get("created_utc")),
        sold=extraction.looks_sold(first_line) or bool(re.search(r"~~[^~]+~~", first_line)),
        score=float(comment.get("score") or 0),
        comments=float(len(((comment.get("replies") or {}).get("data") or {}).get("children") or []))
        if isinstance(comment.get("replies"), dict)
        else 0.0,
        raw={
            k: comment.get(k)
            for k in ("id", "name", "author", "body", "score", "created_utc", "permalink", "link_id")
        }
        | {"thread": thread.get("name")},  # fmt: skip
        default_currency=currency,
    )


class RedditCollector(TokenCollector):
    platform = Platform.REDDIT
    display_name = "Reddit"
    token_path = TOKEN_PATH
    token_scheme = "bearer"
    default_token_seconds = 3600.0

    def __init__(
        self,
        research: ResearchSettings,
        *,
        rate_limiter: MultiBucketLimiter | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not research.reddit_client_id or research.reddit_client_secret is None:
            raise NotConfigured("Reddit needs RIFF_RESEARCH_REDDIT_CLIENT_ID and _CLIENT_SECRET",
                                channel=client_channel(Platform.REDDIT))  # fmt: skip
        headers = {"User-Agent": research.reddit_user_agent, "Accept": "application/json"}
        http = ChannelHttpClient(
            client_channel(Platform.REDDIT),
            research.reddit_api_url,
            headers=headers,
            transport=transport,
            rate_limiter=rate_limiter,
            message_parser=parse_reddit_error,
        )
        super().__init__(
            research,
            http,
            token_url=research.reddit_auth_url,
            client_id=research.reddit_client_id,
            client_secret=research.reddit_client_secret,
            transport=transport,
            headers=headers,
        )
        self.limiter = rate_limiter
        self.web_base = research.reddit_auth_url.rstrip("/")
        self.ratelimit_remaining: float | None = None

    def token_form(self) -> dict[str, str]:
        research = self.research
        if research.reddit_username and research.reddit_password is not None:
            return {"grant_type": "password", "username": research.reddit_username,
                    "password": research.reddit_password.get_secret_value()}  # fmt: skip
        return {"grant_type": "client_credentials"}

    def observe(self, response: httpx.Response) -> None:
        """Honour the window: when it is used up, nobody calls again before it resets."""
        try:
            remaining = float(response.headers.get("x-ratelimit-remaining", "nan"))
            reset = float(response.headers.get("x-ratelimit-reset", "0"))
        except ValueError:
            return
        if remaining == remaining:  # not NaN
            self.ratelimit_remaining = remaining
            if remaining < 1 and self.limiter is not None:
                log.info("research.reddit.window_exhausted", reset_seconds=reset)
                self.limiter.penalize_bucket("research.reddit", max(1.0, reset))

    async def _listing(self, path: str, template: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await self.get(path, template=template, params={**params, "raw_json": 1})
        body = response.json()
        return body.get("data") or {} if isinstance(body, dict) else {}

    async def _posts(
        self, path: str, template: str, params: dict[str, Any], max_items: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        after: str | None = None
        seen = 0
        limit = self.page_limit(REDDIT_MAX_PAGE, max_items)
        while True:
            page_params = {**params, "limit": limit}
            if after:
                page_params["after"] = after
                page_params["count"] = seen
            data = await self._listing(path, template, page_params)
            children = [
                c["data"] for c in data.get("children") or [] if c.get("kind") == "t3" and c.get("data")
            ]
            seen += len(children)
            if children:
                yield children
            after = data.get("after")
            if not after or not children or seen >= max_items:
                return

    async def pages(self, spec: SearchSpec) -> AsyncIterator[list[CollectedListing]]:
        subreddits = spec.subreddits or list(self.research.bst_subreddits)
        for subreddit in subreddits:
            path = f"/r/{subreddit}/search"
            params = {"q": spec.q, "restrict_sr": 1, "sort": "new", "t": "all"}
            async for posts in self._posts(path, "/r/{sub}/search", params, spec.max_items):
                page = [p for p in (parse_post(post, self.web_base) for post in posts) if p is not None]
                if page:
                    yield page

    async def extra_pages(self) -> AsyncIterator[list[CollectedListing]]:
        """Each BST subreddit's current threads (stickied or titled so), expanded into comment listings."""
        if self.research.bst_threads_per_subreddit <= 0:
            return
        for subreddit in self.research.bst_subreddits:
            data = await self._listing(f"/r/{subreddit}/hot", "/r/{sub}/hot", {"limit": 25})
            threads = [
                c["data"]
                for c in data.get("children") or []
                if c.get("kind") == "t3" and BST_THREAD.search(str((c.get("data") or {}).get("title") or ""))
            ][: self.research.bst_threads_per_subreddit]
            for thread in threads:
                page = await self.thread_listings(thread)
                if page:
                    yield page

    async def thread_listings(self, thread: dict[str, Any]) -> list[CollectedListing]:
        response = await self.get(
            f"/comments/{thread['id']}",
            template="/comments/{id}",
            params={"limit": 500, "sort": "new", "raw_json": 1},
        )
        body = response.json()
        if not isinstance(body, list) or len(body) < 2:
            return []
        comments = (body[1].get("data") or {}).get("children") or []
        found = []
        for child in comments:
            if child.get("kind") != "t1":  # "more" stubs would need /api/morechildren
                continue
            listing = parse_comment(child.get("data") or {}, thread, self.web_base)
            if listing is not None:
                found.append(listing)
        return found
