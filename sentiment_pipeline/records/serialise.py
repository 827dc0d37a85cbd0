"""Records as JSON: dataclasses as maps (in field order), enums as their values.

>>> to_json({"title": "Zürich", "scores": (0.5, 0.0)})
'{"title":"Zürich","scores":[0.5,0.0]}'
"""

from __future__ import annotations

import dataclasses
import enum
import json

__all__ = ["plain", "to_json"]


def plain(value: object) -> object:
    """A record as JSON values: dataclasses as maps (in field order), enums as their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def to_json(value: object) -> str:
    """Compact JSON of a record (UTF-8 text, as pydantic's ``model_dump_json`` wrote it)."""
    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))
