"""The small interfaces the domains talk to; adapters implement them.

The ingestion, analysis and dashboard domains never import boto3: they receive
objects satisfying these Protocols. ``sentiment_pipeline.aws`` implements them
over DynamoDB, SNS and Secrets Manager; :mod:`sentiment_pipeline.memory`
implements them in memory (for tests of the plumbing and for benchmarks).

Every write is idempotent, because delivery is at-least-once everywhere: a
retried put, publish or analysis must never double-count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from sentiment_pipeline.models import ItemMessage
    from sentiment_pipeline.records import AnalysisResult, Item, Status

__all__ = [
    "AnalysisStore",
    "ItemQuery",
    "ItemReader",
    "ItemWriter",
    "MetricRow",
    "Publisher",
    "SecretSource",
]


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """Filters of the dashboard's item listing (all optional, combined with AND)."""

    status: str | None = None
    sentiment: str | None = None
    source: str | None = None
    since: str | None = None  # a stored-format time: published_at >= since


@dataclass(frozen=True, slots=True)
class MetricRow:
    """The few attributes the metrics need of an item."""

    published_at: str
    source: str
    status: str
    sentiment: str | None


class ItemWriter(Protocol):
    """What ingestion needs of the store."""

    def put_new(self, item: Item) -> bool:
        """Store the item unless its key exists (conditional put); True if stored."""

    def unpublished(self, limit: int) -> list[Item]:
        """Items still waiting to be published to SNS, oldest first."""

    def mark_published(self, pks: Sequence[str]) -> None:
        """Take the items out of the outbox (idempotent)."""


class AnalysisStore(Protocol):
    """What analysis needs of the store."""

    def complete_analysis(self, pk: str, result: AnalysisResult) -> bool:
        """PENDING -> ANALYZED with the result; False (and no change) for any other state."""

    def record_failure(self, pk: str, reason: str, *, max_attempts: int) -> Status | None:
        """Count a failed attempt on a PENDING item; FAILED with the reason at ``max_attempts``.

        Returns the item's status afterwards, or None if it was not PENDING (or absent).
        """


class ItemReader(Protocol):
    """What the dashboard needs of the store."""

    @property
    def name(self) -> str:
        """The store's name (the table), for health reports."""

    def ping(self) -> None:
        """Raise :class:`~sentiment_pipeline.errors.StorageUnavailableError` if unreachable."""

    def query_items(
        self, query: ItemQuery, *, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        """Newest published first; returns the page and the cursor of the next one."""

    def items_after(self, stream_cursor: str, *, limit: int) -> list[Item]:
        """Items ingested after the cursor (``Item.stream_cursor`` order), oldest first."""

    def latest_stream_cursor(self) -> str | None:
        """The cursor of the newest ingested item, or None when the store is empty."""

    def metric_rows(self, since: str) -> Iterator[MetricRow]:
        """Every item published at or after ``since``."""


class Publisher(Protocol):
    """Where ingestion announces new items (SNS)."""

    def publish_batch(self, messages: Sequence[ItemMessage]) -> set[str]:
        """Publish up to 10 messages; returns the keys of those that were accepted."""


class SecretSource(Protocol):
    """Where secret values come from (Secrets Manager)."""

    def get_secret(self, secret_id: str) -> str:
        """The secret's value; raises ``SecretUnavailableError`` when it cannot be read."""
