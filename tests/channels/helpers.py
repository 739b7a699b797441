"""Database reads shared by the channels' end-to-end job tests.

Rows come back detached so a test can assert on them after the session that loaded them has closed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from riff.channels.models import ChannelAccount, Listing
from riff.core.db import Database
from riff.jobs.models import Job

from .factories import create_product


def new_product_id(database: Database, **overrides: Any) -> int:
    with database.session() as session:
        return create_product(session, **overrides).id


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
