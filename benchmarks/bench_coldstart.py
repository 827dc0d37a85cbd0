"""Cold start of each handler in a fresh interpreter, beside a FastAPI + Mangum baseline.

What is measured
----------------
A moto server runs in this process on 127.0.0.1 with the pipeline provisioned
and seeded (the handlers reach it through ``AWS_ENDPOINT_URL``, as in the
tests), plus a local NewsAPI. Each variant is a fresh ``python -B`` process
(``-B``: no bytecode is written, the ``.pyc`` compiled before the first round
are read, as in a Lambda artifact that ships them) that imports the handler and
makes its first invocation with a real-shaped event, then exits. We report
the process wall time (interpreter start + import + first invocation) and,
from inside the child, import and first-invocation times. Rounds alternate the
order; medians of ``--repeat`` rounds after one untimed warm-up round.

Variants:

- ``ingestion``: ``handlers.ingestion`` on an EventBridge schedule event (one
  NewsAPI page of 20 articles, conditional puts, SNS publish);
- ``analysis``: ``handlers.analysis`` on an SNS event for a PENDING item (VADER
  load included);
- ``dashboard``: ``handlers.dashboard`` on ``GET /api/items`` with the API key
  (Secrets Manager read, DynamoDB query);
- ``fastapi``: a FastAPI + Mangum app serving the same routes with the same
  storage code (``DynamoRepository``, ``CachedSecret``, the dashboard queries and
  response models), on the same event: the baseline;
- ``dashboard+powertools``: the dashboard after importing Powertools' Logger
  and ``LambdaFunctionUrlResolver`` (what adopting it would add);
- ``python``: ``python -B -c pass``, the floor;
- ``zip, pyc`` and ``zip, no pyc``: one artifact, a generated Lambda whose handler
  validates an event with a pydantic model, built here with ``--engine none`` for
  this interpreter's Python (so its ``.pyc`` are compiled by it), unpacked as
  built and unpacked without its ``__pycache__`` folders: what bytecode saves
  each cold start (``/var/task`` is read-only in Lambda: without ``.pyc`` every
  cold start compiles every module it imports).

Target
------
dashboard / fastapi <= 0.65; zip with pyc / without <= 0.6. Reported, not
asserted. Needs the ``bench`` extra: ``pip install -e '.[test,bench]'``.

Usage::

    python benchmarks/bench_coldstart.py [--repeat N] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moto.server import ThreadedMotoServer  # noqa: E402

from sentiment_pipeline.aws.clients import reset_clients  # noqa: E402
from sentiment_pipeline.aws.dynamodb import DynamoRepository  # noqa: E402
from sentiment_pipeline.aws.provision import provision  # noqa: E402
from sentiment_pipeline.ingestion import ingest  # noqa: E402
from sentiment_pipeline.memory import InMemoryPublisher  # noqa: E402
from tests.support.newsapi_fake import FakeNewsAPI, article  # noqa: E402

DASHBOARD_KEY = "bench-dashboard-key-0123456789"
NEWSAPI_KEY = "bench-newsapi-key-0123456789"

# The baseline: the same routes, the same storage code, FastAPI's idioms.
FASTAPI_APP = """
from __future__ import annotations

import hmac
import os
import datetime as dt

from fastapi import FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from mangum import Mangum

from sentiment_pipeline.aws.dynamodb import DynamoRepository
from sentiment_pipeline.aws.secrets import SecretsManagerSource
from sentiment_pipeline.dashboard import queries
from sentiment_pipeline.errors import StorageUnavailableError
from sentiment_pipeline.records import (
    HealthResponse, ItemsResponse, MetricsResponse, Sentiment, Status, iso,
)
from sentiment_pipeline.ports import ItemQuery
from sentiment_pipeline.secretcache import CachedSecret

app = FastAPI()
repo = DynamoRepository(os.environ["DYNAMODB_TABLE"])
secret = CachedSecret(SecretsManagerSource(), os.environ["DASHBOARD_API_KEY_SECRET_ARN"], ttl=300)


def check(key: str | None) -> None:
    if not key or not hmac.compare_digest(key.encode(), secret.get().encode()):
        raise HTTPException(401, "unauthorized")


@app.get("/health", response_model=HealthResponse)
def health():
    try:
        return queries.health(repo, os.environ.get("ENVIRONMENT", "dev"))
    except StorageUnavailableError:
        return JSONResponse({"error": "storage_unavailable"}, status_code=503)


@app.get("/api/items", response_model=ItemsResponse)
def items(
    x_api_key: str | None = Header(None),
    api_key: str | None = None,
    status: Status | None = None,
    sentiment: Sentiment | None = None,
    source: str | None = None,
    since: dt.datetime | None = None,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = None,
):
    check(x_api_key or api_key)
    query = ItemQuery(status, sentiment, source, iso(since) if since else None)
    return queries.list_items(repo, query, limit=limit, cursor=cursor)


