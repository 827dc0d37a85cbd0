"""The handlers' configuration, read from the function's environment variables.

Every setting is read once per container (the handlers cache the result).
A missing or malformed setting raises :class:`~sentiment_pipeline.errors.ConfigurationError`
naming it, only when a handler actually needs it: the dashboard's ``/health``
does not need the API key's secret, for instance.

=============================== ========================================== ===========
variable                        meaning                                    default
=============================== ========================================== ===========
``DYNAMODB_TABLE``              the items table                            (required)
``SNS_TOPIC_ARN``               where ingestion announces new items        (required)
``NEWSAPI_KEY_SECRET_ARN``      Secrets Manager secret with the NewsAPI key (required)
``DASHBOARD_API_KEY_SECRET_ARN`` secret with the dashboard's API key        (required)
``ENVIRONMENT``                 a label in logs and /health                ``dev``
``SSE_POLL_INTERVAL``           seconds before EventSource reconnects      ``5``
``CORS_ALLOWED_ORIGINS``        comma-separated origins, or ``*``          (none)
``SENTIMENT_MODEL``             entry point in ``sentiment_pipeline.models`` ``vader``
``ANALYSIS_MAX_ATTEMPTS``       failed analyses before FAILED              ``3``
``ITEM_TTL_DAYS``               days before DynamoDB's TTL removes an item ``30``
``SECRET_CACHE_TTL``            seconds a secret value is cached           ``300``
``NEWSAPI_BASE_URL``            NewsAPI's address                          ``https://newsapi.org``
``NEWSAPI_ENDPOINT``            ``everything`` or ``top-headlines``        ``everything``
``NEWSAPI_QUERY``, ``NEWSAPI_SOURCES``, ``NEWSAPI_DOMAINS``, ``NEWSAPI_LANGUAGE``,
``NEWSAPI_COUNTRY``, ``NEWSAPI_CATEGORY``, ``NEWSAPI_SORT_BY``: NewsAPI's parameters
``NEWSAPI_PAGE_SIZE``           articles per page (<= 100)                 ``100``
``NEWSAPI_MAX_PAGES``           pages per run (each is one request)        ``1``
``LOG_LEVEL``                   Python logging level                       ``INFO``
=============================== ========================================== ===========
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Settings"]


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(name, f"is {raw!r}, not a number") from None
    if not value >= minimum:  # also rejects NaN
        raise ConfigurationError(name, f"is {raw!r}, below the minimum {minimum:g}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """One function's view of its environment.

    Optional values are validated eagerly, required ones on access through
    :meth:`require`, so that each handler fails only for what it uses.

    >>> s = Settings.from_env({"DYNAMODB_TABLE": "items", "SSE_POLL_INTERVAL": "2.5"})
    >>> s.require("DYNAMODB_TABLE"), s.sse_poll_interval, s.cors_allowed_origins
    ('items', 2.5, ())
    """

    env: Mapping[str, str] = field(repr=False)
    environment: str = "dev"
    sse_poll_interval: float = 5.0
    cors_allowed_origins: tuple[str, ...] = ()
    sentiment_model: str = "vader"
    analysis_max_attempts: int = 3
    item_ttl_days: int = 30
    secret_cache_ttl: float = 300.0
    newsapi_base_url: str = "https://newsapi.org"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        origins = tuple(
            o.strip().rstrip("/") for o in env.get("CORS_ALLOWED_ORIGINS", "").split(",")
        )
        return cls(
            env=env,
            environment=env.get("ENVIRONMENT", "").strip() or "dev",
            sse_poll_interval=_number(env, "SSE_POLL_INTERVAL", 5.0, minimum=0.1),
            cors_allowed_origins=tuple(o for o in origins if o),
            sentiment_model=env.get("SENTIMENT_MODEL", "").strip() or "vader",
            analysis_max_attempts=int(_number(env, "ANALYSIS_MAX_ATTEMPTS", 3, minimum=1)),
            item_ttl_days=int(_number(env, "ITEM_TTL_DAYS", 30, minimum=1)),
            secret_cache_ttl=_number(env, "SECRET_CACHE_TTL", 300.0, minimum=0),
            newsapi_base_url=(env.get("NEWSAPI_BASE_URL", "").strip() or "https://newsapi.org"),
            log_level=env.get("LOG_LEVEL", "").strip().upper() or "INFO",
        )

    def require(self, name: str) -> str:
        """A required setting's value, or a ConfigurationError naming it."""
        value = self.env.get(name, "").strip()
        if not value:
            raise ConfigurationError(name)
        return value

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None
