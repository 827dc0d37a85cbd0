"""What the dashboard answers: its JSON bodies, as slotted dataclasses.

Written with :func:`sentiment_pipeline.records.serialise.to_json`; an item is
shown as an :class:`ItemView` (no storage internals).
"""

from __future__ import annotations

from dataclasses import dataclass

# At run time, not only for type checkers: whoever resolves these dataclasses' type hints
# (FastAPI and pydantic do, for response models) finds the names here.
from sentiment_pipeline.records.item import Item, Status  # noqa: TC001
from sentiment_pipeline.records.scores import Sentiment, SentimentScores  # noqa: TC001

__all__ = [
    "ErrorResponse",
    "HealthResponse",
    "ItemView",
    "ItemsResponse",
    "MetricsResponse",
    "StreamEvent",
]


@dataclass(slots=True, kw_only=True)
class ErrorResponse:
    error: str
    message: str


@dataclass(slots=True, kw_only=True)
class HealthResponse:
    status: str
    table: str
    environment: str


@dataclass(slots=True, kw_only=True)
class ItemView:
    """An item as the dashboard shows it (no storage internals)."""

    id: str
    source: str
    source_id: str | None
    url: str
    title: str
    description: str | None
    published_at: str
    ingested_at: str
    status: Status
    sentiment: Sentiment | None
    scores: SentimentScores | None
    model: str | None
    failure_reason: str | None

    @classmethod
    def of(cls, item: Item) -> ItemView:
        model = f"{item.model_name}/{item.model_version}" if item.model_name else None
        return cls(
            id=item.pk.removeprefix("ITEM#"),
            source=item.source_name,
            source_id=item.source_id,
            url=item.url,
            title=item.title,
            description=item.description,
            published_at=item.published_at,
            ingested_at=item.ingested_at,
            status=item.status,
            sentiment=item.sentiment,
            scores=item.scores,
            model=model,
            failure_reason=item.failure_reason,
        )


@dataclass(slots=True, kw_only=True)
class ItemsResponse:
    items: list[ItemView]
    next_cursor: str | None


@dataclass(slots=True, kw_only=True)
class MetricsResponse:
    window_start: str
    window_end: str
    total: int
    by_sentiment: dict[str, int]
    by_status: dict[str, int]
    by_source: dict[str, int]
    by_hour: dict[str, dict[str, int]]


@dataclass(slots=True, kw_only=True)
class StreamEvent:
    """One server-sent event: the item, with its cursor as the event id."""

    id: str
    item: ItemView
