"""Reverb reference tables shipped in ``data/`` (conditions, categories, shipping profiles, providers)
and the response templates. Loaded once."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def _load(name: str) -> Any:
    return json.loads(resources.files("riff_sandbox.reverb").joinpath("data", name).read_text("utf-8"))


def template(resource: str) -> dict[str, Any]:
    """A fresh copy of a response template (``listing`` or ``order``)."""
    return copy.deepcopy(_load(f"{resource}.json")["body"])


def conditions() -> list[dict[str, Any]]:
    return list(_load("conditions.json")["conditions"])


def condition_by_uuid(uuid: str) -> dict[str, Any] | None:
    return next((c for c in conditions() if c["uuid"] == uuid), None)


def condition_for_demo(key: str) -> dict[str, Any]:
    return next(c for c in conditions() if c["demo_key"] == key)


def categories() -> list[dict[str, Any]]:
    return list(_load("categories.json")["categories"])


def category_by_uuid(uuid: str) -> dict[str, Any] | None:
    return next((c for c in categories() if c["uuid"] == uuid), None)


def category_for_demo(kind: str) -> dict[str, Any]:
    return next(c for c in categories() if c["demo_kind"] == kind)


def shipping_profiles() -> list[dict[str, Any]]:
    return list(_load("shipping_profiles.json")["profiles"])


def shipping_profile(profile_id: str) -> dict[str, Any] | None:
    return next((p for p in shipping_profiles() if p["id"] == str(profile_id)), None)


def shipping_providers() -> list[dict[str, Any]]:
    return list(_load("shipping_providers.json")["providers"])


def shipping_provider(name: str) -> dict[str, Any] | None:
    wanted = name.strip().lower()
    return next((p for p in shipping_providers() if p["name"].lower() == wanted), None)
