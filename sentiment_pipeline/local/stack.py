"""The local stack: the pipeline's three built Lambdas on this machine, wired like in AWS.

=====================  ===================================  ==============================
in AWS                 here                                 how
=====================  ===================================  ==============================
DynamoDB, SNS,         a moto server on 127.0.0.1           its own process (:mod:`.moto`); the
Secrets Manager                                             functions reach it through
                                                            ``AWS_ENDPOINT_URL``
                                                            (:mod:`.motoclients`)
the Lambdas            the *built artifacts*, each in its   :mod:`.runner`
                       own isolated interpreter processes
Function URL           an HTTP server                       :mod:`.functionurl`
SNS -> Lambda          an SQS queue subscribed to the       :mod:`.delivery`: moto delivers
                       topic, polled here                   SNS to SQS; each message becomes
                                                            one SNS event, retried twice on
                                                            error like an asynchronous
                                                            invocation
EventBridge schedule   a timer, and ``POST /_local/ingest``  :mod:`.schedule`, :mod:`.routes`
NewsAPI                newsapi.org, or the bundled sample   :mod:`.newsapi`, :mod:`.sample`
                       served on 127.0.0.1
=====================  ===================================  ==============================

State: moto keeps everything in memory, so the stack persists what matters in
``state_dir`` (:mod:`.snapshots`, :mod:`.state`): ``items.jsonl`` (the table,
written a moment after each change and at stop; restored at start) and
``state.json`` (the dashboard's API key).
The topic, the queue and the secrets are re-created with the same names on each
start. Messages in flight at stop are not kept: items still PENDING are put back
in ingestion's outbox, so the next ingestion publishes them again.
"""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.local.awsevents import scheduled_event, sns_event
from sentiment_pipeline.local.delivery import SnsDelivery
from sentiment_pipeline.local.functionurl import LocalFunctionUrl
from sentiment_pipeline.local.moto import MotoServer, MotoServerError
from sentiment_pipeline.local.motoclients import MotoClients
from sentiment_pipeline.local.routes import local_routes
from sentiment_pipeline.local.runner import FunctionSpec, Invocation, LocalFunction, runnable
from sentiment_pipeline.local.schedule import IngestionSchedule
from sentiment_pipeline.local.snapshots import TableSnapshots
from sentiment_pipeline.local.state import StateDir, StateError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sentiment_pipeline.local.newsapi import LocalNewsAPI
    from sentiment_pipeline.local.sample import SampleFeed

# The events live in .awsevents; they are importable from here too, as they always were.
__all__ = [
    "ROLES",
    "InitError",
    "Stack",
    "StackError",
    "StackOptions",
    "scheduled_event",
    "sns_event",
]

ROLES = ("ingestion", "analysis", "dashboard")


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
        self.functions: dict[str, LocalFunction] = {}
        self.api_key = ""
        self.url = ""
        self.moto_url = ""
        self.newsapi: LocalNewsAPI | None = None
        self.restored = 0
        self._moto: MotoServer | None = None
        # No AWS config or credentials file: the stack's own values only.
        self._aws = MotoClients(options.state_dir / "no-aws-config")
        self._http: LocalFunctionUrl | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._snapshots = TableSnapshots(self.state, self.client, self._table, stop=self._stop)
        self._schedule = IngestionSchedule(
            self._invoke_ingestion,
            every=options.ingest_every,
            stop=self._stop,
            changed=self._snapshots.changed,
        )
        self._delivery = SnsDelivery(
            self.client,
            self._invoke_analysis,
            retries=options.analysis_retries,
            retry_delay=options.retry_delay,
            stop=self._stop,
            changed=self._snapshots.changed,
        )

    @property
    def deliveries(self) -> dict[str, int]:
        """SNS messages delivered to the analysis, retried, and given up on (``failed``)."""
        return self._delivery.counts

    @property
    def feed(self) -> SampleFeed | None:
        """The bundled sample served as NewsAPI (``sample_data``), once started."""
        return self._schedule.feed

    # --- AWS (the parent's own clients, bound to the moto server) ---

    def client(self, service: str) -> Any:
        return self._aws.client(service)

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
        self.moto_url = self._aws.endpoint = self._moto.url

        newsapi_key, newsapi_env = self._start_newsapi()
        resources = provision(
            newsapi_key=newsapi_key, dashboard_api_key=self.api_key, clients=self.client
        )
        try:
            # From then on the table holds the state: snapshots may replace the saved one.
            self.restored = self._snapshots.restore(resources.table)
        except StateError as exc:
            raise StackError(str(exc)) from exc
        self._delivery.subscribe(resources.topic_arn)

        environment = {
            **self._aws.environment(),
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

        self._delivery.open(self.specs["analysis"].concurrency)
        self._spawn(self._delivery.run, "sns-delivery")
        self._spawn(self._snapshots.run, "snapshot")
        if self.options.ingest_every > 0:
            self._spawn(self._schedule.run, "schedule")
        try:
            self._http = LocalFunctionUrl(
                self._invoke_dashboard,
                host=self.options.host,
                port=self.options.port,
                local_routes=local_routes(
                    self.api_key, ingest=self._schedule.ingest_releasing, status=self.status
                ),
            ).start()
        except OSError as exc:
            raise StackError(
                f"cannot listen on {self.options.host}:{self.options.port}: {exc.strerror}; "
                "pick another --port"
            ) from exc
        self.url = self._http.url
        if self.options.ingest_on_start:
            self._spawn(self._schedule.ingest_quietly, "first-ingestion")

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
        self._delivery.shutdown()
        if self._snapshots.active and self._moto is not None and self._moto.running:
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

            feed = self._schedule.feed = SampleFeed(release_every=self.options.release_every)
            self.newsapi = LocalNewsAPI(api_key=SAMPLE_KEY, feed=feed).start()
            return SAMPLE_KEY, {"NEWSAPI_BASE_URL": self.newsapi.url, "NEWSAPI_QUERY": "news"}
        if not self.options.newsapi_key:
            raise StackError("no NewsAPI key: set NEWSAPI_KEY (newsapi.org) or use --sample-data")
        # The real API: top headlines need no query; NEWSAPI_* variables may override.
        return self.options.newsapi_key, {
            "NEWSAPI_ENDPOINT": "top-headlines",
            "NEWSAPI_COUNTRY": "us",
            "NEWSAPI_MAX_PAGES": "1",
        }

    # --- persistence ---

    def _table(self) -> str:
        return self.functions["dashboard"].environment["DYNAMODB_TABLE"]

    def snapshot(self) -> int:
        """Write the table to the state directory; the item count.

        Never before the saved table was restored: a start that failed before that
        must not replace the saved items with an empty table.
        """
        if not self._snapshots.active:
            raise StackError("the saved table was not restored yet: nothing is written")
        return self._snapshots.write()

    # --- the functions' triggers ---

    def ingest(self, detail: dict[str, Any] | None = None) -> Invocation:
        """Run the ingestion Lambda now with a scheduled event (one run at a time)."""
        return self._schedule.ingest(detail)

    def _invoke_ingestion(self, event: dict[str, Any]) -> Invocation:
        return self.functions["ingestion"].invoke(event)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every published message was delivered (and its retries done)."""
        return self._delivery.wait_idle(timeout)

    def _invoke_analysis(self, event: dict[str, Any]) -> Invocation:
        return self.functions["analysis"].invoke(event)

    # --- HTTP ---

    def _invoke_dashboard(self, event: dict[str, Any], request_id: str) -> Invocation:
        return self.functions["dashboard"].invoke(event, request_id=request_id)

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
