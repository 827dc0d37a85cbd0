"""JSON log lines with the request id, and no secret in any of them.

Every line is one JSON object: ``timestamp``, ``level``, ``logger``,
``message``, ``service``, ``environment``, ``request_id`` (the Lambda request id
of the current invocation) and the ``extra`` fields passed to the call.

Secrets are registered with :func:`redact` as soon as they are read; every line
is scrubbed of them (raw or JSON-escaped) just before it is written, so even a
message that echoes a key (NewsAPI's error text, an exception) cannot leak it.
We do not use Powertools' Logger: measured in ``benchmarks/bench_coldstart.py``,
its import would cost the dashboard a share of its cold-start budget for what
these ~100 lines do.

>>> import io, logging
>>> stream = io.StringIO()
>>> log = configure("demo", stream=stream)
>>> redact("s3cr3t-value")
>>> with request_context("req-1"):
...     log.info("key is s3cr3t-value", extra={"count": 2})
>>> '"request_id": "req-1"' in stream.getvalue(), "s3cr3t-value" in stream.getvalue()
(True, False)
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["REDACTED", "configure", "get_logger", "redact", "request_context"]

REDACTED = "[REDACTED]"
_MIN_SECRET = 6  # shorter values would scrub ordinary words out of every line
_ROOT = "sentiment_pipeline"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_scrub_order: tuple[str, ...] = ()  # longest first; replaced whole, read without the lock
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_encode = json.JSONEncoder(default=str).encode  # json.dumps(entry, default=str), built once


def redact(secret: str) -> None:
    """Never let ``secret`` (or its JSON-escaped form) appear in a log line again."""
    if len(secret) >= _MIN_SECRET:
        escaped = json.dumps(secret)[1:-1]
        global _scrub_order
        with _secrets_lock:
            _secrets.update({secret, escaped})
            _scrub_order = tuple(sorted(_secrets, key=len, reverse=True))


def scrub(text: str) -> str:
    for secret in _scrub_order:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per record (the fields in the module docstring), secrets scrubbed."""

    def __init__(self, service: str, environment: str) -> None:
        super().__init__()
        self.service = service
        self.environment = environment
        self._second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def timestamp(self, created: float) -> str:
        """ISO 8601 in UTC with milliseconds (``2024-05-01T10:00:00.123+00:00``).

        The text of the whole second is kept and reused while the second lasts
        (a datetime formatted per line cost about 1 us of a ~10 us line; see
        ``benchmarks/bench_analysis.py``).
        """
        whole = int(created)
        second, text = self._second
        if whole != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
            self._second = (whole, text)
        return f"{text}.{int((created - whole) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": self.timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "environment": self.environment,
            "request_id": _request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(_encode(entry))


def configure(
    service: str, *, environment: str = "dev", level: str = "INFO", stream: IO[str] | None = None
) -> logging.Logger:
    """Route the library's loggers to one JSON handler (idempotent; the last call wins).

    The library's logger does not propagate: the Lambda runtime's own root
    handler would otherwise print every line a second time, in its text format.
    """
    logger = logging.getLogger(_ROOT)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(JsonFormatter(service, environment))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.setLevel(level)
    except ValueError:
        logger.setLevel(logging.INFO)
        logger.warning("unknown LOG_LEVEL, using INFO", extra={"log_level": level})
    return logger


def get_logger(name: str) -> logging.Logger:
    """A logger under the library's JSON handler (``name`` is a module's ``__name__``)."""
    return logging.getLogger(name if name.startswith(_ROOT) else f"{_ROOT}.{name}")


@contextlib.contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Tag every line logged inside the block with the invocation's request id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def request_id_of(context: object) -> str | None:
    """The Lambda context's ``aws_request_id`` (None for a missing or odd context)."""
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) else None
