"""A shop's day in the browser, in order: log in, add a product with two pictures, publish it on two
sandbox channels, change its price, sell it on one channel; plus the login and CSRF refusals and a
screenshot of every main page at desktop and phone width."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from riff.channels.models import Listing

from .conftest import PASSWORD, USERNAME, Stack, screenshot, wait_until

# The steps build on each other (one browser, one shop day): keep them on one xdist worker, in order.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SKU = "RIFF-BROWSER-0001"
FIRST_PRICE = "1450.00"
NEW_PRICE = "1395.00"


def _by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _fill(driver: Any, selector: str, value: str) -> None:
    # After a refresh or an htmx swap the field may not be in the DOM yet.
    element = wait_until(lambda: _by_css(driver, selector), message=selector)
    element.clear()
    element.send_keys(value)


def _picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int]) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _listing_states(driver: Any) -> dict[str, str]:
    return {
        item.get_attribute("data-channel"): item.get_attribute("data-state")
        for item in _all_css(driver, "#listings-panel .listing")
    }


def _remote_prices(driver: Any) -> dict[str, str]:
    return {
        item.get_attribute("data-channel"): _by_css(item, "[data-field='remote-price']").text
        for item in _all_css(driver, "#listings-panel .listing")
        if _all_css(item, "[data-field='remote-price']")
    }


def _login(driver: Any, stack: Stack, password: str = PASSWORD) -> None:
    driver.get(stack.url("/login"))
    _fill(driver, "#field-username", USERNAME)
    _fill(driver, "#field-password", password)
    _by_css(driver, "form button[type='submit']").click()


class TestLogin:
    def test_wrong_password_shows_an_error(self, driver: Any, stack: Stack) -> None:
        _login(driver, stack, password="not the password")
        alert = wait_until(lambda: _by_css(driver, "[role='alert']"), message="the login error")
        assert "Wrong username or password." in alert.text
        assert _by_css(driver, "#field-username").get_attribute("value") == USERNAME
        assert _by_css(driver, "#field-password").get_attribute("value") == ""
        screenshot(driver, "login-error")

    def test_a_form_without_its_csrf_token_is_rejected(self, driver: Any, stack: Stack) -> None:
        driver.get(stack.url("/login"))
        driver.execute_script("document.querySelector(\"input[name='csrf_token']\").remove()")
        _fill(driver, "#field-username", USERNAME)
        _fill(driver, "#field-password", PASSWORD)
        _by_css(driver, "form button[type='submit']").click()
        heading = wait_until(lambda: _by_css(driver, "h1"), message="the refusal page")
        assert heading.text == "Form expired"
        driver.get(stack.url("/"))
        assert "/login" in driver.current_url  # not logged in

    def test_login(self, driver: Any, stack: Stack) -> None:
        _login(driver, stack)
        wait_until(lambda: driver.current_url.rstrip("/") == stack.base_url, message="the dashboard")
        assert _by_css(driver, "h1").text == "Dashboard"
        assert _by_css(driver, ".badge--sandbox").text == "SANDBOX"  # both accounts are sandbox accounts
        screenshot(driver, "dashboard-empty")


class TestProductLifecycle:
    def test_create_with_two_pictures_and_publish_on_two_channels(
        self, driver: Any, stack: Stack, tmp_path: Path
    ) -> None:
        first = _picture(tmp_path / "front.png", (180, 40, 30), (800, 600))
        second = _picture(tmp_path / "back.png", (30, 60, 160), (640, 480))
        driver.get(stack.url("/products/new"))
        _fill(driver, "#field-sku", SKU)
        _fill(driver, "#field-title", "Fender Telecaster 1968 Olympic White")
        _fill(driver, "#field-brand", "Fender")
        _fill(driver, "#field-model", "Telecaster")
        _fill(driver, "#field-year", "1968")
        _fill(driver, "#field-price", FIRST_PRICE)
        _by_css(driver, "#field-status option[value='active']").click()
        _fill(driver, "#field-description", "All original, hard case.")
        _by_css(driver, "#field-images").send_keys(f"{first}\n{second}")
        wait_until(lambda: len(_all_css(driver, "#new-image-preview img")) == 2, message="two previews")
        for channel in ("reverb", "shopify"):
            _by_css(driver, f"input[name='publish_to'][value='{channel}']").click()
        screenshot(driver, "product-new")
        _by_css(driver, ".product-form button[type='submit']").click()

        wait_until(
            lambda: "/products/" in driver.current_url and "new" not in driver.current_url,
            message="the product page",
        )
        assert SKU in _by_css(driver, "h1").text
        tiles = _all_css(driver, "#images-panel .image-tile img")
        assert len(tiles) == 2

        def both_live() -> dict[str, str] | None:
            states = _listing_states(driver)
            return states if states.get("reverb") == "live" and states.get("shopify") == "live" else None

        states = wait_until(both_live, message="both listings live (the panel refreshes itself)")
        assert states == {"reverb": "live", "shopify": "live"}
        for channel in ("reverb", "shopify"):
            link = _by_css(
                driver, f"#listings-panel .listing[data-channel='{channel}'] [data-field='remote-link']"
            )
            assert link.get_attribute("href").startswith("http")
        screenshot(driver, "product-live")

    def test_pictures_reorder_with_the_keyboard_buttons(self, driver: Any, stack: Stack) -> None:
        before = [
            tile.get_attribute("data-image-id") for tile in _all_css(driver, "#images-panel .image-tile")
        ]
        _by_css(driver, f"#image-{before[0]}-down").click()
        wait_until(
            lambda: (
                [t.get_attribute("data-image-id") for t in _all_css(driver, "#images-panel .image-tile")]
                == [before[1], before[0]]
            ),
            message="the new picture order",
        )

    def test_price_change_updates_both_channels(self, driver: Any, stack: Stack) -> None:
        driver.refresh()
        before = _remote_prices(driver)
        _fill(driver, "#field-price", NEW_PRICE)
        _by_css(driver, ".product-form button[type='submit']").click()
        toast = wait_until(lambda: _by_css(driver, ".toast--success"), message="the saved message")
        assert "price" in toast.text
        assert (
            "1,395.00"
            in _by_css(driver, "#listings-panel .listing[data-channel='shopify'] [data-field='price']").text
        )

        def both_updated() -> dict[str, tuple[str, str]] | None:
            # Each channel's price here (after its price rule) must reach the channel; no reload.
            shown = {
                item.get_attribute("data-channel"): (
                    _by_css(item, "[data-field='price']").text,
                    _by_css(item, "[data-field='remote-price']").text,
                )
                for item in _all_css(driver, "#listings-panel .listing")
            }
            done = all(
                shown.get(c, ("", "x"))[0] == shown[c][1] != before.get(c) for c in ("reverb", "shopify")
            )
            return shown if done else None

        shown = wait_until(both_updated, message="both channels showing the new price")
        assert shown["shopify"][1] == "£1,395.00"
        reverb = stack.sandboxes["reverb"]
        with stack.database.read_session() as session:
            remote_id = session.execute(
                sa.select(Listing.remote_id).where(Listing.channel == "reverb")
            ).scalar_one()
        sent = [
            r
            for r in reverb.control.requests(path_prefix=f"/api/listings/{remote_id}")
            if r["method"] == "PUT"
        ]
        assert sent, "the Reverb sandbox received the price update"

    def test_sale_on_one_channel_ends_the_other_and_counts_on_the_dashboard(
        self, driver: Any, stack: Stack
    ) -> None:
        reverb = stack.sandboxes["reverb"]
        with stack.database.read_session() as session:
            remote_id = session.execute(
                sa.select(Listing.remote_id).where(Listing.channel == "reverb")
            ).scalar_one()
        reverb.control.register_webhook(
            stack.url("/webhooks/reverb/reverb-hook-token-0123456789abcdef"), "listings/update"
        )
        reverb.control.register_webhook(
            stack.url("/webhooks/reverb/reverb-hook-token-0123456789abcdef"), "orders/create"
        )
        driver.get(stack.url("/"))
        assert _by_css(driver, "[data-testid='sales-today']").text == "0"
        reverb.control.purchase(remote_id)
        # No reload from here on: the dashboard refreshes itself.
        wait_until(
            lambda: _by_css(driver, "[data-testid='sales-today']").text == "1",
            message="the sale counted",
        )
        wait_until(
            lambda: _by_css(driver, "[data-testid='live-shopify']").text == "0",
            message="Shopify ended",
        )
        screenshot(driver, "dashboard-after-sale")
        driver.get(stack.url("/inventory?status=sold"))
        _by_css(driver, "#inventory-results a[href^='/products/']").click()

        def ended() -> dict[str, str] | None:
            states = _listing_states(driver)
            return states if states.get("shopify") in ("ended", "sold") else None

        states = wait_until(ended, message="the Shopify listing ended on the product page")
        assert states["reverb"] == "sold"


class TestScreenshots:
    PAGES = (
        ("dashboard", "/"),
        ("inventory", "/inventory"),
        ("orders", "/orders"),
        ("sync", "/sync"),
        ("jobs", "/jobs"),
        ("reconciliation", "/reconciliation"),
        ("settings", "/settings"),
    )

    def test_every_main_page_at_desktop_and_phone_width(self, driver: Any, stack: Stack) -> None:
        for name, path in self.PAGES:
            driver.get(stack.url(path))
            wait_until(lambda: _by_css(driver, "h1"), message=f"{path} rendered")
            if name == "reconciliation":  # the report loads right after the page
                wait_until(
                    lambda: _by_css(driver, "#mismatches-heading"), message="the reconciliation report"
                )
            assert "Internal Server Error" not in driver.page_source
            for saved in screenshot(driver, name):
                assert saved.stat().st_size > 5_000
        driver.get(stack.url("/inventory"))
        _by_css(driver, "#inventory-results a[href^='/products/']").click()
        wait_until(lambda: SKU in _by_css(driver, "h1").text, message="the product page")
        screenshot(driver, "product")
