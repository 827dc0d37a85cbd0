"""Smoke-test a new version before traffic moves to it.

The version itself is invoked (never the alias) with the Lambda's smoke event: its
``smoke-event`` file, else for a Lambda with a Function URL a payload 2.0
``GET /health``, else ``{}``. It fails on a ``FunctionError``, on an answer that is
Lambda's error document, on a Function URL response with a status of 500 or more, and
on a timeout. ``--smoke local`` runs the same event against the exact artifact with
the local runner instead of invoking in AWS.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.deployment.errors import RefusedError

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.deployment.artifacts import Deployable
    from sentiment_pipeline.deployment.aws import LambdaApi
    from sentiment_pipeline.deployment.options import SmokeMode

__all__ = ["SmokeResult", "judge", "smoke_aws", "smoke_event", "smoke_local"]

LAMBDA_DEFAULT_TIMEOUT = 3
"""Seconds: a function's timeout when the manifest does not set one (Lambda's default)."""
LAMBDA_DEFAULT_MEMORY = 128
LOG_TAIL = 12
"""Log lines shown for a failed smoke."""


@attrs.frozen
class SmokeResult:
    """The outcome of one smoke test (``passed`` None: skipped)."""

    mode: SmokeMode
    passed: bool | None
    seconds: float = 0.0
    error_type: str | None = None
    error_message: str | None = None
    status_code: int | None = None
    """The Function URL response's ``statusCode``, when the answer had one."""
    log_tail: tuple[str, ...] = ()

    def describe(self) -> str:
        """``smoke passed (aws, 0.12 s)``, ``smoke FAILED (local): ValueError: boom``."""
        if self.passed is None:
            return "smoke skipped (--smoke none): traffic moves without a test"
        if self.passed:
            status = f", HTTP {self.status_code}" if self.status_code is not None else ""
            return f"smoke passed ({self.mode}, {self.seconds:.2f} s{status})"
        return f"smoke FAILED ({self.mode}): {self.error_type}: {self.error_message}"

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["log_tail"] = list(self.log_tail)
        return data


def smoke_event(item: Deployable) -> bytes:
    """The JSON event ``item`` is smoke-tested with; an unreadable or invalid
    ``smoke-event`` file is refused (before anything is uploaded)."""
    path = item.settings.smoke_event
    if path is not None:
        try:
            return json.dumps(json.loads(path.read_text("utf-8"))).encode()
        except OSError as exc:
            raise RefusedError(
                [f"{item.name}: smoke-event {path} cannot be read ({exc.strerror}); fix the path"]
            ) from exc
        except ValueError as exc:
            raise RefusedError(
                [f"{item.name}: smoke-event {path} is not JSON ({exc}); write the event as JSON"]
            ) from exc
    if item.settings.function_url is not None:
        from sentiment_pipeline.local.functionurl import HttpRequest, event_from_request

        request = HttpRequest(
            "GET", "/health", (("user-agent", "sentiment-pipeline-deploy"),), host="smoke"
        )
        return json.dumps(event_from_request(request)).encode()
    return b"{}"


def judge(
    answer: Any, *, function_error: str | None, has_url: bool
) -> tuple[bool, str | None, str | None, int | None]:
    """Whether an answer passes: (passed, errorType, errorMessage, statusCode).

    >>> judge({"errorType": "ValueError", "errorMessage": "boom"}, function_error="Unhandled",
    ...       has_url=False)
    (False, 'ValueError', 'boom', None)
    >>> judge({"statusCode": 503, "body": "down"}, function_error=None, has_url=True)
    (False, 'HTTP 503', 'down', 503)
    >>> judge({"statusCode": 200, "body": "{}"}, function_error=None, has_url=True)
    (True, None, None, 200)
    """
    document = answer if isinstance(answer, dict) else {}
    error_type, error_message = document.get("errorType"), document.get("errorMessage")
    if function_error is not None:
        return False, str(error_type or function_error), str(error_message or answer), None
    # Lambda's error document without the FunctionError header: what a handler that
    # returns its own error looks like (and all moto's docker-less backend can answer).
    if isinstance(error_type, str) and isinstance(error_message, str):
        return False, error_type, error_message, None
    status = document.get("statusCode") if has_url else None
    if isinstance(status, int) and not isinstance(status, bool):
        if status >= 500:
            body = str(document.get("body", ""))
            return False, f"HTTP {status}", body[:300] or "(empty body)", status
        return True, None, None, status
    return True, None, None, None


def _decoded(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")


def smoke_aws(api: LambdaApi, item: Deployable, version: str, event: bytes) -> SmokeResult:
    """Invoke ``version`` of the function with ``event`` and judge the answer."""
    timeout = item.settings.timeout or LAMBDA_DEFAULT_TIMEOUT
    started = time.monotonic()
    try:
        answer = api.invoke(item.settings.function_name, version, event, timeout)
    except TimeoutError as exc:
        return SmokeResult("aws", False, time.monotonic() - started, "Timeout", str(exc))
    seconds = time.monotonic() - started
    passed, error_type, message, status = judge(
        _decoded(answer.payload),
        function_error=answer.function_error,
        has_url=item.settings.function_url is not None,
    )
    if passed and not 200 <= answer.status < 300:
        passed, error_type, message = False, f"Invoke {answer.status}", "unexpected status"
    return SmokeResult(
        "aws", passed, seconds, error_type, message, status, answer.log_tail[-LOG_TAIL:]
    )


def smoke_local(item: Deployable, event: bytes, state: Path) -> SmokeResult:
    """Run the exact artifact (with its layers) on ``event`` with the local runner,
    as Lambda would run the version, and judge the answer."""
    from sentiment_pipeline.local.runner import FunctionSpec, RunnerError, runnable

    settings = item.settings
    spec = FunctionSpec(
        name=settings.function_name,
        handler=item.handler,
        target=item.target,
        artifact=item.function.path,
        layers=tuple(layer.artifact.path for layer in item.layers),
        environment=settings.environment,
        timeout=float(settings.timeout or LAMBDA_DEFAULT_TIMEOUT),
        memory=settings.memory or LAMBDA_DEFAULT_MEMORY,
        concurrency=1,
    )
    try:
        function = runnable(spec, state)
    except RunnerError as exc:
        raise RefusedError(
            [f"{item.name}: --smoke local cannot run it here: {exc}; or use --smoke aws"]
        ) from exc
    # The runner logs a failed invocation as an error; here it is the smoke's result,
    # reported once with the function's own log.
    runner_log = logging.getLogger("sentiment_pipeline.local.runner")
    level = runner_log.level
    runner_log.setLevel(logging.CRITICAL)
    try:
        invocation = function.invoke(json.loads(event))
    finally:
        runner_log.setLevel(level)
        function.close()
    tail = tuple(function.logs)[-LOG_TAIL:]
    if not invocation.ok:
        error = invocation.error or {}
        return SmokeResult(
            "local",
            False,
            invocation.seconds,
            str(error.get("errorType")),
            str(error.get("errorMessage")),
            None,
            tail,
        )
    passed, error_type, message, status = judge(
        invocation.result, function_error=None, has_url=settings.function_url is not None
    )
    return SmokeResult("local", passed, invocation.seconds, error_type, message, status, tail)
