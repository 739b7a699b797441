"""The sample copies in samples/ match shared/reference/api_samples/dhl (when that directory exists)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import SAMPLES

REFERENCE = Path(os.environ.get("RIFF_API_SAMPLES_DIR", "/work/shared/reference/api_samples")) / "dhl"


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference samples not available on this machine")
def test_copies_match_the_reference() -> None:
    reference = {p.name: p.read_bytes() for p in REFERENCE.glob("*.json")}
    copies = {p.name: p.read_bytes() for p in SAMPLES.glob("*.json")}
    assert copies == reference
