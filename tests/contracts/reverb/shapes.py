"""Structural comparison of a response with a documented example: same keys, types and nesting."""

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
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_problems(
    actual: Any,
    documented: Any,
    path: str = "$",
    *,
    may_be_null: Collection[str] = (),
    may_be_missing: Collection[str] = (),
    may_be_extra: Collection[str] = (),
) -> list[str]:
    """Where ``actual`` differs in shape from ``documented``. Paths look like ``$.listing.price.amount``;
    list items are checked against the documented first item as ``$.photos[]``."""
    options = {"may_be_null": may_be_null, "may_be_missing": may_be_missing, "may_be_extra": may_be_extra}
    if documented is None:  # documented as null: the type is not documented
        return []
    if actual is None:
        return [] if path in may_be_null else [f"{path}: null, documented {_kind(documented)}"]
    if _kind(actual) != _kind(documented):
        return [f"{path}: {_kind(actual)}, documented {_kind(documented)}"]
    problems: list[str] = []
    if isinstance(documented, dict):
        for key in documented.keys() - actual.keys():
            if f"{path}.{key}" not in may_be_missing:
                problems.append(f"{path}.{key}: missing")
        for key in actual.keys() - documented.keys():
            if f"{path}.{key}" not in may_be_extra:
                problems.append(f"{path}.{key}: not in the documented example")
        for key in documented.keys() & actual.keys():
            problems += shape_problems(actual[key], documented[key], f"{path}.{key}", **options)
    elif isinstance(documented, list) and documented:
        for item in actual:
            problems += shape_problems(item, documented[0], f"{path}[]", **options)
    return problems


def assert_same_shape(actual: Any, documented: Any, **options: Any) -> None:
    problems = shape_problems(actual, documented, **options)
    assert not problems, "differs from the documented example:\n  " + "\n  ".join(sorted(problems))
