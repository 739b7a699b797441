"""DHL contract tests: the sandbox answers as the MyDHL API's documented examples do (shapes, errors),
over real HTTP on loopback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from riff_sandbox.runner import RunningSandbox

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text("utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("dhl", tmp_path_factory.mktemp("dhl")) as started:
        yield started


@pytest.fixture
def sandbox(module_sandbox: RunningSandbox) -> RunningSandbox:
    module_sandbox.control.reset()
    return module_sandbox


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    credentials = base64.b64encode((sandbox.token or "").encode()).decode()
    with httpx.Client(
        base_url=sandbox.api_base_url,
        headers={"Authorization": f"Basic {credentials}", "x-version": "3.1.0"},
        timeout=30,
        trust_env=False,
    ) as client:
        yield client


def shipments(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    return sandbox.control._call("GET", "/dhl/shipments")["shipments"]  # type: ignore[no-any-return]
