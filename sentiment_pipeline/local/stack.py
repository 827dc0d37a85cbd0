"""The local stack: the pipeline's three built Lambdas on this machine, wired like in AWS.

=====================  ===================================  ==============================
in AWS                 here                                 how
=====================  ===================================  ==============================
DynamoDB, SNS,         a moto server on 127.0.0.1           its own process (:mod:`.moto`); the
Secrets Manager                                             functions reach it through
                                                            ``AWS_ENDPOINT_URL``
the Lambdas            the *built artifacts*, each in its   :mod:`.runner`
                       own isolated interpreter processes
Function URL           an HTTP server                       :mod:`.functionurl`
SNS -> Lambda          an SQS queue subscribed to the       moto delivers SNS to SQS; each
                       topic, polled here                   message becomes one SNS event,
                                                            retried twice on error like an
                                                            asynchronous invocation
EventBridge schedule   a timer, and ``POST /_local/ingest``
NewsAPI                newsapi.org, or the bundled sample   :mod:`.newsapi`, :mod:`.sample`
                       served on 127.0.0.1
=====================  ===================================  ==============================

State: moto keeps everything in memory, so the stack persists what matters in
``state_dir``: ``items.jsonl`` (the table, written a moment after each change
and at stop; restored at start) and ``state.json`` (the dashboard's API key).
The topic, the queue and the secrets are re-created with the same names on each
start. Messages in flight at stop are not kept: items still PENDING are put back
in ingestion's outbox, so the next ingestion publishes them again.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.local.functionurl import (
    HttpAnswer,
    HttpRequest,
    LocalFunctionUrl,
    answer_from_invocation,
    json_answer,
)
from sentiment_pipeline.local.moto import MotoServer, MotoServerError
from sentiment_pipeline.local.runner import (
    FunctionSpec,
    Invocation,
    LocalFunction,
    RunnerError,
    runnable,
)
from sentiment_pipeline.local.state import StateDir, StateError
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sentiment_pipeline.local.newsapi import LocalNewsAPI
    from sentiment_pipeline.local.sample import SampleFeed

__all__ = ["ROLES", "InitError", "Stack", "StackError", "StackOptions"]

log = get_logger(__name__)

ROLES = ("ingestion", "analysis", "dashboard")
REGION = "us-east-1"
_QUEUE = "sentiment-pipeline-local-analysis"
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class StackError(PipelineError):
    """The stack cannot start (missing function, no interpreter, port in use...)."""


class InitError(StackError):
    """A function's init failed while the stack started: nothing is served.

    ``errors`` maps each such function to Lambda's error body of its init.
    """

    def __init__(self, errors: Mapping[str, Mapping[str, Any]]) -> None:
        self.errors = dict(errors)
        parts = [
            f"{name}: {error.get('errorType')}: {error.get('errorMessage')}"
            for name, error in self.errors.items()
        ]
        super().__init__(f"init failed, nothing is served ({'; '.join(parts)})")


def _absolute(path: str | Path) -> Path:
    return Path(path).resolve()


@attrs.define
class StackOptions:
    state_dir: Path = attrs.field(converter=_absolute)
    """Made absolute when given: the functions' workers run in other directories."""
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    """The dashboard's key; None: the one kept in ``state_dir``, else a new random one."""
    sample_data: bool = True
    """Serve the bundled sample as NewsAPI; False: newsapi.org with ``newsapi_key``."""
    newsapi_url: str | None = None
    """Another NewsAPI (e.g. a test's fake); overrides ``sample_data``."""
    newsapi_key: str | None = None
    ingest_every: float = 60.0
    """Seconds between scheduled ingestions; 0: only on demand."""
    ingest_on_start: bool = True
    sse_poll_interval: float = 2.0
    cors_origins: str | None = None
    release_every: float = 20.0
    """Sample data only: seconds between two newly published sample articles."""
    analysis_retries: int = 2
    retry_delay: float = 1.0
    """Lambda retries a failed asynchronous invocation after about 1 and 2 minutes;
    locally after ``retry_delay`` and twice that."""
    interpreter: str | None = None
    offline: bool = False
    environment: Mapping[str, str] = attrs.field(factory=dict)
    """Extra variables for every function (e.g. ``NEWSAPI_QUERY``)."""
    log_sink: Callable[[str, str], None] | None = None
    """Receives ``(function, line)`` for each log line of the functions."""


