"""In-memory implementations of the ports (:mod:`sentiment_pipeline.ports`).

They keep the same conditional semantics as the DynamoDB adapter (a put never
overwrites, an analysis only moves a PENDING item), so the domain tests and the
analysis benchmark exercise the real plumbing without a server. Thread-safe:
concurrent ingestions can share one.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.cursors import decode_cursor, encode_cursor
from sentiment_pipeline.errors import SecretUnavailableError
from sentiment_pipeline.ports import ItemQuery, MetricRow
from sentiment_pipeline.records import Item, Status

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from sentiment_pipeline.models import ItemMessage
    from sentiment_pipeline.records import AnalysisResult

__all__ = ["InMemoryPublisher", "InMemoryRepository", "InMemorySecrets"]


def matches(item: Item, query: ItemQuery) -> bool:
    """Whether an item passes the dashboard's filters (the DynamoDB filter's twin)."""
    return (
        (query.status is None or item.status == query.status)
        and (query.sentiment is None or item.sentiment == query.sentiment)
        and (query.source is None or query.source in (item.source_name, item.source_id))
        and (query.since is None or item.published_at >= query.since)
    )


_FIELDS = tuple(f.name for f in dataclasses.fields(Item))


class InMemoryRepository:
    """Items behind a lock; implements ItemWriter, AnalysisStore and ItemReader.

    Like the table, it keeps each item's values (a row) and updates them in
    place; reads return new :class:`~sentiment_pipeline.records.Item` values.
    """

    def __init__(self, name: str = "memory") -> None:
        self._name = name
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def items(self) -> Mapping[str, Item]:
        with self._lock:
            return {pk: Item(**row) for pk, row in self._rows.items()}

    def _all(self) -> list[Item]:
        with self._lock:
            return [Item(**row) for row in self._rows.values()]

    # ItemWriter
    def put_new(self, item: Item) -> bool:
        with self._lock:
            if item.pk in self._rows:
                return False
            self._rows[item.pk] = {name: getattr(item, name) for name in _FIELDS}
            return True

    def unpublished(self, limit: int) -> list[Item]:
        waiting = [i for i in self._all() if i.outbox]
        return sorted(waiting, key=lambda i: i.stream_cursor)[:limit]

    def mark_published(self, pks: Sequence[str]) -> None:
        with self._lock:
            for pk in pks:
                row = self._rows.get(pk)
                if row is not None:
                    row["outbox"] = False

    # AnalysisStore
    def complete_analysis(self, pk: str, result: AnalysisResult) -> bool:
        with self._lock:
            row = self._rows.get(pk)
            if row is None or row["status"] is not Status.PENDING:
                return False
            row["status"] = Status.ANALYZED
            row["sentiment"] = result.sentiment
            row["scores"] = result.scores
            row["model_name"] = result.model_name
            row["model_version"] = result.model_version
            row["analyzed_at"] = result.analyzed_at
            row["analyses"] += 1
            row["failure_reason"] = None
            return True

    def record_failure(self, pk: str, reason: str, *, max_attempts: int) -> Status | None:
        with self._lock:
            row = self._rows.get(pk)
            if row is None or row["status"] is not Status.PENDING:
                return None
            row["attempts"] += 1
            row["failure_reason"] = reason
            if row["attempts"] >= max_attempts:
                row["status"] = Status.FAILED
            status: Status = row["status"]
            return status

    # ItemReader
    def ping(self) -> None:
        return None

    def query_items(
        self, query: ItemQuery, *, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        ordered = sorted(
            (i for i in self._all() if matches(i, query)),
            key=lambda i: (i.published_at, i.pk),
            reverse=True,
        )
        if cursor is not None:
            key = decode_cursor(cursor, ("published_at", "pk"))
            after = (key["published_at"], key["pk"])
            ordered = [i for i in ordered if (i.published_at, i.pk) < after]
        page = ordered[:limit]
        more = len(ordered) > limit
        next_cursor = (
            encode_cursor({"published_at": page[-1].published_at, "pk": page[-1].pk})
            if more
            else None
        )
        return page, next_cursor

    def items_after(self, stream_cursor: str, *, limit: int) -> list[Item]:
        newer = [i for i in self._all() if i.stream_cursor > stream_cursor]
        return sorted(newer, key=lambda i: i.stream_cursor)[:limit]

    def latest_stream_cursor(self) -> str | None:
        return max((i.stream_cursor for i in self._all()), default=None)

    def metric_rows(self, since: str) -> Iterator[MetricRow]:
        for item in self._all():
            if item.published_at >= since:
                sentiment = item.sentiment.value if item.sentiment else None
                yield MetricRow(item.published_at, item.source_name, item.status.value, sentiment)


class InMemoryPublisher:
    """Records published messages; ``fail`` makes the next batches fail (outage simulation)."""

    def __init__(self) -> None:
        self.messages: list[ItemMessage] = []
        self.fail = False
        self._lock = threading.Lock()

    def publish_batch(self, messages: Sequence[ItemMessage]) -> set[str]:
        if len(messages) > 10:
            raise ValueError("SNS PublishBatch takes at most 10 entries")
        if self.fail:
            return set()
        with self._lock:
            self.messages.extend(messages)
        return {m.pk for m in messages}


class InMemorySecrets:
    """A mapping of secret ids to values; a missing id is unavailable, as in Secrets Manager."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.reads = 0

    def get_secret(self, secret_id: str) -> str:
        self.reads += 1
        try:
            return self.values[secret_id]
        except KeyError:
            raise SecretUnavailableError(secret_id, "no such secret") from None
