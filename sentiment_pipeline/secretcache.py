"""Secret values read through a :class:`~sentiment_pipeline.ports.SecretSource` and cached.

A Lambda container serves many invocations; reading Secrets Manager on each
would add latency and cost, so a value is kept for ``ttl`` seconds (a rotated
key is picked up within that time). When the source cannot be read after the
TTL, the error propagates: the dashboard answers 503, never open access, and an
expired value is not served past its TTL.

Secret strings may be the bare value or a JSON object with one of the keys
``api_key``, ``apiKey``, ``key`` or ``value`` (what the console's key/value
editor produces). Every value read is registered with :func:`sentiment_pipeline.logs.redact`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import SecretUnavailableError
from sentiment_pipeline.logs import redact

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.ports import SecretSource

__all__ = ["CachedSecret", "secret_value"]

_JSON_KEYS = ("api_key", "apiKey", "key", "value")


def secret_value(secret_id: str, raw: str) -> str:
    """The usable value of a secret string (see the module docstring)."""
    text = raw.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in _JSON_KEYS:
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
            raise SecretUnavailableError(
                secret_id, f"JSON secret without a non-empty {' / '.join(_JSON_KEYS)} field"
            )
    if not text:
        raise SecretUnavailableError(secret_id, "the secret is empty")
    return text


class CachedSecret:
    """One secret, read on first use and re-read after ``ttl`` seconds.

    >>> from sentiment_pipeline.memory import InMemorySecrets
    >>> source = InMemorySecrets({"arn:key": '{"api_key": "k-123456"}'})
    >>> secret = CachedSecret(source, "arn:key", ttl=60)
    >>> secret.get(), secret.get(), source.reads
    ('k-123456', 'k-123456', 1)
    """

    def __init__(
        self,
        source: SecretSource,
        secret_id: str,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.secret_id = secret_id
        self.ttl = ttl
        self._clock = clock
        self._value: str | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            now = self._clock()
            if self._value is None or now - self._read_at >= self.ttl:
                value = secret_value(self.secret_id, self.source.get_secret(self.secret_id))
                redact(value)
                self._value, self._read_at = value, now
            return self._value
