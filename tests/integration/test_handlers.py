"""The three handlers end to end on a moto server, with real-shaped events."""

from __future__ import annotations

import json
from typing import Any

import pytest

import handlers.analysis
import handlers.dashboard
import handlers.ingestion
from sentiment_pipeline.aws.clients import client
from sentiment_pipeline.errors import AnalysisRetryError, ConfigurationError, NewsAPIError
from tests.handlers.wellformed import assert_well_formed
from tests.integration.conftest import DASHBOARD_KEY, Pipeline
from tests.integration.helpers import Context, SnsTap, event, function_url, scan
from tests.support.newsapi_fake import article


def run_ingestion(detail: dict[str, Any] | None = None) -> dict[str, Any]:
    ev = event("eventbridge_schedule")
    if detail:
        ev["detail"] = detail
    return handlers.ingestion.lambda_handler(ev, Context())


def dashboard(path: str, query: dict[str, str] | None = None, **headers: str) -> dict[str, Any]:
    hdrs = {"x-api-key": DASHBOARD_KEY, **{k.replace("_", "-"): v for k, v in headers.items()}}
    response = handlers.dashboard.lambda_handler(function_url(path, query, hdrs), Context())
    assert_well_formed(response)
    return response


def test_schedule_to_dashboard(pipeline: Pipeline) -> None:
    tap = SnsTap(pipeline.resources.topic_arn)
    pipeline.newsapi.articles = [
        article(1),
        article(2, source="Reuters", source_id="reuters"),
        {**article(3), "title": "[Removed]"},
        {**article(4), "publishedAt": "not a date"},
    ]
    counts = run_ingestion()
    assert (counts["fetched"], counts["new"], counts["duplicate"], counts["failed"]) == (4, 2, 0, 1)
    assert (counts["removed"], counts["published"], counts["stopped"]) == (1, 2, None)

    events = tap.events()
    assert len(events) == 2
    for ev in events:
        result = handlers.analysis.lambda_handler(ev, Context())
        assert (result["received"], result["analyzed"]) == (1, 1)

    items = json.loads(dashboard("/api/items", {"status": "ANALYZED"})["body"])["items"]
    assert {i["source"] for i in items} == {"Example News", "Reuters"}
    assert all(i["model"] == "vader/3.3.2" and i["sentiment"] for i in items)

    metrics = json.loads(dashboard("/api/metrics", {"hours": "168"})["body"])
    assert metrics["by_status"]["ANALYZED"] == 0  # published on 2024-05-01: outside the window

    health = dashboard("/health")
    assert health["statusCode"] == 200
    assert json.loads(health["body"])["environment"] == "test"

    stream = dashboard("/api/stream", {"since": "2000-01-01T00:00:00Z"})
    assert stream["headers"]["content-type"].startswith("text/event-stream")
    assert stream["body"].count("event: item\n") == 2
    assert stream["body"].endswith("retry: 3000\n\n")


def test_the_second_run_finds_duplicates(pipeline: Pipeline) -> None:
    pipeline.newsapi.articles = [article(i) for i in range(5)]
    run_ingestion()
    pipeline.newsapi.articles = [article(i) for i in range(3, 8)]
    counts = run_ingestion()
    assert (counts["new"], counts["duplicate"]) == (3, 2)
    assert len(scan(pipeline.resources.table)) == 8


def test_detail_overrides_the_environment(pipeline: Pipeline) -> None:
    pipeline.newsapi.articles = [article(i) for i in range(30)]
    counts = run_ingestion(
        {"endpoint": "top-headlines", "q": None, "country": "gb", "page_size": 10, "max_pages": 2}
    )
    assert counts["new"] == 20
    paths = {(r.path, r.query.get("country")) for r in pipeline.newsapi.requests}
    assert paths == {("/v2/top-headlines", "gb")}


def test_an_invalid_newsapi_key_fails_the_run(pipeline: Pipeline) -> None:
    pipeline.newsapi.api_key = "the-real-key-is-different"
    with pytest.raises(NewsAPIError) as raised:
        run_ingestion()
    assert raised.value.code == "apiKeyInvalid"
    assert scan(pipeline.resources.table) == []


def test_rate_limiting_keeps_the_fetched_pages(pipeline: Pipeline) -> None:
    pipeline.newsapi.articles = [article(i) for i in range(30)]
    pipeline.newsapi.failures = {2: (429, "rateLimited", "You have made too many requests.")}
    counts = run_ingestion({"page_size": 10, "max_pages": 3})
    assert (counts["new"], counts["stopped"]) == (10, "rateLimited")


