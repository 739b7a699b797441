"""A real browser for what only a browser can do: pass the Cloudflare challenge (and harvest the cookies it
sets) and drive the add form like a person.

Local Chromium through chromedriver (``VR_CHROMIUM_BINARY``, ``VR_CHROMEDRIVER``), or a remote Selenium Grid
(``SELENIUM_GRID_URL``); headless unless ``VR_HEADLESS=false``. Every run uses a fresh profile directory.
The browser presents ``VR_USER_AGENT``, the same User-Agent as the HTTP session: Cloudflare binds
``cf_clearance`` to the User-Agent that solved the challenge. Selenium's ``navigator.webdriver`` flag is
hidden (``--disable-blink-features=AutomationControlled``): challenge scripts refuse automated browsers.

Selenium is blocking; callers run these methods in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from riff.channels.errors import AuthExpired, ChannelError, FailureType, Rejected, Transient
from riff.channels.vintage_and_rare import consts, forms
from riff.channels.vintage_and_rare.cookies import Cookie
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings
from riff.core.logging import get_logger

log = get_logger(__name__)

CHROME_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-blink-features=AutomationControlled",
    "--window-size=1366,1024",
)
CHALLENGE_TITLES = ("just a moment", "attention required", "checking your browser")
POLL_SECONDS = 0.1


class SubmittedButUnconfirmed(Transient):
    """The form was submitted but the page did not confirm it: the item may exist on V&R."""


class BrowserUnavailable(ChannelError):
    """No browser can be started here (disabled or not installed): the user must act (harvest cookies
    elsewhere, install Chromium, or set SELENIUM_GRID_URL). Permanent, with the steps in the message."""

    failure_type = FailureType.CONFIG


@dataclasses.dataclass
class BrowserForm:
    """What to type into the add form: text and select values by field name, checkboxes, images."""

    values: dict[str, str]
    checkboxes: dict[str, bool]
    categories: list[str]
    shipping_fees: dict[str, str]
    description: str
    image_paths: list[Path]


class Browser:
    def __init__(self, settings: VintageAndRareSettings, base_url: str, user_agent: str) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).hostname or ""
        self.user_agent = user_agent
        self._driver: Any = None
        self._profile: str | None = None

    # Lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self.settings.skip_browser:
            raise BrowserUnavailable(
                "the browser is disabled (VR_SKIP_SELENIUM): refresh the cookies by hand "
                "(`riff vr harvest-cookies` where a browser runs, then `riff vr export-cookies`)",
                channel=consts.SLUG,
            )
        try:
            from selenium import webdriver
            from selenium.common.exceptions import WebDriverException
            from selenium.webdriver.chrome.options import Options
            from selenium.webdriver.chrome.service import Service
        except ImportError as exc:  # pragma: no cover - selenium is a pinned dependency
            raise BrowserUnavailable(f"selenium is not installed: {exc}", channel=consts.SLUG) from None
        options = Options()
        if self.settings.headless:
            options.add_argument("--headless=new")
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-agent={self.user_agent}")
        options.add_argument(f"--lang={consts.ACCEPT_LANGUAGE.split(',')[0]}")
        options.add_experimental_option("excludeSwitches", ["enable-automation"])
        options.add_experimental_option("prefs", {"intl.accept_languages": "en-GB,en"})
        try:
            if self.settings.selenium_grid_url:
                from selenium.webdriver.remote.file_detector import LocalFileDetector

                self._driver = webdriver.Remote(
                    command_executor=self.settings.selenium_grid_url, options=options
                )
                self._driver.file_detector = LocalFileDetector()
            else:
                if (
                    not Path(self.settings.chromium_binary).exists()
                    or not Path(self.settings.chromedriver).exists()
                ):
                    raise BrowserUnavailable(
                        f"no local browser: {self.settings.chromium_binary} or {self.settings.chromedriver} is "
                        "missing (install chromium and chromium-driver, or set SELENIUM_GRID_URL)",
                        channel=consts.SLUG,
                    )
                self._profile = tempfile.mkdtemp(prefix="riff-vr-chromium-")
                options.add_argument(f"--user-data-dir={self._profile}")
                options.binary_location = self.settings.chromium_binary
                self._driver = webdriver.Chrome(
                    service=Service(executable_path=self.settings.chromedriver), options=options
                )
        except WebDriverException as exc:
            self.close()
            raise Transient(f"the browser did not start: {exc.msg or exc}", channel=consts.SLUG) from None
        self._driver.set_page_load_timeout(consts.BROWSER_PAGE_TIMEOUT_SECONDS)
        log.info("vintage_and_rare.browser.started", grid=bool(self.settings.selenium_grid_url),
                 headless=self.settings.headless)  # fmt: skip

    def close(self) -> None:
        if self._driver is not None:
            with contextlib.suppress(Exception):
                self._driver.quit()
            self._driver = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    @property
    def driver(self) -> Any:
        if self._driver is None:
            raise RuntimeError("the browser is not started")
        return self._driver

    # Cookies -------------------------------------------------------------------------------------

    def load_cookies(self, cookies: Sequence[Cookie]) -> None:
        """Put the jar's cookies into the browser: land on a page Cloudflare never challenges first."""
        self.driver.get(self.base_url + consts.TRACE_PATH)
        for cookie in cookies:
            if not cookie.matches(self.host):
                continue
            data: dict[str, Any] = {"name": cookie.name, "value": cookie.value, "path": cookie.path or "/"}
            if cookie.domain.startswith("."):
                data["domain"] = cookie.domain
            if cookie.expiry is not None:
                data["expiry"] = int(cookie.expiry)
            with contextlib.suppress(Exception):
                self.driver.add_cookie(data)

    def cookies(self) -> list[Cookie]:
        found = []
        for item in self.driver.get_cookies():
            found.append(
                Cookie(
                    name=item["name"],
                    value=item["value"],
                    domain=item.get("domain") or self.host,
                    path=item.get("path") or "/",
                    expiry=item.get("expiry"),
                    secure=bool(item.get("secure")),
                    httpOnly=bool(item.get("httpOnly")),
                )
            )
        return found

    # Cloudflare ----------------------------------------------------------------------------------

    def on_challenge(self) -> bool:
        title = (self.driver.title or "").lower()
        return any(marker in title for marker in CHALLENGE_TITLES)

    def pass_challenge(self, timeout: float = consts.BROWSER_CHALLENGE_WAIT_SECONDS) -> None:
        """Wait while the challenge page's JavaScript runs; it sets cf_clearance and reloads the page."""
        deadline = time.monotonic() + timeout
        while self.on_challenge():
            self._click_challenge_checkbox()
            if time.monotonic() >= deadline:
                raise Transient(
                    f"the Cloudflare challenge did not clear within {timeout:g} s in the browser",
                    channel=consts.SLUG,
                )
            time.sleep(POLL_SECONDS)

    def _click_challenge_checkbox(self) -> None:
        """An interactive challenge shows a checkbox in an iframe; clicking it is what a person does."""
        from selenium.webdriver.common.by import By

        with contextlib.suppress(Exception):
            frames = self.driver.find_elements(By.CSS_SELECTOR, "iframe[src*='challenges.cloudflare.com']")
            if frames:
                self.driver.switch_to.frame(frames[0])
                try:
                    for box in self.driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox]"):
                        box.click()
                finally:
                    self.driver.switch_to.default_content()

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self.pass_challenge()

    # Account -------------------------------------------------------------------------------------

    def logged_in(self) -> bool:
        return forms.has_text(self.driver.page_source, ("Sign out", "Logout", "Log out"))

    def login(self, username: str, password: str) -> None:
        from selenium.webdriver.common.by import By

        self.open(consts.LOGIN_PAGE_PATH)
        form = self.driver.find_element(By.ID, "login_form")
        form.find_element(By.NAME, "username").send_keys(username)
        form.find_element(By.NAME, "pass").send_keys(password)
        form.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
        self._wait(
            lambda: "/login" not in self.driver.current_url or forms.page_errors(self.driver.page_source)
        )
        self.pass_challenge()
        if not self.logged_in():
            errors = forms.page_errors(self.driver.page_source)
            raise AuthExpired(
                "V&R refused the username/password" + (f": {errors[0]}" if errors else ""),
                channel=consts.SLUG,
            )

    # The add form --------------------------------------------------------------------------------

    def create_listing(self, form: BrowserForm, *, username: str | None, password: str | None) -> str:
        """Fill and submit the add form like a person; returns the URL the site lands on afterwards."""
        self.open(consts.ADD_FORM_PATH)
        if "/login" in self.driver.current_url:
            if not username or not password:
                raise AuthExpired(
                    "the V&R session expired and no credentials are configured", channel=consts.SLUG
                )
            self.login(username, password)
            self.open(consts.ADD_FORM_PATH)
        try:
            return self._fill_and_submit(form)
        except (ChannelError, SubmittedButUnconfirmed):
            raise
        except Exception as exc:  # before the click nothing was sent: safe to retry
            raise Transient(
                f"the add form could not be filled in the browser: {type(exc).__name__}: {exc}"[:500],
                channel=consts.SLUG,
            ) from None

    def _fill_and_submit(self, form: BrowserForm) -> str:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        driver = self.driver
        self._accept_cookie_banner()
        page = driver.find_element(By.ID, "add_edit_item_form")
        for name, value in form.values.items():
            element = page.find_element(By.NAME, name)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                if value:
                    element.send_keys(value)
        for name, checked in form.checkboxes.items():
            box = page.find_element(By.NAME, name)
            if box.is_selected() != checked:
                driver.execute_script("arguments[0].click();", box)
        for level, category in enumerate(form.categories):
            select_id = f"categ_level_{level}"
            self._wait(lambda sid=select_id, wanted=category: self._has_option(sid, wanted))
            Select(driver.find_element(By.ID, select_id)).select_by_value(category)
        # TinyMCE keeps the HTML in the textarea; typing a long description key by key is slow and lossy.
        driver.execute_script(
            "arguments[0].value = arguments[1];", page.find_element(By.NAME, "item_desc"), form.description
        )
        for row in page.find_elements(By.CSS_SELECTOR, ".ships_to"):
            region = Select(row.find_element(By.NAME, "shipping_fees_region[]")).first_selected_option
            fee = row.find_element(By.NAME, "shipping_fees_fee[]")
            fee.clear()
            fee.send_keys(form.shipping_fees.get(region.get_attribute("value") or "", ""))
        for number, path in enumerate(form.image_paths[: consts.MAX_IMAGES], start=1):
            page.find_element(By.NAME, f"image_{number}").send_keys(str(path))
        form_url = driver.current_url
        driver.find_element(By.ID, "submit_step_1").click()
        try:
            self._wait(lambda: driver.current_url != form_url or bool(forms.page_errors(driver.page_source)),
                       timeout=consts.BROWSER_PAGE_TIMEOUT_SECONDS)  # fmt: skip
            self.pass_challenge()
            errors = forms.page_errors(driver.page_source)
        except Exception as exc:
            raise SubmittedButUnconfirmed(
                f"the add form was submitted in the browser but no answer came back: {exc}",
                channel=consts.SLUG,
            ) from None
        if errors:
            raise Rejected("; ".join(errors), channel=consts.SLUG, field=_field_of(errors[0]))
        return str(driver.current_url)

    def _accept_cookie_banner(self) -> None:
        from selenium.webdriver.common.by import By

        for button in self.driver.find_elements(By.CSS_SELECTOR, ".cc-nb-okagree"):
            with contextlib.suppress(Exception):
                button.click()

    def _has_option(self, select_id: str, value: str) -> bool:
        from selenium.webdriver.common.by import By

        select = self.driver.find_element(By.ID, select_id)
        return any(o.get_attribute("value") == value for o in select.find_elements(By.TAG_NAME, "option"))

    def _wait(self, condition: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise Transient(f"the V&R page did not respond within {timeout:g} s", channel=consts.SLUG)
            time.sleep(POLL_SECONDS)


def _field_of(message: str) -> str | None:
    lowered = message.lower()
    for word, field in (("brand", "brand"), ("model", "model"), ("price", "price"), ("categor", "category"),
                        ("year", "year"), ("image", "images")):  # fmt: skip
        if word in lowered:
            return field
    return None


@contextlib.contextmanager
def running_browser(settings: VintageAndRareSettings, base_url: str, user_agent: str) -> Iterator[Browser]:
    browser = Browser(settings, base_url, user_agent)
    browser.start()
    try:
        yield browser
    finally:
        browser.close()


def harvest(
    settings: VintageAndRareSettings,
    base_url: str,
    user_agent: str,
    cookies: Sequence[Cookie],
    credentials: Mapping[str, str] | None = None,
) -> list[Cookie]:
    """Pass the challenge in a real browser (logging in when credentials are given) and return every cookie
    the browser holds for the site: cf_clearance, the PHP session and the rest."""
    with running_browser(settings, base_url, user_agent) as browser:
        browser.load_cookies(cookies)
        browser.open("/")
        if credentials and credentials.get("username") and credentials.get("password"):
            browser.open(consts.ACCOUNT_PATH)
            if not browser.logged_in():
                browser.login(credentials["username"], credentials["password"])
        found = browser.cookies()
    if not any(c.name == consts.CLEARANCE_COOKIE for c in found):
        log.warning("vintage_and_rare.browser.no_clearance", cookies=[c.name for c in found])
    return found
