"""``POST /admin/api/{version}/graphql.json``: token check, parse, validate, cost, throttle, execute.

Order of checks as on Shopify: an unknown access token is a 401 before anything else; a malformed query is
a 200 with ``errors``; a query over the single-query limit is refused without touching the bucket; a query
whose requested cost exceeds what the bucket holds gets ``THROTTLED`` (HTTP 200, nothing executed). Every
answer carries ``extensions.cost``; the actual cost is refunded against the requested one.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from graphql import GraphQLError, OperationDefinitionNode, parse, validate, value_from_ast_untyped
from starlette.responses import Response

from riff_sandbox.shopify.consts import (
    ADMIN_API_PREFIX,
    API_VERSION_PATTERN,
    MAX_SINGLE_QUERY_COST,
    THROTTLED_DOCUMENTATION,
    UNAUTHORIZED_MESSAGE,
)
from riff_sandbox.shopify.cost import CostCalculator, CostError, Operation, ThrottleStatus, select_operation
from riff_sandbox.shopify.schema import Context, schema
from riff_sandbox.shopify.shop import ShopifyShop
from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.timeutil import utcnow

if TYPE_CHECKING:
    from riff_sandbox.shopify.platform import ShopifySandbox

GRAPHQL_PATH = ADMIN_API_PREFIX + "/{version}/graphql.json"
calculator = CostCalculator(schema._schema)

_UNDEFINED_FIELD = re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'")
_UNKNOWN_ARGUMENT = re.compile(
    r"Unknown argument '(?P<argument>\w+)' on field '(?P<type>\w+)\.(?P<field>\w+)'"
)
_MISSING_ARGUMENT = re.compile(
    r"Field '(?P<field>\w+)' argument '(?P<argument>\w+)' of type '.*' is required"
)


def shopify_json(body: Any, status: int = 200, version: str | None = None) -> JSONResponse:
    headers = {"X-Shopify-API-Version": version} if version else None
    return JSONResponse(body, status_code=status, headers=headers)


def cost_extension(requested: int | None, actual: int | None, status: ThrottleStatus) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.as_json(),
        }
    }


def throttled_body(requested: int, status: ThrottleStatus) -> dict[str, Any]:
    """Exactly the shape of api_samples/shopify/throttled_error.json."""
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": THROTTLED_DOCUMENTATION},
            }
        ],
        "extensions": cost_extension(requested, None, status),
    }


def _validation_error(error: GraphQLError, operation_type: str) -> dict[str, Any]:
    """graphql-core's wording -> graphql-ruby's (Shopify's), for the common cases."""
    rendered: dict[str, Any] = {"message": error.message}
    if error.locations:
        rendered["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if match := _UNDEFINED_FIELD.search(error.message):
        rendered["message"] = f"Field '{match['field']}' doesn't exist on type '{match['type']}'"
        rendered["path"] = [operation_type, match["field"]]
        rendered["extensions"] = {
            "code": "undefinedField",
            "typeName": match["type"],
            "fieldName": match["field"],
        }
    elif match := _UNKNOWN_ARGUMENT.search(error.message):
        rendered["message"] = f"Field '{match['field']}' doesn't accept argument '{match['argument']}'"
        rendered["extensions"] = {
            "code": "argumentNotAccepted",
            "name": match["field"],
            "typeName": "Field",
            "argumentName": match["argument"],
        }
    elif match := _MISSING_ARGUMENT.search(error.message):
        rendered["message"] = f"Field '{match['field']}' is missing required arguments: {match['argument']}"
        rendered["extensions"] = {"code": "missingRequiredArguments", "arguments": match["argument"]}
    else:
        rendered["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED"}
    return rendered


def _idempotency_keys(operation: Operation) -> dict[str, str]:
    """``field(...) @idempotent(key: "...")`` on root mutation fields, by response key."""
    keys: dict[str, str] = {}
    for selection in operation.node.selection_set.selections:
        directives = getattr(selection, "directives", None) or ()
        for directive in directives:
            if directive.name.value != "idempotent":
                continue
            for argument in directive.arguments:
                if argument.name.value != "key":
                    continue
                value = value_from_ast_untyped(argument.value, dict(operation.variables))
                if isinstance(value, str) and value:
                    alias = getattr(selection, "alias", None)
                    name = getattr(selection, "name", None)
                    response_key = alias.value if alias else (name.value if name else "")
                    keys[response_key] = value
    return keys


def build_router(platform: ShopifySandbox) -> APIRouter:
    sandbox = platform.sandbox
    router = APIRouter(tags=["shopify admin api"])

    @router.post(GRAPHQL_PATH)
    def graphql(version: str, request: Request, payload: Any = Body(None)) -> Response:
        if not API_VERSION_PATTERN.match(version):
            return shopify_json({"errors": "Not Found"}, 404)
        token = request.headers.get("x-shopify-access-token", "")
        if not token or sandbox.tokens.get(token) is None:
            return shopify_json({"errors": UNAUTHORIZED_MESSAGE}, 401)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return shopify_json({"errors": {"query": "Required parameter missing or invalid"}}, 400, version)
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            return shopify_json({"errors": {"variables": "must be an object"}}, 400, version)
        now = time.monotonic()
        status = platform.bucket.status(now)
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return shopify_json(
                {"errors": [error.formatted], "extensions": cost_extension(0, 0, status)}, 200, version
            )
        operation_type = next(
            (d.operation.value for d in document.definitions if isinstance(d, OperationDefinitionNode)),
            "query",
        )
        problems = validate(schema._schema, document)
        if problems:
            body: dict[str, Any] = {"errors": [_validation_error(e, operation_type) for e in problems]}
            return shopify_json({**body, "extensions": cost_extension(0, 0, status)}, 200, version)
        try:
            operation = select_operation(document, payload.get("operationName"), variables)
            requested = calculator.requested(operation)
        except CostError as error:
            body = {"errors": [{"message": str(error), "extensions": {"code": "BAD_REQUEST"}}]}
            return shopify_json({**body, "extensions": cost_extension(0, 0, status)}, 200, version)
        if requested > MAX_SINGLE_QUERY_COST:
            message = f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_SINGLE_QUERY_COST})."
            body = {
                "errors": [
                    {
                        "message": message,
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": requested,
                            "maxCost": MAX_SINGLE_QUERY_COST,
                        },
                    }
                ]
            }
            return shopify_json({**body, "extensions": cost_extension(requested, None, status)}, 200, version)
        if not platform.bucket.take(requested, now):
            return shopify_json(throttled_body(requested, platform.bucket.status(now)), 200, version)

        with sandbox.store.transaction() as tx:
            shop = ShopifyShop(tx, platform.options, utcnow(), version)
            context = Context(
                shop=shop, base_url=base_url_of(request), idempotency_keys=_idempotency_keys(operation)
            )
            result = schema.execute_sync(
                payload["query"],
                variable_values=variables,
                context_value=context,
                operation_name=payload.get("operationName"),
            )
        platform.fire(shop.events)
        actual = calculator.actual(operation, result.data)
        finished = time.monotonic()
        platform.bucket.refund(requested - actual, finished)
        body = {}
        if result.errors:
            body["errors"] = [dict(error.formatted) for error in result.errors]
        body["data"] = result.data
        body["extensions"] = cost_extension(requested, actual, platform.bucket.status(finished))
        return shopify_json(body, 200, version)

    return router
