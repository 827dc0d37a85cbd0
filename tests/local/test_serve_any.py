"""`serve` for a manifest that is not this repository's pipeline, as a user runs it.

A generated project (two Lambdas with a Function URL, on python3.13 and python3.12, and
one without) is served by ``python -m sentiment_pipeline serve`` started in the
project's folder with relative paths: each Function URL answers on its own port with
its own code, the payload 2.0 event reaches the handler, the Lambda without a URL is
listed; signals stop every process; a port in use or an unknown name is refused.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.local.functions import function_specs
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.localserve import (
    Serve,
    free_port,
    make_functions_project,
    port_is_free,
    request,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

RUNTIMES = ("python3.13", "python3.12")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, built once (``dist/``): the servers below reuse its artifacts."""
    for runtime in RUNTIMES:
        if find_interpreter(get_target(runtime, "x86_64")) is None:
            pytest.skip(f"no {runtime} x86_64 interpreter here (e.g. `uv python install`)")
    root = tmp_path_factory.mktemp("functions") / "project"
    manifest = make_functions_project(root, api_runtime=RUNTIMES[0], admin_runtime=RUNTIMES[1])
    result = build(Manifest.load(manifest), BuildOptions(engine="none", out=root / "dist"))
    assert result.ok, result
    return root


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[Serve]:
    serve = Serve(built, "--port", str(free_port(2)), "--state-dir", "state")
    try:
        serve.wait_for("serving; Ctrl-C")
        yield serve
    finally:
        serve.stop()


def test_each_function_url_answers_on_its_own_port_in_manifest_order(served: Serve) -> None:
    urls = served.urls()
    assert list(urls) == ["api", "admin"]
    api_port = int(urls["api"].rsplit(":", 1)[1].rstrip("/"))
    assert urls["admin"] == f"http://127.0.0.1:{api_port + 1}/"
    status, headers, body = request(urls["api"], "/")
    assert (status, body["who"], body["greeting"]) == (200, "api", "hello")
    assert headers["x-version"] == "1"
    status, _, body = request(urls["admin"], "/reports/today")
    assert (status, body) == (200, {"who": "admin", "version": "1", "path": "/reports/today"})


def test_the_payload_2_0_event_reaches_the_handler(served: Serve) -> None:
    status, headers, body = request(
        served.urls()["api"],
        "/orders/42?sort=asc&tag=a&tag=b",
        method="POST",
        body=b'{"n": 1}',
        headers={"Content-Type": "application/json", "Cookie": "a=1; b=2", "X-Trace": "t1"},
    )
    assert status == 200
    assert headers["set-cookie"] == "seen=1"
    event = body["event"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/orders/42"
    assert event["rawQueryString"] == "sort=asc&tag=a&tag=b"
    assert event["queryStringParameters"] == {"sort": "asc", "tag": "a,b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-trace"] == "t1"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert (event["body"], event["isBase64Encoded"]) == ('{"n": 1}', False)


def test_a_lambda_without_a_function_url_is_listed_with_how_to_invoke_it(served: Serve) -> None:
    output = served.output()
    assert re.search(
        r"^jobs +no Function URL \(invoke it with `sentiment-pipeline invoke jobs`\)$", output, re.M
    )
    assert "jobs: " in output and "(reused, verified)" in output  # built and verified too
    assert "Traceback" not in output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_serve_and_every_process_it_started(built: Path, signum: int) -> None:
    port = free_port(2)
    serve = Serve(built, "--port", str(port), "--state-dir", f"state-{signum}")
    serve.wait_for("serving; Ctrl-C")
    workers = [c for _, c in serve.tree.seen.values() if "-I -S -B" in c]
    assert len(workers) == 3  # one warm worker per Lambda
    assert serve.stop(signum) == 0
    assert serve.tree.wait_gone(timeout=5) == []
    assert port_is_free(port) and port_is_free(port + 1)
    assert "Traceback" not in serve.output()


def test_a_port_in_use_is_refused_naming_it_before_anything_is_built(built: Path) -> None:
    project = built.parent / "port-in-use"
    shutil.copytree(built, project, ignore=shutil.ignore_patterns("dist", "state*", "*.log"))
    port = free_port(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        serve = Serve(project, "--port", str(port))
        code = serve.wait_exit()
    output = serve.output()
    assert code == 2, output
    assert f"cannot listen on 127.0.0.1:{port + 1} (admin's Function URL)" in output
    assert "pick another --port" in output and "Traceback" not in output
    assert not (project / "dist").exists()
    assert port_is_free(port)


def test_an_unknown_lambda_is_refused_listing_the_names(built: Path) -> None:
    serve = Serve(built, "--lambda", "apii", "--port", str(free_port(2)))
    code = serve.wait_exit()
    output = serve.output()
    assert code == 2, output
    assert "no Lambda named 'apii'" in output and "defined: api, admin, jobs" in output


def test_once_serves_the_named_lambdas_only_then_stops(built: Path) -> None:
    port = free_port(2)
    serve = Serve(built, "--lambda", "admin", "--port", str(port), "--once", "--state-dir", "s1")
    assert serve.wait_exit() == 0, serve.output()
    assert serve.urls() == {"admin": f"http://127.0.0.1:{port}/"}
    assert serve.tree.wait_gone(timeout=5) == []


def test_extra_environment_reaches_every_function_over_its_deploy_environment(
    built: Path,
) -> None:
    manifest = Manifest.load(built / "lambdas.toml")
    result = build(manifest, BuildOptions(engine="none", out=built / "dist"))
    specs = function_specs(manifest, result, ["api", "jobs"], extra_environment={"STAGE": "dev"})
    assert dict(specs["api"].environment) == {"GREETING": "hello", "STAGE": "dev"}
    assert dict(specs["jobs"].environment) == {"STAGE": "dev"}
    (api,) = function_specs(
        manifest, result, ["api"], extra_environment={"GREETING": "hi"}
    ).values()
    assert dict(api.environment) == {"GREETING": "hi"}  # the command line wins
    assert (specs["api"].timeout, specs["jobs"].timeout) == (60.0, 3.0)  # deploy, else Lambda's


def test_env_and_a_local_aws_reach_the_functions_and_the_aws_server_stops_with_serve(
    built: Path,
) -> None:
    port = free_port(1)
    serve = Serve(
        built, "--lambda", "api", "--port", str(port), "--state-dir", "s2",
        "--env", "GREETING=from-the-command-line", "--aws", "local",
    )  # fmt: skip
    try:
        serve.wait_for("serving; Ctrl-C")
        status, _, body = request(serve.urls()["api"], "/")
        assert status == 200
        assert body["greeting"] == "from-the-command-line"  # over the deploy environment
        assert body["endpoint"].startswith("http://127.0.0.1:")  # moto, started by serve
    finally:
        assert serve.stop() == 0, serve.output()
    assert serve.tree.wait_gone(timeout=10) == []  # moto included


def test_the_pipeline_stack_refuses_a_choice_of_aws(tmp_path: Path) -> None:
    from tests.support.cli import run_cli

    repository = Path(__file__).resolve().parents[2]
    done = run_cli(repository, "serve", "--aws", "local", "--state-dir", str(tmp_path), timeout=120)
    assert done.returncode == 2, done.stderr
    assert "--aws local: the pipeline's stack runs its functions against its own moto" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
