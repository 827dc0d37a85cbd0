"""SNS -> the analysis Lambda, locally: through an SQS queue, retried like Lambda retries.

In AWS, SNS invokes the analysis Lambda asynchronously, and Lambda retries a
failed asynchronous invocation twice. Here an SQS queue (in the same moto
server) is subscribed to the topic; :meth:`SnsDelivery.run` polls it, turns
each message into the SNS event Lambda would pass, and invokes the function on
a pool of ``concurrency`` workers, retrying a failure after ``retry_delay`` and
twice that. A message is deleted once delivered or given up on; when the stack
stops, a message in flight stays in the queue (and is lost with it: its item,
still PENDING, is published again by the next ingestion).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.local.awsevents import sns_event
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.local.runner import Invocation

__all__ = ["QUEUE", "SnsDelivery"]

log = get_logger(__name__)

QUEUE = "sentiment-pipeline-local-analysis"
"""The SQS queue subscribed to the topic."""


class SnsDelivery:
    """Delivers what the topic publishes to ``invoke`` (the analysis Lambda).

    ``client`` makes the AWS clients (bound to the local moto server);
    ``changed`` is called after every invocation (the table may have changed);
    ``stop`` ends the polling and the retries. ``counts`` says how many
    messages were delivered, retried and given up on (``failed``).
    """

    def __init__(
        self,
        client: Callable[[str], Any],
        invoke: Callable[[dict[str, Any]], Invocation],
        *,
        retries: int,
        retry_delay: float,
        stop: threading.Event,
        changed: Callable[[], None],
    ) -> None:
        self.counts = {"delivered": 0, "failed": 0, "retried": 0}
        self._client = client
        self._invoke = invoke
        self._retries = retries
        self._retry_delay = retry_delay
        self._stop = stop
        self._changed = changed
        self._lock = threading.Lock()
        self._in_flight = 0
        self._pool: ThreadPoolExecutor | None = None
        self._queue_url = ""
        self._subscription = ""

    def subscribe(self, topic_arn: str) -> None:
        """Create the queue and subscribe it to ``topic_arn``."""
        sqs = self._client("sqs")
        self._queue_url = sqs.create_queue(
            QueueName=QUEUE, Attributes={"VisibilityTimeout": "300"}
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._subscription = self._client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]

    def open(self, concurrency: int) -> None:
        """Start the pool of ``concurrency`` delivery workers (before :meth:`run`)."""
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="analysis")

    def shutdown(self) -> None:
        """Wait for the deliveries running; cancel those not started (after ``stop`` is set)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self) -> None:
        """Poll the queue until ``stop`` is set; a thread's target."""
        sqs = self._client("sqs")
        failures = 0
        while not self._stop.is_set():
            try:
                answer = sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
                failures = 0
            except Exception as exc:  # moto stopped: wait for it, quietly after the first
                if failures == 0:
                    log.warning("SNS delivery paused", extra={"error": str(exc)[:300]})
                failures += 1
                self._stop.wait(min(5.0, 0.5 * failures))
                continue
            for message in answer.get("Messages", []):
                with self._lock:
                    self._in_flight += 1
                assert self._pool is not None
                try:
                    self._pool.submit(self._deliver, message)
                except RuntimeError:  # shutting down
                    with self._lock:
                        self._in_flight -= 1

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def _deliver(self, message: dict[str, Any]) -> None:
        """One SNS message -> the analysis Lambda, retried like an asynchronous invocation."""
        try:
            try:
                envelope = json.loads(message["Body"])
            except ValueError:
                envelope = {"Message": message["Body"]}
            event = sns_event(envelope, self._subscription)
            attempts = 1 + self._retries
            for attempt in range(attempts):
                if self._stop.is_set():
                    return  # stopping: the message stays in the queue
                invocation = self._invoke(event)
                self._changed()
                if invocation.ok:
                    self._count("delivered")
                    break
                if attempt + 1 < attempts:
                    self._count("retried")
                    if self._stop.wait(self._retry_delay * 2**attempt):
                        return  # stopping: the message stays in the queue
            else:
                self._count("failed")
                log.error(
                    "SNS event dropped after all attempts",
                    extra={"attempts": attempts, "message_id": envelope.get("MessageId")},
                )
            with contextlib.suppress(Exception):
                self._client("sqs").delete_message(
                    QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        finally:
            with self._lock:
                self._in_flight -= 1

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every published message was delivered (and its retries done)."""
        deadline = time.monotonic() + timeout
        sqs = self._client("sqs")
        quiet = 0
        while time.monotonic() < deadline:
            attributes = sqs.get_queue_attributes(
                QueueUrl=self._queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            waiting = sum(int(v) for v in attributes.values())
            with self._lock:
                busy = self._in_flight
            quiet = quiet + 1 if waiting == 0 and busy == 0 else 0
            if quiet >= 2:
                return True
            time.sleep(0.1)
        return False
