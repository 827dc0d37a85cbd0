"""Handler logs: one JSON object per line, the request id on each, no secret anywhere."""

from __future__ import annotations

import json

import pytest

import handlers.analysis
import handlers.dashboard
import handlers.ingestion
from sentiment_pipeline.errors import NewsAPIError
from tests.integration.conftest import DASHBOARD_KEY, NEWSAPI_KEY, Pipeline
from tests.integration.helpers import Context, SnsTap, event, function_url
from tests.support.newsapi_fake import article


def test_no_secret_reaches_a_log_line(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    tap = SnsTap(pipeline.resources.topic_arn)
    pipeline.newsapi.articles = [article(i) for i in range(15)]
    # NewsAPI echoing the key in an error message must not leak it either.
    pipeline.newsapi.failures = {
        2: (429, "rateLimited", f"Too many requests for key {NEWSAPI_KEY}")
    }
    handlers.ingestion.lambda_handler(
        {**event("eventbridge_schedule"), "detail": {"page_size": 10, "max_pages": 2}},
        Context("ingest-1"),
    )
    for delivery in tap.events():
        handlers.analysis.lambda_handler(delivery, Context("analyse-1"))
    for key in (DASHBOARD_KEY, "a-wrong-key-1234567", ""):
        handlers.dashboard.lambda_handler(
            function_url("/api/items", {"api_key": key}), Context("dash-1")
        )
    pipeline.newsapi.api_key = "rotated-key-0000000"
    with pytest.raises(NewsAPIError):
        handlers.ingestion.lambda_handler(event("eventbridge_schedule"), Context("ingest-2"))

    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) >= 4
    assert NEWSAPI_KEY not in out and DASHBOARD_KEY not in out
    assert {line["request_id"] for line in lines} >= {"ingest-1", "analyse-1", "ingest-2"}
    services = {line["service"] for line in lines}
    assert services >= {"ingestion", "analysis"}
    stopped = [line for line in lines if line["message"].startswith("NewsAPI stopped paging")]
    assert stopped and stopped[0]["code"] == "rateLimited"
    refused = [line for line in lines if line["message"] == "NewsAPI refused the run"]
    assert refused and refused[0]["code"] == "apiKeyInvalid" and refused[0]["level"] == "ERROR"
    done = [line for line in lines if line["message"] == "ingestion done"]
    assert done[0]["new"] == 10 and done[0]["stopped"] == "rateLimited"
