"""The pipeline's records without pydantic: the stored item, scores, and the dashboard's answers.

What the store holds (:mod:`.item`), what a model returns and an analysis writes
(:mod:`.scores`) and what the dashboard answers (:mod:`.answers`, written as JSON
by :mod:`.serialise`) are frozen or slotted dataclasses. They are validated
where data crosses a boundary: :meth:`Item.from_dict` checks what is read back
from the table, :class:`SentimentScores` checks what a model returns. The
boundaries with outside data (NewsAPI articles, SNS messages, ingestion
requests) are pydantic models in :mod:`sentiment_pipeline.models`, which also
convert between themselves and these records; this package never imports them.

Keeping pydantic out of these modules keeps it out of the dashboard's cold start:
the dashboard only reads items and answers JSON (measured in
``benchmarks/bench_coldstart.py``: pydantic's import and first schema builds
cost about 50 ms of a cold start).

>>> item_key("bbc-news", "https://example.com/a")[:5]
'ITEM#'
>>> label_for(0.05), label_for(-0.05), label_for(0.0)
(<Sentiment.POSITIVE: 'positive'>, <Sentiment.NEGATIVE: 'negative'>, <Sentiment.NEUTRAL: 'neutral'>)
>>> to_json(HealthResponse(status="ok", table="items", environment="dev"))
'{"status":"ok","table":"items","environment":"dev"}'
"""

from sentiment_pipeline.records.answers import (
    ErrorResponse,
    HealthResponse,
    ItemsResponse,
    ItemView,
    MetricsResponse,
    StreamEvent,
)
from sentiment_pipeline.records.item import (
    Item,
    Status,
    analysis_text,
    iso,
    item_key,
    parse_time,
)
from sentiment_pipeline.records.scores import (
    NEGATIVE_THRESHOLD,
    POSITIVE_THRESHOLD,
    AnalysisResult,
    Sentiment,
    SentimentScores,
    label_for,
)
from sentiment_pipeline.records.serialise import plain, to_json

__all__ = [
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "AnalysisResult",
    "ErrorResponse",
    "HealthResponse",
    "Item",
    "ItemView",
    "ItemsResponse",
    "MetricsResponse",
    "Sentiment",
    "SentimentScores",
    "Status",
    "StreamEvent",
    "analysis_text",
    "iso",
    "item_key",
    "label_for",
    "parse_time",
    "plain",
    "to_json",
]
