"""The dashboard's answers: items shown without storage internals, as compact JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sentiment_pipeline.models import NewsArticle
from sentiment_pipeline.records import (
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
