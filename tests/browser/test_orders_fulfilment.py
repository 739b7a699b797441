"""Fulfilment in the browser: a Reverb sale in the order list, its detail page, DHL rates, "Create label",
the label PDF downloaded through its authenticated link, and "Mark shipped" after Reverb failed the first
upload. Headless Chromium against RIFF on uvicorn, a worker thread, the Reverb and DHL sandboxes."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from pypdf import PdfReader

from riff.auth.models import Role
from riff.auth.service import create_user
from riff.catalog.models import Condition, Product, ProductImage, ProductStatus
from riff.channels import service as channels
from riff.channels.models import Listing, ListingState
from riff.channels.schemas import AccountCreate
from riff.core import migrate
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff.fulfilment.settings import reset_fulfilment_settings
from riff.orders.models import Order

from .conftest import PASSWORD, USERNAME, Stack, _browser_available, _free_port, screenshot, wait_until

# The steps build on each other (one browser, one shop day): keep them on one xdist worker, in order.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REVERB_CONFIG = {
    "shipping_profile_id": "15655",
    "currency": "GBP",
    "publish_poll_attempts": 20,
    "publish_poll_interval_seconds": 0.05,
}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """RIFF + worker + the Reverb and DHL sandboxes, with one paid Reverb order already pulled in."""
    if not _browser_available():
        pytest.skip("Debian chromium and chromium-driver are not installed")
    import riff.channels.reverb.tasks  # noqa: F401 - registers the reverb.* handlers
    import riff.fulfilment.tasks  # noqa: F401 - registers the fulfilment.* handlers
    from riff.app import create_app
    from riff.jobs import Worker
    from riff_sandbox.runner import start

    root = Path(tempfile.mkdtemp(prefix="riff-browser-orders-"))
    url = f"sqlite:///{root / 'riff.db'}"
    migrate.upgrade(url)
    database = Database(url)
    settings = Settings(
        data_dir=root / "data", database_url=url, secret_key="browser-test-secret-key-0123456789"
    )
    sandboxes: dict[str, Any] = {}
    saved_env = {
        k: os.environ.get(k)
        for k in ("RIFF_DHL_BASE_URL", "RIFF_DHL_API_KEY", "RIFF_DHL_API_SECRET", "RIFF_DHL_ACCOUNT_NUMBER")
    }
    server: uvicorn.Server | None = None
    worker: Any = None
    try:
        sandboxes["reverb"] = start(
            "reverb", data_dir=root / "sandboxes", seed_size=0, publish_delay_seconds=0
        )
        sandboxes["dhl"] = start("dhl", data_dir=root / "sandboxes")
        key, secret = sandboxes["dhl"].token.split(":", 1)
        os.environ.update(
            {
                "RIFF_DHL_BASE_URL": sandboxes["dhl"].api_base_url,
                "RIFF_DHL_API_KEY": key,
                "RIFF_DHL_API_SECRET": secret,
                "RIFF_DHL_ACCOUNT_NUMBER": "123456789",
            }
        )
        reset_fulfilment_settings()
        with database.session() as session:
            account = channels.create_account(
                session,
                SecretBox(load_secret_key(settings)),
                AccountCreate(
                    channel="reverb",
                    name="sandbox",
                    is_sandbox=True,
                    base_url=sandboxes["reverb"].api_base_url,
                    config=REVERB_CONFIG,
                    secrets={"token": sandboxes["reverb"].token},
                ),
            )
            create_user(session, username=USERNAME, password=PASSWORD, role=Role.OWNER)
            product = Product(
                sku="RIFF-SHIP-0001",
                title="Gibson Les Paul 1959 Reissue",
                brand="Gibson",
                model="Les Paul",
                condition=Condition.EXCELLENT,
                base_price=6500,
                currency="GBP",
                quantity=1,
                status=ProductStatus.ACTIVE,
                description="Shipping test.",
                attributes={},
            )
            product.images.append(ProductImage(position=0, source_url="https://img.example.com/ship/0.jpg"))
            session.add(product)
            session.flush()
            channels.publish_product(session, product, "reverb")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, database),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        threading.Thread(target=server.run, name="riff-web", daemon=True).start()
        worker = Worker(database, settings, concurrency=2, with_scheduler=False)
        worker.start_in_thread()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)

        def listed() -> str | None:
            with database.read_session() as session:
                return session.scalars(
                    sa.select(Listing.remote_id).where(Listing.state == ListingState.LIVE)
                ).first()

        sandboxes["reverb"].control.purchase(wait_until(listed, message="the Reverb listing"), buyer_index=0)
        with database.session() as session:
            channels.request_fetch_orders(session, "reverb", since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

        def pulled() -> int | None:
            with database.read_session() as session:
                return session.scalars(sa.select(Order.id)).first()

        wait_until(pulled, message="the Reverb order")
        yield Stack(
            base_url=f"http://127.0.0.1:{port}",
            database=database,
            settings=settings,
            sandboxes=sandboxes,
            data_dir=root / "data",
            account_ids={"reverb": account.id},
        )
    finally:
        if worker is not None:
            worker.stop(timeout=10, force=True)
        if server is not None:
            server.should_exit = True
        for sandbox in sandboxes.values():
            sandbox.stop()
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_fulfilment_settings()
        database.dispose()
        shutil.rmtree(root, ignore_errors=True)


def _css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _all(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def test_order_list_detail_rates_label_download_and_mark_shipped(driver: Any, stack: Stack) -> None:
    driver.get(stack.url("/login"))
    _css(driver, "#field-username").send_keys(USERNAME)
    _css(driver, "#field-password").send_keys(PASSWORD)
    _css(driver, "form button[type='submit']").click()
    wait_until(lambda: "/login" not in driver.current_url, message="the login")

    driver.get(stack.url("/orders?channel=reverb"))
    rows = wait_until(lambda: _all(driver, "#orders-table tbody tr"), message="the order list")
    assert len(rows) == 1 and "Alex Example" in rows[0].text and "paid" in rows[0].text.lower()
    screenshot(driver, "orders-list")
    _css(driver, "#orders-table tbody tr a").click()

    wait_until(lambda: _css(driver, "#label-form"), message="the label form")
    assert _css(driver, "#customs-hs-0").get_attribute("value") == "9202900030"  # to the US: customs shown
    _css(driver, "#get-rates").click()
    choices = wait_until(lambda: _all(driver, "#rates input[name='product_code']"), message="the DHL rates")
    assert [c.get_attribute("value") for c in choices] == ["P", "Y"]
    assert "EXPRESS WORLDWIDE NONDOC" in _css(driver, "#rates").text

    stack.sandboxes["reverb"].control.faults(error_5xx_burst=3, path_prefix="/api/my/orders/selling/")
    _css(driver, "#create-label").click()
    link = wait_until(lambda: _css(driver, "#download-label"), message="the label link")
    assert "Label created" in _css(driver, "#flash-area").text
    href = link.get_attribute("href")
    assert href.startswith(stack.base_url + "/api/shipments/") and href.endswith("/documents/label.pdf")
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    label = httpx.get(href, cookies=cookies)
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    tracking = _css(driver, "#tracking-number").text
    assert tracking in PdfReader(io.BytesIO(label.content)).pages[0].extract_text().replace(" ", "")
    assert httpx.get(href).status_code == 401  # the link is worth nothing without the session

    def upload_failed() -> bool:
        driver.refresh()
        return "HTTP 503" in _css(driver, "#upload-status").text

    wait_until(upload_failed, message="Reverb refusing the first upload")
    screenshot(driver, "order-label-created")
    _css(driver, "#mark-shipped").click()

    def confirmed() -> bool:
        driver.refresh()
        return "confirmed" in _css(driver, "#upload-status").text.lower()

    wait_until(confirmed, message="Reverb confirming the tracking number")
    assert "shipped" in _css(driver, "#order-status").text.lower()
    assert not _all(driver, "#mark-shipped")
    screenshot(driver, "order-shipped")
    ship_calls = stack.sandboxes["reverb"].control.requests(
        path_prefix="/api/my/orders/selling/", method="POST"
    )
    assert ship_calls[-1]["status"] == 200 and ship_calls[-1]["body"]["tracking_number"] == tracking
