"""A small generic repository: domain repositories add named queries, services never build SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.core.models import Base

ModelT = TypeVar("ModelT", bound=Base)


class RepositoryBase(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: Session) -> RepositoryBase[ModelT]:
        return cls(session)

    def get(self, id_: int) -> ModelT | None:
        return self.session.get(self.model, id_)

    def get_one_or_none(self, statement: sa.Select[Any]) -> ModelT | None:
        return self.session.scalars(statement).one_or_none()  # type: ignore[no-any-return]

    def get_all(self, statement: sa.Select[Any]) -> Sequence[ModelT]:
        return self.session.scalars(statement).all()

    def count(self, statement: sa.Select[Any]) -> int:
        count_stmt = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
        return int(self.session.execute(count_stmt).scalar_one())

    def paginate(self, statement: sa.Select[Any], *, limit: int, offset: int) -> tuple[Sequence[ModelT], int]:
        total = self.count(statement)
        items = self.get_all(statement.limit(limit).offset(offset))
        return items, total

    def create(self, obj: ModelT, *, flush: bool = True) -> ModelT:
        self.session.add(obj)
        if flush:
            self.session.flush()
        return obj

    def update(self, obj: ModelT, values: dict[str, Any], *, flush: bool = True) -> ModelT:
        for key, value in values.items():
            setattr(obj, key, value)
        if flush:
            self.session.flush()
        return obj
