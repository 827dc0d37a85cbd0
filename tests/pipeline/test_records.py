"""The pydantic-free records: checks on what is read back or returned by a model, and JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
from typing import Any

import pytest

from sentiment_pipeline.analysis import analyse
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository
from sentiment_pipeline.models import NewsArticle
from sentiment_pipeline.records import (
    AnalysisResult,
    Item,
    ItemsResponse,
    ItemView,
    Sentiment,
    SentimentScores,
    Status,
    to_json,
)
from tests.support.newsapi_fake import article

NOW = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


def _item(**changes: Any) -> Item:
    parsed = NewsArticle.model_validate(article(1))
    return dataclasses.replace(parsed.to_item(now=NOW, ttl_days=30), **changes)


def _stored(item: Item) -> dict[str, Any]:
    """The item as the table's attributes read back (plain values, None omitted)."""
    return {k: v for k, v in item.to_dict().items() if v is not None}


def test_scores_are_checked_and_stored_as_floats() -> None:
    zero: Any = decimal.Decimal("0")  # what a plugin might return; converted to float
    scores = SentimentScores(1, 0, 1, zero)
    assert scores == SentimentScores(1.0, 0.0, 1.0, 0.0)
    assert all(type(v) is float for v in dataclasses.astuple(scores))
    assert scores.label is Sentiment.POSITIVE


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ((1.01, 0.0, 1.0, 0.0), "compound must be in"),
        ((-1.5, 0.0, 1.0, 0.0), "compound must be in"),
        ((math.nan, 0.0, 1.0, 0.0), "compound must be in"),
        ((0.0, -0.1, 1.0, 0.0), "positive must be in"),
        ((0.0, 0.0, 1.2, 0.0), "neutral must be in"),
        ((0.0, 0.0, 1.0, math.inf), "negative must be in"),
        ((0.0, "0.5", 1.0, 0.0), "positive must be a number"),
        ((True, 0.0, 1.0, 0.0), "compound must be a number"),
        ((0.0, 0.0, None, 0.0), "neutral must be a number"),
    ],
)
def test_out_of_range_scores_are_refused(values: tuple[Any, ...], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SentimentScores(*values)


def test_a_model_returning_bad_scores_fails_the_item_not_the_batch() -> None:
    class Overconfident:
        name, version = "overconfident", "1"

        def score(self, text: str) -> SentimentScores:
            return SentimentScores(2.0, 1.0, 0.0, 0.0)

    repo, publisher = InMemoryRepository(), InMemoryPublisher()
    ingest([article(1)], repo, publisher)
    summary = analyse(publisher.messages, Overconfident(), repo, max_attempts=1)
    assert summary.failed == 1
    [item] = repo.items.values()
    assert item.status is Status.FAILED
    assert item.failure_reason == (
        "overconfident: ValueError: compound must be in [-1, 1], not 2.0"
    )


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


def test_dashboard_json_is_compact_utf8_with_enum_values() -> None:
    item = _item(
        title="Zürich rallies",
        status=Status.ANALYZED,
        sentiment=Sentiment.POSITIVE,
        scores=SentimentScores(0.5, 0.25, 0.75, 0.0),
        model_name="vader",
        model_version="3.3.2",
    )
    body = to_json(ItemsResponse(items=[ItemView.of(item)], next_cursor=None))
    assert body.startswith('{"items":[{"id":"')
    assert "Zürich" in body  # UTF-8, not \\u escapes
    view = json.loads(body)["items"][0]
    assert (view["status"], view["sentiment"], view["model"]) == (
        "ANALYZED",
        "positive",
        "vader/3.3.2",
    )
    assert view["scores"] == {"compound": 0.5, "positive": 0.25, "neutral": 0.75, "negative": 0.0}
    assert json.loads(body)["next_cursor"] is None
