"""The copies in data/ match shared/reference/api_samples/ebay (when that directory exists)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import DATA

REFERENCE = Path(os.environ.get("RIFF_API_SAMPLES_DIR", "/work/shared/reference/api_samples")) / "ebay"


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference samples not available on this machine")
def test_copies_match_the_reference() -> None:
    copies = {p.name: p.read_bytes() for p in DATA.iterdir() if p.suffix in (".xml", ".json")}
    reference = {name: (REFERENCE / name).read_bytes() for name in copies}

    assert copies == reference
    assert {p.name for p in REFERENCE.glob("trading_*.xml")} <= set(copies)
