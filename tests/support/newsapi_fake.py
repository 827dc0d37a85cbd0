"""A local NewsAPI: an HTTP server on 127.0.0.1 answering in the documented shape.

It pages a list of articles like ``/v2/everything`` and ``/v2/top-headlines``
do (``page``, ``pageSize``, ``totalResults``), enforces the ``X-Api-Key`` header
(401 ``apiKeyMissing`` / ``apiKeyInvalid``), caps results at 100 as the free
plan does (426 ``maximumResultsReached``), and can be told to fail a given page
(429 ``rateLimited``, 500 ``unexpectedError``...). Every request is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sentiment_pipeline.local.newsapi import LocalNewsAPI, RecordedRequest

__all__ = ["FakeNewsAPI", "RecordedRequest", "article"]


def article(
    index: int, *, source: str = "Example News", source_id: str | None = "example"
) -> dict[str, Any]:
    """A NewsAPI article as documented (content cut at 200 chars with a '[+N chars]' suffix)."""
    return {
        "source": {"id": source_id, "name": source},
        "author": f"Reporter {index}",
        "title": f"Markets rally as story {index} lifts confidence",
        "description": f"Investors welcomed the good news in story {index}.",
        "url": f"https://news.example/{source_id or 'x'}/story-{index}",
        "urlToImage": None,
        "publishedAt": f"2024-05-01T{index % 24:02d}:{index % 60:02d}:00Z",
        "content": f"Story {index} body text that NewsAPI truncates… [+1234 chars]",
    }


@dataclass
class FakeNewsAPI(LocalNewsAPI):
    """The library's local NewsAPI with the tests' key."""

    api_key: str = "newsapi-test-key-0123456789"
