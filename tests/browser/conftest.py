"""Browser tests: Debian's headless Chromium (through Selenium and Debian's chromedriver) against a real
RIFF served by uvicorn on a free port, a job worker running in-process, and the Reverb and Shopify
sandboxes on free ports with channel accounts wired to them (as ``riff up`` does in demo mode).

SQLite only: the stack is module-scoped and the tests in a module run in order, each continuing where
the previous one stopped (a shop's day in the browser). Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import base64
import inspect
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from riff.auth.models import Role
from riff.auth.service import create_user
from riff.channels import service as channels
from riff.channels.schemas import AccountCreate
from riff.core import migrate
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
USERNAME = "shopkeeper"
PASSWORD = "correct horse battery"
DESKTOP = (1366, 900)
PHONE = (390, 844)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_SECONDS = 30.0
# The Reverb adapter re-reads a listing until it is live; fast in tests.
REVERB_CONFIG = {
    "shipping_profile_id": "15655",
    "currency": "GBP",
    "publish_poll_attempts": 20,
    "publish_poll_interval_seconds": 0.05,
}
SANDBOX_CHANNELS = ("reverb", "shopify")


def _browser_available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    database: Database
    settings: Settings
    sandboxes: dict[str, Any]
    data_dir: Path
    account_ids: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path


def _create_accounts(database: Database, settings: Settings, sandboxes: dict[str, Any]) -> dict[str, int]:
    box = SecretBox(load_secret_key(settings))
    ids: dict[str, int] = {}
    with database.session() as session:
        for name, sandbox in sandboxes.items():
            config: dict[str, Any] = REVERB_CONFIG if name == "reverb" else {"currency": "GBP"}
            account = channels.create_account(
                session,
                box,
                AccountCreate(
                    channel=name,
                    name="sandbox",
                    is_sandbox=True,
                    base_url=sandbox.api_base_url,
                    config=config,
                    secrets={
                        "token": sandbox.token or "",
                        "webhook_token": f"{name}-hook-token-0123456789abcdef",
                    },
                ),
            )
            ids[name] = account.id
        create_user(session, username=USERNAME, password=PASSWORD, role=Role.OWNER)
    return ids


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not _browser_available():
        pytest.skip("Debian chromium and chromium-driver are not installed")
    import riff.channels.reverb.tasks  # noqa: F401 - registers the reverb.* handlers
    import riff.channels.shopify.tasks  # noqa: F401 - registers the shopify.* handlers
    from riff.app import create_app
    from riff.jobs import Worker
    from riff_sandbox.runner import start

    root = Path(tempfile.mkdtemp(prefix="riff-browser-"))
    url = f"sqlite:///{root / 'riff.db'}"
    migrate.upgrade(url)
    database = Database(url)
    settings = Settings(
        data_dir=root / "data", database_url=url, secret_key="browser-test-secret-key-0123456789"
    )
    sandboxes: dict[str, Any] = {}
    server: uvicorn.Server | None = None
    worker: Any = None
    try:
        for name in SANDBOX_CHANNELS:
            sandboxes[name] = start(name, data_dir=root / "sandboxes", seed_size=0)
        account_ids = _create_accounts(database, settings, sandboxes)
        port = _free_port()
        app = create_app(settings, database)
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
            )
        )
        threading.Thread(target=server.run, name="riff-web", daemon=True).start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("RIFF did not start")
            time.sleep(0.01)
        # No scheduler: the tests decide what runs. (The keyword was renamed while the engine was built.)
        parameters = inspect.signature(Worker).parameters
        no_scheduler = {"with_scheduler": False} if "with_scheduler" in parameters else {"scheduler": False}
        worker = Worker(database, settings, concurrency=2, **no_scheduler)
        worker.start_in_thread()
        yield Stack(
            base_url=f"http://127.0.0.1:{port}",
            database=database,
            settings=settings,
            sandboxes=sandboxes,
            data_dir=root / "data",
            account_ids=account_ids,
        )
    finally:
        if worker is not None:
            worker.stop(timeout=10, force=True)
        if server is not None:
            server.should_exit = True
        for sandbox in sandboxes.values():
            sandbox.stop()
        database.dispose()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def driver(stack: Stack) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download a browser or a driver
    profile = tempfile.mkdtemp(prefix="riff-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(
    condition: Callable[[], Any], timeout: float = WAIT_SECONDS, message: str = "condition"
) -> Any:
    """Poll ``condition`` (exceptions count as "not yet") until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # stale elements while htmx swaps, a page still loading
            last_error = exc
        time.sleep(0.2)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {message}" + (f" ({last_error})" if last_error else "")
    )


def screenshot(driver: Any, name: str) -> list[Path]:
    """Save ``<name>-desktop.png`` (1366×900) and ``<name>-phone.png`` (390×844) of the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for label, (width, height), mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        time.sleep(0.3)  # let the layout settle at the new width
        full_height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": max(height, min(full_height, 4000)),
                "deviceScaleFactor": 1,
                "mobile": mobile,
            },
        )
        path = SCREENSHOTS / f"{name}-{label}.png"
        path.write_bytes(
            base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"])
        )
        saved.append(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return saved
