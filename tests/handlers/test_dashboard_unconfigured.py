"""The dashboard handler with no configuration at all: JSON errors naming the setting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings

import handlers.dashboard
from tests.handlers.wellformed import assert_well_formed
from tests.support.strategies import function_url_events

if TYPE_CHECKING:
    from collections.abc import Iterator

CONFIG = (
    "DYNAMODB_TABLE",
    "SNS_TOPIC_ARN",
    "ENVIRONMENT",
    "SSE_POLL_INTERVAL",
    "DASHBOARD_API_KEY_SECRET_ARN",
    "NEWSAPI_KEY_SECRET_ARN",
    "CORS_ALLOWED_ORIGINS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in CONFIG:
        monkeypatch.delenv(name, raising=False)
    handlers.dashboard.reset()
    yield
    handlers.dashboard.reset()


def _event(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {},
        "requestContext": {"http": {"method": "GET", "path": path}, "requestId": "r"},
        "isBase64Encoded": False,
    }


@pytest.mark.usefixtures("unconfigured")
def test_health_names_the_missing_table_setting() -> None:
    response = handlers.dashboard.lambda_handler(_event("/health"), None)
    error = assert_well_formed(response)
    assert response["statusCode"] == 500
    assert error is not None and error["error"] == "misconfigured"
    assert error["message"].startswith("DYNAMODB_TABLE is not set")


@pytest.mark.usefixtures("unconfigured")
def test_data_routes_name_the_missing_key_secret_and_stay_closed() -> None:
    response = handlers.dashboard.lambda_handler(
        _event("/api/items", {"x-api-key": "anything-at-all"}), None
    )
    error = assert_well_formed(response)
    assert response["statusCode"] == 500
    assert error is not None and "DASHBOARD_API_KEY_SECRET_ARN" in error["message"]


@pytest.mark.usefixtures("unconfigured")
def test_a_malformed_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSE_POLL_INTERVAL", "often")
    handlers.dashboard.reset()
    response = handlers.dashboard.lambda_handler(_event("/health"), None)
    error = assert_well_formed(response)
    assert error is not None and error["message"].startswith("SSE_POLL_INTERVAL is 'often'")


@pytest.mark.usefixtures("unconfigured")
def test_a_table_without_a_region_names_aws_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAMODB_TABLE", "items")
    handlers.dashboard.reset()
    response = handlers.dashboard.lambda_handler(_event("/health"), None)
    error = assert_well_formed(response)
    assert error is not None and error["message"].startswith("AWS_REGION is not set")


@pytest.mark.usefixtures("unconfigured")
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(function_url_events())
def test_any_event_gets_a_well_formed_answer_without_configuration(event: object) -> None:
    response = handlers.dashboard.lambda_handler(event, None)
    error = assert_well_formed(response)
    if response["statusCode"] == 500:
        assert error is not None and error["error"] == "misconfigured"
        assert any(name in error["message"] for name in CONFIG)
    # Without configuration no data is served: only the page (static, no data in it)
    # and a CORS preflight succeed.
    if response["statusCode"] == 200:
        assert response["headers"]["content-type"] == "text/html; charset=utf-8"
        assert (
            isinstance(event, dict) and event["requestContext"]["http"]["method"].upper() == "GET"
        )
    if response["statusCode"] == 204:
        assert isinstance(event, dict) and response["body"] == ""
