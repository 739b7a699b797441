"""Shopify's documented examples (data/) and the structural comparison the contract tests make with them:
every documented key present with the same type (the examples are not exhaustive: extra keys are fine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riff_sandbox import shapes
from riff_sandbox.shapes import read_sample

DATA = Path(__file__).parent / "data"


def sample(name: str) -> dict[str, Any]:
    return read_sample(DATA, name)


def shape_problems(actual: Any, documented: Any) -> list[str]:
    return shapes.shape_problems(actual, documented, extra_keys=True)
