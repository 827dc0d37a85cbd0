"""The DynamoDB adapter against a moto server: conditional writes, indexes, pagination."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment_pipeline.aws.clients import client
from sentiment_pipeline.aws.dynamodb import DynamoRepository, from_attributes, to_attributes
from sentiment_pipeline.aws.sns import SnsPublisher
from sentiment_pipeline.errors import StorageUnavailableError
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.memory import InMemoryRepository
from sentiment_pipeline.models import NewsArticle
from sentiment_pipeline.ports import ItemQuery
from sentiment_pipeline.records import AnalysisResult, Item, Sentiment, SentimentScores, Status
from tests.integration.helpers import scan
from tests.support import oracle
from tests.support.newsapi_fake import article
from tests.support.strategies import raw_articles

if TYPE_CHECKING:
    from tests.integration.conftest import Pipeline

NOW = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


def _item(index: int, **raw: object) -> Item:
    parsed = NewsArticle.model_validate({**article(index), **raw})
    return parsed.to_item(now=NOW + dt.timedelta(seconds=index), ttl_days=30)


def _result(compound: float = 0.6) -> AnalysisResult:
    scores = SentimentScores(compound=compound, positive=0.5, neutral=0.5, negative=0.0)
    return AnalysisResult(
        scores=scores,
        sentiment=scores.label,
        model_name="vader",
        model_version="3.3.2",
        analyzed_at="2024-05-02T09:00:00Z",
    )


@pytest.fixture
def table(pipeline: Pipeline) -> DynamoRepository:
    return DynamoRepository(pipeline.resources.table)


def test_items_round_trip_through_attributes(table: DynamoRepository) -> None:
    item = _item(1)
    assert from_attributes(to_attributes(item)) == item
    assert table.put_new(item)
    assert table.get(item.pk) == item
    assert table.complete_analysis(item.pk, _result())
    stored = table.get(item.pk)
    assert stored is not None
    assert (stored.status, stored.sentiment, stored.analyses) == (
        Status.ANALYZED,
        Sentiment.POSITIVE,
        1,
    )
    assert stored.scores == _result().scores


def test_the_put_is_conditional(table: DynamoRepository) -> None:
    item = _item(1)
    assert table.put_new(item) is True
    changed = dataclasses.replace(item, title="overwritten?")
    assert table.put_new(changed) is False
    assert table.get(item.pk) == item


def test_the_outbox_is_a_sparse_index(table: DynamoRepository) -> None:
    items = [_item(i) for i in range(5)]
    for item in items:
        table.put_new(item)
    waiting = table.unpublished(100)
    assert [i.pk for i in waiting] == [i.pk for i in items]  # oldest first
    table.mark_published([items[0].pk, items[3].pk, "ITEM#" + "0" * 64])
    assert [i.pk for i in table.unpublished(100)] == [items[i].pk for i in (1, 2, 4)]
    assert table.get("ITEM#" + "0" * 64) is None  # marking never creates an item


def test_analysis_updates_only_pending_items(table: DynamoRepository) -> None:
    item = _item(1)
    table.put_new(item)
    assert table.complete_analysis(item.pk, _result(0.6))
    assert not table.complete_analysis(item.pk, _result(-0.9))
    stored = table.get(item.pk)
    assert stored is not None and (stored.sentiment, stored.analyses) == (Sentiment.POSITIVE, 1)
    assert not table.complete_analysis("ITEM#" + "1" * 64, _result())
    assert table.get("ITEM#" + "1" * 64) is None


def test_failures_are_counted_until_failed(table: DynamoRepository) -> None:
    item = _item(1)
    table.put_new(item)
    assert table.record_failure(item.pk, "boom 1", max_attempts=2) is Status.PENDING
    assert table.record_failure(item.pk, "boom 2", max_attempts=2) is Status.FAILED
    assert table.record_failure(item.pk, "boom 3", max_attempts=2) is None
    stored = table.get(item.pk)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.failure_reason) == (Status.FAILED, 2, "boom 2")
    assert not table.complete_analysis(item.pk, _result())


def test_listing_matches_the_in_memory_twin_page_by_page(table: DynamoRepository) -> None:
    twin = InMemoryRepository()
    for i in range(40):
        item = _item(i, source={"id": None, "name": ["BBC", "CNN"][i % 2]})
        for store in (table, twin):
            store.put_new(item)
        if i % 3 == 0:
            for store in (table, twin):
                store.complete_analysis(item.pk, _result(0.6 if i % 2 else -0.6))
    queries = [
        ItemQuery(),
        ItemQuery(status="ANALYZED"),
        ItemQuery(sentiment="negative"),
        ItemQuery(source="CNN", since="2024-05-01T10:00:00Z"),
        ItemQuery(status="PENDING", source="BBC"),
    ]
    for query in queries:
        pages = []
        for store in (table, twin):
            keys, cursor = [], None
            while True:
                page, cursor = store.query_items(query, limit=6, cursor=cursor)
                keys.append([i.pk for i in page])
                if cursor is None:
                    break
            pages.append(keys)
        assert pages[0] == pages[1], query
        assert sum(len(p) for p in pages[0]) > 0


def test_stream_positions(table: DynamoRepository) -> None:
    assert table.latest_stream_cursor() is None
    items = [_item(i) for i in range(4)]
    for item in items:
        table.put_new(item)
    assert table.latest_stream_cursor() == items[-1].stream_cursor
    after = table.items_after(items[1].stream_cursor, limit=10)
    assert [i.pk for i in after] == [items[2].pk, items[3].pk]
    assert [i.pk for i in table.items_after("2000-01-01T00:00:00.000000Z", limit=3)] == [
        i.pk for i in items[:3]
    ]


def test_metric_rows_cover_the_window(table: DynamoRepository) -> None:
    for i in range(10):
        table.put_new(_item(i))
    rows = list(table.metric_rows("2024-05-01T05:00:00Z"))
    assert sorted(r.published_at for r in rows) == [
        f"2024-05-01T{h:02d}:{h:02d}:00Z" for h in range(5, 10)
    ]
    assert {(r.status, r.sentiment, r.source) for r in rows} == {("PENDING", None, "Example News")}


def test_a_missing_table_is_storage_unavailable(pipeline: Pipeline) -> None:
    client("dynamodb").delete_table(TableName=pipeline.resources.table)
    with pytest.raises(StorageUnavailableError, match="ResourceNotFoundException"):
        DynamoRepository(pipeline.resources.table).ping()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(raw_articles(), max_size=8))
def test_ingestion_into_dynamodb_never_loses_a_valid_article_nor_stores_an_invalid_one(
    pipeline: Pipeline, raws: list[object]
) -> None:
    table_name = pipeline.resources.table
    repo = DynamoRepository(table_name)
    summary = ingest(raws, repo, SnsPublisher(pipeline.resources.topic_arn), now=NOW)
    stored = {a["pk"]["S"]: from_attributes(a) for a in scan(table_name)}
    try:
        storable = [r for r in raws if oracle.is_valid(r) and not oracle.is_removed(r)]
        assert set(stored) == {oracle.key_of(r) for r in storable if isinstance(r, dict)}
        assert summary.new == len(stored)
        assert summary.failed == sum(not oracle.is_valid(r) for r in raws)
        assert not any(i.outbox for i in stored.values())  # all published
    finally:
        for pk in stored:
            client("dynamodb").delete_item(TableName=table_name, Key={"pk": {"S": pk}})
