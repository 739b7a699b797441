"""Typed attributes: category schemas (with inheritance) decide names, types and required flags."""

from __future__ import annotations

from typing import Any

import pytest

from riff.catalog.attributes import build_schema, coerce_text, render_text, validate_attributes
from riff.core.errors import ValidationFailed

from .factories import GUITAR_SCHEMA, RECORD_SCHEMA

GUITARS = build_schema([GUITAR_SCHEMA])


def failure(values: dict[str, Any], schema: Any = GUITARS) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate_attributes(values, schema)
    return caught.value


class TestValidateAttributes:
    def test_accepts_typed_values_including_common_ones(self) -> None:
        values = {
            "handedness": "left",
            "number_of_strings": 12,
            "body_shape": " offset ",
            "serial_number": "L12345",
            "country_of_manufacture": "US",
            "artist_owned": True,
        }
        assert validate_attributes(values, GUITARS) == {**values, "body_shape": "offset"}

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"colour": "red"}, "attributes.colour"),
            ({"number_of_strings": "6"}, "attributes.number_of_strings"),
            ({"number_of_strings": True}, "attributes.number_of_strings"),
            ({"artist_owned": "yes"}, "attributes.artist_owned"),
            ({"handedness": "upside-down"}, "attributes.handedness"),
            ({"country_of_manufacture": "XX"}, "attributes.country_of_manufacture"),
            ({"body_shape": 5}, "attributes.body_shape"),
        ],
    )
    def test_unknown_or_wrong_type_names_the_attribute(self, values: dict[str, Any], field: str) -> None:
        assert failure(values).field == field

    def test_required_attribute(self) -> None:
        records = build_schema([RECORD_SCHEMA])
        error = failure({"artist": "Nick Drake"}, records)
        assert error.field == "attributes.format"
        assert validate_attributes({"format": "lp"}, records) == {"format": "lp"}

    def test_none_removes(self) -> None:
        assert validate_attributes({"handedness": None}, GUITARS) == {}

    def test_child_schema_extends_parent(self) -> None:
        child = build_schema([GUITAR_SCHEMA, [{"name": "pickups", "type": "str"}]])
        assert set(child) >= {"handedness", "pickups", "serial_number"}


class TestTextForm:
    @pytest.mark.parametrize(
        ("name", "text", "value"),
        [
            ("number_of_strings", "12", 12),
            ("artist_owned", "Yes", True),
            ("artist_owned", "false", False),
            ("handedness", "left", "left"),
            ("handedness", "  ", None),
        ],
    )
    def test_coerce_text(self, name: str, text: str, value: Any) -> None:
        assert coerce_text(name, text, GUITARS) == value

    def test_coerce_text_rejects_bad_number(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            coerce_text("number_of_strings", "six", GUITARS)
        assert caught.value.field == "attributes.number_of_strings"

    @pytest.mark.parametrize(
        ("name", "value"), [("artist_owned", True), ("number_of_strings", 6), ("body_shape", "T")]
    )
    def test_render_round_trips(self, name: str, value: Any) -> None:
        assert coerce_text(name, render_text(value), GUITARS) == value
