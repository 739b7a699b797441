"""All SQL of the channels package."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from riff.channels.models import (
    AccountStatus,
    ChannelAccount,
    ChannelCategoryMapping,
    ChannelEvent,
    ChannelPriceRule,
    Listing,
)
from riff.core.clock import utcnow
from riff.core.db import is_postgres
from riff.core.repository import ModelT, RepositoryBase


class _Repository(RepositoryBase[ModelT]):
    # SQLAlchemy 2.1 types ``select(Model)`` as ``Select[Model]``; these take it as is.
    def _one(self, statement: sa.Select[Any]) -> ModelT | None:
        return self.session.execute(statement).scalars().one_or_none()  # type: ignore[no-any-return]

    def _all(self, statement: sa.Select[Any]) -> Sequence[ModelT]:
        return self.session.execute(statement).scalars().all()  # type: ignore[return-value]


class ChannelAccountRepository(_Repository[ChannelAccount]):
    model = ChannelAccount

    def list(self, channel: str | None = None) -> Sequence[ChannelAccount]:
        statement = sa.select(ChannelAccount).order_by(ChannelAccount.channel, ChannelAccount.id)
        if channel is not None:
            statement = statement.where(ChannelAccount.channel == channel)
        return self._all(statement)

    def get_by_name(self, channel: str, name: str) -> ChannelAccount | None:
        return self._one(
            sa.select(ChannelAccount).where(ChannelAccount.channel == channel, ChannelAccount.name == name)
        )

    def first_enabled(self, channel: str) -> ChannelAccount | None:
        statement = (
            sa.select(ChannelAccount)
            .where(ChannelAccount.channel == channel, ChannelAccount.enabled.is_(True))
            .order_by(ChannelAccount.id)
            .limit(1)
        )
        return self._one(statement)

    def set_status(self, account_id: int, status: AccountStatus, message: str | None) -> None:
        self.session.execute(
            sa.update(ChannelAccount)
            .where(ChannelAccount.id == account_id)
            .values(status=status, status_message=message, updated_at=utcnow())
        )


class ListingRepository(_Repository[Listing]):
    model = Listing

    def for_product(self, product_id: int) -> Sequence[Listing]:
        return self._all(sa.select(Listing).where(Listing.product_id == product_id).order_by(Listing.channel))

    def for_product_channel(self, product_id: int, channel: str) -> Listing | None:
        return self._one(
            sa.select(Listing).where(Listing.product_id == product_id, Listing.channel == channel)
        )

    def by_remote_id(self, channel: str, remote_id: str) -> Listing | None:
        return self._one(sa.select(Listing).where(Listing.channel == channel, Listing.remote_id == remote_id))

    def with_remote_id(self, channel: str) -> Sequence[Listing]:
        return self._all(
            sa.select(Listing)
            .where(Listing.channel == channel, Listing.remote_id.is_not(None))
            .order_by(Listing.id)
        )

    def remote_ids(self, channel: str) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(Listing.remote_id, Listing.id).where(
                Listing.channel == channel, Listing.remote_id.is_not(None)
            )
        )
        return {str(remote_id): listing_id for remote_id, listing_id in rows}


class PricingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def rule_for(self, channel: str) -> ChannelPriceRule | None:
        return self.session.execute(
            sa.select(ChannelPriceRule).where(ChannelPriceRule.channel == channel)
        ).scalar_one_or_none()

    def category_mapping(self, category_id: int, channel: str) -> ChannelCategoryMapping | None:
        return self.session.execute(
            sa.select(ChannelCategoryMapping).where(
                ChannelCategoryMapping.category_id == category_id, ChannelCategoryMapping.channel == channel
            )
        ).scalar_one_or_none()


class ChannelEventRepository(_Repository[ChannelEvent]):
    model = ChannelEvent

    def insert_if_new(self, values: dict[str, object]) -> int | None:
        """INSERT ... ON CONFLICT (channel, external_id) DO NOTHING; the new id, or None if already there."""
        insert = postgresql.insert if is_postgres(self.session) else sqlite.insert
        statement = (
            insert(ChannelEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(ChannelEvent.id)
        )
        return self.session.execute(statement).scalar_one_or_none()

    def get_by_key(self, channel: str, external_id: str) -> ChannelEvent | None:
        return self._one(
            sa.select(ChannelEvent).where(
                ChannelEvent.channel == channel, ChannelEvent.external_id == external_id
            )
        )

    def list(self, channel: str | None = None, *, limit: int = 100) -> Sequence[ChannelEvent]:
        statement = sa.select(ChannelEvent).order_by(ChannelEvent.id.desc()).limit(limit)
        if channel is not None:
            statement = statement.where(ChannelEvent.channel == channel)
        return self._all(statement)
