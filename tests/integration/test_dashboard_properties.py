"""The configured dashboard, on a moto server, answers every event with a well-formed response."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import handlers.dashboard
from sentiment_pipeline.aws.dynamodb import DynamoRepository
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.memory import InMemoryPublisher
from tests.handlers.wellformed import assert_well_formed
from tests.integration.conftest import DASHBOARD_KEY, Pipeline
from tests.integration.helpers import Context
from tests.support.newsapi_fake import article
from tests.support.strategies import function_url_events


@pytest.fixture
def seeded(pipeline: Pipeline) -> Pipeline:
    repo = DynamoRepository(pipeline.resources.table)
    ingest([article(i) for i in range(3)], repo, InMemoryPublisher())
    return pipeline


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(function_url_events(api_key=DASHBOARD_KEY))
def test_any_event_gets_a_well_formed_answer(seeded: Pipeline, event: object) -> None:
    response = handlers.dashboard.lambda_handler(event, Context())
    error = assert_well_formed(response)
    # Configured: a 500 would be a bug (nothing is missing), and 503 means AWS is down.
    assert response["statusCode"] not in (500, 503), error
