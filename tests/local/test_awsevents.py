"""The events the local stack hands its Lambdas have the shape of AWS's own (tests/events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sentiment_pipeline.analysis import parse_sns_event
from sentiment_pipeline.local.awsevents import ACCOUNT, scheduled_event, sns_event
from sentiment_pipeline.local.motoclients import REGION

EVENTS = Path(__file__).resolve().parents[1] / "events"


def recorded(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def shape(value: object) -> object:
    """The keys of every object, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_the_scheduled_event_is_eventbridges() -> None:
    event = scheduled_event(now=1714730400.0)
    assert shape(event) == shape(recorded("eventbridge_schedule.json"))
    assert event["time"] == "2024-05-03T10:00:00Z"
    assert (event["region"], event["account"]) == (REGION, ACCOUNT)
    assert event["resources"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/sentiment-pipeline-local"
    ]
    assert scheduled_event()["id"] != scheduled_event()["id"]


def test_the_sns_event_is_lambdas_for_what_sns_delivered_to_sqs() -> None:
    real = recorded("sns_item.json")["Records"][0]
    notification = real["Sns"]
    # What SNS writes into an SQS message body (its own spelling of two URL keys).
    envelope = {
        **{k: v for k, v in notification.items() if k not in ("SigningCertUrl", "UnsubscribeUrl")},
        "SigningCertURL": notification["SigningCertUrl"],
        "UnsubscribeURL": notification["UnsubscribeUrl"],
        "MessageAttributes": {"kind": {"Type": "String", "Value": "item"}},
    }
    event = sns_event(envelope, real["EventSubscriptionArn"])
    attributes = envelope["MessageAttributes"]
    assert shape(event) == shape(
        {"Records": [{**real, "Sns": {**notification, "MessageAttributes": attributes}}]}
    )
    sns = event["Records"][0]["Sns"]
    assert {k: v for k, v in sns.items() if k != "MessageAttributes"} == {
        k: v for k, v in notification.items() if k != "MessageAttributes"
    }
    assert sns["MessageAttributes"] == {"kind": {"Type": "String", "Value": "item"}}
    messages, problems = parse_sns_event(event)
    assert problems == [] and [m.pk for m in messages] == [json.loads(sns["Message"])["pk"]]


def test_a_bare_message_gets_lambdas_defaults() -> None:
    (record,) = sns_event({"Message": "hello"}, "arn:sub")["Records"]
    assert record["EventSubscriptionArn"] == "arn:sub"
    sns = record["Sns"]
    assert (sns["Type"], sns["Message"], sns["MessageAttributes"]) == ("Notification", "hello", {})
    assert sns["MessageId"]  # a fresh id
