"""The NewsAPI client against a local NewsAPI: paging, the key header, errors by code."""

from __future__ import annotations

import pytest

from sentiment_pipeline.errors import NewsAPIError
from sentiment_pipeline.models import IngestionRequest
from sentiment_pipeline.newsapi import NewsAPIClient
from tests.support.newsapi_fake import FakeNewsAPI, article


def client(fake: FakeNewsAPI, key: str | None = None) -> NewsAPIClient:
    return NewsAPIClient(lambda: key or fake.api_key, base_url=fake.url, timeout=5)


def request(**fields: object) -> IngestionRequest:
    return IngestionRequest.model_validate({"q": "markets", **fields})


def test_pages_until_total_results_and_sends_the_key_as_a_header(newsapi: FakeNewsAPI) -> None:
    newsapi.articles = [article(i) for i in range(45)]
    result = client(newsapi).fetch(request(page_size=20, max_pages=5))
    assert len(result.articles) == 45
    assert (result.pages, result.total_results, result.stopped) == (3, 45, None)
    assert [r.query["page"] for r in newsapi.requests] == ["1", "2", "3"]
    for recorded in newsapi.requests:
        assert recorded.path == "/v2/everything"
        assert recorded.headers["x-api-key"] == newsapi.api_key
        assert "apiKey" not in recorded.query
        assert recorded.query["q"] == "markets" and recorded.query["pageSize"] == "20"


def test_top_headlines_parameters(newsapi: FakeNewsAPI) -> None:
    newsapi.articles = [article(1)]
    IngestionRequest(endpoint="top-headlines", country="us", category="business")
    client(newsapi).fetch(IngestionRequest(endpoint="top-headlines", country="us"))
    [recorded] = newsapi.requests
    assert recorded.path == "/v2/top-headlines"
    assert recorded.query == {"country": "us", "pageSize": "100", "page": "1"}


@pytest.mark.parametrize("key", ["wrong-key-123456", None])
def test_a_bad_key_fails_the_run(newsapi: FakeNewsAPI, key: str | None) -> None:
    newsapi.articles = [article(1)]
    api = NewsAPIClient(lambda: key or "", base_url=newsapi.url)
    with pytest.raises(NewsAPIError) as raised:
        api.fetch(request())
    assert raised.value.status == 401
    assert raised.value.code == ("apiKeyInvalid" if key else "apiKeyMissing")


def test_rate_limited_stops_paging_and_keeps_what_was_fetched(newsapi: FakeNewsAPI) -> None:
    newsapi.articles = [article(i) for i in range(50)]
    newsapi.failures = {3: (429, "rateLimited", "You have made too many requests recently.")}
    result = client(newsapi).fetch(request(page_size=10, max_pages=5))
    assert (len(result.articles), result.stopped) == (20, "rateLimited")
    assert len(newsapi.requests) == 3


def test_rate_limited_on_the_first_page_gives_an_empty_run(newsapi: FakeNewsAPI) -> None:
    newsapi.failures = {1: (429, "rateLimited", "Too many requests.")}
    result = client(newsapi).fetch(request())
    assert (result.articles, result.stopped) == ([], "rateLimited")


def test_the_free_plans_result_cap_stops_paging(newsapi: FakeNewsAPI) -> None:
    newsapi.articles = [article(i) for i in range(300)]
    result = client(newsapi).fetch(request(page_size=50, max_pages=5))
    assert (len(result.articles), result.stopped) == (100, "maximumResultsReached")


def test_a_server_error_fails_on_the_first_page_and_stops_later(newsapi: FakeNewsAPI) -> None:
    newsapi.articles = [article(i) for i in range(30)]
    newsapi.failures = {1: (500, "unexpectedError", "Something went wrong.")}
    with pytest.raises(NewsAPIError, match="unexpectedError"):
        client(newsapi).fetch(request(page_size=10, max_pages=3))
    newsapi.failures = {2: (500, "unexpectedError", "Something went wrong.")}
    result = client(newsapi).fetch(request(page_size=10, max_pages=3))
    assert (len(result.articles), result.stopped) == (10, "unexpectedError")


def test_an_unreachable_newsapi_is_a_network_error() -> None:
    fake = FakeNewsAPI()
    url = fake.url  # bound, never started: connections are refused
    fake.stop()
    with pytest.raises(NewsAPIError) as raised:
        NewsAPIClient(lambda: "k", base_url=url, timeout=2).fetch(request())
    assert raised.value.code == "networkError"


@pytest.mark.parametrize(
    "fields",
    [
        {"q": None},  # /v2/everything needs q, sources or domains
        {"country": "us"},
        {"endpoint": "top-headlines", "q": None, "sources": "bbc-news", "country": "us"},
        {"endpoint": "top-headlines", "language": "en"},
        {"page_size": 101},
        {"endpoint": "middle-headlines"},
    ],
)
def test_requests_newsapi_would_refuse_are_refused_before_spending_one(
    fields: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        request(**fields)