def test_items_left_pending_by_a_failed_publish_are_republished(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    tap = SnsTap(pipeline.resources.topic_arn)
    pipeline.newsapi.articles = [article(i) for i in range(12)]
    # SNS unreachable for this run: the topic ARN points at a topic that does not exist.
    monkeypatch.setenv("SNS_TOPIC_ARN", pipeline.resources.topic_arn + "-missing")
    handlers.ingestion.reset()
    first = run_ingestion()
    assert (first["new"], first["published"], first["publish_failed"]) == (12, 0, 12)
    assert tap.drain() == []

    monkeypatch.setenv("SNS_TOPIC_ARN", pipeline.resources.topic_arn)
    handlers.ingestion.reset()
    second = run_ingestion()
    assert (second["new"], second["duplicate"], second["republished"]) == (0, 12, 12)
    assert len(tap.drain()) == 12
    assert all("outbox" not in a for a in scan(pipeline.resources.table))


def test_missing_configuration_fails_ingestion_naming_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SNS_TOPIC_ARN")
    handlers.ingestion.reset()
    with pytest.raises(ConfigurationError, match=r"^SNS_TOPIC_ARN is not set"):
        run_ingestion()


def test_analysis_failures_retry_then_fail(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    tap = SnsTap(pipeline.resources.topic_arn)
    pipeline.newsapi.articles = [article(1)]
    run_ingestion()
    [ev] = tap.events()

    class Exploding:
        name, version = "exploding", "1"

        def score(self, text: str) -> Any:
            raise MemoryError("model did not fit")

    monkeypatch.setenv("ANALYSIS_MAX_ATTEMPTS", "2")
    handlers.analysis.reset()
    deps = handlers.analysis.dependencies()
    broken = handlers.analysis.Dependencies(deps.settings, Exploding(), deps.store)
    with pytest.raises(AnalysisRetryError):
        handlers.analysis.handle(ev, broken)  # Lambda retries the event
    result = handlers.analysis.handle(ev, broken)
    assert result["failed"] == 1
    [stored] = scan(pipeline.resources.table)
    assert stored["status"]["S"] == "FAILED"
    assert stored["failure_reason"]["S"] == "exploding: MemoryError: model did not fit"
    # The real model does not resurrect a FAILED item either.
    assert handlers.analysis.lambda_handler(ev, Context())["duplicate"] == 1


def test_analysis_ignores_foreign_records(pipeline: Pipeline) -> None:
    ev = event("sns_item")
    ev["Records"].append({"EventSource": "aws:sns", "Sns": {"Message": "hello"}})
    result = handlers.analysis.lambda_handler(ev, Context())
    # The recorded message names an item that was never ingested: nothing is created.
    assert (result["received"], result["duplicate"], result["invalid"]) == (1, 1, 1)
    assert scan(pipeline.resources.table) == []


def test_dashboard_auth_and_errors(pipeline: Pipeline) -> None:
    assert dashboard("/api/items", x_api_key="nope-nope-nope")["statusCode"] == 401
    assert dashboard("/api/items", {"api_key": DASHBOARD_KEY}, x_api_key="")["statusCode"] == 200
    assert dashboard("/api/nothing")["statusCode"] == 404
    response = handlers.dashboard.lambda_handler(
        function_url("/api/items", method="DELETE"), Context()
    )
    assert response["statusCode"] == 405
    big = function_url("/api/items", headers={"x-api-key": DASHBOARD_KEY})
    big["body"] = "x" * (65 * 1024)
    assert handlers.dashboard.lambda_handler(big, Context())["statusCode"] == 413
    assert dashboard("/api/items", {"limit": "1000"})["statusCode"] == 400


def test_dashboard_cors_from_configuration(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://dashboard.example.com")
    handlers.dashboard.reset()
    response = dashboard("/api/items")  # the recorded event's origin
    assert response["headers"]["access-control-allow-origin"] == "https://dashboard.example.com"


def test_secrets_manager_unreachable_is_503(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    client("secretsmanager").delete_secret(
        SecretId=pipeline.resources.dashboard_api_key_secret_arn, ForceDeleteWithoutRecovery=True
    )
    handlers.dashboard.reset()
    response = dashboard("/api/items")
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "auth_unavailable"
    # Health stays available: it needs no key.
    assert dashboard("/health")["statusCode"] == 200


def test_secrets_manager_endpoint_down_is_503(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A loopback port with nothing listening: connection refused, after botocore's retries.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")
    handlers.dashboard.reset()
    response = dashboard("/api/items")
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (
        503,
        "auth_unavailable",
    )


def test_health_is_503_when_the_table_is_gone(pipeline: Pipeline) -> None:
    client("dynamodb").delete_table(TableName=pipeline.resources.table)
    response = dashboard("/health")
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "storage_unavailable"
