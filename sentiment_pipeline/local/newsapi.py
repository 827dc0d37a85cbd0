"""A local NewsAPI: an HTTP server on 127.0.0.1 answering in the documented shape.

It pages a list of articles like ``/v2/everything`` and ``/v2/top-headlines``
do (``page``, ``pageSize``, ``totalResults``), enforces the ``X-Api-Key`` header
(401 ``apiKeyMissing`` / ``apiKeyInvalid``), caps results at 100 as the free
plan does (426 ``maximumResultsReached``), and can be told to fail a given page
(429 ``rateLimited``, 500 ``unexpectedError``...). Every request is recorded.

``sentiment-pipeline serve --sample-data`` runs one with the bundled sample
(:mod:`sentiment_pipeline.local.sample`, released over time so that live
updates happen); the tests run one with the articles they need.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.local.background import BackgroundServer

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["FREE_PLAN_CAP", "LocalNewsAPI", "RecordedRequest"]

FREE_PLAN_CAP = 100


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class LocalNewsAPI(BackgroundServer):
    api_key: str
    articles: list[Any] = field(default_factory=list)
    feed: Callable[[], list[Any]] | None = None
    """When set, called per request for the current articles (instead of ``articles``)."""
    failures: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    """page -> (HTTP status, NewsAPI code, message) to answer instead of that page."""
    requests: list[RecordedRequest] = field(default_factory=list)
    cap: int = FREE_PLAN_CAP
    barrier: threading.Barrier | None = None
    """When set, each request waits at it before being answered (to line up concurrent runs)."""

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append(RecordedRequest(parsed.path, query, headers))
                if fake.barrier is not None:
                    fake.barrier.wait()
                status, body = fake.answer(parsed.path, query, headers)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._lock = threading.Lock()
        self._serve_in_background(ThreadingHTTPServer(("127.0.0.1", 0), Handler), "newsapi")

    def answer(
        self, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        def error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
            return status, {"status": "error", "code": code, "message": message}

        if path not in ("/v2/everything", "/v2/top-headlines"):
            return error(404, "routeNotFound", f"no route {path}")
        key = headers.get("x-api-key") or query.get("apiKey")
        if not key:
            return error(401, "apiKeyMissing", "Your API key is missing.")
        if key != self.api_key:
            return error(401, "apiKeyInvalid", "Your API key is invalid or incorrect.")
        page = int(query.get("page", "1"))
        size = int(query.get("pageSize", "100"))
        if page in self.failures:
            return error(*self.failures[page])
        if (page - 1) * size >= self.cap:
            return error(
                426,
                "maximumResultsReached",
                f"You have requested too many results. Developer accounts are limited to a max "
                f"of {self.cap} results.",
            )
        articles = self.feed() if self.feed is not None else self.articles
        chunk = articles[(page - 1) * size : page * size]
        return 200, {"status": "ok", "totalResults": len(articles), "articles": chunk}
