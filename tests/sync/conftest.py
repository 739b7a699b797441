"""Sync tests run on both databases; marketplace calls only in the end-to-end tests (sandboxes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from riff.core.db import Database
from riff.jobs.models import Job
from riff.sync.models import SyncEvent


@pytest.fixture(autouse=True)
def _sync_handlers() -> Iterator[None]:
    import riff.sync.tasks  # noqa: F401 - registers sync.reconcile and the schedules

    yield


def jobs(database: Database, kind: str | None = None, status: str | None = "queued") -> list[Job]:
    with database.read_session() as session:
        statement = sa.select(Job).order_by(Job.id)
        if kind is not None:
            statement = statement.where(Job.kind == kind)
        if status is not None:
            statement = statement.where(Job.status == status)
        found = list(session.scalars(statement))
        for job in found:
            session.expunge(job)
        return found


def events(database: Database, kind: str | None = None) -> list[SyncEvent]:
    with database.read_session() as session:
        statement = sa.select(SyncEvent).order_by(SyncEvent.id)
        if kind is not None:
            statement = statement.where(SyncEvent.kind == kind)
        found = list(session.scalars(statement))
        for event in found:
            session.expunge(event)
        return found


def by_channel(found: list[Job]) -> dict[str, Any]:
    return {job.channel: job for job in found}
