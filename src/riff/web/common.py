"""Small helpers shared by the page modules (views_*.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse

from riff.auth.models import Role, User
from riff.channels import service as channels
from riff.channels.models import ChannelAccount
from riff.channels.registry import CHANNEL_SLUGS
from riff.core.errors import RiffError
from riff.web.templating import render

REFRESH_DASHBOARD_SECONDS = 5
REFRESH_LIST_SECONDS = 5
REFRESH_PROGRESS_SECONDS = 1


def error_page(request: Request, error: RiffError) -> HTMLResponse:
    titles = {404: "Not found", 403: "Not allowed", 409: "Conflict"}
    return render(
        request,
        "error.html",
        {"title": titles.get(error.status_code, "Something went wrong"), "message": error.message},
        status_code=error.status_code,
    )


def can_write(user: User | None) -> bool:
    return user is not None and user.role != Role.READ_ONLY


def is_owner(user: User | None) -> bool:
    return user is not None and user.role == Role.OWNER


def enabled_accounts(session: Session) -> list[ChannelAccount]:
    """The account each channel publishes with (its first enabled one), in the UI's channel order."""
    first: dict[str, ChannelAccount] = {}
    for account in channels.list_accounts(session):
        if account.enabled and account.channel not in first:
            first[account.channel] = account
    order = {slug: index for index, slug in enumerate(CHANNEL_SLUGS)}
    return sorted(first.values(), key=lambda a: (order.get(a.channel, len(order)), a.channel))


@dataclass
class Page:
    """Offset pagination for a list page; ``number`` starts at 1."""

    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def count(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_item(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def query_url(path: str, params: Mapping[str, Any], **changes: Any) -> str:
    """``path?params`` with ``changes`` applied; empty values are dropped so URLs stay short."""
    merged = {**params, **changes}
    clean = {key: value for key, value in merged.items() if value not in (None, "", [])}
    return f"{path}?{urlencode(clean, doseq=True)}" if clean else path


def percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]
