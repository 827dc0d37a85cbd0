"""Invoke one Lambda of a manifest once, locally: build (or reuse) and verify it, then run it.

What runs is the *built artifact* with its layers, as
``sentiment-pipeline serve`` runs them (:mod:`.runner`): unpacked like Lambda's sandbox, in
an isolated interpreter of the runtime's Python, with Lambda's variables
(:mod:`.overrides` adds the function's AWS, its deploy ``environment`` and ``--env``), its
deploy ``timeout`` and ``memory`` (Lambda's defaults, 3 s and 128 MB, when the manifest
names none). The build is the incremental one: an unchanged Lambda is reused, not
rebuilt. Nothing is left behind: the artifact is unpacked into a temporary directory.

Like Lambda, the function starts (its init: the handler's module imported), then serves
the invocation; a failed init is tried again within the invocation, as Lambda does. The
log gets Lambda's ``START``, ``END`` and ``REPORT`` lines around the function's output.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.local.overrides import aws_environment, function_environment, parse_env
from sentiment_pipeline.packaging.options import BuildOptions

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sentiment_pipeline.local.overrides import AwsMode
    from sentiment_pipeline.local.runner import Invocation
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.results import ArtifactResult, BuildResult

__all__ = [
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "InvokeOptions",
    "InvokeResult",
    "VerificationFailedError",
    "invoke",
]

DEFAULT_TIMEOUT = 3
"""Seconds: Lambda's timeout for a function that sets none."""
DEFAULT_MEMORY = 128
"""MB: Lambda's memory for a function that sets none."""


class VerificationFailedError(PipelineError, RuntimeError):
    """The Lambda (or one of its layers) did not pass verification: nothing was run.

    ``result`` is the build's, with each artifact's problems.
    """

    def __init__(self, name: str, result: BuildResult) -> None:
        self.result = result
        failed = [a for a in result.artifacts if not a.ok]
        lines = [f"{name} did not pass verification, nothing was run:"]
        for artifact in failed:
            lines += [f"  {artifact.name}: [{p.code.value}] {p.message}" for p in artifact.problems]
        lines.append("reports: " + ", ".join(str(p) for p in result.reports))
        super().__init__("\n".join(lines))


def _checked_environment(value: Mapping[str, str]) -> dict[str, str]:
    return parse_env([f"{key}={text}" for key, text in value.items()])


def _quiet(line: str) -> None:
    return None


@attrs.frozen
class InvokeOptions:
    """How to invoke: every choice of ``sentiment-pipeline invoke`` but the event, in one value.

    ``build`` is how to build (its ``only`` is replaced by the invoked Lambda);
    ``environment`` is ``--env`` (over the manifest's deploy environment; Lambda's
    reserved names are refused); ``aws`` says where the function's AWS is
    (:func:`~sentiment_pipeline.local.overrides.aws_environment`); ``log`` receives each
    log line of the function as it comes.

    >>> options = InvokeOptions(environment={"GREETING": "hi"}, aws="local")
    >>> options.aws, options.environment, options.build.engine
    ('local', {'GREETING': 'hi'}, 'auto')
    """

    build: BuildOptions = attrs.field(factory=BuildOptions)
    environment: Mapping[str, str] = attrs.field(factory=dict, converter=_checked_environment)
    aws: AwsMode = attrs.field(
        default="passthrough", validator=attrs.validators.in_(("local", "passthrough"))
    )
    interpreter: str | None = None
    """The target Python that runs the function (default: found on this machine)."""
    log: Callable[[str], None] = attrs.field(default=_quiet, eq=False, repr=False)


