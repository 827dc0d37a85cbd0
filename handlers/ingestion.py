"""Ingestion Lambda, run by an EventBridge schedule.

Environment: ``DYNAMODB_TABLE``, ``SNS_TOPIC_ARN``, ``NEWSAPI_KEY_SECRET_ARN``
and NewsAPI's parameters (``NEWSAPI_ENDPOINT``, ``NEWSAPI_QUERY``...; see
:mod:`sentiment_pipeline.config`). The schedule's ``detail`` may override
them, e.g. ``{"q": "climate", "max_pages": 2}``.

Returns the counts: fetched, new, duplicate, failed (plus removed, published,
republished, publish_failed, and ``stopped`` when NewsAPI ended paging early).
An invalid NewsAPI key or a misconfiguration fails the run with one clear log
line and an exception (the invocation is marked failed).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sentiment_pipeline.aws.clients import reset_clients
from sentiment_pipeline.aws.dynamodb import DynamoRepository
from sentiment_pipeline.aws.secrets import SecretsManagerSource
from sentiment_pipeline.aws.sns import SnsPublisher
from sentiment_pipeline.config import Settings
from sentiment_pipeline.errors import ConfigurationError, NewsAPIError
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.logs import configure, get_logger, request_context, request_id_of
from sentiment_pipeline.models import IngestionRequest
from sentiment_pipeline.newsapi import NewsAPIClient
from sentiment_pipeline.secretcache import CachedSecret

__all__ = ["Dependencies", "dependencies", "lambda_handler", "request_for", "reset"]

log = get_logger(__name__)

_ENV_FIELDS = {
    "endpoint": "NEWSAPI_ENDPOINT",
    "q": "NEWSAPI_QUERY",
    "sources": "NEWSAPI_SOURCES",
    "domains": "NEWSAPI_DOMAINS",
    "language": "NEWSAPI_LANGUAGE",
    "country": "NEWSAPI_COUNTRY",
    "category": "NEWSAPI_CATEGORY",
    "sort_by": "NEWSAPI_SORT_BY",
    "page_size": "NEWSAPI_PAGE_SIZE",
    "max_pages": "NEWSAPI_MAX_PAGES",
}


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    repository: DynamoRepository
    publisher: SnsPublisher
    newsapi: NewsAPIClient


@functools.cache
def dependencies() -> Dependencies:
    settings = Settings.from_env()
    configure("ingestion", environment=settings.environment, level=settings.log_level)
    key = CachedSecret(
        SecretsManagerSource(),
        settings.require("NEWSAPI_KEY_SECRET_ARN"),
        ttl=settings.secret_cache_ttl,
    )
    return Dependencies(
        settings=settings,
        repository=DynamoRepository(settings.require("DYNAMODB_TABLE")),
        publisher=SnsPublisher(settings.require("SNS_TOPIC_ARN")),
        newsapi=NewsAPIClient(key.get, base_url=settings.newsapi_base_url),
    )


def reset() -> None:
    """Forget the container's state: for tests and local runs."""
    dependencies.cache_clear()
    reset_clients()


def request_for(settings: Settings, event: Any) -> IngestionRequest:
    """The environment's NewsAPI request, overridden by the schedule event's ``detail``."""
    fields: dict[str, Any] = {
        name: value for name, var in _ENV_FIELDS.items() if (value := settings.optional(var))
    }
    detail = event.get("detail") if isinstance(event, dict) else None
    if isinstance(detail, dict):
        fields.update(detail)
    try:
        return IngestionRequest.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        raise ConfigurationError(
            "NEWSAPI_* (or the schedule's detail)", f"is invalid: {where}: {first['msg']}"
        ) from error


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    with request_context(request_id_of(context)):
        try:
            deps = dependencies()
            request = request_for(deps.settings, event)
            fetched = deps.newsapi.fetch(request)
        except ConfigurationError as error:
            configure("ingestion")
            log.error(
                "ingestion misconfigured", extra={"setting": error.setting, "error": str(error)}
            )
            raise
        except NewsAPIError as error:
            log.error(
                "NewsAPI refused the run",
                extra={"status": error.status, "code": error.code, "error": error.message},
            )
            raise
        summary = ingest(
            fetched.articles,
            deps.repository,
            deps.publisher,
            ttl_days=deps.settings.item_ttl_days,
        )
        summary.stopped = fetched.stopped
        result = summary.model_dump()
        log.info("ingestion done", extra=result)
        return result
