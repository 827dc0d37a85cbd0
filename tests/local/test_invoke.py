"""``sentiment-pipeline invoke`` on a generated project, run as a user runs it.

One project (built once for the module): ``echo`` (python3.13, no dependency) answers
the event it got, its context and its variables; ``dep`` (python3.12, the ``layer``
backend) imports ``six`` from its layer; ``aws`` (python3.13) uses the runtime's boto3.
Every command runs as a subprocess from the project's folder, with relative paths.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sentiment_pipeline import BuildOptions, InvokeOptions, Manifest, build, invoke

ECHO = """\
import os
import time

NAMES = ("GREETING", "FROM_DEFAULTS", "OVERRIDDEN", "EXTRA", "AWS_REGION", "AWS_ENDPOINT_URL",
         "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE")


def lambda_handler(event, context):
    print("echo got", type(event).__name__)
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    if isinstance(event, dict) and event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function": context.function_name,
        "env": {name: os.environ.get(name) for name in NAMES},
    }
"""

DEP = """\
import sys

import six


def lambda_handler(event, context):
    return {"six": six.__version__, "python": list(sys.version_info[:2]), "file": six.__file__}
"""

AWS = """\
import os
import time

import boto3


def lambda_handler(event, context):
    if event.get("action") == "hang":
        with open(event["pidfile"], "w") as file:
            file.write(str(os.getpid()))
        time.sleep(60)
    if event.get("action") == "session":
        session = boto3.Session()
        credentials = session.get_credentials()
        return {"access_key": credentials.access_key if credentials else None,
                "region": session.region_name, "env_region": os.environ.get("AWS_REGION")}
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="invoke-test")
    s3.put_object(Bucket="invoke-test", Key="greeting", Body=b"stored in moto")
    stored = s3.get_object(Bucket="invoke-test", Key="greeting")["Body"].read().decode()
    return {"endpoint": os.environ.get("AWS_ENDPOINT_URL"), "stored": stored,
            "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]]}
"""

MANIFEST = """\
[defaults]
runtime = "python3.13"
architecture = "x86_64"
backend = "zip-in-docker"

[defaults.deploy]
environment = { FROM_DEFAULTS = "defaults", OVERRIDDEN = "defaults" }

[lambdas.echo]
handler = "echo.lambda_handler"
sources = ["src/echo.py"]

[lambdas.echo.deploy]
environment = { GREETING = "hello from the manifest", OVERRIDDEN = "manifest" }

[layers.shared]
requirements = ["six==1.17.0"]

[lambdas.dep]
runtime = "python3.12"
backend = "layer"
handler = "dep.lambda_handler"
sources = ["src/dep.py"]
layers = ["shared"]

[lambdas.aws]
handler = "awsfn.lambda_handler"
sources = ["src/awsfn.py"]

[lambdas.aws.deploy]
timeout = 30
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, its three Lambdas built once (as ``invoke --engine none`` builds them)."""
    root = tmp_path_factory.mktemp("invoke-project")
    (root / "src").mkdir()
    for name, source in (("echo", ECHO), ("dep", DEP), ("awsfn", AWS)):
        (root / "src" / f"{name}.py").write_text(textwrap.dedent(source))
    (root / "lambdas.toml").write_text(MANIFEST)
    (root / "events").mkdir()
    (root / "events" / "message.json").write_text('{"article": 7}\n')
    (root / "events" / "order.json").write_text('{"order": [1, 2]}')
    result = build(
        Manifest.load(root / "lambdas.toml"),
        BuildOptions(out=root / "dist", engine="none", only=("echo", "dep", "aws")),
    )
    assert result.ok, [p.message for a in result.artifacts for p in a.problems]
    return root


def user_environment(**extra: str) -> dict[str, str]:
    """This process's variables without its AWS configuration (the tests set their own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **extra}


def run(
    cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", "invoke", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env if env is not None else user_environment(),
    )


def running(pid: int) -> bool:
    """Whether ``pid`` runs: not gone, and not a zombie (dead, its parent gone, not reaped
    yet by init)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def answer(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_function_url_template_is_payload_2_0_with_the_body_and_the_log_on_stderr(
    project: Path,
) -> None:
    done = run(
        project,
        "echo",
        "--engine",
        "none",
        "--event",
        "function-url:POST:/items/7?limit=2&tag=a&tag=b",
        "--body",
        '{"name": "x"}',
    )
    result = answer(done)
    event = result["event"]
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "$default",
        "/items/7",
    )
    assert event["rawQueryString"] == "limit=2&tag=a&tag=b"
    assert event["queryStringParameters"] == {"limit": "2", "tag": "a,b"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"name": "x"}', False)
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["host"].endswith(".lambda-url.us-east-1.on.aws")
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["protocol"]) == ("POST", "/items/7", "HTTP/1.1")
    # A Function URL's request id is the invocation's.
    assert event["requestContext"]["requestId"] == result["request_id"]
    assert result["function"] == "echo"
    log = done.stderr.splitlines()
    assert f"START RequestId: {result['request_id']} Version: $LATEST" in log
    assert "echo got dict" in log
    assert f"END RequestId: {result['request_id']}" in log
    assert any(line.startswith(f"REPORT RequestId: {result['request_id']}\t") for line in log)
    assert any(line.endswith("echo: reused dist/zip-in-docker/echo.zip (verified)") for line in log)


def test_sns_template_carries_the_file_as_the_message(project: Path) -> None:
    result = answer(run(project, "echo", "--engine", "none", "--event", "sns:events/message.json"))
    (record,) = result["event"]["Records"]
    assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
    sns = record["Sns"]
    assert sns["Message"] == '{"article": 7}\n'  # the file's content, as is
    assert sns["Type"] == "Notification"
    assert sns["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:echo-topic"
    assert record["EventSubscriptionArn"].startswith(sns["TopicArn"] + ":")


def test_sqs_template_carries_the_file_as_the_body(project: Path) -> None:
    result = answer(run(project, "echo", "--engine", "none", "--event", "sqs:events/order.json"))
    (record,) = result["event"]["Records"]
    assert (record["eventSource"], record["body"]) == ("aws:sqs", '{"order": [1, 2]}')
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:echo-queue"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_schedule_template_is_an_eventbridge_scheduled_event(project: Path) -> None:
    event = answer(run(project, "echo", "--engine", "none", "--event", "schedule"))["event"]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/echo-schedule"]


def test_an_event_file_and_stdin_and_no_event(project: Path) -> None:
    from_file = answer(run(project, "echo", "--engine", "none", "--event", "events/order.json"))
    assert from_file["event"] == {"order": [1, 2]}
    from_stdin = answer(run(project, "echo", "--engine", "none", "--event", "-", stdin="[1, 2]"))
    assert from_stdin["event"] == [1, 2]
    assert answer(run(project, "echo", "--engine", "none"))["event"] == {}


def test_a_function_error_exits_1_with_lambdas_error_body(project: Path) -> None:
    done = run(project, "echo", "--engine", "none", "--event", "-", stdin='{"fail": true}')
    assert done.returncode == 1, done.stderr
    error = json.loads(done.stdout)
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail")
    # The trace starts at the handler, in Lambda's paths.
    assert error["stackTrace"][0].startswith('  File "/var/task/echo.py", line ')
    assert "in lambda_handler" in error["stackTrace"][0]
    assert f"[ERROR] ValueError: asked to fail {json.dumps(error)}" in done.stderr.splitlines()


def test_the_manifests_deploy_environment_and_env_reach_the_handler(project: Path) -> None:
    env = answer(
        run(project, "echo", "--engine", "none", "--env", "OVERRIDDEN=cli", "--env", "EXTRA=a=b")
    )["env"]
    assert env["GREETING"] == "hello from the manifest"  # [lambdas.echo.deploy]
    assert env["FROM_DEFAULTS"] == "defaults"  # [defaults.deploy]
    assert env["OVERRIDDEN"] == "cli"  # --env over both
    assert env["EXTRA"] == "a=b"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"  # Lambda's default


def test_json_prints_an_envelope_and_the_default_timeout_is_lambdas(project: Path) -> None:
    ok = answer(run(project, "echo", "--engine", "none", "--json"))
    assert ok["ok"] and ok["error"] is None and ok["errorType"] is None
    assert ok["result"]["request_id"] == ok["requestId"]
    assert ok["artifact"]["reused"] and ok["artifact"]["path"].endswith("echo.zip")
    assert (ok["memorySizeMb"], ok["timeoutSeconds"]) == (128, 3.0)
    assert ok["logs"][0] == f"START RequestId: {ok['requestId']} Version: $LATEST"
    assert ok["logs"][-1].startswith(f"REPORT RequestId: {ok['requestId']}\tDuration: ")
    assert ok["initDurationMs"] > 0 and ok["billedDurationMs"] >= 1
    # Over Lambda's default 3 s timeout: Sandbox.Timedout, exit 1.
    late = run(project, "echo", "--engine", "none", "--json", "--event", "-", stdin='{"sleep": 6}')
    assert late.returncode == 1, late.stderr
    envelope = json.loads(late.stdout)
    assert (envelope["ok"], envelope["errorType"], envelope["timedOut"]) == (
        False,
        "Sandbox.Timedout",
        True,
    )
    assert envelope["error"]["errorMessage"] == "Task timed out after 3.00 seconds"


def test_a_dependency_imports_from_the_functions_layer_on_python312(project: Path) -> None:
    done = run(project, "dep", "--engine", "none", "--json")
    envelope = answer(done)
    assert envelope["artifact"]["layers"] == [str(project / "dist/layer/layers/shared.zip")]
    result = envelope["result"]
    assert (result["six"], result["python"]) == ("1.17.0", [3, 12])
    assert result["file"].endswith("/opt/python/six.py")  # unpacked where Lambda puts layers


def test_aws_local_points_boto3_at_a_moto_server(project: Path) -> None:
    done = run(project, "aws", "--engine", "none", "--aws", "local")
    result = answer(done)
    assert result["endpoint"].startswith("http://127.0.0.1:")
    assert (result["stored"], result["buckets"]) == ("stored in moto", ["invoke-test"])


def test_passthrough_gives_the_function_your_profile_and_its_region(project: Path) -> None:
    aws = project / "fake-aws"
    aws.mkdir(exist_ok=True)
    (aws / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAINVOKETEST\naws_secret_access_key = never-printed-42\n"
    )
    (aws / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    env = user_environment(
        AWS_PROFILE="dev",
        AWS_CONFIG_FILE="fake-aws/config",  # relative: the worker runs elsewhere
        AWS_SHARED_CREDENTIALS_FILE="fake-aws/credentials",
    )
    done = run(
        project, "aws", "--engine", "none", "--event", "-", stdin='{"action": "session"}', env=env
    )
    result = answer(done)
    assert result == {
        "access_key": "AKIAINVOKETEST",
        "region": "eu-west-3",
        "env_region": "eu-west-3",
    }
    assert "never-printed-42" not in done.stdout + done.stderr


def test_invoke_as_a_library_call(project: Path) -> None:
    lines: list[str] = []
    options = InvokeOptions(
        build=BuildOptions(out=project / "dist", engine="none"),
        environment={"OVERRIDDEN": "library"},
        log=lines.append,
    )
    result = invoke(project / "lambdas.toml", "echo", {"n": 1}, options)
    assert result.ok and result.artifact.cache_hit
    assert result.payload["event"] == {"n": 1}
    assert result.payload["env"]["OVERRIDDEN"] == "library"
    assert lines == list(result.logs)
    assert "echo got dict" in lines


def test_sigterm_stops_the_function_and_leaves_nothing_behind(project: Path) -> None:
    pidfile = project / "worker.pid"
    (project / "events" / "hang.json").write_text(
        json.dumps({"action": "hang", "pidfile": str(pidfile)})
    )
    command = ["invoke", "aws", "--engine", "none", "--event", "events/hang.json"]
    scratch = project / "scratch"  # the command's temporary directories go here
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "sentiment_pipeline", *command],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=user_environment(TMPDIR=str(scratch)),
    )
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() or not pidfile.read_text():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        worker = int(pidfile.read_text())
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stdout == ""
    assert stderr.splitlines()[-1] == "sentiment-pipeline: interrupted (SIGTERM)"
    assert not running(worker)  # the worker (its own session) is gone with the command
    assert list(scratch.iterdir()) == []  # the unpacked artifact too
