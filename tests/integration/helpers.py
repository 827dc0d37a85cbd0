"""Real-shaped events (from tests/events/*.json) and SNS delivery, as Lambda would do it."""

from __future__ import annotations

import copy
import json
import urllib.parse
from pathlib import Path
from typing import Any

from sentiment_pipeline.aws.clients import client

EVENTS = Path(__file__).parent.parent / "events"


class Context:
    """The attributes of Lambda's context object that the handlers read."""

    def __init__(self, request_id: str = "11111111-2222-3333-4444-555555555555") -> None:
        self.aws_request_id = request_id
        self.function_name = "test"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(loaded)


def function_url(
    path: str,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    """The recorded Function URL event, re-aimed at ``path``."""
    ev = event("function_url_get")
    raw_query = urllib.parse.urlencode(query or {})
    ev["rawPath"] = path
    ev["rawQueryString"] = raw_query
    ev["queryStringParameters"] = dict(query) if query else None
    ev["requestContext"]["http"]["path"] = path
    ev["requestContext"]["http"]["method"] = method
    ev["headers"] = {**ev["headers"], **{k.lower(): v for k, v in (headers or {}).items()}}
    return ev


class SnsTap:
    """An SQS queue subscribed to the topic: captures what SNS would deliver to Lambda.

    moto cannot invoke Lambda functions without Docker, so the tests take the
    messages SNS really fanned out and wrap them in the recorded SNS event shape.
    """

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        sqs = client("sqs")
        self.queue_url = sqs.create_queue(QueueName="sns-tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"]
        )

    def drain(self) -> list[str]:
        """The SNS messages delivered so far (their Message strings), removed from the queue."""
        sqs = client("sqs")
        messages: list[str] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            batch = got.get("Messages", [])
            if not batch:
                return messages
            for m in batch:
                envelope = json.loads(m["Body"])
                messages.append(envelope["Message"])
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def events(self) -> list[dict[str, Any]]:
        """One SNS -> Lambda event per delivered message (SNS sends one record per invoke)."""
        out = []
        for index, message in enumerate(self.drain()):
            ev = event("sns_item")
            record = ev["Records"][0]
            record["Sns"]["Message"] = message
            record["Sns"]["MessageId"] = f"00000000-0000-0000-0000-{index:012d}"
            record["Sns"]["TopicArn"] = self.topic_arn
            out.append(ev)
        return out


def scan(table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client("dynamodb").scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
