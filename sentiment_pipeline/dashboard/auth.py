"""API-key authentication: ``X-API-Key`` header, or ``api_key`` in the query.

The query form exists because the browser's EventSource cannot send headers.
The comparison is constant-time (:func:`hmac.compare_digest`) and the expected
key comes from Secrets Manager through a TTL cache. If the key cannot be read
the answer is 503: a dashboard never serves data without a key to check.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from sentiment_pipeline.dashboard.http import HttpError
from sentiment_pipeline.errors import ConfigurationError, SecretUnavailableError
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.dashboard.http import Request

__all__ = ["authenticate"]

log = get_logger(__name__)


def authenticate(request: Request, expected: Callable[[], str]) -> None:
    """Return if the request carries the API key; raise HttpError (401/500/503) otherwise."""
    provided = request.header("x-api-key") or request.query.get("api_key")
    try:
        key = expected()
    except ConfigurationError as error:
        log.error("dashboard misconfigured", extra={"setting": error.setting})
        raise HttpError(500, "misconfigured", str(error)) from error
    except SecretUnavailableError as error:
        log.error("API key unavailable", extra={"secret": error.secret_id, "reason": error.reason})
        raise HttpError(
            503, "auth_unavailable", "the API key cannot be checked right now; retry later"
        ) from error
    if not provided:
        raise HttpError(401, "unauthorized", "send the API key in the X-API-Key header")
    if not hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), key.encode()):
        raise HttpError(401, "unauthorized", "the API key is not valid")
