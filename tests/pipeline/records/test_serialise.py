"""Records as JSON values: dataclasses as maps in field order, enums as values, compact UTF-8."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from sentiment_pipeline.records import plain, to_json


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Inner:
    colour: Colour
    values: tuple[int, ...]


@dataclass
class Outer:
    zeta: str
    alpha: list[Inner]
    extra: dict[str, Colour]


def test_plain_turns_nested_records_into_json_values() -> None:
    value = Outer(zeta="z", alpha=[Inner(Colour.RED, (1, 2))], extra={"k": Colour.RED})
    assert plain(value) == {
        "zeta": "z",
        "alpha": [{"colour": "red", "values": [1, 2]}],
        "extra": {"k": "red"},
    }
    assert list(plain(value)) == ["zeta", "alpha", "extra"]  # type: ignore[call-overload]
    assert plain(Outer) is Outer  # a class is not a record


def test_to_json_is_compact_and_keeps_non_ascii_text() -> None:
    text = to_json(Inner(Colour.RED, ()))
    assert text == '{"colour":"red","values":[]}'
    assert to_json({"title": "Zürich"}) == '{"title":"Zürich"}'
    assert json.loads(to_json({"n": None})) == {"n": None}
