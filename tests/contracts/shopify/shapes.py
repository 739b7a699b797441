"""Structural comparison of a response with a documented example: same keys, types and nesting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text("utf-8"))  # type: ignore[no-any-return]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_problems(actual: Any, documented: Any, path: str = "$") -> list[str]:
    """Where ``actual`` differs in shape from ``documented`` (every documented key present with the same
    type; list items compared with the documented first item). Documented nulls say nothing about type."""
    if documented is None:
        return []
    if actual is None:
        return [f"{path}: null, documented {_kind(documented)}"]
    if _kind(actual) != _kind(documented):
        return [f"{path}: {_kind(actual)}, documented {_kind(documented)}"]
    problems: list[str] = []
    if isinstance(documented, dict):
        for key, value in documented.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(shape_problems(actual[key], value, f"{path}.{key}"))
    elif isinstance(documented, list) and documented and actual:
        for item in actual:
            problems.extend(shape_problems(item, documented[0], f"{path}[]"))
    return problems
