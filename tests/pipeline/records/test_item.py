"""The stored item: what is read back from the table is checked; items are immutable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from sentiment_pipeline.memory import InMemoryRepository
from sentiment_pipeline.models import NewsArticle
from sentiment_pipeline.records import (
    AnalysisResult,
    Item,
    Sentiment,
    SentimentScores,
    Status,
    iso,
    item_key,
    parse_time,
)
from tests.support.newsapi_fake import article

NOW = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


def _item(**changes: Any) -> Item:
    parsed = NewsArticle.model_validate(article(1))
    return dataclasses.replace(parsed.to_item(now=NOW, ttl_days=30), **changes)


def _stored(item: Item) -> dict[str, Any]:
    """The item as the table's attributes read back (plain values, None omitted)."""
    return {k: v for k, v in item.to_dict().items() if v is not None}


def test_items_round_trip_through_their_stored_values() -> None:
    analysed = _item(
        status=Status.ANALYZED,
        sentiment=Sentiment.NEGATIVE,
        scores=SentimentScores(-0.6, 0.0, 0.4, 0.6),
        model_name="vader",
        model_version="3.3.2",
        analyzed_at="2024-05-02T09:00:00Z",
        analyses=1,
    )
    for item in (_item(), analysed):
        assert Item.from_dict(_stored(item)) == item
        assert Item.from_dict(json.loads(json.dumps(_stored(item)))) == item
    # What DynamoDB gives back: numbers that may be floats, keys we do not know.
    data = {**_stored(analysed), "ttl": float(analysed.ttl), "kind": "ITEM", "stream_key": "x"}
    assert Item.from_dict(data) == analysed


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"pk": None}, "pk must be a string"),
        ({"title": 3}, "title must be a string"),
        ({"ttl": "soon"}, "ttl must be an integer"),
        ({"ttl": 1.5}, "ttl must be an integer"),
        ({"attempts": True}, "attempts must be an integer"),
        ({"status": "DONE"}, "not a valid Status"),
        ({"status": 1}, "status and sentiment must be strings"),
        ({"sentiment": "ecstatic"}, "not a valid Sentiment"),
        ({"scores": "high"}, "scores must be a map"),
        ({"scores": {"compound": 0.5}}, "scores must have exactly the keys"),
        ({"description": ["a"]}, "description must be a string or null"),
        ({"outbox": "yes"}, "outbox must be a boolean"),
    ],
)
def test_a_malformed_stored_item_is_refused(changes: dict[str, Any], problem: str) -> None:
    data = {**_stored(_item()), **changes}
    with pytest.raises(ValueError, match=problem):
        Item.from_dict(data)


def test_a_missing_required_field_is_refused() -> None:
    data = _stored(_item())
    del data["published_at"]
    with pytest.raises(ValueError, match="published_at must be a string"):
        Item.from_dict(data)


def test_items_are_immutable_and_the_memory_store_hands_out_copies() -> None:
    repo = InMemoryRepository()
    item = _item()
    repo.put_new(item)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.title = "changed"  # type: ignore[misc]
    scores = SentimentScores(0.5, 0.5, 0.5, 0.0)
    result = AnalysisResult(
        scores=scores,
        sentiment=scores.label,
        model_name="m",
        model_version="1",
        analyzed_at="2024-05-02T09:00:00Z",
    )
    assert repo.complete_analysis(item.pk, result)
    assert item.status is Status.PENDING  # the value put is not changed by the update
    assert repo.items[item.pk] == dataclasses.replace(
        item,
        status=Status.ANALYZED,
        sentiment=Sentiment.POSITIVE,
        scores=scores,
        model_name="m",
        model_version="1",
        analyzed_at="2024-05-02T09:00:00Z",
        analyses=1,
    )


def test_stored_times_are_utc_fixed_width_and_sort_as_text() -> None:
    moments = [
        dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2024, 5, 2, 4, 0, 0, 5, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC),
    ]
    texts = [iso(m, micro=True) for m in moments]
    assert texts[0] == "2024-05-02T04:30:00.000000Z"
    assert sorted(texts) == [iso(m, micro=True) for m in sorted(moments)]
    assert all(parse_time(t) == m for t, m in zip(texts, moments, strict=True))
    assert parse_time("2024-05-01T10:00:00") == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        parse_time("yesterday")


def test_the_key_is_the_article_not_the_delivery() -> None:
    assert item_key("bbc-news", "https://e.example/a") == item_key(
        "bbc-news", "https://e.example/a"
    )
    assert item_key("bbc-news", "https://e.example/a") != item_key("bbc", "https://e.example/a")
