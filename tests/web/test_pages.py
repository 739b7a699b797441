"""The shop's pages over HTTP (both databases): dashboard figures, inventory filters and bulk edits,
product create/edit with pictures and the optimistic lock, listings, jobs, sync, orders, settings."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from riff.catalog.models import MovementReason, Product, ProductImage, ProductStatus, StockMovement
from riff.channels import service as channels
from riff.channels.models import Listing, ListingState
from riff.channels.schemas import AccountCreate
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.security import SecretBox
from riff.jobs.models import Job
from riff.orders.models import Order, OrderLine, OrderSource, OrderStatus

from .pages import csrf_from

HTMX = {"HX-Request": "true"}


def _png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _product(database: Database, sku: str = "RIFF-1", **values: Any) -> int:
    with database.session() as session:
        product = Product(
            sku=sku,
            title=values.pop("title", f"Gibson ES-335 {sku}"),
            brand=values.pop("brand", "Gibson"),
            model="ES-335",
            base_price=Decimal(values.pop("price", "2500.00")),
            quantity=values.pop("quantity", 1),
            status=values.pop("status", ProductStatus.ACTIVE),
            attributes={},
            **values,
        )
        session.add(product)
        session.flush()
        return product.id


def _order(remote_id: str, *, channel: str = "reverb", **values: Any) -> Order:
    return Order(
        channel=channel,
        remote_order_id=remote_id,
        status=OrderStatus.PAID,
        source=OrderSource.WEBHOOK,
        buyer_name="Ann Buyer",
        currency="GBP",
        total=Decimal("1450.00"),
        raw={},
        received_at=utcnow(),
        **values,
    )


def _account(app: FastAPI, database: Database, channel: str = "reverb", *, sandbox: bool = True) -> int:
    with database.session() as session:
        account = channels.create_account(
            session,
            SecretBox(app.state.master_key),
            AccountCreate(
                channel=channel,
                name="main",
                is_sandbox=sandbox,
                base_url="http://127.0.0.1:9",
                config={"shipping_profile_id": "15655", "currency": "GBP"} if channel == "reverb" else {},
                secrets={"token": "super-secret-token-value-1234"},
            ),
        )
        return account.id


@pytest.fixture
def browser(client: TestClient, shopkeeper: str, form_login: Callable[..., str]) -> tuple[TestClient, str]:
    """A client logged in through the form (staff role) and its CSRF token."""
    return client, form_login(client)


class TestEveryPage:
    PATHS = (
        "/",
        "/dashboard/stats",
        "/inventory",
        "/products/new",
        "/orders",
        "/sync",
        "/sync/status",
        "/jobs",
        "/reconciliation",
        "/settings",
    )

    def test_renders(self, browser: tuple[TestClient, str]) -> None:
        client, _ = browser
        for path in self.PATHS:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            assert "text/html" in response.headers["content-type"]

    def test_unknown_product_is_a_404_page(self, browser: tuple[TestClient, str]) -> None:
        client, _ = browser
        response = client.get("/products/999")
        assert response.status_code == 404
        assert "no product with id 999" in response.text


class TestDashboard:
    def test_figures(self, app: FastAPI, database: Database, browser: tuple[TestClient, str]) -> None:
        client, _ = browser
        sold = _product(database, "RIFF-SOLD", quantity=0, price="1000.00")
        _product(database, "RIFF-A", price="2500.00")
        _product(database, "RIFF-B", price="500.00")
        _account(app, database)
        with database.session() as session:
            session.add(
                StockMovement(
                    product_id=sold, delta=-1, quantity_after=0, reason=MovementReason.SALE, actor="t"
                )
            )
            session.add(
                Listing(product_id=sold, channel="reverb", state=ListingState.LIVE, remote_id="1", extras={})
            )
            session.add(
                _order("E-77", channel="ebay", oversold=True, followup="Cancel and refund E-77 on eBay")
            )
        html = client.get("/dashboard/stats").text
        assert re.search(r'data-testid="stock-count">2<', html)
        assert "£3,000.00" in html
        assert re.search(r'data-testid="sales-today">1<', html)
        assert re.search(r'data-testid="live-reverb">1<', html)
        assert "Cancel and refund E-77 on eBay" in html

    def test_page_polls_its_figures(self, browser: tuple[TestClient, str]) -> None:
        client, _ = browser
        html = client.get("/").text
        assert 'hx-get="/dashboard/stats"' in html and 'hx-trigger="every 5s"' in html


class TestSandboxBadge:
    def test_follows_the_enabled_accounts(
        self, app: FastAPI, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, _ = browser
        account_id = _account(app, database, sandbox=False)
        app.state.sandbox_mode_cache = None
        assert 'badge--sandbox" role="status"' not in client.get("/").text
        with database.session() as session:
            channels.get_account(session, account_id).is_sandbox = True
        app.state.sandbox_mode_cache = None
        assert 'badge--sandbox" role="status"' in client.get("/").text


class TestInventory:
    def test_filters_answer_with_the_results_partial(
        self, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, _ = browser
        _product(database, "RIFF-TELE", title="Fender Telecaster 1968", brand="Fender")
        _product(database, "RIFF-335")
        response = client.get("/inventory?q=telecaster", headers={**HTMX, "HX-Target": "inventory-results"})
        assert response.status_code == 200
        assert "<html" not in response.text
        assert "RIFF-TELE" in response.text and "RIFF-335" not in response.text
        full = client.get("/inventory?brand=gibson&sort=price").text
        assert "<html" in full and "RIFF-335" in full and "RIFF-TELE" not in full
        assert 'aria-sort="ascending"' in full

    def test_bad_filter_is_shown_not_a_500(self, browser: tuple[TestClient, str]) -> None:
        client, _ = browser
        response = client.get("/inventory?listing_state=bogus")
        assert response.status_code == 200
        assert "unknown listing state" in response.text

    def test_bulk_price(self, database: Database, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        ids = [_product(database, f"RIFF-{n}") for n in range(3)]
        response = client.post(
            "/inventory/bulk",
            data={
                "csrf_token": token,
                "ids": [str(i) for i in ids[:2]],
                "action": "price",
                "value": "£1,999.00",
                "return_to": "/inventory?q=x",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == "/inventory?q=x"
        with database.read_session() as session:
            prices = dict(session.execute(sa.select(Product.sku, Product.base_price)).all())
        assert prices == {
            "RIFF-0": Decimal("1999.00"),
            "RIFF-1": Decimal("1999.00"),
            "RIFF-2": Decimal("2500.00"),
        }
        assert "Updated 2 product(s)" in client.get("/inventory").text

    def test_bulk_invalid_changes_nothing(self, database: Database, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        product_id = _product(database)
        page = client.post(
            "/inventory/bulk",
            data={"csrf_token": token, "ids": [str(product_id)], "action": "quantity", "value": "5"},
        ).text
        assert "Nothing changed" in page and "one-of-a-kind" in page

    def test_bulk_publish_reports_refusals(
        self, app: FastAPI, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        _account(app, database)
        product_id = _product(database)  # no pictures: Reverb refuses before any request
        page = client.post(
            "/inventory/bulk",
            data={"csrf_token": token, "ids": [str(product_id)], "action": "publish", "channels": ["reverb"]},
        ).text
        assert "needs at least one photo" in page
        with database.read_session() as session:
            assert session.execute(sa.select(sa.func.count()).select_from(Listing)).scalar_one() == 0


def _new_product_form(token: str, **overrides: str) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "sku": "RIFF-NEW-1",
        "title": "Fender Stratocaster 1965",
        "brand": "Fender",
        "model": "Stratocaster",
        "year": "1965",
        "price": "12500.00",
        "currency": "GBP",
        "quantity": "1",
        "condition": "excellent",
        "status": "active",
        "attr.serial_number": "L12345",
        **overrides,
    }


class TestCreateProduct:
    def test_with_two_pictures_and_publish(
        self, app: FastAPI, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        _account(app, database)
        files = [
            ("images", ("front.png", _png((255, 0, 0)), "image/png")),
            ("images", ("back.png", _png((0, 0, 255), (80, 60)), "image/png")),
        ]
        form = _new_product_form(token, publish_to="reverb")
        response = client.post("/products/new", data=form, files=files, follow_redirects=False)
        assert response.status_code == 303, response.text
        product_id = int(response.headers["location"].rsplit("/", 1)[1])
        with database.read_session() as session:
            product = session.get(Product, product_id)
            assert product is not None and product.attributes == {"serial_number": "L12345"}
            pictures = (
                session.execute(sa.select(ProductImage).order_by(ProductImage.position)).scalars().all()
            )
            assert [(p.width, p.height) for p in pictures] == [(64, 48), (80, 60)]
            assert all(
                p.source_url and p.source_url.startswith("http://testserver/media/images/") for p in pictures
            )
            first_file = str(pictures[0].file_path).rsplit("/", 1)[1]
            listing = session.execute(sa.select(Listing)).scalar_one()
            assert listing.state == ListingState.PENDING
            assert session.execute(sa.select(Job.kind)).scalar_one() == "reverb.publish"
        page = client.get(f"/products/{product_id}").text
        assert "Publishing on reverb" in page
        assert 'data-channel="reverb" data-state="pending"' in page
        assert 'hx-trigger="every 2s"' in page  # the listings panel refreshes itself while pending
        image = client.get(f"/media/images/{product_id}/{first_file}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"

    def test_invalid_input_keeps_the_values(
        self, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        response = client.post(
            "/products/new", data=_new_product_form(token, title="", price="abc", year="1965")
        )
        assert response.status_code == 422
        assert 'aria-invalid="true"' in response.text
        assert 'value="RIFF-NEW-1"' in response.text
        with database.read_session() as session:
            assert session.execute(sa.select(sa.func.count()).select_from(Product)).scalar_one() == 0

    def test_not_a_picture_creates_nothing(
        self, settings: Any, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        files = [
            ("images", ("x.png", _png(), "image/png")),
            ("images", ("notes.txt", b"hello", "text/plain")),
        ]
        response = client.post("/products/new", data=_new_product_form(token), files=files)
        assert response.status_code == 422
        assert "notes.txt: not an image RIFF can read" in response.text
        with database.read_session() as session:
            assert session.execute(sa.select(sa.func.count()).select_from(Product)).scalar_one() == 0
        assert not list((settings.data_dir / "images").rglob("*.png"))

    def test_duplicate_sku(self, database: Database, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        _product(database, "RIFF-NEW-1")
        response = client.post("/products/new", data=_new_product_form(token))
        assert response.status_code == 422
        assert "already exists" in response.text


class TestEditProduct:
    def _form(self, client: TestClient, product_id: int) -> dict[str, str]:
        html = client.get(f"/products/{product_id}").text
        form = html[html.index('data-testid="product-form"') :]
        form = form[: form.index("</form>")]
        values = dict(re.findall(r'name="([^"]+)"[^>]*?value="([^"]*)"', form))
        values.update(
            dict(re.findall(r'name="([^"]+)"[^>]*>(?:\s*)<option value="([^"]*)"[^>]*selected', form))
        )
        values.update({"condition": "good", "status": "active", "description": "", "notes": ""})
        values.pop("is_stocked_item", None)  # an unchecked box is not sent
        return values

    def test_save_and_conflict(self, database: Database, browser: tuple[TestClient, str]) -> None:
        client, _ = browser
        product_id = _product(database)
        stale = self._form(client, product_id)
        fresh = {**stale, "price": "2400.00"}
        assert client.post(f"/products/{product_id}", data=fresh, follow_redirects=False).status_code == 303
        assert "Saved: price." in client.get(f"/products/{product_id}").text
        response = client.post(f"/products/{product_id}", data={**stale, "title": "My edit"})
        assert response.status_code == 409
        assert "Someone else saved this product" in response.text
        assert 'value="My edit"' in response.text  # the user's values are kept
        again = dict(re.findall(r'name="(version)" value="(\d+)"', response.text))
        assert (
            client.post(
                f"/products/{product_id}", data={**stale, "title": "My edit", **again}, follow_redirects=False
            ).status_code
            == 303
        )
        with database.read_session() as session:
            product = session.get(Product, product_id)
            assert product is not None and product.title == "My edit"

    def test_price_change_is_pushed_to_live_listings(
        self, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, _ = browser
        product_id = _product(database)
        with database.session() as session:
            session.add(
                Listing(
                    product_id=product_id,
                    channel="reverb",
                    state=ListingState.LIVE,
                    remote_id="77",
                    extras={},
                )
            )
            session.add(
                Listing(
                    product_id=product_id,
                    channel="shopify",
                    state=ListingState.ENDED,
                    remote_id="88",
                    extras={},
                )
            )
        form = {**self._form(client, product_id), "price": "2222.00"}
        client.post(f"/products/{product_id}", data=form)
        with database.read_session() as session:
            kinds = session.execute(sa.select(Job.kind)).scalars().all()
        assert kinds == ["reverb.update"]  # the sync engine's one job: the page adds no second push


class TestImagesApi:
    def test_upload_reorder_delete(
        self, settings: Any, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        product_id = _product(database)
        headers = {"X-CSRF-Token": token}
        uploaded = client.post(
            f"/api/products/{product_id}/images",
            files=[
                ("files", ("a.png", _png((1, 2, 3)), "image/png")),
                ("files", ("b.png", _png((4, 5, 6)), "image/png")),
            ],
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
        first, second = (image["id"] for image in uploaded.json())
        assert uploaded.json()[0]["url"].startswith(f"/media/images/{product_id}/")
        duplicate = client.post(
            f"/api/products/{product_id}/images",
            files=[("files", ("a.png", _png((1, 2, 3)), "image/png"))],
            headers=headers,
        )
        assert duplicate.status_code == 409
        reordered = client.put(
            f"/api/products/{product_id}/images/order", json={"image_ids": [second, first]}, headers=headers
        )
        assert [image["id"] for image in reordered.json()] == [second, first]
        bad = client.put(
            f"/api/products/{product_id}/images/order", json={"image_ids": [second]}, headers=headers
        )
        assert bad.status_code == 422
        path = uploaded.json()[0]["url"]
        assert client.delete(f"/api/products/{product_id}/images/{first}", headers=headers).status_code == 204
        assert client.get(path).status_code == 404
        assert [image["position"] for image in client.get(f"/api/products/{product_id}/images").json()] == [0]

    def test_media_needs_a_login(
        self, app: FastAPI, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        product_id = _product(database)
        url = client.post(
            f"/api/products/{product_id}/images",
            files=[("files", ("a.png", _png(), "image/png"))],
            headers={"X-CSRF-Token": token},
        ).json()[0]["url"]
        with TestClient(app) as anonymous:
            assert anonymous.get(url, follow_redirects=False).status_code == 303
        assert client.get(f"/media/images/{product_id}/..%2F..%2Fsecret.key").status_code == 404

    def test_keyboard_move_and_panel(self, database: Database, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        product_id = _product(database)
        headers = {"X-CSRF-Token": token, **HTMX}
        client.post(
            f"/products/{product_id}/images",
            files=[
                ("images", ("a.png", _png((9, 9, 9)), "image/png")),
                ("images", ("b.png", _png((8, 8, 8)), "image/png")),
            ],
            headers=headers,
        )
        with database.read_session() as session:
            first, second = (
                session.execute(sa.select(ProductImage.id).order_by(ProductImage.position)).scalars().all()
            )
        panel = client.post(f"/products/{product_id}/images/{first}/move?offset=1", headers=headers).text
        assert panel.index(f'data-image-id="{second}"') < panel.index(f'data-image-id="{first}"')
        assert 'id="images-panel"' in panel and "<html" not in panel


class TestListingsPanel:
    def test_publish_refusal_is_a_toast(
        self, app: FastAPI, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        _account(app, database)
        product_id = _product(database)
        response = client.post(
            f"/products/{product_id}/listings/reverb/publish", headers={"X-CSRF-Token": token, **HTMX}
        )
        assert response.status_code == 200
        assert 'id="listings-panel"' in response.text
        assert 'hx-swap-oob="true"' in response.text and "needs at least one photo" in response.text


class TestJobsAndSync:
    def test_retry_and_cancel(self, database: Database, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        now = utcnow()
        with database.session() as session:
            job = Job(
                kind="reverb.publish",
                channel="reverb",
                payload={},
                status="failed",
                priority=50,
                attempts=3,
                max_attempts=3,
                run_after=now,
                last_error_message="boom",
            )
            session.add(job)
            session.flush()
            job_id = job.id
        page = client.get("/jobs?status=failed").text
        assert "boom" in page and f'id="job-{job_id}-retry"' in page
        row = client.post(f"/jobs/{job_id}/retry", headers={"X-CSRF-Token": token, **HTMX}).text
        assert 'data-job-status="queued"' in row
        row = client.post(f"/jobs/{job_id}/cancel", headers={"X-CSRF-Token": token, **HTMX}).text
        assert 'data-job-status="cancelled"' in row

    def test_sync_now_enqueues_a_pull_with_live_progress(
        self, app: FastAPI, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        _account(app, database)
        response = client.post("/sync/reverb/pull", headers={"X-CSRF-Token": token, **HTMX})
        assert response.status_code == 200
        with database.read_session() as session:
            job_id = session.execute(sa.select(Job.id).where(Job.kind == "reverb.pull_listings")).scalar_one()
        assert f'hx-get="/sync/jobs/{job_id}"' in response.text and 'hx-trigger="every 1s"' in response.text
        progress = client.get(f"/sync/jobs/{job_id}").text
        assert 'data-job-status="queued"' in progress


class TestOrders:
    def test_list_detail_and_oversell_followup(
        self, database: Database, browser: tuple[TestClient, str]
    ) -> None:
        client, token = browser
        product_id = _product(database)
        with database.session() as session:
            order = _order("R-1001", oversold=True, followup="Cancel and refund R-1001 on Reverb")
            order.lines.append(
                OrderLine(position=0, product_id=product_id, sku="RIFF-1", title="Gibson", quantity=1)
            )
            session.add(order)
            session.flush()
            order_id = order.id
        listing = client.get("/orders").text
        assert (
            "R-1001" in listing
            and "Ann Buyer" in listing
            and "£1,450.00" in listing
            and "oversold" in listing
        )
        detail = client.get(f"/orders/{order_id}").text
        assert "RIFF-1" in detail and "Cancel and refund R-1001 on Reverb" in detail
        done = client.post(
            f"/orders/{order_id}/followup-done", data={"csrf_token": token}, follow_redirects=False
        )
        assert done.status_code == 303
        assert "Follow-up done." in client.get(f"/orders/{order_id}").text


class TestSettings:
    def test_secrets_are_write_only(
        self, app: FastAPI, database: Database, client: TestClient, form_login: Callable[..., str]
    ) -> None:
        from riff.auth.models import Role
        from riff.auth.service import create_user

        with database.session() as session:
            create_user(session, username="boss", password="correct horse battery", role=Role.OWNER)
        token = form_login(client, "boss")
        account_id = _account(app, database)
        page = client.get("/settings").text
        assert "super-secret-token-value-1234" not in page
        assert "<code>token</code>" in page
        response = client.post(
            f"/settings/accounts/{account_id}",
            data={
                "csrf_token": token,
                "name": "main",
                "enabled": "on",
                "base_url": "",
                "secret.webhook_token": "new-hook-token-abcdefghijklmnop",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        with database.read_session() as session:
            account = channels.get_account(session, account_id)
            secrets = channels.read_secrets(SecretBox(app.state.master_key), account)
        assert secrets == {
            "token": "super-secret-token-value-1234",
            "webhook_token": "new-hook-token-abcdefghijklmnop",
        }
        assert "new-hook-token" not in client.get("/settings").text

    def test_staff_cannot_manage_users_or_accounts(self, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        page = client.get("/settings").text
        assert 'id="users"' not in page
        assert (
            client.post(
                "/settings/users", data={"csrf_token": token, "username": "x", "password": "long enough pw"}
            ).status_code
            == 403
        )

    def test_api_token_shown_once(self, browser: tuple[TestClient, str]) -> None:
        client, token = browser
        response = client.post(
            "/settings/tokens", data={"name": "stock script"}, headers={"X-CSRF-Token": token, **HTMX}
        )
        created = re.search(r'data-testid="new-token">([^<]+)<', response.text)
        assert created, response.text
        assert created.group(1) not in client.get("/settings").text
        assert (
            client.get("/api/auth/me", headers={"Authorization": f"Bearer {created.group(1)}"}).status_code
            == 200
        )


def test_csrf_is_required_on_every_form(browser: tuple[TestClient, str], database: Database) -> None:
    client, _ = browser
    product_id = _product(database)
    for path in [
        "/inventory/bulk",
        "/products/new",
        f"/products/{product_id}",
        "/settings/tokens",
        "/sync/reverb/pull",
    ]:
        assert client.post(path, data={"x": "1"}).status_code == 403, path
    assert csrf_from(client.get("/products/new").text)