@attrs.frozen
class InvokeResult:
    """One local invocation: its outcome, the artifact that ran, and its log.

    >>> from sentiment_pipeline.local.runner import Invocation
    >>> from sentiment_pipeline.packaging.results import ArtifactResult
    >>> artifact = ArtifactResult(name="api", kind="function", backend="zip-in-docker",
    ...     path="/p/dist/zip-in-docker/api.zip", runtime="python3.13", architecture="x86_64",
    ...     ok=True, cache_hit=True, seconds=0.01, key="sha256:...")
    >>> result = InvokeResult("api", Invocation("r-1", True, {"n": 1}, seconds=0.0123),
    ...                       artifact, ("START RequestId: r-1 Version: $LATEST",), 3, 128)
    >>> result.ok, result.payload, result.to_json()["billedDurationMs"]
    (True, {'n': 1}, 13)
    """

    function: str
    invocation: Invocation
    artifact: ArtifactResult
    logs: tuple[str, ...]
    """The function's log lines, Lambda's ``START``/``END``/``REPORT`` included."""
    timeout: float
    memory: int
    init_seconds: float | None = None
    """How long the function's init took, when it succeeded before the invocation."""

    @property
    def ok(self) -> bool:
        """Whether the handler returned (no function error)."""
        return self.invocation.ok

    @property
    def payload(self) -> Any:
        """What Lambda's Invoke answers: the handler's result, or Lambda's error body."""
        return self.invocation.result if self.invocation.ok else self.invocation.error

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` envelope: the outcome, its timings, the artifact and the log."""
        duration = self.invocation.seconds * 1000
        error = self.invocation.error
        return {
            "function": self.function,
            "requestId": self.invocation.request_id,
            "ok": self.ok,
            "result": self.invocation.result if self.ok else None,
            "error": error,
            "errorType": self.invocation.error_type,
            "timedOut": self.invocation.timed_out,
            "durationMs": round(duration, 3),
            "billedDurationMs": max(1, math.ceil(duration)),
            "initDurationMs": None
            if self.init_seconds is None
            else round(self.init_seconds * 1000, 3),
            "memorySizeMb": self.memory,
            "timeoutSeconds": self.timeout,
            "artifact": {
                "path": self.artifact.path,
                "layers": list(self.artifact.layers),
                "reused": self.artifact.cache_hit,
            },
            "logs": list(self.logs),
        }


def _built(manifest: Manifest, name: str, options: BuildOptions) -> ArtifactResult:
    """``name``'s artifact, built or reused, verified; raises when it did not pass."""
    from sentiment_pipeline.packaging.build import build

    result = build(manifest, attrs.evolve(options, only=(name,)))
    if not result.ok:
        raise VerificationFailedError(name, result)
    (artifact,) = [a for a in result.artifacts if a.kind == "function" and a.name == name]
    state = "reused" if artifact.cache_hit else "built"
    options.progress(f"{name}: {state} {_shown(Path(artifact.path))} (verified)")
    return artifact


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (as a user typed it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _report_line(result: InvokeResult) -> str:
    """Lambda's ``REPORT`` line (what this machine can measure of it)."""
    envelope = result.to_json()
    line = (
        f"REPORT RequestId: {envelope['requestId']}\tDuration: {envelope['durationMs']:.2f} ms"
        f"\tBilled Duration: {envelope['billedDurationMs']} ms"
        f"\tMemory Size: {result.memory} MB"
    )
    if result.init_seconds is not None:
        line += f"\tInit Duration: {envelope['initDurationMs']:.2f} ms"
    return line


def invoke(
    manifest: Manifest | str | Path,
    name: str,
    event: Any,
    options: InvokeOptions | None = None,
    *,
    request_id: str | None = None,
) -> InvokeResult:
    """Build (or reuse) and verify Lambda ``name`` of ``manifest``; invoke it once with ``event``.

    ``manifest`` is a :class:`~sentiment_pipeline.packaging.manifest.Manifest` or the
    path of one; ``event`` any JSON value (``aws lambda invoke`` sends ``{}`` without a
    payload); ``options`` say how to build, the function's environment and AWS
    (:class:`InvokeOptions`; None: the CLI's defaults); ``request_id`` is the
    invocation's (default: a new one; a Function URL event's is its
    ``requestContext.requestId``). A function error is no exception: the result's
    ``ok`` is false and its ``payload`` Lambda's error body. Raises
    :class:`~sentiment_pipeline.packaging.plan.PlanError` for a name the manifest does
    not define (listing those it does), :class:`VerificationFailedError` when the
    artifact did not pass verification, and
    :class:`~sentiment_pipeline.local.runner.RunnerError` without an interpreter of the
    function's Python.

    >>> from sentiment_pipeline import invoke
    >>> result = invoke("lambdas.toml", "api", {"ping": 1})  # doctest: +SKIP
    >>> result.ok, result.payload  # doctest: +SKIP
    (True, {'pong': 1})
    """
    from sentiment_pipeline.local.runner import FunctionSpec, runnable
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.plan import plan_functions

    options = options if options is not None else InvokeOptions()
    if not isinstance(manifest, Manifest):
        manifest = Manifest.load(manifest)
    # An unknown name is refused before anything is built.
    (plan,) = plan_functions(manifest, only=(name,), backend=options.build.backend)
    own = function_environment(manifest, name, options.environment)
    settings = manifest.deploy_settings(name)
    artifact = _built(manifest, name, options.build)
    timeout = settings.timeout or DEFAULT_TIMEOUT
    memory = settings.memory or DEFAULT_MEMORY
    with (
        aws_environment(options.aws) as aws,
        tempfile.TemporaryDirectory(prefix="sp-invoke-") as state,
    ):
        spec = FunctionSpec(
            name=name,
            handler=plan.handler,
            target=plan.target,
            artifact=Path(artifact.path),
            layers=tuple(Path(p) for p in artifact.layers),
            environment={**aws, **own},
            timeout=float(timeout),
            memory=memory,
            concurrency=1,
        )
        function = runnable(
            spec,
            Path(state),
            interpreter=options.interpreter,
            offline=options.build.offline,
            log_sink=lambda _, line: options.log(line),
        )
        try:
            started = time.monotonic()
            init_failed = function.warm(1)
            init_seconds = None if init_failed else time.monotonic() - started
            invocation = function.invoke(event, request_id=request_id)
        finally:
            function.close()  # the worker's last log lines are read before it returns
        result = InvokeResult(name, invocation, artifact, (), float(timeout), memory, init_seconds)
        function.emit(_report_line(result))
        return attrs.evolve(result, logs=tuple(function.logs))
