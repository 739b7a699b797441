"""Discogs' documented examples (samples/) and the structural comparison the contract tests make with them:
keys the example has that the response lacks or types differently (extra keys are fine: the owner sees more
fields, and the docs' examples are not exhaustive)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riff_sandbox import shapes
from riff_sandbox.shapes import read_sample

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict[str, Any]:
    return read_sample(SAMPLES, name)


def shape_problems(actual: Any, documented: Any) -> list[str]:
    return shapes.shape_problems(actual, documented, extra_keys=True)
