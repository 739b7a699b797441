"""FastAPI dependencies shared by every package's endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
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


M = TypeVar("M", bound=BaseModel)


def query_model(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency that reads ``model`` from the query string (with ``query_model_openapi`` for the docs).

    FastAPI can do this itself (``Annotated[Model, Query()]``), but it re-inspects every field's
    annotation on each request (half a millisecond for a dozen fields, on the product list's hot
    path); this is one pydantic validation. Errors keep FastAPI's shape (``loc`` starts with
    ``"query"``), so the 422 body names the parameter as before.
    """

    async def parse(request: Request) -> M:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False)
            raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in errors]) from None

    return parse


def query_model_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route using ``query_model(model)``: one query parameter per field."""
    schema = model.model_json_schema()
    if "$defs" in schema:  # parameters cannot point into the model's own definitions
        raise TypeError(f"{model.__name__}: query models must have plain fields only")
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        description = field_schema.pop("description", None)
        field_schema.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field_schema,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return {"parameters": parameters}
