"""Logs, secrets, settings and cursors: the runtime's small supporting modules."""

from __future__ import annotations

import doctest
import importlib
import io
import json
import logging

import pytest

from sentiment_pipeline import logs
from sentiment_pipeline.config import Settings
from sentiment_pipeline.cursors import decode_cursor, encode_cursor
from sentiment_pipeline.errors import ConfigurationError, InvalidCursorError, SecretUnavailableError
from sentiment_pipeline.memory import InMemorySecrets
from sentiment_pipeline.secretcache import CachedSecret, secret_value

DOCTESTED = [
    "sentiment_pipeline.models",
    "sentiment_pipeline.records",
    "sentiment_pipeline.records.item",
    "sentiment_pipeline.records.scores",
    "sentiment_pipeline.records.serialise",
    "sentiment_pipeline.logs",
    "sentiment_pipeline.secretcache",
    "sentiment_pipeline.cursors",
    "sentiment_pipeline.config",
    "sentiment_pipeline.ingestion.normalise",
    "sentiment_pipeline.ingestion.ingest",
    "sentiment_pipeline.analysis.model",
    "sentiment_pipeline.analysis.vader",
    "sentiment_pipeline.analysis.events",
    "sentiment_pipeline.analysis.analyse",
    "sentiment_pipeline.dashboard.queries",
    "sentiment_pipeline.aws.provision",
]


@pytest.mark.parametrize("module", DOCTESTED)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0
    assert result.failed == 0


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    logs.configure("test", environment="ci", stream=stream)
    return stream


def test_log_lines_are_json_with_the_request_id(log_stream: io.StringIO) -> None:
    log = logs.get_logger("sentiment_pipeline.test")
    with logs.request_context("abc-123"):
        log.info("hello %s", "world", extra={"count": 3})
    log.warning("outside")
    first, second = (json.loads(line) for line in log_stream.getvalue().splitlines())
    assert first["message"] == "hello world"
    assert (first["request_id"], first["count"], first["level"]) == ("abc-123", 3, "INFO")
    assert (first["service"], first["environment"]) == ("test", "ci")
    assert second["request_id"] is None


def test_a_registered_secret_never_reaches_a_log_line(log_stream: io.StringIO) -> None:
    secret = 'k3y-with"quote-and-more'
    log = logs.get_logger("sentiment_pipeline.test")
    logs.redact(secret)
    log.error("echo %s", secret, extra={"header": f"X-Api-Key: {secret}"})
    try:
        raise ValueError(secret)
    except ValueError:
        log.exception("failed")
    text = log_stream.getvalue()
    assert secret not in text
    assert json.dumps(secret)[1:-1] not in text
    assert text.count(logs.REDACTED) >= 3


def test_configure_keeps_one_handler_and_does_not_propagate() -> None:
    for _ in range(3):
        logger = logs.configure("x", stream=io.StringIO())
    assert len(logger.handlers) == 1
    assert logger.propagate is False
    assert logging.getLogger("sentiment_pipeline.analysis").getEffectiveLevel() == logging.INFO


def test_cached_secret_rereads_after_its_ttl() -> None:
    now = [0.0]
    source = InMemorySecrets({"arn": "first-value-123"})
    secret = CachedSecret(source, "arn", ttl=10, clock=lambda: now[0])
    assert secret.get() == "first-value-123"
    source.values["arn"] = "second-value-456"
    now[0] = 9.9
    assert secret.get() == "first-value-123"
    now[0] = 10.0
    assert secret.get() == "second-value-456"
    assert source.reads == 2


def test_an_expired_secret_is_not_served_when_the_source_fails() -> None:
    now = [0.0]
    source = InMemorySecrets({"arn": "value-123456"})
    secret = CachedSecret(source, "arn", ttl=10, clock=lambda: now[0])
    secret.get()
    del source.values["arn"]
    now[0] = 11
    with pytest.raises(SecretUnavailableError):
        secret.get()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("plain-key", "plain-key"),
        ("  spaced-key \n", "spaced-key"),
        ('{"api_key": "json-key"}', "json-key"),
        ('{"apiKey": "camel"}', "camel"),
        ("{not json", "{not json"),
    ],
)
def test_secret_string_forms(raw: str, value: str) -> None:
    assert secret_value("arn", raw) == value


@pytest.mark.parametrize("raw", ["", "   ", '{"other": "x"}', '{"api_key": ""}'])
def test_unusable_secret_strings(raw: str) -> None:
    with pytest.raises(SecretUnavailableError, match="'arn'"):
        secret_value("arn", raw)


def test_settings_defaults_and_errors_name_the_variable() -> None:
    settings = Settings.from_env({})
    assert (settings.environment, settings.sse_poll_interval, settings.sentiment_model) == (
        "dev",
        5.0,
        "vader",
    )
    with pytest.raises(ConfigurationError, match=r"^DYNAMODB_TABLE is not set"):
        settings.require("DYNAMODB_TABLE")
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(ConfigurationError, match="SSE_POLL_INTERVAL"):
            Settings.from_env({"SSE_POLL_INTERVAL": bad})


def test_cursors_round_trip_and_reject_foreign_values() -> None:
    key = {"published_at": "2024-05-01T00:00:00Z", "pk": "ITEM#1"}
    assert decode_cursor(encode_cursor(key), ("published_at", "pk")) == key
    for bad in ["", "!!", encode_cursor({"pk": "x"}), "x" * 2000, "W10"]:
        with pytest.raises(InvalidCursorError):
            decode_cursor(bad, ("published_at", "pk"))
