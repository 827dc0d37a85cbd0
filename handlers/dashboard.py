"""Dashboard Lambda, behind a Function URL (payload format 2.0).

Environment: ``DYNAMODB_TABLE``, ``DASHBOARD_API_KEY_SECRET_ARN``, and optionally
``ENVIRONMENT``, ``SSE_POLL_INTERVAL``, ``CORS_ALLOWED_ORIGINS``,
``SECRET_CACHE_TTL``, ``LOG_LEVEL`` (see :mod:`sentiment_pipeline.config`).
Routes and errors: :mod:`sentiment_pipeline.dashboard.app`.

The handler never raises: whatever the event, it returns a well-formed
response, and a missing setting is a 500 naming it.
"""

from __future__ import annotations

import functools
from typing import Any

from sentiment_pipeline.aws.clients import reset_clients
from sentiment_pipeline.aws.dynamodb import DynamoRepository
from sentiment_pipeline.aws.secrets import SecretsManagerSource
from sentiment_pipeline.config import Settings
from sentiment_pipeline.dashboard import Dashboard, HttpError, Request
from sentiment_pipeline.dashboard.http import error_response
from sentiment_pipeline.errors import ConfigurationError
from sentiment_pipeline.logs import configure, get_logger, request_context, request_id_of
from sentiment_pipeline.secretcache import CachedSecret

__all__ = ["application", "lambda_handler", "reset"]

log = get_logger(__name__)


@functools.cache
def application() -> Dashboard:
    """The container's dashboard: settings read once, clients and secret cached inside."""
    settings = Settings.from_env()
    configure("dashboard", environment=settings.environment, level=settings.log_level)

    @functools.cache
    def reader() -> DynamoRepository:
        return DynamoRepository(settings.require("DYNAMODB_TABLE"))

    @functools.cache
    def api_key_secret() -> CachedSecret:
        arn = settings.require("DASHBOARD_API_KEY_SECRET_ARN")
        return CachedSecret(SecretsManagerSource(), arn, ttl=settings.secret_cache_ttl)

    return Dashboard(settings, reader, lambda: api_key_secret().get())


def reset() -> None:
    """Forget the container's state (settings, clients, cached key): for tests and local runs."""
    application.cache_clear()
    reset_clients()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    with request_context(request_id_of(context)):
        try:
            request = Request.from_event(event)
        except HttpError as error:
            return error_response(error).to_lambda()
        try:
            app = application()
        except ConfigurationError as error:
            configure("dashboard")
            log.error("dashboard misconfigured", extra={"setting": error.setting})
            return error_response(HttpError(500, "misconfigured", str(error))).to_lambda()
        return app.handle(request).to_lambda()
