"""Access tokens the sandbox accepts. Stored with the sandbox state, so a token created through
``POST /_sandbox/tokens`` survives a restart; a reset brings back only the configured ones."""

from __future__ import annotations

import secrets
from typing import Any

from riff_sandbox.toolkit.store import Document, DocumentStore
from riff_sandbox.toolkit.timeutil import isoformat_utc, utcnow

TOKENS = "_tokens"


class TokenRegistry:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def add(self, token: str | None = None, *, kind: str = "personal", **extra: Any) -> Document:
        token = token or secrets.token_urlsafe(24)
        record = {"token": token, "kind": kind, "created_at": isoformat_utc(utcnow()), **extra}
        with self._store.transaction() as tx:
            tx.put(TOKENS, token, record)
        return record

    def get(self, token: str) -> Document | None:
        if not token:
            return None
        with self._store.transaction() as tx:
            return tx.get(TOKENS, token)

    def revoke(self, token: str) -> bool:
        with self._store.transaction() as tx:
            return tx.delete(TOKENS, token)

    def all(self) -> list[Document]:
        with self._store.transaction() as tx:
            return tx.list(TOKENS)
