"""Print the README's configuration table from every settings class, so the two cannot drift.

Usage: .venv/bin/python tools/settings_table.py
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from pydantic_settings import BaseSettings

MODULES = {
    "riff.core.settings": "core",
    "riff.jobs.config": "jobs",
    "riff.sync.config": "sync",
    "riff.storefront.config": "storefront",
    "riff.fulfilment.settings": "fulfilment",
    "riff.research.config": "research",
    "riff.channels.vintage_and_rare.settings": "Vintage & Rare",
}


def _default(field: Any) -> str:
    if field.default_factory is not None:
        try:
            return json.dumps(field.default_factory(), default=str)[:60]
        except TypeError:
            return "(see docs)"
    value = field.default
    if value is None:
        return "unset"
    return str(value)


def main() -> None:
    print("| Variable | Default | Area | Meaning |")
    print("|---|---|---|---|")
    for module_name, area in MODULES.items():
        module = importlib.import_module(module_name)
        for obj in vars(module).values():
            if not (
                isinstance(obj, type) and issubclass(obj, BaseSettings) and obj.__module__ == module_name
            ):
                continue
            prefix = obj.model_config.get("env_prefix", "")
            for name, field in obj.model_fields.items():
                env = field.validation_alias if isinstance(field.validation_alias, str) else prefix + name
                meaning = (field.description or "").replace("|", "/")
                print(f"| `{env.upper()}` | `{_default(field)}` | {area} | {meaning} |")


if __name__ == "__main__":
    main()
