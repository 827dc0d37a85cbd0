"""Ingestion on in-memory ports: validation, dedupe, outbox and the no-loss property."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_pipeline.ingestion import ingest, normalise
from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository
from sentiment_pipeline.records import Status
from tests.support import oracle
from tests.support.newsapi_fake import article
from tests.support.strategies import raw_articles

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.models import ItemMessage

NOW = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


def test_new_articles_are_stored_pending_and_published(
    repo: InMemoryRepository, publisher: InMemoryPublisher
) -> None:
    summary = ingest([article(i) for i in range(3)], repo, publisher, now=NOW, ttl_days=7)
    assert (summary.fetched, summary.new, summary.duplicate, summary.failed) == (3, 3, 0, 0)
    assert summary.published == 3
    items = repo.items
    assert {i.status for i in items.values()} == {Status.PENDING}
    assert not any(i.outbox for i in items.values())
    assert {m.pk for m in publisher.messages} == set(items)
    item = next(iter(items.values()))
    assert item.ttl == int((NOW + dt.timedelta(days=7)).timestamp())
    assert item.ingested_at == "2024-05-02T08:00:00.000000Z"


def test_a_second_run_counts_duplicates_and_publishes_nothing(
    repo: InMemoryRepository, publisher: InMemoryPublisher
) -> None:
    ingest([article(1), article(2)], repo, publisher, now=NOW)
    again = ingest([article(2), article(3)], repo, publisher, now=NOW)
    assert (again.new, again.duplicate, again.published, again.republished) == (1, 1, 1, 0)
    assert len(repo.items) == 3
    assert len(publisher.messages) == 3


def test_removed_and_malformed_articles_are_dropped_and_counted(
    repo: InMemoryRepository, publisher: InMemoryPublisher
) -> None:
    removed = {**article(9), "title": "[Removed]"}
    no_url = {**article(10), "url": None}
    summary = ingest([article(1), removed, no_url, "junk"], repo, publisher, now=NOW)
    assert (summary.fetched, summary.new, summary.removed, summary.failed) == (4, 1, 1, 2)
    assert [i.title for i in repo.items.values()] == [article(1)["title"]]


def test_items_left_by_a_failed_publish_are_republished_next_run(
    repo: InMemoryRepository, publisher: InMemoryPublisher
) -> None:
    publisher.fail = True
    first = ingest([article(i) for i in range(12)], repo, publisher, now=NOW)
    assert (first.new, first.published, first.publish_failed) == (12, 0, 12)
    assert all(i.outbox for i in repo.items.values())

    publisher.fail = False
    second = ingest([article(0)], repo, publisher, now=NOW)
    assert (second.new, second.duplicate, second.republished) == (0, 1, 12)
    assert not any(i.outbox for i in repo.items.values())
    assert len(publisher.messages) == 12


def test_publishing_goes_in_batches_of_ten(repo: InMemoryRepository) -> None:
    batches: list[int] = []

    class Counting(InMemoryPublisher):
        def publish_batch(self, messages: Sequence[ItemMessage]) -> set[str]:
            batches.append(len(messages))
            return super().publish_batch(messages)

    ingest([article(i) for i in range(23)], repo, Counting(), now=NOW)
    assert batches == [10, 10, 3]


def test_the_analysis_text_drops_newsapis_truncation_marker() -> None:
    raw = {**article(1), "description": None}
    [item_article] = normalise([raw]).valid
    assert item_article.content is not None and "[+1234 chars]" in item_article.content
    repo = InMemoryRepository()
    ingest([raw], repo, InMemoryPublisher(), now=NOW)
    [item] = repo.items.values()
    assert item.text.endswith("truncates…")
    assert "chars]" not in item.text


@settings(max_examples=150, deadline=None)
@given(st.lists(raw_articles(), max_size=12))
def test_ingestion_never_loses_a_valid_article_nor_stores_an_invalid_one(
    raws: list[object],
) -> None:
    repo, publisher = InMemoryRepository(), InMemoryPublisher()
    summary = ingest(raws, repo, publisher, now=NOW)

    storable = [r for r in raws if oracle.is_valid(r) and not oracle.is_removed(r)]
    expected = {oracle.key_of(r) for r in storable if isinstance(r, dict)}
    assert set(repo.items) == expected
    for raw in storable:
        assert isinstance(raw, dict)
        stored = repo.items[oracle.key_of(raw)]
        assert stored.url == str(raw["url"]).strip()
    assert summary.new == len(expected)
    assert summary.new + summary.duplicate == len(storable)
    assert summary.failed == sum(not oracle.is_valid(r) for r in raws)
    assert summary.removed == sum(oracle.is_removed(r) for r in raws)
    assert {m.pk for m in publisher.messages} == expected
