"""Opaque pagination cursors: URL-safe base64 of a small JSON object.

The dashboard hands them out and takes them back; anything that does not
decode to the expected keys is an :class:`~sentiment_pipeline.errors.InvalidCursorError`
(a 400), never a storage error.

>>> decode_cursor(encode_cursor({"pk": "ITEM#1"}), ("pk",))
{'pk': 'ITEM#1'}
"""

from __future__ import annotations

import base64
import binascii
import json

from sentiment_pipeline.errors import InvalidCursorError

__all__ = ["decode_cursor", "encode_cursor"]

_MAX_LENGTH = 1_024


def encode_cursor(key: dict[str, str]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[str, ...]) -> dict[str, str]:
    """Decode a cursor made by :func:`encode_cursor` with exactly ``keys``, all strings."""
    if len(cursor) > _MAX_LENGTH:
        raise InvalidCursorError(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidCursorError(cursor) from error
    if (
        not isinstance(value, dict)
        or set(value) != set(keys)
        or not all(isinstance(v, str) for v in value.values())
    ):
        raise InvalidCursorError(cursor)
    return {str(k): str(v) for k, v in value.items()}
