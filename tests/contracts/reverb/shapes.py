"""Reverb's documented examples (samples/) and the structural comparison the contract tests make with them:
the same keys, types and nesting, extra keys included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riff_sandbox.shapes import assert_same_shape, read_sample

SAMPLES = Path(__file__).parent / "samples"

__all__ = ["SAMPLES", "assert_same_shape", "sample"]


def sample(name: str) -> dict[str, Any]:
    return read_sample(SAMPLES, name)
