"""Dashboard latency over the local Function URL, and the emulator's overhead.

Builds this repository's Lambdas (zip-in-docker, ``--engine none``) into a temp
directory, starts the local stack with the bundled sample (one ingestion,
analysed), then measures ``GET /health`` (one DynamoDB call) and
``GET /api/items?limit=20`` (a GSI query) with the API key:

(a) in-process: the dashboard handler called in a loop by one python3.13 process
    importing the *same unpacked artifact* with the same sys.path and environment
    as a worker (the floor: no HTTP, no event translation, no pipe);
(b) the local Function URL, one client, keep-alive, sequential;
(c) the local Function URL under a bounded load: C clients (separate processes,
    keep-alive), each sending R requests as fast as answered.

Clients run in separate processes so their work does not share the emulator's
GIL. Reported: p50/p99 latency, requests per second, and the ratios (b)/(a).
Figures only; nothing is asserted.

    python benchmarks/bench_serve.py [--requests 400] [--clients 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = ("/health", "/api/items?limit=20")

# Runs in the target interpreter (-I -S) with the worker's sys.path and environment.
_IN_PROCESS = r"""
import json, sys, time
front, sdk, handler_name, event, count = json.loads(sys.argv[1])
sys.path[:0] = front + sdk
import importlib
module_name, _, attr = handler_name.rpartition(".")
handler = getattr(importlib.import_module(module_name), attr)

class Context:
    aws_request_id = "bench"
    function_name = "dashboard"
    def get_remaining_time_in_millis(self):
        return 10000

context = Context()
for _ in range(20):
    assert handler(event, context)["statusCode"] == 200
times = []
for _ in range(count):
    start = time.perf_counter()
    answer = handler(event, context)
    times.append(time.perf_counter() - start)
    assert answer["statusCode"] == 200, answer
print(json.dumps(times))
"""

# One HTTP client: R sequential keep-alive requests, then the latencies as JSON.
_CLIENT = r"""
import http.client, json, sys, time
host, port, target, key, count = sys.argv[1:6]
connection = http.client.HTTPConnection(host, int(port), timeout=60)
times = []
for i in range(int(count) + 10):
    start = time.perf_counter()
    connection.request("GET", target, headers={"X-API-Key": key})
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, (response.status, body[:200])
    if i >= 10:
        times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, times: list[float], wall: float | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "requests": len(times),
        "p50_ms": percentile(times, 50) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
        "mean_ms": statistics.fmean(times) * 1000,
        "rps": len(times) / (wall if wall is not None else sum(times)),
    }


def clients(
    url: str, key: str, target: str, count: int, requests: int
) -> tuple[list[float], float]:
    host, port = url.removeprefix("http://").split(":")
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-I", "-c", _CLIENT, host, port, target, key, str(requests)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    times: list[float] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"a client failed (exit {proc.returncode})")
        times += json.loads(out)
    return times, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="per measurement (default 400)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients in (c)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    from sentiment_pipeline.local.serve import build_specs
    from sentiment_pipeline.local.stack import Stack, StackOptions
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        for name in ("lambdas.toml", "lambdas.lock"):
            shutil.copy(ROOT / name, work / name)
        for name in ("handlers", "sentiment_pipeline"):
            shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        specs, _ = build_specs(
            Manifest.load(work / "lambdas.toml"),
            BuildOptions(backend="zip-in-docker", out=work / "dist", engine="none"),
        )
        options = StackOptions(
            state_dir=work / "state", port=0, ingest_every=0, ingest_on_start=False
        )
        with Stack(specs, options) as stack:
            if stack.wait_healthy() != 200:
                raise SystemExit("the dashboard did not become healthy")
            ingested = stack.ingest()
            stack.wait_idle(timeout=120)
            dashboard = stack.functions["dashboard"]
            results = {target: measure(stack, dashboard, target, args) for target in TARGETS}
            items = ingested.result["new"] if ingested.ok and ingested.result else 0

    print(f"{items} items in the table; dashboard on {dashboard.python}")
    report: dict[str, Any] = {}
    for target, rows in results.items():
        print(f"\nGET {target}")
        print(f"{'':32} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'req/s':>8}")
        for row in rows:
            print(
                f"{row['name']:32} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
                f"{row['mean_ms']:8.2f} {row['rps']:8.1f}"
            )
        in_process, sequential = rows[0], rows[1]
        ratios = {
            "overhead_p50": sequential["p50_ms"] / in_process["p50_ms"],
            "overhead_p99": sequential["p99_ms"] / in_process["p99_ms"],
            "overhead_ms_p50": sequential["p50_ms"] - in_process["p50_ms"],
        }
        print(
            f"emulator overhead, 1 client: p50 {ratios['overhead_p50']:.2f}x "
            f"(+{ratios['overhead_ms_p50']:.2f} ms), p99 {ratios['overhead_p99']:.2f}x"
        )
        report[target] = {"rows": rows, "ratios": ratios}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def measure(
    stack: Any, dashboard: Any, target: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """(a), (b) and (c) for one route."""
    from sentiment_pipeline.local.functionurl import HttpRequest, event_from_request
    from sentiment_pipeline.packaging.sandbox import LocalRoot

    # (a) in-process, same interpreter, artifact, sys.path and environment.
    event = event_from_request(HttpRequest("GET", target, (("X-API-Key", stack.api_key),), b""))
    local = LocalRoot(dashboard.root)
    task, front = local.task_root, local.import_paths(dashboard.spec.target)
    sdk = [str(dashboard.sdk)] if dashboard.sdk else []
    payload = json.dumps([front, sdk, dashboard.spec.handler, event, args.requests])
    done = subprocess.run(
        [dashboard.python, "-I", "-S", "-B", "-c", _IN_PROCESS, payload],
        env=dashboard.environment,
        cwd=task,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"in-process run failed: {done.stderr[-2000:]}")
    in_process = summary("(a) handler in-process", json.loads(done.stdout))
    # (b) one client over HTTP; (c) bounded load.
    one, wall_one = clients(stack.url, stack.api_key, target, 1, args.requests)
    sequential = summary("(b) Function URL, 1 client", one, wall_one)
    many, wall_many = clients(
        stack.url, stack.api_key, target, args.clients, args.requests // args.clients
    )
    loaded = summary(f"(c) Function URL, {args.clients} clients", many, wall_many)
    return [in_process, sequential, loaded]


if __name__ == "__main__":
    raise SystemExit(main())
