"""The artifact runner and the Function URL over real HTTP, with Lambda's failure modes.

The function here is a directory artifact run by this machine's interpreter
(the runner unpacks it like any zip); the end-to-end tests run the pipeline's
built zips and images on python3.13.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import textwrap
import time
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.local.functionurl import LocalFunctionUrl
from sentiment_pipeline.local.runner import FunctionSpec, LocalFunction, RunnerError, runnable
from sentiment_pipeline.packaging.sandbox import layer_site_packages
from sentiment_pipeline.packaging.targets import get_target

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sentiment_pipeline.packaging.targets import Target

HANDLER = """\
import base64, importlib.util, json, os, sys, time

COUNT = 0  # module state survives between invocations of a warm worker


def lambda_handler(event, context):
    global COUNT
    COUNT += 1
    path = event.get("rawPath")
    query = event.get("queryStringParameters") or {}
    if path == "/raise":
        raise ValueError("boom from the handler")
    if path == "/sleep":
        time.sleep(float(query.get("s", "5")))
        return {"statusCode": 200, "body": "slept"}
    if path == "/exit":
        os._exit(3)
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(b"\\x89PNG\\x00").decode(), "isBase64Encoded": True,
                "cookies": ["a=1; Path=/", "b=2"]}
    if path == "/plain":
        return {"hello": "world"}
    if path == "/unserialisable":
        return {"statusCode": 200, "body": object()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"event": event, "pid": os.getpid(), "count": COUNT,
                                "remaining": context.get_remaining_time_in_millis(),
                                "function": context.function_name,
                                "request_id": context.aws_request_id,
                                "path": sys.path, "cwd": os.getcwd(),
                                "env": {k: os.environ.get(k) for k in (
                                    "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER",
                                    "AWS_REGION", "GREETING")},
                                "pytest": importlib.util.find_spec("pytest") is not None,
                                "library": importlib.util.find_spec("sentiment_pipeline")
                                is not None})}