@app.get("/api/metrics", response_model=MetricsResponse)
def metrics(
    x_api_key: str | None = Header(None),
    api_key: str | None = None,
    hours: int = Query(24, ge=1, le=168),
):
    check(x_api_key or api_key)
    return queries.metrics(repo, now=dt.datetime.now(dt.UTC), hours=hours)


@app.get("/api/stream")
def stream(
    x_api_key: str | None = Header(None),
    api_key: str | None = None,
    since: str | None = None,
    last_event_id: str | None = Header(None),
):
    check(x_api_key or api_key)
    raw = last_event_id or since
    cursor = queries.stream_cursor(raw) if raw else None
    events, resume = queries.stream(repo, cursor, limit=50)
    body = queries.sse_body(events, resume=resume, retry_ms=5000, started=cursor is not None)
    return Response(body, media_type="text/event-stream")


handler = Mangum(app, lifespan="off")
"""

CHILD = """
import json, os, sys, time
t0 = time.perf_counter()
{imports}
import importlib
module = importlib.import_module({module!r})
t1 = time.perf_counter()
event = json.loads(sys.stdin.read())
class Context:
    aws_request_id = "cold-start"
    function_name = "bench"
result = getattr(module, {function!r})(event, Context())
t2 = time.perf_counter()
{check}
done = time.time()
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({{"import": t1 - t0, "invoke": t2 - t1, "cpu": cpu, "done": done}}), flush=True)
os._exit(0)  # the response is ready: interpreter teardown is not part of a cold start
"""

HTTP_OK = 'assert result["statusCode"] == 200, result'

ARTIFACT_HANDLER = """
from pydantic import BaseModel


class Order(BaseModel):
    id: int
    items: list[str]


def lambda_handler(event, context):
    return {"statusCode": 200, "body": Order.model_validate(event).model_dump_json()}
