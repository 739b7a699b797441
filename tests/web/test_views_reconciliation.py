"""The reconciliation page (``/reconciliation``) over HTTP on both databases: every kind of mismatch shows
with its fix buttons, a fix through the form takes the row off, read-only users get no buttons, and
walking the pages shows every mismatch the counts announce (none silently dropped)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.auth.models import Role
from riff.auth.service import create_user
from riff.catalog.models import Product, ProductStatus
from riff.channels.models import ChannelAccount, Listing, ListingState
from riff.core.db import Database
from riff.jobs.models import Job
from riff.web.views_reconciliation import MISMATCHES_SHOWN

HTMX = {"HX-Request": "true"}
FIX_FORM = re.compile(
    r'name="listing_id" value="(\d+)"><input type="hidden" name="action" value="(push_local|accept_remote)"'
)


@pytest.fixture
def staff(client: TestClient, shopkeeper: str, form_login: Callable[..., str]) -> tuple[TestClient, str]:
    return client, form_login(client)


def _shop(database: Database, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Products with one reverb listing each: ``rows`` of {name, price, quantity, status, stocked, state,
    remote_price, remote_quantity}; returns name -> listing id."""
    ids: dict[str, int] = {}
    with database.session() as session:
        if (
            session.execute(sa.select(ChannelAccount).where(ChannelAccount.channel == "reverb")).first()
            is None
        ):
            session.add(ChannelAccount(channel="reverb", name="main", enabled=True, config={}))
        for index, row in enumerate(rows):
            price = Decimal(row.get("price", "1000.00"))
            product = Product(
                sku=f"RIFF-W{len(ids)}-{index}-{row['name']}"[:64], title=f"Guitar {row['name']}", base_price=price,
                quantity=row.get("quantity", 1), is_stocked_item=row.get("stocked", False),
                status=row.get("status", ProductStatus.ACTIVE), attributes={},
            )  # fmt: skip
            session.add(product)
            session.flush()
            listing = Listing(
                product_id=product.id, channel="reverb", remote_id=f"rv-{product.id}",
                state=row.get("state", ListingState.LIVE), remote_price=Decimal(row.get("remote_price", price)),
                remote_quantity=row.get("remote_quantity", product.quantity), extras={},
            )  # fmt: skip
            session.add(listing)
            session.flush()
            ids[row["name"]] = listing.id
    return ids


def _fixes(html: str) -> set[tuple[int, str]]:
    return {(int(listing_id), action) for listing_id, action in FIX_FORM.findall(html)}


def _report(client: TestClient, **params: Any) -> str:
    response = client.get("/reconciliation/report", params={"channel": "reverb", **params}, headers=HTMX)
    assert response.status_code == 200, response.text
    return response.text


def test_every_kind_of_mismatch_shows_with_its_fixes(
    database: Database, staff: tuple[TestClient, str]
) -> None:
    client, _ = staff
    ids = _shop(
        database,
        [
            {"name": "price", "price": "1000.00", "remote_price": "900.00"},
            {"name": "quantity", "quantity": 4, "stocked": True, "remote_quantity": 2},
            {"name": "sold", "quantity": 0, "status": ProductStatus.SOLD},
            {"name": "ended", "state": ListingState.ENDED},
            {"name": "fine"},
        ],
    )
    page = client.get("/reconciliation", params={"channel": "reverb"})
    assert page.status_code == 200 and 'hx-get="/reconciliation/report?channel=reverb"' in page.text
    html = _report(client)
    assert re.search(r"Price mismatches</span><span class=\"stat__value\">1<", html)
    assert re.search(r"Quantity mismatches</span><span class=\"stat__value\">1<", html)
    assert re.search(r"State mismatches</span><span class=\"stat__value\">2<", html)
    assert _fixes(html) == {
        (ids["price"], "push_local"),
        (ids["price"], "accept_remote"),
        (ids["quantity"], "push_local"),
        (ids["quantity"], "accept_remote"),
        (ids["sold"], "push_local"),  # a live listing of a sold item can only be ended
        (ids["ended"], "push_local"),
        (ids["ended"], "accept_remote"),
    }
    assert "sale was not propagated" in html and "not pushed" in html
    assert 'data-testid="compared-at"' in html and 'data-testid="refresh"' in html
    assert 'data-testid="mismatch-range"' not in html  # one page: no pager


