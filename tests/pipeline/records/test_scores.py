"""A model's scores: checked on construction, stored as floats, labelled by the compound."""

from __future__ import annotations

import dataclasses
import decimal
import math
from typing import Any

import pytest

from sentiment_pipeline.analysis import analyse
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository
from sentiment_pipeline.records import Sentiment, SentimentScores, Status
from tests.support.newsapi_fake import article


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
