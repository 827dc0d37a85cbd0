"""The items table: one DynamoDB table implementing the store ports.

Layout (see :func:`sentiment_pipeline.aws.provision.table_definition`):

- key ``pk`` = ``ITEM#`` + sha256(source, url);
- GSI ``by_published`` (``kind``, ``published_at``): the dashboard's listing
  and metrics, newest first;
- GSI ``by_ingested`` (``kind``, ``stream_key`` = ingested time + key): the live
  stream, whose cursor is the ``stream_key``;
- sparse GSI ``outbox`` (``outbox``, ``stream_key``): items not yet published
  to SNS; the attribute is removed once SNS accepted the item;
- ``ttl``: epoch seconds, DynamoDB's TTL attribute.

``kind`` is one constant partition: every listing is one ordered query. That
suits a news dashboard's volume (thousands of items a day); a much larger
table would shard ``kind`` by day.

Every write is conditional, so retries and duplicate deliveries are no-ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from sentiment_pipeline.aws.clients import client
from sentiment_pipeline.cursors import decode_cursor, encode_cursor
from sentiment_pipeline.errors import StorageUnavailableError
from sentiment_pipeline.ports import ItemQuery, MetricRow
from sentiment_pipeline.records import Item, Status, plain

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from sentiment_pipeline.records import AnalysisResult

__all__ = [
    "BY_INGESTED",
    "BY_PUBLISHED",
    "KIND",
    "OUTBOX",
    "DynamoRepository",
    "from_attributes",
    "to_attributes",
]

KIND = "ITEM"
BY_PUBLISHED = "by_published"
BY_INGESTED = "by_ingested"
OUTBOX = "outbox"
_OUTBOX_VALUE = "PENDING"
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _value(value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    if isinstance(value, dict):
        return {"M": {k: _value(v) for k, v in value.items() if v is not None}}
    return {"S": str(value)}


def _plain(value: dict[str, Any]) -> object:
    if "S" in value:
        return value["S"]
    if "N" in value:
        text = str(value["N"])
        return float(text) if any(c in text for c in ".eE") else int(text)
    if "BOOL" in value:
        return bool(value["BOOL"])
    if "M" in value:
        return {k: _plain(v) for k, v in value["M"].items()}
    if "NULL" in value:
        return None
    raise ValueError(f"unsupported DynamoDB value {sorted(value)}")


def to_attributes(item: Item) -> dict[str, Any]:
    """The item as a DynamoDB attribute map (None values omitted, index keys added)."""
    attributes = {
        key: _value(value)
        for key, value in item.to_dict().items()
        if value is not None and key != OUTBOX
    }
    attributes["kind"] = {"S": KIND}
    attributes["stream_key"] = {"S": item.stream_cursor}
    if item.outbox:
        attributes[OUTBOX] = {"S": _OUTBOX_VALUE}
    return attributes


def from_attributes(attributes: dict[str, Any]) -> Item:
    data = {key: _plain(value) for key, value in attributes.items()}
    data["outbox"] = OUTBOX in data
    return Item.from_dict(data)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class DynamoRepository:
    """Implements ItemWriter, AnalysisStore and ItemReader over one table."""

    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def name(self) -> str:
        return self.table

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """Call DynamoDB; any failure but a failed condition is StorageUnavailableError."""
        try:
            return getattr(client("dynamodb"), operation)(TableName=self.table, **kwargs)
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise
            raise StorageUnavailableError(self.table, f"{operation}: {error}") from error
        except BotoCoreError as error:
            raise StorageUnavailableError(self.table, f"{operation}: {error}") from error

    def _conditional(self, operation: str, **kwargs: Any) -> Any | None:
        """Like :meth:`_call`; None when the condition failed."""
        try:
            return self._call(operation, **kwargs)
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                return None
            raise  # pragma: no cover - _call re-raises only failed conditions

    # ItemWriter
    def put_new(self, item: Item) -> bool:
        answer = self._conditional(
            "put_item",
            Item=to_attributes(item),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return answer is not None

    def unpublished(self, limit: int) -> list[Item]:
        items: list[Item] = []
        start: dict[str, Any] | None = None
        while len(items) < limit:
            page = self._call(
                "query",
                IndexName=OUTBOX,
                KeyConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": OUTBOX},
                ExpressionAttributeValues={":o": {"S": _OUTBOX_VALUE}},
                Limit=min(limit - len(items), 100),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items.extend(from_attributes(a) for a in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return items

    def mark_published(self, pks: Sequence[str]) -> None:
        for pk in pks:
            self._conditional(
                "update_item",
                Key={"pk": {"S": pk}},
                UpdateExpression="REMOVE #o",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#o": OUTBOX},
            )

    # AnalysisStore
    def complete_analysis(self, pk: str, result: AnalysisResult) -> bool:
        scores = plain(result.scores)
        answer = self._conditional(
            "update_item",
            Key={"pk": {"S": pk}},
            UpdateExpression=(
                "SET #s = :analyzed, sentiment = :sentiment, scores = :scores, "
                "model_name = :model, model_version = :version, analyzed_at = :at "
                "REMOVE failure_reason ADD analyses :one"
            ),
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":analyzed": {"S": Status.ANALYZED.value},
                ":pending": {"S": Status.PENDING.value},
                ":sentiment": {"S": result.sentiment.value},
                ":scores": _value(scores),
                ":model": {"S": result.model_name},
                ":version": {"S": result.model_version},
                ":at": {"S": result.analyzed_at},
                ":one": {"N": "1"},
            },
        )
        return answer is not None

    def record_failure(self, pk: str, reason: str, *, max_attempts: int) -> Status | None:
        answer = self._conditional(
            "update_item",
            Key={"pk": {"S": pk}},
            UpdateExpression="SET failure_reason = :reason ADD attempts :one",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":reason": {"S": reason},
                ":one": {"N": "1"},
                ":pending": {"S": Status.PENDING.value},
            },
            ReturnValues="UPDATED_NEW",
        )
        if answer is None:
            return None
        attempts = int(answer["Attributes"]["attempts"]["N"])
        if attempts < max_attempts:
            return Status.PENDING
        failed = self._conditional(
            "update_item",
            Key={"pk": {"S": pk}},
            UpdateExpression="SET #s = :failed",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": Status.FAILED.value},
                ":pending": {"S": Status.PENDING.value},
            },
        )
        return Status.FAILED if failed is not None else None

    # ItemReader
    def ping(self) -> None:
        answer = self._call("describe_table")
        status = answer.get("Table", {}).get("TableStatus")
        if status not in ("ACTIVE", "UPDATING"):
            raise StorageUnavailableError(self.table, f"table status is {status}")

    def get(self, pk: str) -> Item | None:
        answer = self._call("get_item", Key={"pk": {"S": pk}}, ConsistentRead=True)
        found = answer.get("Item")
        return from_attributes(found) if found else None

    def query_items(
        self, query: ItemQuery, *, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        names = {"#k": "kind"}
        values: dict[str, Any] = {":k": {"S": KIND}}
        condition = "#k = :k"
        if query.since is not None:
            condition += " AND published_at >= :since"
            values[":since"] = {"S": query.since}
        filters = []
        if query.status is not None:
            names["#s"] = "status"
            values[":status"] = {"S": query.status}
            filters.append("#s = :status")
        if query.sentiment is not None:
            values[":sentiment"] = {"S": query.sentiment}
            filters.append("sentiment = :sentiment")
        if query.source is not None:
            values[":source"] = {"S": query.source}
            filters.append("(source_name = :source OR source_id = :source)")
        start: dict[str, Any] | None = None
        if cursor is not None:
            key = decode_cursor(cursor, ("published_at", "pk"))
            start = {
                "pk": {"S": key["pk"]},
                "kind": {"S": KIND},
                "published_at": {"S": key["published_at"]},
            }
        items: list[Item] = []
        while True:
            page = self._call(
                "query",
                IndexName=BY_PUBLISHED,
                KeyConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ScanIndexForward=False,
                # One more than needed: tells whether a next page exists.
                Limit=limit + 1 - len(items),
                **({"FilterExpression": " AND ".join(filters)} if filters else {}),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items.extend(from_attributes(a) for a in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if len(items) > limit or not start:
                break
        if len(items) > limit:
            last = items[limit - 1]
            return items[:limit], encode_cursor({"published_at": last.published_at, "pk": last.pk})
        return items, None

    def items_after(self, stream_cursor: str, *, limit: int) -> list[Item]:
        page = self._call(
            "query",
            IndexName=BY_INGESTED,
            KeyConditionExpression="#k = :k AND stream_key > :cursor",
            ExpressionAttributeNames={"#k": "kind"},
            ExpressionAttributeValues={":k": {"S": KIND}, ":cursor": {"S": stream_cursor}},
            ScanIndexForward=True,
            Limit=limit,
        )
        return [from_attributes(a) for a in page.get("Items", [])]

    def latest_stream_cursor(self) -> str | None:
        page = self._call(
            "query",
            IndexName=BY_INGESTED,
            KeyConditionExpression="#k = :k",
            ExpressionAttributeNames={"#k": "kind"},
            ExpressionAttributeValues={":k": {"S": KIND}},
            ScanIndexForward=False,
            Limit=1,
            ProjectionExpression="stream_key",
        )
        found = page.get("Items", [])
        return str(found[0]["stream_key"]["S"]) if found else None

    def metric_rows(self, since: str) -> Iterator[MetricRow]:
        start: dict[str, Any] | None = None
        while True:
            page = self._call(
                "query",
                IndexName=BY_PUBLISHED,
                KeyConditionExpression="#k = :k AND published_at >= :since",
                ExpressionAttributeNames={"#k": "kind", "#s": "status"},
                ExpressionAttributeValues={":k": {"S": KIND}, ":since": {"S": since}},
                ProjectionExpression="published_at, source_name, #s, sentiment",
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for a in page.get("Items", []):
                sentiment = a.get("sentiment", {}).get("S")
                yield MetricRow(
                    a["published_at"]["S"], a["source_name"]["S"], a["status"]["S"], sentiment
                )
            start = page.get("LastEvaluatedKey")
            if not start:
                return
