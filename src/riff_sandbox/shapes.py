"""How a sandbox answer compares with a platform's documented example (the contract tests): the same keys,
JSON types and nesting, whatever the values."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any


def read_sample(directory: Path, name: str) -> dict[str, Any]:
    """A documented example kept as JSON (its request and answer)."""
    return json.loads((directory / name).read_text("utf-8"))  # type: ignore[no-any-return]


def json_kind(value: Any) -> str:
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
    extra_keys: bool = False,
    may_be_null: Collection[str] = (),
    may_be_missing: Collection[str] = (),
    may_be_extra: Collection[str] = (),
) -> list[str]:
    """Where ``actual`` differs in shape from ``documented``. Paths look like ``$.listing.price.amount``;
    list items are checked against the documented first item as ``$.photos[]``. A documented null says
    nothing about the type. Keys the example does not have are problems unless ``extra_keys`` (for docs
    whose examples are not exhaustive) or the path is in ``may_be_extra``."""

    def compare(actual: Any, documented: Any, path: str) -> list[str]:
        if documented is None:
            return []
        if actual is None:
            return [] if path in may_be_null else [f"{path}: null, documented {json_kind(documented)}"]
        if json_kind(actual) != json_kind(documented):
            return [f"{path}: {json_kind(actual)}, documented {json_kind(documented)}"]
        problems: list[str] = []
        if isinstance(documented, dict):
            for key, value in documented.items():
                child = f"{path}.{key}"
                if key in actual:
                    problems += compare(actual[key], value, child)
                elif child not in may_be_missing:
                    problems.append(f"{child}: missing")
            if not extra_keys:
                problems += [
                    f"{path}.{key}: not in the documented example"
                    for key in actual
                    if key not in documented and f"{path}.{key}" not in may_be_extra
                ]
        elif isinstance(documented, list) and documented:
            for item in actual:
                problems += compare(item, documented[0], f"{path}[]")
        return problems

    return compare(actual, documented, path)


def assert_same_shape(actual: Any, documented: Any, **options: Any) -> None:
    problems = shape_problems(actual, documented, **options)
    assert not problems, "differs from the documented example:\n  " + "\n  ".join(sorted(problems))