"""


def artifact_trees(tmp: Path) -> tuple[Path, Path]:
    """One zip built with ``--engine none`` (``.pyc`` compiled by this Python), unpacked
    twice: as built, and without its ``__pycache__`` folders."""
    import zipfile

    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions

    project = tmp / "artifact-project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "main.py").write_text(ARTIFACT_HANDLER)
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    (project / "lambdas.toml").write_text(
        "[lambdas.orders]\n"
        'handler = "app.main.lambda_handler"\n'
        'sources = ["app"]\n'
        'requirements = ["pydantic"]\n'
        f'runtime = "python{sys.version_info[0]}.{sys.version_info[1]}"\n'
        f'architecture = "{arch}"\n'
    )
    options = BuildOptions(out=tmp / "artifact-dist", engine="none")
    (result,) = build(Manifest.load(project / "lambdas.toml"), options).artifacts
    if not (result.ok and result.compiled):
        raise SystemExit(f"the artifact was not built with bytecode: {result.notes}")
    with_pyc, without = tmp / "zip-pyc", tmp / "zip-no-pyc"
    with zipfile.ZipFile(result.path) as zf:
        zf.extractall(with_pyc)
        zf.extractall(without, [n for n in zf.namelist() if "/__pycache__/" not in f"/{n}"])
    return with_pyc, without


def order_event() -> dict[str, Any]:
    return {"id": 7, "items": ["a", "b"]}


def function_url_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "tests/events/function_url_get.json").read_text())
    event["rawQueryString"] = "limit=10"
    event["queryStringParameters"] = {"limit": "10"}
    event["headers"]["x-api-key"] = DASHBOARD_KEY
    return event


def schedule_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (ROOT / "tests/events/eventbridge_schedule.json").read_text()
    )
    event["detail"] = {"page_size": 20, "max_pages": 1}
    return event


def sns_event(message: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "tests/events/sns_item.json").read_text())
    event["Records"][0]["Sns"]["Message"] = message
    return event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    newsapi = FakeNewsAPI(api_key=NEWSAPI_KEY).start()
    try:
        return run(server, newsapi, args.repeat, args.json_out)
    finally:
        newsapi.stop()
        server.stop()


def run(server: ThreadedMotoServer, newsapi: FakeNewsAPI, repeat: int, json_out: str | None) -> int:
    host, port = server.get_host_and_port()
    with tempfile.TemporaryDirectory() as tmp:
        aws_env = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(Path(tmp) / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(Path(tmp) / "none"),
        }
        os.environ.update(aws_env)
        reset_clients()
        resources = provision(newsapi_key=NEWSAPI_KEY, dashboard_api_key=DASHBOARD_KEY)
        repo = DynamoRepository(resources.table)
        now = dt.datetime.now(dt.UTC)
        ingest([article(i) for i in range(50)], repo, InMemoryPublisher(), now=now)
        newsapi.articles = [article(1000 + i) for i in range(20)]

        (Path(tmp) / "fastapi_dashboard.py").write_text(FASTAPI_APP)
        # Bytecode for every module, compiled once (Lambda artifacts ship it).
        subprocess.run(
            [
                sys.executable,
                "-m",
                "compileall",
                "-q",
                str(ROOT / "sentiment_pipeline"),
                str(ROOT / "handlers"),
                tmp,
            ],
            check=True,
        )
        with_pyc, without_pyc = artifact_trees(Path(tmp))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
            **aws_env,
            **resources.environment(),
            "NEWSAPI_BASE_URL": newsapi.url,
            "NEWSAPI_QUERY": "markets",
            "PYTHONPATH": os.pathsep.join([str(ROOT), tmp]),
            "LOG_LEVEL": "WARNING",
        }
        pending = iter(range(10_000))

        def analysis_event() -> dict[str, Any]:
            # A fresh PENDING item each time, so every run does the real update.
            publisher = InMemoryPublisher()
            ingest([article(5000 + next(pending))], repo, publisher, now=now)
            return sns_event(publisher.messages[0].model_dump_json())

        powertools = (
            "from aws_lambda_powertools import Logger\n"
            "from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver"
        )
        variants: dict[str, tuple[str, str, str, Any, str]] = {
            "python": ("", "json", "dumps", None, ""),
            "ingestion": (
                "",
                "handlers.ingestion",
                "lambda_handler",
                schedule_event,
                'assert result["new"] + result["duplicate"] == 20, result',
            ),
            "analysis": (
                "",
                "handlers.analysis",
                "lambda_handler",
                analysis_event,
                'assert result["analyzed"] == 1, result',
            ),
            "dashboard": ("", "handlers.dashboard", "lambda_handler", function_url_event, HTTP_OK),
            "fastapi": ("", "fastapi_dashboard", "handler", function_url_event, HTTP_OK),
            "dashboard+powertools": (
                powertools,
                "handlers.dashboard",
                "lambda_handler",
                function_url_event,
                HTTP_OK,
            ),
            "zip, pyc": (
                f"sys.path.insert(0, {str(with_pyc)!r})",
                "app.main",
                "lambda_handler",
                order_event,
                HTTP_OK,
            ),
            "zip, no pyc": (
                f"sys.path.insert(0, {str(without_pyc)!r})",
                "app.main",
                "lambda_handler",
                order_event,
                HTTP_OK,
            ),
        }

        def once(name: str) -> dict[str, float]:
            imports, module, function, make_event, check = variants[name]
            if make_event is None:
                start = time.perf_counter()
                subprocess.run([sys.executable, "-B", "-c", "pass"], env=env, check=True)
                return {
                    "wall": time.perf_counter() - start,
                    "import": 0.0,
                    "invoke": 0.0,
                    "cpu": 0.0,
                }
            # (the floor is measured to process exit: ``pass`` has no response)
            code = CHILD.format(imports=imports, module=module, function=function, check=check)
            payload = json.dumps(make_event())
            start = time.time()
            out = subprocess.run(
                [sys.executable, "-B", "-c", code],
                input=payload,
                env=env,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
            inner: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
            # From spawning the interpreter to the handler's response.
            return {"wall": inner.pop("done") - start, **inner}

        names = list(variants)
        for name in names:  # warm-up: page cache, moto's first-request paths
            once(name)
        samples: dict[str, list[dict[str, float]]] = {n: [] for n in names}
        for round_ in range(repeat):
            for name in names if round_ % 2 == 0 else reversed(names):
                samples[name].append(once(name))

    med = {
        n: {
            k: statistics.median(s[k] for s in samples[n])
            for k in ("wall", "cpu", "import", "invoke")
        }
        for n in names
    }
    base, base_cpu = med["fastapi"]["wall"], med["fastapi"]["cpu"]
    print(f"CPython {platform.python_version()} {platform.machine()}, {repeat} rounds, medians (s)")
    print(
        f"{'variant':22} {'wall':>7} {'cpu':>7} {'import':>7} {'1st call':>8} "
        f"{'wall/fastapi':>12} {'cpu/fastapi':>11}"
    )
    for n in names:
        m = med[n]
        print(
            f"{n:22} {m['wall']:7.3f} {m['cpu']:7.3f} {m['import']:7.3f} {m['invoke']:8.3f} "
            f"{m['wall'] / base:12.2f} {m['cpu'] / base_cpu if base_cpu else 0:11.2f}"
        )
    pt = med["dashboard+powertools"]["wall"] - med["dashboard"]["wall"]
    print(
        f"Powertools adds {pt * 1000:.0f} ms to the dashboard's cold start "
        f"({med['dashboard+powertools']['wall'] / base:.2f}x of the baseline with it)"
    )
    zipped, unzipped = med["zip, pyc"], med["zip, no pyc"]
    print(
        f"zip with pyc / without (same artifact): wall {zipped['wall'] / unzipped['wall']:.2f}x, "
        f"import {zipped['import'] / unzipped['import']:.2f}x"
    )
    print("target: dashboard / fastapi <= 0.65; zip with pyc / without <= 0.6")
    if json_out:
        Path(json_out).write_text(json.dumps({"samples": samples, "median": med}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
