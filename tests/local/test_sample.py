"""The sample feed behind the local NewsAPI: history, releases over time and on demand."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.local.newsapi import LocalNewsAPI
from sentiment_pipeline.local.sample import SampleFeed

if TYPE_CHECKING:
    from collections.abc import Iterator

START = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
KEY = "sample-key"


class Clock:
    """The feed's time, moved by the test (nothing waits)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def articles(count: int) -> list[dict[str, Any]]:
    return [
        {"source": {"id": None, "name": "Sample"}, "title": f"story {i}", "url": f"https://s/{i}"}
        for i in range(count)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def feed(clock: Clock) -> SampleFeed:
    # Two articles of history, then one every minute: story 2 at 12:01, story 3 at 12:02...
    return SampleFeed(
        started=START,
        initial=2,
        history_hours=1,
        release_every=60,
        articles=articles(8),
        clock=clock,
    )


@pytest.fixture
def newsapi(feed: SampleFeed) -> Iterator[LocalNewsAPI]:
    api = LocalNewsAPI(api_key=KEY, feed=feed).start()
    try:
        yield api
    finally:
        api.stop()


def titles(api: LocalNewsAPI) -> list[str]:
    """One page of /v2/everything, as the ingestion Lambda asks for it."""
    request = urllib.request.Request(
        f"{api.url}/v2/everything?page=1&pageSize=100", headers={"X-Api-Key": KEY}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return [a["title"] for a in json.load(answer)["articles"]]


def test_history_first_then_one_article_per_interval(
    feed: SampleFeed, newsapi: LocalNewsAPI, clock: Clock
) -> None:
    assert titles(newsapi) == ["story 1", "story 0"]
    clock.now = START + dt.timedelta(seconds=125)
    assert titles(newsapi) == ["story 3", "story 2", "story 1", "story 0"]  # newest first
    assert feed.remaining == 4


def test_served_counts_what_an_ingestion_saw_first_released_on_demand_and_over_time(
    feed: SampleFeed, newsapi: LocalNewsAPI, clock: Clock
) -> None:
    """What `POST /_local/ingest?release=3` reports: 3 released now, and the articles the
    feed's clock released since the previous ingestion, which it sees first too."""
    titles(newsapi)  # the previous ingestion
    assert feed.served == 2
    clock.now = START + dt.timedelta(seconds=125)  # stories 2 and 3 released over time
    assert feed.release_next(3) == 3  # stories 4, 5, 6 published now
    before = feed.served
    seen = titles(newsapi)
    assert feed.served - before == 3 + 2
    assert set(seen[:3]) == {"story 4", "story 5", "story 6"}  # dated now: the newest
    titles(newsapi)
    assert feed.served - before == 5  # seen again: not counted twice
    assert feed.remaining == 1
    assert feed.release_next(3) == 1  # only what is left
