"""Reading our HTML in tests without a browser."""

from __future__ import annotations

import re

USERNAME = "shopkeeper"
PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no csrf_token field in page"
    return match.group(1)
