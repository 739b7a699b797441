"""Typed extra attributes: a category's ``attribute_schema`` decides which names a product may carry.

A product's effective schema is the built-in common attributes, then each ancestor category's schema,
then its own (a later definition of the same name replaces an earlier one). Pure functions, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from riff.catalog.consts import ATTRIBUTE_TYPES, COMMON_ATTRIBUTE_SCHEMA, MAX_ATTRIBUTE_STR_LENGTH
from riff.core.errors import ValidationFailed

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True)
class AttributeDefinition:
    name: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AttributeDefinition:
        name = str(raw.get("name") or "").strip()
        kind = str(raw.get("type") or "str")
        if not name:
            raise ValidationFailed("attribute definition without a name", field="attribute_schema")
        if kind not in ATTRIBUTE_TYPES:
            raise ValidationFailed(
                f"attribute {name!r} has unknown type {kind!r} (use one of {', '.join(ATTRIBUTE_TYPES)})",
                field="attribute_schema",
            )
        choices = tuple(str(c) for c in raw.get("choices") or ())
        if kind == "choice" and not choices:
            raise ValidationFailed(f"choice attribute {name!r} lists no choices", field="attribute_schema")
        return cls(name=name, type=kind, required=bool(raw.get("required", False)), choices=choices)


AttributeSchema = dict[str, AttributeDefinition]


def build_schema(layers: Iterable[Iterable[Mapping[str, Any]]]) -> AttributeSchema:
    """Merge schema layers, most general first, starting from the common attributes."""
    schema: AttributeSchema = {}
    for layer in [COMMON_ATTRIBUTE_SCHEMA, *layers]:
        for raw in layer:
            definition = AttributeDefinition.from_json(raw)
            schema[definition.name] = definition
    return schema


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"attribute {name!r}: {message}", field=f"attributes.{name}")


def validate_attributes(values: Mapping[str, Any], schema: AttributeSchema) -> dict[str, Any]:
    """Check JSON values against the schema; raises ValidationFailed naming ``attributes.<name>``.

    ``None`` removes an attribute. Types are strict (``"6"`` is not an int) because JSON can say what it
    means; text sources convert first with ``coerce_text``.
    """
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue  # removing is fine even for a name this category does not know
        definition = schema.get(name)
        if definition is None:
            known = ", ".join(sorted(schema)) or "none"
            raise _invalid(name, f"unknown for this category (known: {known})")
        clean[name] = _check_type(definition, value)
    for definition in schema.values():
        if definition.required and definition.name not in clean:
            raise _invalid(definition.name, "is required for this category")
    return clean


def _check_type(definition: AttributeDefinition, value: Any) -> Any:
    name = definition.name
    if definition.type == "bool":
        if not isinstance(value, bool):
            raise _invalid(name, "must be true or false")
        return value
    if definition.type == "int":
        # bool is a subclass of int in Python; true is not a number of strings.
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, "must be a whole number")
        return value
    if not isinstance(value, str):
        raise _invalid(name, "must be text")
    value = value.strip()
    if definition.type == "choice":
        if value not in definition.choices:
            raise _invalid(name, f"must be one of {', '.join(definition.choices)}")
        return value
    if len(value) > MAX_ATTRIBUTE_STR_LENGTH:
        raise _invalid(name, f"must be at most {MAX_ATTRIBUTE_STR_LENGTH} characters")
    return value


def coerce_text(name: str, text: str, schema: AttributeSchema) -> Any:
    """Turn a CSV cell into the attribute's JSON type; empty text means "no value" (``None``)."""
    text = text.strip()
    if not text:
        return None
    definition = schema.get(name)
    if definition is None:
        return text  # validate_attributes reports the unknown name with the category's known names
    if definition.type == "bool":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise _invalid(name, "must be true or false")
    if definition.type == "int":
        try:
            return int(text)
        except ValueError:
            raise _invalid(name, "must be a whole number") from None
    return text


def render_text(value: Any) -> str:
    """The CSV form of an attribute value; ``coerce_text`` reads it back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
