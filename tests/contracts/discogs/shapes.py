"""Structural comparison of a sandbox response with a documented Discogs example."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text("utf-8"))  # type: ignore[no-any-return]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def shape_problems(
    actual: Any, documented: Any, path: str = "$", *, may_be_missing: Collection[str] = ()
) -> list[str]:
    """Keys the documented example has that the response lacks or types differently (extra keys are fine:
    the owner sees more fields, and the docs' examples are not exhaustive)."""
    if documented is None:
        return []
    if _kind(actual) != _kind(documented):
        return [f"{path}: {_kind(actual)}, documented {_kind(documented)}"]
    problems: list[str] = []
    if isinstance(documented, dict):
        for key, value in documented.items():
            child = f"{path}.{key}"
            if key not in actual:
                if child not in may_be_missing:
                    problems.append(f"{child}: missing")
                continue
            problems += shape_problems(actual[key], value, child, may_be_missing=may_be_missing)
    elif isinstance(documented, list) and documented and actual:
        for item in actual:
            problems += shape_problems(item, documented[0], f"{path}[]", may_be_missing=may_be_missing)
    return problems
