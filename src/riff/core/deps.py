"""FastAPI dependencies shared by every package's endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from riff.core.db import Database
from riff.core.settings import Settings


def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: commit when the endpoint returns, roll back if it raises."""
    with get_database(request).session() as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    with get_database(request).read_session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]
ReadSession = Annotated[Session, Depends(get_read_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