"""


def make_artifact(root: Path, source: str = HANDLER) -> Path:
    artifact = root / "artifact"
    (artifact / "app").mkdir(parents=True)
    (artifact / "app" / "__init__.py").write_text("")
    (artifact / "app" / "main.py").write_text(textwrap.dedent(source))
    return artifact


def function_for(
    tmp_path: Path, target: Target, handler: str = "app.main.lambda_handler"
) -> LocalFunction:
    spec = FunctionSpec(
        name="probe",
        handler=handler,
        target=target,
        artifact=make_artifact(tmp_path),
        environment={"GREETING": "hello", "AWS_REGION": "eu-west-1"},
        timeout=2.0,
        concurrency=2,
    )
    return runnable(spec, tmp_path / "functions", offline=True)


@pytest.fixture
def served(tmp_path: Path, host_target: Target) -> Iterator[tuple[LocalFunction, LocalFunctionUrl]]:
    function = function_for(tmp_path, host_target)
    url = LocalFunctionUrl(
        lambda event, request_id: function.invoke(event, request_id=request_id)
    ).start()
    try:
        yield function, url
    finally:
        url.stop()
        function.close()


def call(
    url: LocalFunctionUrl,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(*url.address, timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def echo(url: LocalFunctionUrl, target: str = "/echo", **kwargs: Any) -> dict[str, Any]:
    status, _, body = call(url, "GET", target, **kwargs)
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def test_the_handler_runs_isolated_with_lambdas_path_and_environment(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    function, url = served
    answer = echo(url)
    task = str(function.root / "var/task")
    assert answer["path"][:3] == [
        task,
        str(function.root / "opt" / layer_site_packages(function.spec.target)),
        str(function.root / "opt/python"),
    ]
    assert answer["cwd"] == task
    assert answer["env"] == {
        "LAMBDA_TASK_ROOT": task,
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "_HANDLER": "app.main.lambda_handler",
        "AWS_REGION": "eu-west-1",
        "GREETING": "hello",
    }
    # The host's site-packages (pytest, this library) are invisible to the function.
    assert answer["pytest"] is False and answer["library"] is False
    assert answer["function"] == "probe"
    assert 0 < answer["remaining"] <= 2000
    assert answer["event"]["requestContext"]["requestId"] == answer["request_id"]


def test_a_worker_stays_warm_between_invocations(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    function, url = served
    first, second = echo(url), echo(url)
    assert first["pid"] == second["pid"]
    assert second["count"] == first["count"] + 1
    assert function.cold_starts == 1


def test_a_handler_that_raises_gives_502_with_lambdas_error_body_and_a_logged_error(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    function, url = served
    status, headers, body = call(url, "GET", "/raise")
    assert status == 502
    error = json.loads(body)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom from the handler"
    assert error["requestId"] == headers["x-amzn-requestid"]
    assert any("lambda_handler" in frame for frame in error["stackTrace"])
    assert headers["x-amzn-errortype"] == "ValueError"
    assert any(
        line.startswith("[ERROR] ValueError: boom from the handler") for line in function.logs
    )
    assert function.errors == 1
    assert echo(url)["count"] >= 2  # the same worker goes on serving


def test_a_handler_over_its_timeout_gives_504_and_its_worker_is_replaced(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    function, url = served
    before = echo(url)["pid"]
    status, _, body = call(url, "GET", "/sleep?s=30")
    assert status == 504
    error = json.loads(body)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"] == "Task timed out after 2.00 seconds"
    assert any("Task timed out after 2.00 seconds" in line for line in function.logs)
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the stuck worker is gone
    after = echo(url)
    assert after["pid"] != before and after["count"] == 1  # a fresh environment
    assert (function.timeouts, function.cold_starts) == (1, 2)


def test_a_worker_that_exits_is_runtime_exit_error_and_is_replaced(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    _, url = served
    status, _, body = call(url, "GET", "/exit")
    assert status == 502
    error = json.loads(body)
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    assert echo(url)["count"] == 1


def test_binary_bodies_and_cookies_travel_both_ways(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    _, url = served
    status, headers, body = call(url, "GET", "/binary")
    assert (status, body, headers["content-type"]) == (200, b"\x89PNG\x00", "image/png")
    assert headers.get_all("set-cookie") == ["a=1; Path=/", "b=2"]
    raw = bytes(range(256))
    event = echo(
        url,
        "/echo?a=1&a=2",
        body=raw,
        headers={"Content-Type": "application/octet-stream", "Cookie": "s=1; t=2"},
    )["event"]
    assert base64.b64decode(event["body"]) == raw and event["isBase64Encoded"] is True
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["queryStringParameters"] == {"a": "1,2"}


def test_plain_results_and_marshal_errors(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    _, url = served
    status, headers, body = call(url, "GET", "/plain")
    assert (status, json.loads(body), headers["content-type"]) == (
        200,
        {"hello": "world"},
        "application/json",
    )
    status, _, body = call(url, "GET", "/unserialisable")
    assert status == 502 and json.loads(body)["errorType"] == "Runtime.MarshalError"


def test_an_oversized_request_is_413(served: tuple[LocalFunction, LocalFunctionUrl]) -> None:
    _, url = served
    connection = http.client.HTTPConnection(*url.address, timeout=30)
    try:  # announce the size only: the answer comes before any body is read
        connection.putrequest("POST", "/echo")
        connection.putheader("Content-Length", str(6 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert b"smaller than 6 MB" in response.read()
    finally:
        connection.close()


def test_concurrent_requests_use_several_workers(
    served: tuple[LocalFunction, LocalFunctionUrl],
) -> None:
    import concurrent.futures

    function, url = served
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: call(url, "GET", "/sleep?s=0.3")[0], range(6)))
    assert statuses == [200] * 6
    assert function.workers() == 2  # the function's concurrency


def test_an_import_error_fails_every_invocation_like_lambda(
    tmp_path: Path, host_target: Target
) -> None:
    function = function_for(tmp_path, host_target, handler="app.missing.lambda_handler")
    try:
        for _ in range(2):
            invocation = function.invoke({})
            assert not invocation.ok
            assert invocation.error_type == "Runtime.ImportModuleError"
            assert "Unable to import module 'app.missing'" in invocation.error["errorMessage"]  # type: ignore[index]
        assert function.cold_starts == 2  # init runs again on the next invocation
    finally:
        function.close()


def test_no_interpreter_of_the_target_is_a_clear_error(tmp_path: Path) -> None:
    spec = FunctionSpec(
        name="probe",
        handler="app.main.lambda_handler",
        target=get_target("python3.13", "arm64"),
        artifact=make_artifact(tmp_path),
    )
    with pytest.raises(RunnerError, match=r"no python3\.13 interpreter for arm64"):
        runnable(spec, tmp_path / "functions", offline=True)


LOUD = """\
def lambda_handler(event, context):
    for n in range(event["lines"]):
        print(f"line {n}")
    if event.get("raise"):
        raise KeyError("missing")
    return "done"
"""


def loud_function(
    tmp_path: Path, target: Target, sink: Callable[[str, str], None] | None = None
) -> LocalFunction:
    spec = FunctionSpec(
        name="loud",
        handler="app.main.lambda_handler",
        target=target,
        artifact=make_artifact(tmp_path, LOUD),
        concurrency=1,
    )
    return runnable(spec, tmp_path / "functions", offline=True, log_sink=sink)


def test_close_returns_once_the_workers_last_log_lines_are_read(
    tmp_path: Path, host_target: Target
) -> None:
    # `invoke` prints the whole log, then Lambda's REPORT line after it: nothing may come
    # late, even through a sink slower than the function (a terminal, a pipe).
    function = loud_function(tmp_path, host_target, lambda name, line: time.sleep(0.004))
    try:
        invocation = function.invoke({"lines": 200})
    finally:
        function.close()
    assert invocation.ok
    assert list(function.logs)[-2:] == ["line 199", f"END RequestId: {invocation.request_id}"]


def test_the_stack_trace_starts_at_the_handler_in_lambdas_paths(
    tmp_path: Path, host_target: Target
) -> None:
    function = loud_function(tmp_path, host_target)
    try:
        invocation = function.invoke({"lines": 0, "raise": True})
    finally:
        function.close()
    assert invocation.error is not None
    (frame,) = invocation.error["stackTrace"]
    assert frame.startswith('  File "/var/task/app/main.py", line 5, in lambda_handler\n')
    assert 'raise KeyError("missing")' in frame