def test_a_fix_through_the_form_takes_the_row_off_the_report(
    database: Database, staff: tuple[TestClient, str]
) -> None:
    client, token = staff
    ids = _shop(
        database,
        [
            {"name": "price", "price": "1000.00", "remote_price": "900.00"},
            {"name": "sold", "quantity": 0, "status": ProductStatus.SOLD},
        ],
    )
    response = client.post(
        "/reconciliation/fix",
        data={
            "listing_id": ids["price"],
            "action": "accept_remote",
            "channel": "reverb",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/reconciliation?channel=reverb"
    html = _report(client)
    assert {listing_id for listing_id, _ in _fixes(html)} == {ids["sold"]}
    ended = client.post(
        "/reconciliation/fix",
        data={"listing_id": ids["sold"], "action": "push_local", "channel": "reverb", "after": "7", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert ended.headers["location"] == "/reconciliation?channel=reverb&after=7"  # back to the same page
    with database.read_session() as session:
        assert [j.kind for j in session.execute(sa.select(Job)).scalars()] == ["reverb.end"]
    assert "end job is queued" in _report(client)
    refused = client.post(
        "/reconciliation/fix",
        data={
            "listing_id": ids["price"],
            "action": "accept_remote",
            "channel": "reverb",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 200 and "nothing to fix" in refused.text  # flashed, not a 500


def test_read_only_users_see_the_report_without_fix_buttons(
    database: Database, client: TestClient, form_login: Callable[..., str]
) -> None:
    with database.session() as session:
        create_user(session, username="viewer", password="correct horse battery", role=Role.READ_ONLY)
    form_login(client, "viewer", "correct horse battery")
    _shop(database, [{"name": "price", "price": "1000.00", "remote_price": "900.00"}])
    html = _report(client)
    assert "not pushed" in html and _fixes(html) == set()


def test_the_pages_show_every_mismatch_the_counts_announce(
    database: Database, staff: tuple[TestClient, str]
) -> None:
    client, _ = staff
    drift = [
        {"name": f"p{i}", "price": "1000.00", "remote_price": "990.00"} for i in range(MISMATCHES_SHOWN + 30)
    ]
    drift += [{"name": f"ok{i}"} for i in range(20)]
    drift += [{"name": f"s{i}", "quantity": 0, "status": ProductStatus.SOLD} for i in range(15)]
    ids = _shop(database, drift)
    wanted = {listing_id for name, listing_id in ids.items() if not name.startswith("ok")}
    total = len(wanted)
    seen: list[int] = []
    url_params: dict[str, Any] = {}
    for _ in range(10):
        html = _report(client, **url_params)
        assert re.search(
            rf"Price mismatches</span><span class=\"stat__value\">{MISMATCHES_SHOWN + 30}<", html
        )
        shown = sorted({listing_id for listing_id, _ in _fixes(html)})
        assert shown and len(shown) <= MISMATCHES_SHOWN
        first = len(seen) + 1
        assert f"Mismatches {first}–{first + len(shown) - 1} of {total}" in html
        seen += shown
        following = re.search(r'rel="next" href="/reconciliation\?channel=reverb&amp;after=(\d+)"', html)
        if following is None:
            break
        assert f'hx-get="/reconciliation/report?channel=reverb&amp;after={following.group(1)}"' in html
        url_params = {"after": int(following.group(1))}
    assert seen == sorted(seen) and set(seen) == wanted and len(seen) == total  # every one, once, in order
    assert "← First" in html
    page = client.get("/reconciliation", params={"channel": "reverb", **url_params})
    assert f"after={url_params['after']}" in page.text  # a shared page link opens on that page
    assert client.get("/reconciliation/report", params={"channel": "reverb", "after": -1}).status_code == 422


def test_in_sync_and_no_account(database: Database, staff: tuple[TestClient, str]) -> None:
    client, _ = staff
    assert "No channel accounts" in client.get("/reconciliation").text
    assert _report(client).strip() == ""
    _shop(database, [{"name": "fine"}])
    assert 'data-testid="in-sync"' in _report(client)
