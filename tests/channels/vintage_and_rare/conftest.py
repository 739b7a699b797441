"""V&R tests run over real HTTP against the Vintage & Rare sandbox on loopback (and, where marked
``browser``, with a real headless Chromium passing its Cloudflare-style challenge)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from riff.channels.vintage_and_rare import brands
from riff.channels.vintage_and_rare.adapter import NEXT_FORMS, VintageAndRareChannel
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings, reset_vr_settings_cache
from riff.core.db import Database
from riff.core.security import load_secret_key
from riff.core.settings import Settings
from riff_sandbox.runner import RunningSandbox

# The browser and the HTTP session present the same User-Agent: cf_clearance is bound to it.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)
USERNAME = "sandbox-dealer"
PASSWORD = "sandbox-password"
SECRETS = {"username": USERNAME, "password": PASSWORD}
CONFIG: dict[str, Any] = {"maintenance_window": None}
SANDBOX_OPTIONS: dict[str, Any] = {"maintenance_window_utc": None, "seed_size": 20}
JPEG_HEADER = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")


def clearance_cookie(sandbox: RunningSandbox, user_agent: str = USER_AGENT, **extra: Any) -> dict[str, Any]:
    """A cf_clearance as a harvested cookie file holds it (issued by the sandbox for ``user_agent``)."""
    return sandbox.control._call(  # type: ignore[no-any-return]
        "POST", "/vintage_and_rare/clearance", json={"user_agent": user_agent, **extra}
    )


def sandbox_settings(sandbox: RunningSandbox, **changes: Any) -> dict[str, Any]:
    return sandbox.control._call("POST", "/vintage_and_rare/settings", json=changes)  # type: ignore[no-any-return]


def sandbox_item(sandbox: RunningSandbox, item_id: str | int) -> dict[str, Any]:
    return sandbox.control._call("GET", f"/vintage_and_rare/items/{item_id}")  # type: ignore[no-any-return]


def sandbox_items(sandbox: RunningSandbox, external_id: str | None = None) -> list[dict[str, Any]]:
    params = {"external_id": external_id} if external_id else {}
    return sandbox.control._call("GET", "/vintage_and_rare/items", params=params)["items"]  # type: ignore[no-any-return]


def exports(sandbox: RunningSandbox) -> int:
    """How many times the CSV was downloaded (successfully)."""
    requests = sandbox.control.requests(path_prefix="/instruments/export_inventory/export_inventory")
    return sum(1 for r in requests if r["status"] == 200)


def add_form_loads(sandbox: RunningSandbox) -> int:
    """How many times the blank add form was loaded."""
    requests = sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="GET")
    return sum(1 for r in requests if r["path"] == "/instruments/add_edit_item" and r["status"] == 200)


def creates(sandbox: RunningSandbox) -> int:
    requests = sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="POST")
    return sum(1 for r in requests if r["path"] == "/instruments/add_edit_item" and r["status"] == 302)


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("vintage_and_rare", tmp_path_factory.mktemp("vr-sandbox"), **SANDBOX_OPTIONS) as started:
        yield started


@pytest.fixture
def sandbox(module_sandbox: RunningSandbox) -> RunningSandbox:
    """One sandbox per module, back to its seed (items, sessions, clearances, faults, settings, request log)
    before every test."""
    module_sandbox.control.reset()
    return module_sandbox


@pytest.fixture
def cookie_file(tmp_path: Path, sandbox: RunningSandbox) -> Path:
    """Pre-harvested cookies (what production loads from VINTAGE_AND_RARE_COOKIES_FILE)."""
    path = tmp_path / "vr-cookies.json"
    path.write_text(json.dumps([clearance_cookie(sandbox)]))
    return path


@pytest.fixture
def vr_env(monkeypatch: pytest.MonkeyPatch, cookie_file: Path) -> Iterator[VintageAndRareSettings]:
    """The V&R environment variables a deployment sets; no browser unless a test asks for one."""
    monkeypatch.setenv("VINTAGE_AND_RARE_COOKIES_FILE", str(cookie_file))
    monkeypatch.setenv("VR_USER_AGENT", USER_AGENT)
    monkeypatch.setenv("VR_SKIP_SELENIUM", "true")
    for name in ("VINTAGE_AND_RARE_USERNAME", "VINTAGE_AND_RARE_PASSWORD", "VR_COOKIES_BASE64", "MAX_BATCH_SIZE",
                 "VR_KNOWN_BRANDS_FILE", "VR_BRAND_TIMEOUT", "SELENIUM_GRID_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    reset_vr_settings_cache()
    brands.clear_shared_caches()
    NEXT_FORMS.clear()
    yield VintageAndRareSettings()
    reset_vr_settings_cache()
    brands.clear_shared_caches()
    NEXT_FORMS.clear()


@pytest.fixture
def browser_env(monkeypatch: pytest.MonkeyPatch, vr_env: VintageAndRareSettings) -> VintageAndRareSettings:
    if not Path("/usr/bin/chromium").exists() or not Path("/usr/bin/chromedriver").exists():
        pytest.skip("chromium and chromium-driver are not installed")
    monkeypatch.setenv("VR_SKIP_SELENIUM", "false")
    reset_vr_settings_cache()
    return VintageAndRareSettings()


def make_channel(
    sandbox: RunningSandbox, settings: VintageAndRareSettings | None = None, **config: Any
) -> VintageAndRareChannel:
    return VintageAndRareChannel(
        config={**CONFIG, **config},
        secrets=SECRETS,
        base_url=sandbox.base_url,
        settings=settings or VintageAndRareSettings(),
    )


@pytest.fixture
def account_id(
    database: Database, settings: Settings, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
) -> int:
    from riff.channels import service
    from riff.channels.schemas import AccountCreate
    from riff.core.security import SecretBox

    with database.session() as session:
        account = service.create_account(
            session,
            SecretBox(load_secret_key(settings)),
            AccountCreate(
                channel="vintage_and_rare",
                name="sandbox",
                base_url=sandbox.base_url,
                is_sandbox=True,
                config=CONFIG,
                secrets=SECRETS,
            ),
        )
        return account.id


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    import riff.channels.vintage_and_rare.tasks  # noqa: F401 - registers the vintage_and_rare.* handlers
    from riff.jobs.config import JobsSettings
    from riff.jobs.worker import Worker

    # The production limit (0.5 requests/s) would make every test wait; the cap of 1 job at a time stays.
    jobs_settings = JobsSettings(rate_limits={"vintage_and_rare": {"rate": 10_000, "burst": 10_000}})
    return Worker(database, settings, jobs_settings=jobs_settings, with_scheduler=False, concurrency=1)


class ImageServer:
    """Serves ``/img/<name>.jpg`` (deterministic bytes per name) on loopback: listing images without internet."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append(self.path)
                if not self.path.startswith("/img/"):
                    self.send_response(404)
                    self.end_headers()
                    return
                body = ImageServer.body(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @staticmethod
    def body(path: str) -> bytes:
        return JPEG_HEADER + hashlib.sha256(path.encode()).digest() * 64 + b"\xff\xd9"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/img/{name}.jpg"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def images() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.stop()
