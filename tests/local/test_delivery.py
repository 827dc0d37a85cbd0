"""SNS -> SQS -> the analysis Lambda, with Lambda's retries, against a real moto server.

The analysis Lambda here is a function of the test (what it answers is the point,
not how it is run: the runner has its own tests, and the end-to-end tests run
the built analysis zip through this delivery).
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.analysis import parse_sns_event
from sentiment_pipeline.local.delivery import QUEUE, SnsDelivery
from sentiment_pipeline.local.runner import Invocation

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sentiment_pipeline.aws.provision import Resources
    from sentiment_pipeline.local.motoclients import MotoClients

WAIT = 60.0  # a bound on waits for a condition, never a timing assertion


class Analysis:
    """Stands in for the analysis Lambda: answers ``outcomes`` in turn, then success."""

    def __init__(self, *outcomes: bool) -> None:
        self.outcomes = list(outcomes)
        self.events: list[dict[str, Any]] = []
        self.called = threading.Event()

    def __call__(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        self.called.set()
        ok = self.outcomes.pop(0) if self.outcomes else True
        error = None if ok else {"errorType": "RuntimeError", "errorMessage": "boom"}
        return Invocation(request_id=str(uuid.uuid4()), ok=ok, error=error)


class Running:
    """An SnsDelivery subscribed to the test's topic, polling in a thread."""

    def __init__(self, moto: MotoClients, topic_arn: str, analysis: Analysis, **options: Any):
        self.stop = threading.Event()
        self.changes = 0
        self.delivery = SnsDelivery(
            moto.client, analysis, stop=self.stop, changed=self._changed, **options
        )
        self.delivery.subscribe(topic_arn)
        self.delivery.open(2)
        self.thread = threading.Thread(target=self.delivery.run)
        self.thread.start()

    def _changed(self) -> None:
        self.changes += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.delivery.shutdown()


@pytest.fixture
def start(moto_clients: MotoClients, resources: Resources) -> Iterator[Any]:
    started: list[Running] = []

    def start(analysis: Analysis, *, retries: int = 2, retry_delay: float = 0.05) -> Running:
        running = Running(
            moto_clients, resources.topic_arn, analysis, retries=retries, retry_delay=retry_delay
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()
    sqs = moto_clients.client("sqs")  # the next test starts with a queue of its own
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"])


def publish(moto: MotoClients, resources: Resources, text: str = "Calm seas") -> str:
    message = json.dumps({"version": 1, "pk": "ITEM#" + "0" * 64, "text": text})
    moto.client("sns").publish(TopicArn=resources.topic_arn, Message=message)
    return message


def queued(moto: MotoClients) -> int:
    sqs = moto.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_a_published_message_reaches_the_analysis_as_an_sns_event(
    start: Any, moto_clients: MotoClients, resources: Resources
) -> None:
    analysis = Analysis()
    running = start(analysis)
    message = publish(moto_clients, resources)
    assert running.delivery.wait_idle(WAIT)
    (event,) = analysis.events
    assert event["Records"][0]["Sns"]["Message"] == message
    assert event["Records"][0]["Sns"]["TopicArn"] == resources.topic_arn
    messages, problems = parse_sns_event(event)
    assert problems == [] and messages[0].text == "Calm seas"
    assert running.delivery.counts == {"delivered": 1, "failed": 0, "retried": 0}
    assert running.changes == 1
    assert queued(moto_clients) == 0  # acknowledged


def test_a_failed_invocation_is_retried_like_an_asynchronous_one(
    start: Any, moto_clients: MotoClients, resources: Resources
) -> None:
    analysis = Analysis(False, False)
    running = start(analysis, retries=2)
    publish(moto_clients, resources)
    assert running.delivery.wait_idle(WAIT)
    assert len(analysis.events) == 3
    assert analysis.events[0] == analysis.events[2]  # the same event, again
    assert running.delivery.counts == {"delivered": 1, "failed": 0, "retried": 2}
    assert running.changes == 3


def test_a_message_failing_every_attempt_is_dropped_and_counted(
    start: Any, moto_clients: MotoClients, resources: Resources
) -> None:
    analysis = Analysis(False, False, False)
    running = start(analysis, retries=1)
    publish(moto_clients, resources)
    assert running.delivery.wait_idle(WAIT)
    assert len(analysis.events) == 2
    assert running.delivery.counts == {"delivered": 0, "failed": 1, "retried": 1}
    assert queued(moto_clients) == 0  # given up on: not delivered again


def test_stopping_leaves_a_message_waiting_for_its_retry_in_the_queue(
    start: Any, moto_clients: MotoClients, resources: Resources
) -> None:
    analysis = Analysis(False)
    running = start(analysis, retry_delay=3600)
    publish(moto_clients, resources)
    assert analysis.called.wait(WAIT)
    running.close()  # returns without waiting for the retry
    assert len(analysis.events) == 1
    assert running.delivery.counts == {"delivered": 0, "failed": 0, "retried": 1}
    assert queued(moto_clients) == 1  # unacknowledged: lost with the queue at a real stop
