"""Query cost and the leaky bucket, as documented for the Admin GraphQL API.

Cost rules (shopify.dev "GraphQL Admin API rate limits", "Calculating query costs"), as the sandbox applies them:

- a scalar or enum field costs 0; an object field costs 1 plus its selection;
- a connection (a type named ``...Connection``) costs 2 plus ``first``/``last`` times the cost of one node
  (the node object's 1 plus its selection); ``pageInfo`` and cursors are free;
- a mutation costs 10; objects in its payload are free, connections in it are counted as above;
- the requested cost is computed from the query before it runs, the actual cost from what it returned
  (connections count the nodes they really returned); the difference is refunded to the bucket.

The bucket is a plain class whose methods take ``now`` (monotonic seconds) and never read the clock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

from riff_sandbox.shopify.consts import CONNECTION_COST, MUTATION_COST, OBJECT_COST

CompositeType = GraphQLObjectType | GraphQLInterfaceType


class CostError(Exception):
    """The query cannot be costed (a connection without ``first``/``last``): Shopify refuses it."""


@dataclass
class Operation:
    node: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]

    @property
    def is_mutation(self) -> bool:
        return self.node.operation == OperationType.MUTATION


def select_operation(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> Operation:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if operation_name:
        chosen = [o for o in operations if o.name and o.name.value == operation_name]
    else:
        chosen = operations
    if len(chosen) != 1:
        raise CostError(
            "An operation name is required" if chosen else f"No operation named {operation_name!r}"
        )
    return Operation(chosen[0], fragments, variables)


def _argument(field: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    for argument in field.arguments or ():
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, dict(variables))
    return None


def _fields(
    selection_set: SelectionSetNode | None, parent: CompositeType, operation: Operation, schema: GraphQLSchema
) -> list[tuple[FieldNode, GraphQLField, CompositeType]]:
    """Every field node under ``selection_set`` with its definition (fragments flattened)."""
    found: list[tuple[FieldNode, GraphQLField, CompositeType]] = []
    if selection_set is None:
        return found
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            definition = parent.fields.get(selection.name.value)
            if definition is not None:
                found.append((selection, definition, parent))
        elif isinstance(selection, InlineFragmentNode | FragmentSpreadNode):
            condition: NamedTypeNode | None
            if isinstance(selection, FragmentSpreadNode):
                fragment = operation.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                condition, inner = selection.type_condition, selection.selection_set
            target = schema.get_type(condition.name.value) if condition else parent
            if isinstance(target, GraphQLObjectType | GraphQLInterfaceType):
                found.extend(_fields(inner, target, operation, schema))
    return found


def _response_key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value


class CostCalculator:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    def root_type(self, operation: Operation) -> GraphQLObjectType:
        root = self.schema.mutation_type if operation.is_mutation else self.schema.query_type
        assert root is not None
        return root

    def requested(self, operation: Operation) -> int:
        return self._root(operation, None)

    def actual(self, operation: Operation, data: Mapping[str, Any] | None) -> int:
        return self._root(operation, data or {})

    def _root(self, operation: Operation, data: Mapping[str, Any] | None) -> int:
        total = 0
        root = self.root_type(operation)
        for node, definition, _ in _fields(operation.node.selection_set, root, operation, self.schema):
            value = None if data is None else data.get(_response_key(node))
            if operation.is_mutation:
                if data is not None and value is None and _response_key(node) not in data:
                    continue
                total += MUTATION_COST + self._field(
                    node, definition, operation, value, data is not None, True
                )
            else:
                total += self._field(node, definition, operation, value, data is not None, False)
        return total

    def _field(
        self,
        node: FieldNode,
        definition: GraphQLField,
        operation: Operation,
        value: Any,
        actual: bool,
        in_mutation: bool,
    ) -> int:
        named = get_named_type(definition.type)
        if is_leaf_type(named) or not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        if named.name.endswith("Connection"):
            return self._connection(node, named, operation, value, actual)
        if actual and value is None:
            return 0
        own = 0 if in_mutation else OBJECT_COST
        if actual and isinstance(value, list):
            return sum(
                own + self._children(node, named, operation, item, actual, in_mutation) for item in value
            )
        return own + self._children(node, named, operation, value, actual, in_mutation)

    def _children(
        self,
        node: FieldNode,
        parent: CompositeType,
        operation: Operation,
        value: Any,
        actual: bool,
        in_mutation: bool,
    ) -> int:
        total = 0
        for child, definition, _ in _fields(node.selection_set, parent, operation, self.schema):
            child_value = value.get(_response_key(child)) if actual and isinstance(value, dict) else None
            total += self._field(child, definition, operation, child_value, actual, in_mutation)
        return total

    def _connection(
        self, node: FieldNode, connection: CompositeType, operation: Operation, value: Any, actual: bool
    ) -> int:
        if actual and value is None:
            return 0
        size = _argument(node, "first", operation.variables) or _argument(node, "last", operation.variables)
        if not actual and not isinstance(size, int):
            raise CostError("you must provide one of first or last")
        per_node = 0
        returned = 0
        for child, definition, _ in _fields(node.selection_set, connection, operation, self.schema):
            name = child.name.value
            child_value = value.get(_response_key(child)) if actual and isinstance(value, dict) else None
            if name == "nodes":
                node_type = get_named_type(definition.type)
                assert isinstance(node_type, GraphQLObjectType | GraphQLInterfaceType)
                items = child_value if isinstance(child_value, list) else []
                per_node = max(
                    per_node, OBJECT_COST + self._children(child, node_type, operation, None, False, False)
                )
                returned = max(returned, len(items))
            elif name == "edges":
                edge_type = get_named_type(definition.type)
                assert isinstance(edge_type, GraphQLObjectType)
                for edge_child, edge_definition, _ in _fields(
                    child.selection_set, edge_type, operation, self.schema
                ):
                    if edge_child.name.value != "node":
                        continue
                    node_type = get_named_type(edge_definition.type)
                    assert isinstance(node_type, GraphQLObjectType | GraphQLInterfaceType)
                    per_node = max(
                        per_node,
                        OBJECT_COST + self._children(edge_child, node_type, operation, None, False, False),
                    )
                items = child_value if isinstance(child_value, list) else []
                returned = max(returned, len(items))
        count = returned if actual else int(size or 0)
        return CONNECTION_COST + count * per_node


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": round(float(self.currently_available), 3),
            "restoreRate": float(self.restore_rate),
        }


class LeakyBucket:
    """Cost points per app and shop: ``size`` points at most, ``restore_rate`` points back per second."""

    def __init__(self, size: float, restore_rate: float, now: float) -> None:
        self._lock = threading.Lock()
        self.size = size
        self.restore_rate = restore_rate
        self.available = size
        self.updated_at = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.available = min(self.size, self.available + elapsed * self.restore_rate)
        self.updated_at = now

    def status(self, now: float) -> ThrottleStatus:
        with self._lock:
            self._refill(now)
            return ThrottleStatus(self.size, self.available, self.restore_rate)

    def take(self, cost: int, now: float) -> bool:
        """Reserve ``cost`` points; False (nothing taken) when fewer are available."""
        with self._lock:
            self._refill(now)
            if cost > self.available:
                return False
            self.available -= cost
            return True

    def refund(self, points: float, now: float) -> None:
        with self._lock:
            self._refill(now)
            self.available = min(self.size, self.available + max(0.0, points))

    def configure(
        self,
        now: float,
        *,
        size: float | None = None,
        restore_rate: float | None = None,
        currently_available: float | None = None,
    ) -> ThrottleStatus:
        with self._lock:
            self._refill(now)
            if size is not None:
                self.size = size
            if restore_rate is not None:
                self.restore_rate = restore_rate
            if currently_available is not None:
                self.available = currently_available
            self.available = min(self.size, self.available)
            return ThrottleStatus(self.size, self.available, self.restore_rate)


def seconds_until(requested: float, status: ThrottleStatus) -> float:
    """How long until ``requested`` points are available: (requested - available) / restore rate."""
    if requested <= status.currently_available:
        return 0.0
    return (requested - status.currently_available) / status.restore_rate if status.restore_rate else math.inf