def scheduled_event(now: float | None = None) -> dict[str, Any]:
    """An EventBridge scheduled event, as the ingestion Lambda receives it."""
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/sentiment-pipeline-local"],
        "detail": {},
    }


def sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The Lambda SNS event for one SNS notification (as delivered to SQS by SNS)."""
    attributes = {
        name: {"Type": value.get("Type", "String"), "Value": value.get("Value", "")}
        for name, value in (envelope.get("MessageAttributes") or {}).items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId", str(uuid.uuid4())),
                    "TopicArn": envelope.get("TopicArn", ""),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message", ""),
                    "Timestamp": envelope.get("Timestamp", ""),
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", "EXAMPLE"),
                    "SigningCertUrl": envelope.get("SigningCertURL", "EXAMPLE"),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", "EXAMPLE"),
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


class Stack:
    """Start with :meth:`start` (or ``with``); ``url`` and ``api_key`` are then set."""

    def __init__(self, specs: Mapping[str, FunctionSpec], options: StackOptions) -> None:
        missing = [role for role in ROLES if role not in specs]
        if missing:
            raise StackError(
                f"the stack needs the Lambdas {', '.join(ROLES)}; missing: {', '.join(missing)} "
                "(name them so in lambdas.toml)"
            )
        self.specs = dict(specs)
        self.options = options
        self.state = StateDir(options.state_dir)
        # Points the AWS SDK at no config or credentials file: the stack's own values only.
        self._no_aws_config = str(options.state_dir / "no-aws-config")
        self.functions: dict[str, LocalFunction] = {}
        self.api_key = ""
        self.url = ""
        self.moto_url = ""
        self.newsapi: LocalNewsAPI | None = None
        self.feed: SampleFeed | None = None
        self.restored = 0
        self.deliveries = {"delivered": 0, "failed": 0, "retried": 0}
        self._moto: MotoServer | None = None
        self._clients: dict[str, Any] = {}
        self._http: LocalFunctionUrl | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight = 0
        self._dirty = threading.Event()
        self._lock = threading.Lock()
        self._ingest_lock = threading.RLock()  # re-entered: release-and-ingest is one step
        self._queue_url = ""
        self._subscription = ""
        self._snapshot_lock = threading.Lock()
        self._persisting = False

    # --- AWS (the parent's own clients, bound to the moto server) ---

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is None:
            import botocore.session  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            session = botocore.session.Session()
            session.set_config_variable("config_file", self._no_aws_config)
            session.set_config_variable("credentials_file", self._no_aws_config)
            found = session.create_client(
                service,
                region_name=REGION,
                endpoint_url=self.moto_url,
                aws_access_key_id=_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                config=Config(
                    retries={"mode": "standard", "max_attempts": 2},
                    connect_timeout=2,
                    read_timeout=10,
                ),
            )
            self._clients[service] = found
        return found

    # --- start / stop ---

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from sentiment_pipeline.aws.provision import provision

        self.state.create()
        try:
            self.api_key = self.state.api_key(self.options.api_key)
        except StateError as exc:
            raise StackError(str(exc)) from exc
        try:
            self._moto = MotoServer().start()
        except MotoServerError as exc:
            raise StackError(str(exc)) from exc
        self.moto_url = self._moto.url

        newsapi_key, newsapi_env = self._start_newsapi()
        resources = provision(
            newsapi_key=newsapi_key, dashboard_api_key=self.api_key, clients=self.client
        )
        try:
            self.restored = self._restore(resources.table)
        except StateError as exc:
            raise StackError(str(exc)) from exc
        self._persisting = True  # from now on the table holds the state: snapshots may replace it
        self._subscribe(resources.topic_arn)

        environment = {
            **_CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_CONFIG_FILE": self._no_aws_config,
            "AWS_SHARED_CREDENTIALS_FILE": self._no_aws_config,
            **resources.environment(),
            **newsapi_env,
            "ENVIRONMENT": "local",
            "SSE_POLL_INTERVAL": str(self.options.sse_poll_interval),
            **(
                {"CORS_ALLOWED_ORIGINS": self.options.cors_origins}
                if self.options.cors_origins
                else {}
            ),
            **self.options.environment,
        }
        functions_dir = self.state.path / "functions"
        for role in ROLES:
            spec = attrs.evolve(
                self.specs[role], environment={**environment, **self.specs[role].environment}
            )
            try:
                self.functions[role] = runnable(
                    spec,
                    functions_dir,
                    interpreter=self.options.interpreter,
                    offline=self.options.offline,
                    log_sink=self.options.log_sink,
                )
            except PipelineError as exc:
                raise StackError(str(exc)) from exc
        self._warm_all()

        self._pool = ThreadPoolExecutor(
            max_workers=self.specs["analysis"].concurrency, thread_name_prefix="analysis"
        )
        self._spawn(self._deliver_loop, "sns-delivery")
        self._spawn(self._snapshot_loop, "snapshot")
        if self.options.ingest_every > 0:
            self._spawn(self._schedule_loop, "schedule")
        try:
            self._http = LocalFunctionUrl(
                self._invoke_dashboard,
                host=self.options.host,
                port=self.options.port,
                local_routes={
                    ("POST", "/_local/ingest"): self._route_ingest,
                    ("GET", "/_local/status"): self._route_status,
                },
            ).start()
        except OSError as exc:
            raise StackError(
                f"cannot listen on {self.options.host}:{self.options.port}: {exc.strerror}; "
                "pick another --port"
            ) from exc
        self.url = self._http.url
        if self.options.ingest_on_start:
            self._spawn(self._ingest_quietly, "first-ingestion")

    def _warm_all(self) -> None:
        """Start one worker of each function, together; any init error stops the start.

        Once the stack runs, a failed init is Lambda's: it is tried again on the
        next invocation. At start it is a broken build that would only answer
        errors, so it is reported once and nothing is served.
        """
        with ThreadPoolExecutor(max_workers=len(self.functions)) as pool:
            outcomes = {name: pool.submit(f.warm) for name, f in self.functions.items()}
        errors = {name: found[0] for name, o in outcomes.items() if (found := o.result())}
        if errors:
            raise InitError(errors)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop everything, in a few seconds: no request is waited for.

        The Function URL stops listening, the workers are killed (an invocation in
        flight ends; its SNS message stays unacknowledged and is lost with the
        queue, and its item, still PENDING, is published again by the next start),
        the threads end, the table is saved while moto still runs, then moto stops.
        """
        self._stop.set()
        if self._http is not None:
            self._http.stop()
        for function in self.functions.values():
            function.close()
        for thread in self._threads:
            thread.join(timeout=3)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._persisting and self._moto is not None and self._moto.running:
            with contextlib.suppress(Exception):
                self.snapshot()
        if self.newsapi is not None:
            self.newsapi.stop()
        self.stop_aws()

    def stop_aws(self) -> None:
        """Stop the moto server (also a fault to inject: the functions lose AWS)."""
        if self._moto is not None:
            self._moto.stop()

    # --- pieces of start ---

    def _start_newsapi(self) -> tuple[str, dict[str, str]]:
        """The NewsAPI key to store and the functions' NEWSAPI_* variables."""
        if self.options.newsapi_url:
            return self.options.newsapi_key or "unused", {
                "NEWSAPI_BASE_URL": self.options.newsapi_url,
                "NEWSAPI_QUERY": "news",
            }
        if self.options.sample_data:
            from sentiment_pipeline.local.newsapi import LocalNewsAPI
            from sentiment_pipeline.local.sample import SAMPLE_KEY, SampleFeed

            self.feed = SampleFeed(release_every=self.options.release_every)
            self.newsapi = LocalNewsAPI(api_key=SAMPLE_KEY, feed=self.feed).start()
            return SAMPLE_KEY, {"NEWSAPI_BASE_URL": self.newsapi.url, "NEWSAPI_QUERY": "news"}
        if not self.options.newsapi_key:
            raise StackError("no NewsAPI key: set NEWSAPI_KEY (newsapi.org) or use --sample-data")
        # The real API: top headlines need no query; NEWSAPI_* variables may override.
        return self.options.newsapi_key, {
            "NEWSAPI_ENDPOINT": "top-headlines",
            "NEWSAPI_COUNTRY": "us",
            "NEWSAPI_MAX_PAGES": "1",
        }

    def _subscribe(self, topic_arn: str) -> None:
        sqs = self.client("sqs")
        self._queue_url = sqs.create_queue(
            QueueName=_QUEUE, Attributes={"VisibilityTimeout": "300"}
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._subscription = self.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]

    # --- persistence ---

    def _table(self) -> str:
        return self.functions["dashboard"].environment["DYNAMODB_TABLE"]

    def snapshot(self) -> int:
        """Write the table to the state directory; the item count.

        Never before the saved table was restored: a start that failed before that
        must not replace the saved items with an empty table.
        """
        if not self._persisting:
            raise StackError("the saved table was not restored yet: nothing is written")
        with self._snapshot_lock:
            paginator = self.client("dynamodb").get_paginator("scan")
            return self.state.write_items(
                item
                for page in paginator.paginate(TableName=self._table())
                for item in page.get("Items", [])
            )

    def _restore(self, table: str) -> int:
        from sentiment_pipeline.aws.dynamodb import OUTBOX

        items = self.state.read_items()
        for item in items:
            # Its SNS message was lost with the queue: back to the outbox, published again.
            if item.get("status", {}).get("S") == "PENDING":
                item[OUTBOX] = {"S": "PENDING"}
        ddb = self.client("dynamodb")
        for start in range(0, len(items), 25):
            requests: dict[str, Any] = {
                table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            }
            while requests:
                answer = ddb.batch_write_item(RequestItems=requests)
                requests = answer.get("UnprocessedItems") or {}
        if items:
            log.info("restored the table", extra={"items": len(items)})
        return len(items)

    def _snapshot_loop(self) -> None:
        while not self._stop.wait(1.0):
            if self._dirty.is_set():
                self._dirty.clear()
                try:
                    self.snapshot()
                except Exception as exc:  # moto down: keep the last good snapshot
                    log.warning("snapshot failed", extra={"error": str(exc)[:300]})
                    self._dirty.set()

    # --- the functions' triggers ---

    def ingest(self, detail: dict[str, Any] | None = None) -> Invocation:
        """Run the ingestion Lambda now with a scheduled event (one run at a time)."""
        event = scheduled_event()
        if detail:
            event["detail"] = detail
        with self._ingest_lock:
            invocation = self.functions["ingestion"].invoke(event)
        self._dirty.set()
        return invocation

    def _ingest_quietly(self) -> None:
        try:
            invocation = self.ingest()
        except RunnerError:  # stopped meanwhile
            return
        if invocation.ok:
            log.info("ingestion", extra={"result": invocation.result})

    def _schedule_loop(self) -> None:
        while not self._stop.wait(self.options.ingest_every):
            self._ingest_quietly()

    def _deliver_loop(self) -> None:
        sqs = self.client("sqs")
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
            self.deliveries[outcome] += 1

    def _deliver(self, message: dict[str, Any]) -> None:
        """One SNS message -> the analysis Lambda, retried like an asynchronous invocation."""
        try:
            try:
                envelope = json.loads(message["Body"])
            except ValueError:
                envelope = {"Message": message["Body"]}
            event = sns_event(envelope, self._subscription)
            attempts = 1 + self.options.analysis_retries
            for attempt in range(attempts):
                if self._stop.is_set():
                    return  # stopping: the message stays in the queue
                invocation = self.functions["analysis"].invoke(event)
                self._dirty.set()
                if invocation.ok:
                    self._count("delivered")
                    break
                if attempt + 1 < attempts:
                    self._count("retried")
                    if self._stop.wait(self.options.retry_delay * 2**attempt):
                        return  # stopping: the message stays in the queue
            else:
                self._count("failed")
                log.error(
                    "SNS event dropped after all attempts",
                    extra={"attempts": attempts, "message_id": envelope.get("MessageId")},
                )
            with contextlib.suppress(Exception):
                self.client("sqs").delete_message(
                    QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        finally:
            with self._lock:
                self._in_flight -= 1

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every published message was delivered (and its retries done)."""
        deadline = time.monotonic() + timeout
        sqs = self.client("sqs")
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

    # --- HTTP ---

    def _invoke_dashboard(self, event: dict[str, Any], request_id: str) -> Invocation:
        return self.functions["dashboard"].invoke(event, request_id=request_id)

    def _authorised(self, request: HttpRequest) -> bool:
        query = dict(urllib.parse.parse_qsl(request.target.partition("?")[2]))
        given = next((v for k, v in request.headers if k.lower() == "x-api-key"), None)
        given = given or query.get("api_key") or ""
        return secrets.compare_digest(given.encode(), self.api_key.encode())

    def _route_ingest(self, request: HttpRequest) -> HttpAnswer:
        if not self._authorised(request):
            return json_answer(401, {"error": "unauthorized", "message": "X-API-Key is required"})
        query = dict(urllib.parse.parse_qsl(request.target.partition("?")[2]))
        feed, released, over_time = self.feed, 0, None
        # No scheduled ingestion between the release and this one: it sees what was released.
        with self._ingest_lock:
            if feed is not None and query.get("release", "").isdigit():
                released = feed.release_next(int(query["release"]))
            served = feed.served if feed is not None else 0
            invocation = self.ingest()
            if feed is not None:
                # The sample also publishes on its clock: what this ingestion saw first
                # beyond this request's releases was released since the previous one.
                over_time = max(0, feed.served - served - released)
        if not invocation.ok:
            return answer_from_invocation(invocation)
        return json_answer(
            200,
            {
                "ingestion": invocation.result,
                "released": released,
                "released_over_time": over_time,
            },
        )

    def status(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "moto": self.moto_url,
            "state_dir": str(self.state.path),
            "restored": self.restored,
            "deliveries": dict(self.deliveries),
            "sample_remaining": self.feed.remaining if self.feed is not None else None,
            "functions": {
                role: {
                    "artifact": str(f.spec.artifact),
                    "layers": [str(p) for p in f.spec.layers],
                    "python": f.python,
                    "workers": f.workers(),
                    "invocations": f.invocations,
                    "errors": f.errors,
                    "timeouts": f.timeouts,
                    "cold_starts": f.cold_starts,
                }
                for role, f in self.functions.items()
            },
        }

    def _route_status(self, request: HttpRequest) -> HttpAnswer:
        if not self._authorised(request):
            return json_answer(401, {"error": "unauthorized", "message": "X-API-Key is required"})
        return json_answer(200, self.status())

    def wait_healthy(self, timeout: float = 60.0) -> int:
        """Poll ``GET /health`` through the Function URL; its last status."""
        deadline = time.monotonic() + timeout
        status = 0
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=15) as answer:
                    return int(answer.status)
            except urllib.error.HTTPError as error:
                return int(error.code)  # an answer: waiting longer would not change it
            except OSError:
                status = 0
            time.sleep(0.2)
        return status
