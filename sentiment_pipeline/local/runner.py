"""Run a built Lambda artifact locally: one isolated interpreter process per worker.

A :class:`LocalFunction` is an artifact (zip, zip plus layers, or a container
image's ``/var/task``) unpacked once into a directory laid out like Lambda's
sandbox (``var/task``, ``opt``). Each worker is an interpreter of the function's
Python version started with ``-I -S -B`` (no host site-packages, no bytecode
writes: ``/var/task`` is read-only in Lambda) running
:mod:`sentiment_pipeline.local.bootstrap` with exactly Lambda's path order and
environment. A worker serves one invocation at a time and stays warm, like a
Lambda execution environment; a pool keeps up to ``concurrency`` of them.

Failures are Lambda's: an exception is an error body (``errorMessage``,
``errorType``, ``requestId``, ``stackTrace``); an invocation over ``timeout``
kills its worker (``Sandbox.Timedout``) and the next one starts a fresh one; a
worker that dies is ``Runtime.ExitError``; an import failure at init is
``Runtime.ImportModuleError`` for every invocation until init succeeds.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.local.worker import Worker, WorkerSetup
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from sentiment_pipeline.packaging.targets import Target

__all__ = [
    "FunctionSpec",
    "Invocation",
    "LocalFunction",
    "RunnerError",
    "prepare",
    "runnable",
]

log = get_logger(__name__)

_ACCOUNT = "123456789012"
LOG_LINES = 2000
"""Log lines kept per function (the rest went to the log sink already)."""


class RunnerError(PipelineError):
    """A function cannot be run here (no interpreter, unreadable artifact...)."""


@attrs.frozen
class FunctionSpec:
    """One Lambda to run: its artifacts as built, its handler and its settings."""

    name: str
    handler: str
    target: Target
    artifact: Path
    layers: tuple[Path, ...] = ()
    environment: Mapping[str, str] = attrs.field(factory=dict)
    timeout: float = 30.0
    memory: int = 512
    concurrency: int = 2


@attrs.frozen
class Invocation:
    """The outcome of one invocation."""

    request_id: str
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    seconds: float = 0.0
    timed_out: bool = False
    cold: bool = False

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else str(self.error.get("errorType"))


def prepare(spec: FunctionSpec, root: Path, *, reuse: Path | None = None) -> Path:
    """Unpack the function and its layers into ``root`` (Lambda's layout), fresh.

    The artifacts are read with the verifier's readers (zip, directory, OCI
    image layout), so unsafe names are skipped exactly as the verifier reports
    them; layers unpack in their order, later ones overwriting. ``reuse``: the
    root of an earlier build of the function, whose unchanged files are linked
    instead of unpacked again (:mod:`.relink`; a reload).
    """
    import shutil

    from sentiment_pipeline.local.relink import Relinker
    from sentiment_pipeline.packaging.sandbox import LocalRoot, Placed, Unpacker
    from sentiment_pipeline.packaging.verify.sources import open_tree

    staging = root.with_name(f".{root.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    local = LocalRoot(staging)
    local.create()
    unpacker: Unpacker | Relinker = Unpacker(local)
    if reuse is not None:
        unpacker = Relinker(Unpacker(local), reuse)
    try:
        for order, path in enumerate((spec.artifact, *spec.layers)):
            try:
                tree = open_tree(path)
            except PipelineError as exc:
                raise RunnerError(f"{spec.name}: cannot read {path}: {exc}") from exc
            with tree:
                unpacker.unpack(Placed(tree, "function" if order == 0 else "layer", order))
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def lambda_environment(spec: FunctionSpec, root: Path) -> dict[str, str]:
    """Lambda's reserved variables (paths moved into ``root``), then the function's own."""
    from sentiment_pipeline.packaging.sandbox import FunctionIdentity, LocalRoot, environment

    function = FunctionIdentity(spec.name, spec.handler, memory=spec.memory)
    env = environment(spec.target, LocalRoot(root), function)
    env["PYTHONUNBUFFERED"] = "1"  # for what the handler starts: -I ignores it in the worker
    env.update(spec.environment)
    return env


class LocalFunction:
    """A built artifact served by a pool of local workers; thread-safe ``invoke``."""

    def __init__(
        self,
        spec: FunctionSpec,
        root: Path,
        *,
        python: str,
        sdk: Path | None,
        log_sink: Callable[[str, str], None] | None = None,
    ) -> None:
        self.spec = spec
        self.root = root
        self.python = python
        self.sdk = sdk
        self.environment = lambda_environment(spec, root)
        self._setup = WorkerSetup(
            spec.name, spec.handler, spec.target, python, root, sdk, self.environment
        )
        self.logs: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._sink = log_sink
        self._idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(spec.concurrency)
        self._lock = threading.Lock()
        self._workers: set[Worker] = set()
        self._closed = False
        self.invocations = 0
        self.errors = 0
        self.timeouts = 0
        self.cold_starts = 0

    @property
    def arn(self) -> str:
        region = self.environment.get("AWS_REGION", "us-east-1")
        return f"arn:aws:lambda:{region}:{_ACCOUNT}:function:{self.spec.name}"

    def emit(self, line: str) -> None:
        self.logs.append(line)
        if self._sink is not None:
            self._sink(self.spec.name, line)

    def _start_worker(self) -> tuple[Worker, dict[str, Any] | None]:
        """A fresh worker and, if its init failed, the error body."""
        worker = Worker(self._setup, self.emit)
        with self._lock:
            self._workers.add(worker)
            self.cold_starts += 1
        # Lambda limits init to 10 s, and then runs it again inside the invocation.
        answer = worker.read_answer(time.monotonic() + max(10.0, self.spec.timeout))
        if answer is None or answer.get("init") != "ok":
            error = (answer or {}).get("error") or {
                "errorMessage": f"Runtime exited during init: {worker.exit_status()}",
                "errorType": "Runtime.ExitError",
            }
            self._retire(worker)
            return worker, error
        if self._closed:  # stopped while it started
            self._retire(worker)
            return worker, {"errorMessage": f"{self.spec.name} is stopped", "errorType": "Stopped"}
        return worker, None

    def _retire(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        """Run the handler on ``event`` in a warm worker (or a new one) and wait."""
        request_id = request_id or str(uuid.uuid4())
        with self._slots:
            if self._closed:
                raise RunnerError(f"{self.spec.name} is stopped")
            started = time.monotonic()
            cold = False
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                cold = True
                worker, init_error = self._start_worker()
                if init_error is not None:
                    return self._failed(request_id, init_error, started, cold)
            # The function's timeout counts from the end of init, as in Lambda.
            began = time.monotonic()
            deadline_wall = (time.time() + self.spec.timeout) * 1000
            request = {
                "request_id": request_id,
                "event": event,
                "deadline_ms": deadline_wall,
                "arn": self.arn,
            }
            answer = worker.read_answer(began + self.spec.timeout) if worker.send(request) else None
            seconds = time.monotonic() - started
            if answer is None:
                timed_out = not worker.died and worker.process.poll() is None
                status = "timed out" if timed_out else worker.exit_status()
                self._retire(worker)
                if timed_out:
                    with self._lock:
                        self.timeouts += 1
                    message = f"Task timed out after {self.spec.timeout:.2f} seconds"
                    self.emit(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ')} {request_id} {message}")
                    error = {"errorMessage": message, "errorType": "Sandbox.Timedout"}
                    return self._failed(request_id, error, started, cold, timed_out=True)
                error = {
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited "
                    f"with error: {status}",
                    "errorType": "Runtime.ExitError",
                }
                return self._failed(request_id, error, started, cold)
            worker.used += 1
            if self._closed:  # stopped meanwhile: this worker is not kept
                self._retire(worker)
            else:
                self._idle.put(worker)
            with self._lock:
                self.invocations += 1
            if answer.get("ok"):
                return Invocation(request_id, True, answer.get("result"), None, seconds, cold=cold)
            return self._failed(request_id, answer.get("error") or {}, started, cold)

    def _failed(
        self,
        request_id: str,
        error: dict[str, Any],
        started: float,
        cold: bool,
        *,
        timed_out: bool = False,
    ) -> Invocation:
        error = {**error, "requestId": request_id}
        with self._lock:
            self.invocations += 1
            self.errors += 1
        log.error(
            "invocation failed",
            extra={
                "function": self.spec.name,
                "request_id": request_id,
                "error_type": error.get("errorType"),
                "error": error.get("errorMessage"),
            },
        )
        return Invocation(
            request_id,
            False,
            None,
            error,
            time.monotonic() - started,
            timed_out=timed_out,
            cold=cold,
        )

    def warm(self, count: int = 1) -> list[dict[str, Any]]:
        """Start up to ``count`` workers now (init errors are returned, not raised)."""
        errors = []
        for _ in range(min(count, self.spec.concurrency)):
            worker, error = self._start_worker()
            if error is None:
                self._idle.put(worker)
            else:
                errors.append(error)
        return errors

    def workers(self) -> int:
        with self._lock:
            return len(self._workers)

    def close(self) -> None:
        """Stop every worker now; invocations in flight end as ``Runtime.ExitError``.

        Idle workers are killed and released here; a busy one is only killed: the
        thread waiting for its answer sees it end and releases it.
        """
        self._closed = True
        idle = []
        while True:
            try:
                idle.append(self._idle.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            busy = [w for w in self._workers if w not in idle]
            self._workers.difference_update(idle)
        for worker in idle:
            worker.kill()
        for worker in busy:
            worker.signal_kill()


def runnable(
    spec: FunctionSpec,
    state: Path,
    *,
    interpreter: str | None = None,
    offline: bool = False,
    log_sink: Callable[[str, str], None] | None = None,
    reuse: Path | None = None,
) -> LocalFunction:
    """Unpack ``spec``'s artifacts under ``state`` and return its (not yet started) pool.

    Needs an interpreter of the function's Python version and architecture on
    this machine (the same discovery as the verifier's dynamic check), and the
    runtime's SDK (boto3), fetched once into the cache unless ``offline``.
    ``reuse``: an earlier root of the function, see :func:`prepare`.
    """
    from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
    from sentiment_pipeline.packaging.verify.sdk import runtime_sdk

    python = find_interpreter(spec.target, interpreter)
    if python is None:
        raise RunnerError(
            f"{spec.name}: no python{spec.target.python} interpreter for "
            f"{spec.target.architecture} on this machine; install one (e.g. `uv python install "
            f"{spec.target.python}`) or pass --interpreter"
        )
    sdk = runtime_sdk(spec.target, offline=offline)
    if sdk.path is None:
        log.warning(
            "runtime SDK unavailable: handlers that import boto3 will fail",
            extra={"function": spec.name, "reason": sdk.reason},
        )
    root = prepare(spec, state / spec.name, reuse=reuse)
    return LocalFunction(spec, root, python=python, sdk=sdk.path, log_sink=log_sink)
