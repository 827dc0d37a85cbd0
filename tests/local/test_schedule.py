"""The ingestion Lambda's triggers: now, on a schedule, after sample releases."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from sentiment_pipeline.local.runner import Invocation
from sentiment_pipeline.local.sample import SampleFeed
from sentiment_pipeline.local.schedule import IngestionSchedule

WAIT = 60.0  # a bound on waits for a condition, never a timing assertion
START = dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.UTC)


class Ingestion:
    """Stands in for the ingestion Lambda: reads the feed as NewsAPI would serve it."""

    def __init__(self, feed: SampleFeed | None = None) -> None:
        self.feed = feed
        self.events: list[dict[str, Any]] = []
        self.seen: list[int] = []
        self.twice = threading.Event()

    def __call__(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        if len(self.events) >= 2:
            self.twice.set()
        articles = self.feed() if self.feed is not None else []
        self.seen.append(len(articles))
        return Invocation(request_id=str(uuid.uuid4()), ok=True, result={"new": len(articles)})


def schedule(
    ingestion: Ingestion, every: float = 60.0, stop: threading.Event | None = None
) -> tuple[IngestionSchedule, list[int]]:
    changes: list[int] = []
    triggers = IngestionSchedule(
        ingestion, every=every, stop=stop or threading.Event(), changed=lambda: changes.append(1)
    )
    triggers.feed = ingestion.feed
    return triggers, changes


def test_an_ingestion_now_sends_a_scheduled_event_with_the_detail() -> None:
    ingestion = Ingestion()
    triggers, changes = schedule(ingestion)
    invocation = triggers.ingest({"q": "harbour"})
    assert invocation.ok
    (event,) = ingestion.events
    assert event["detail-type"] == "Scheduled Event" and event["detail"] == {"q": "harbour"}
    assert changes == [1]  # the table may have changed


def test_without_the_sample_nothing_is_released() -> None:
    triggers, _ = schedule(Ingestion())
    invocation, released, over_time = triggers.ingest_releasing(5)
    assert invocation.ok and (released, over_time) == (0, None)


def test_releases_and_the_samples_clock_are_told_apart() -> None:
    now = [START]
    feed = SampleFeed(started=START, initial=3, release_every=60, clock=lambda: now[0])
    ingestion = Ingestion(feed)
    triggers, _ = schedule(ingestion)

    first = triggers.ingest_releasing(None)
    assert first[1:] == (0, 3)  # the history: 3 articles, seen for the first time

    now[0] = START + dt.timedelta(seconds=61)  # the clock published one more
    second = triggers.ingest_releasing(2)
    assert second[1:] == (2, 1)
    assert ingestion.seen == [3, 6]


def test_the_schedule_ingests_until_stopped() -> None:
    ingestion, stop = Ingestion(), threading.Event()
    triggers, _ = schedule(ingestion, every=0.01, stop=stop)
    thread = threading.Thread(target=triggers.run)
    thread.start()
    assert ingestion.twice.wait(WAIT)
    stop.set()
    thread.join()
    assert all(e["detail-type"] == "Scheduled Event" for e in ingestion.events)
