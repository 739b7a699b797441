"""Steps shared by the channels' tests: database reads for the end-to-end job tests (rows come back
detached so a test can assert on them after the session that loaded them has closed), publishing through the
service or the API, and running an adapter scenario against a sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.channels import service
from riff.channels.contract import ProductSnapshot, RemoteListingRef
from riff.channels.models import ChannelAccount, Listing
from riff.core.db import Database
from riff.jobs.models import Job

from .factories import create_product


def new_product_id(database: Database, **overrides: Any) -> int:
    with database.session() as session:
        return create_product(session, **overrides).id


def queue_publish(database: Database, product_id: int, channel: str) -> None:
    """Queue the product's publish job on ``channel``, as the "list on" button does."""
    with database.session() as session:
        service.publish_product(session, service.get_product(session, product_id), channel)


def publish_through_api(client: TestClient, worker: Any, product_id: int, channel: str) -> httpx.Response:
    """The owner lists the product on ``channel`` through the API (accepted: one job queued); the worker runs
    that job."""
    accepted = client.post(f"/api/products/{product_id}/listings/{channel}")
    assert accepted.status_code == 202, accepted.text
    assert worker.process_available() == 1
    return accepted


def read_listing(database: Database, product_id: int) -> Listing:
    with database.read_session() as session:
        listing = session.scalars(sa.select(Listing).where(Listing.product_id == product_id)).one()
        session.expunge(listing)
        return listing


def read_jobs(database: Database, kind: str) -> list[Job]:
    with database.read_session() as session:
        jobs = list(session.scalars(sa.select(Job).where(Job.kind == kind).order_by(Job.id)))
        for job in jobs:
            session.expunge(job)
        return jobs


def read_account(database: Database, account_id: int) -> ChannelAccount:
    with database.read_session() as session:
        account = session.get(ChannelAccount, account_id)
        assert account is not None
        session.expunge(account)
        return account


T = TypeVar("T")
ChannelT = TypeVar("ChannelT", bound=AbstractAsyncContextManager[Any])


def run_scenario(open_channel: Callable[[], ChannelT], scenario: Callable[[ChannelT], Awaitable[T]]) -> T:
    """``scenario(channel)`` in its own event loop, the channel opened inside it and closed after."""

    async def main() -> T:
        async with open_channel() as channel:
            return await scenario(channel)

    return asyncio.run(main())


class _Publisher(Protocol):
    async def publish(
        self, product: ProductSnapshot, *, remote_id: str | None = None
    ) -> RemoteListingRef: ...


async def publish_three_ways(channel: _Publisher, product: ProductSnapshot) -> tuple[str, str, str]:
    """The remote ids of a first publish, of a retry that lost the id (found by SKU) and of a retry with it."""
    first = await channel.publish(product)
    by_sku = await channel.publish(product)
    by_id = await channel.publish(product, remote_id=first.id)
    return first.id, by_sku.id, by_id.id
