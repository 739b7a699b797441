"""Catalog test fixtures: clients per role."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def staff_client(make_client: Any) -> TestClient:
    return make_client("staff")  # type: ignore[no-any-return]


@pytest.fixture
def reader_client(make_client: Any) -> TestClient:
    return make_client("read_only")  # type: ignore[no-any-return]
