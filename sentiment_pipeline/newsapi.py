"""A NewsAPI client for ``/v2/everything`` and ``/v2/top-headlines``.

Stdlib only (``urllib``): the ingestion Lambda needs no HTTP library. The key
travels in the ``X-Api-Key`` header, never in the URL (URLs end up in logs).
Errors are handled by NewsAPI's ``code``:

- ``apiKeyInvalid`` / ``apiKeyMissing`` / ``apiKeyDisabled`` (401): the run fails
  with :class:`~sentiment_pipeline.errors.NewsAPIError`;
- ``rateLimited`` (429) and ``maximumResultsReached`` (426, the free plan's
  100-result cap): paging stops and what was fetched is kept;
- anything else on the first page fails the run; on a later page it stops paging
  and keeps what was fetched.

Articles are returned raw (JSON objects as sent): validating them is the
ingestion domain's job, so that one bad article never costs the others.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import NewsAPIError
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.models import IngestionRequest

__all__ = ["STOP_CODES", "FetchResult", "NewsAPIClient"]

log = get_logger(__name__)

STOP_CODES = frozenset({"rateLimited", "maximumResultsReached"})
"""Error codes that end paging but keep the pages already fetched."""
AUTH_CODES = frozenset({"apiKeyInvalid", "apiKeyMissing", "apiKeyDisabled", "apiKeyExhausted"})

_MAX_BODY = 20 * 1024 * 1024


@dataclass
class FetchResult:
    """The raw articles of every page fetched, and why paging stopped early (if it did)."""

    articles: list[Any] = field(default_factory=list)
    pages: int = 0
    total_results: int | None = None
    stopped: str | None = None


class NewsAPIClient:
    """Fetch pages of articles. ``api_key`` is called per request (a cached secret)."""

    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        base_url: str = "https://newsapi.org",
        timeout: float = 10.0,
        user_agent: str = "sentiment-pipeline",
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent

    def fetch(self, request: IngestionRequest) -> FetchResult:
        """Every page the request asks for, within ``max_pages`` and NewsAPI's limits."""
        result = FetchResult()
        params = request.params()
        for page in range(1, request.max_pages + 1):
            try:
                body = self._get(request.endpoint, {**params, "page": str(page)})
            except NewsAPIError as error:
                if error.code in AUTH_CODES:
                    raise
                if error.code in STOP_CODES or page > 1:
                    log.warning(
                        "NewsAPI stopped paging; keeping what was fetched",
                        extra={"page": page, "code": error.code, "status": error.status},
                    )
                    result.stopped = error.code
                    break
                raise
            articles = body.get("articles")
            if not isinstance(articles, list):
                raise NewsAPIError(200, "unexpectedResponse", "no 'articles' array in the answer")
            total = body.get("totalResults")
            result.total_results = total if isinstance(total, int) else None
            result.articles.extend(articles)
            result.pages = page
            if not articles or (
                result.total_results is not None
                and page * request.page_size >= result.total_results
            ):
                break
        return result

    def _get(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.base_url}/v2/{endpoint}?{urllib.parse.urlencode(params)}"
        http = urllib.request.Request(
            url,
            headers={
                "X-Api-Key": self._api_key(),
                "Accept": "application/json",
                "User-Agent": self.user_agent,
            },
        )
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as response:
                status, raw = response.status, response.read(_MAX_BODY)
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read(_MAX_BODY)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise NewsAPIError(0, "networkError", f"{self.base_url}: {error}") from error
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise NewsAPIError(status, "unexpectedResponse", f"HTTP {status}, not a JSON object")
        if status != 200 or body.get("status") != "ok":
            code = body.get("code")
            message = body.get("message")
            raise NewsAPIError(
                status,
                code if isinstance(code, str) else "unexpectedError",
                message if isinstance(message, str) else f"HTTP {status}",
            )
        return body
