"""``serve --watch``: saving a handler -> the new code answering, beside restarting ``serve``.

A generated project has one Lambda, ``big``: a handler importing pydantic, orjson,
vaderSentiment and cryptography, all in the function's own zip (no layer), for
python3.13 / x86_64 (the ``big`` Lambda of ``bench_build.py``: about 26 MB unzipped).
It is built once (untimed priming: lock, wheels), then, in the same run, alternating
every round:

(a) reload: ``sentiment-pipeline serve --watch`` runs as a subprocess; the handler is
    saved with a new version (written to a temporary file, renamed over the old one,
    as editors save); timed from the save to the first HTTP answer of the new
    version from the Function URL (polled back to back).
(b) restart: the handler is saved with a new version, ``serve`` is stopped (SIGINT,
    waited for) and started again with the same command; timed from the save to the
    first answer of the new version.

Also reported: the reload line ``serve`` prints (from the change being seen to the
new workers swapped in). Figures only; nothing is asserted. Target: (a) <= 1.5 s.

    python benchmarks/bench_reload.py [--repeat 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUIREMENTS = (
    "pydantic==2.12.4",
    "orjson==3.13.0",
    "vaderSentiment==3.3.2",
    "cryptography==50.0.2",
)
HANDLER = """\
import cryptography.fernet
import orjson
import pydantic
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

VERSION = {version!r}


class Event(pydantic.BaseModel):
    text: str = "a wonderful day"


def lambda_handler(event, context):
    scores = SentimentIntensityAnalyzer().polarity_scores(Event().text)
    return {{"version": VERSION, "scores": scores,
             "key": len(cryptography.fernet.Fernet.generate_key()),
             "orjson": orjson.__version__}}
"""
MANIFEST = f"""\
[defaults]
runtime = "python3.13"
architecture = "x86_64"

[lambdas.big]
handler = "app.main.lambda_handler"
sources = ["app"]
requirements = {json.dumps(list(REQUIREMENTS))}
function-url = true
"""
TARGET_S = 1.5
MB = 1_000_000


def fail(message: str) -> NoReturn:
    """Unusable set-up (no python3.13, registry unreachable): exit 2."""
    print(f"bench_reload: {message}", file=sys.stderr)
    raise SystemExit(2)


def save(root: Path, version: str) -> None:
    """Write the handler at ``version`` as an editor saves it: temp file, then rename."""
    path = root / "app" / "main.py"
    temporary = path.with_name(".main.py.swp")
    temporary.write_text(HANDLER.format(version=version))
    temporary.replace(path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Serve:
    """``python -m sentiment_pipeline serve --watch`` in the project's folder."""

    def __init__(self, root: Path, port: int) -> None:
        self.log = root / f"serve-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sentiment_pipeline",
                    "serve",
                    "--engine",
                    "none",
                    "--port",
                    str(port),
                    "--watch",
                ],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_serving(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while "serving; Ctrl-C" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                fail(f"serve did not start:\n{self.output()[-3000:]}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail(f"serve did not stop on SIGINT:\n{self.output()[-3000:]}")

    def reload_seconds(self) -> list[float]:
        return [float(s) for s in re.findall(r"^reloaded big in ([\d.]+) s", self.output(), re.M)]


def answer(port: int) -> dict[str, Any] | None:
    """The Function URL's JSON answer, or None while nothing answers (a restart)."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
    except OSError:
        return None
    if response.status != 200:
        return None
    data: dict[str, Any] = json.loads(body)
    return data


def wait_version(port: int, version: str, started: float, timeout: float = 120) -> float:
    """Seconds from ``started`` until the Function URL answers ``version``."""
    while (found := answer(port)) is None or found.get("version") != version:
        if time.perf_counter() - started > timeout:
            fail(f"version {version} did not answer in {timeout} s (last: {found})")
        time.sleep(0.005)
    return time.perf_counter() - started


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def load() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default: 5)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from sentiment_pipeline.packaging.targets import get_target
    from sentiment_pipeline.packaging.verify.interpreters import find_interpreter

    if find_interpreter(get_target("python3.13", "x86_64")) is None:
        fail("no python3.13 x86_64 interpreter here (e.g. `uv python install 3.13`)")
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        root = Path(tmp) / "project"
        (root / "app").mkdir(parents=True)
        (root / "app" / "__init__.py").write_text("")
        (root / "lambdas.toml").write_text(MANIFEST)
        save(root, "prime")
        primed = subprocess.run(
            [sys.executable, "-m", "sentiment_pipeline", "build", "--engine", "none", "--json"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if primed.returncode != 0:
            fail(f"the priming build failed:\n{primed.stdout[-2000:]}{primed.stderr[-2000:]}")
        (artifact,) = json.loads(primed.stdout)["artifacts"]
        print(
            f"big: {artifact['unzipped'] / MB:.1f} MB unzipped, {artifact['zipped'] / MB:.1f} MB "
            f"zipped, {artifact['files']} files; load average {load()}",
            flush=True,
        )
        port = free_port()
        serve = Serve(root, port)
        serve.wait_serving()
        wait_version(port, "prime", time.perf_counter())
        reloads: list[float] = []
        restarts: list[float] = []
        printed: list[float] = []
        try:
            for round_ in range(args.repeat):
                order = ("reload", "restart") if round_ % 2 == 0 else ("restart", "reload")
                for kind in order:
                    version = f"{kind}-{round_}"
                    if kind == "reload":
                        time.sleep(0.5)  # the previous change is long seen
                        started = time.perf_counter()
                        save(root, version)
                        reloads.append(wait_version(port, version, started))
                    else:
                        printed += serve.reload_seconds()
                        started = time.perf_counter()
                        save(root, version)
                        serve.stop()
                        serve = Serve(root, port)
                        restarts.append(wait_version(port, version, started))
                        serve.wait_serving()
                    took = (reloads if kind == "reload" else restarts)[-1]
                    print(f"  round {round_ + 1} {kind}: {took:.3f} s", flush=True)
        finally:
            printed += serve.reload_seconds()
            serve.stop()
    figures = {
        "artifact": {k: artifact[k] for k in ("zipped", "unzipped", "files")},
        "reload": summary(reloads),
        "restart": summary(restarts),
        "serve_printed_reload": summary(printed) if printed else None,
        "ratio": statistics.median(reloads) / statistics.median(restarts),
        "repeat": args.repeat,
        "load_after": load(),
    }
    print(f"\n{'':<34} {'median s':>9} {'min s':>7} {'max s':>7}")
    for label, key in (
        ("(a) reload: save -> new answer", "reload"),
        ("(b) restart: save -> new answer", "restart"),
    ):
        row = figures[key]
        print(f"{label:<34} {row['median']:>9.3f} {row['min']:>7.3f} {row['max']:>7.3f}")
    if printed:
        row = summary(printed)
        label = "    serve's own reload line"
        print(f"{label:<34} {row['median']:>9.3f} {row['min']:>7.3f} {row['max']:>7.3f}")
    met = "met" if figures["reload"]["median"] <= TARGET_S else "MISSED"
    print(
        f"\nreload / restart: {figures['ratio']:.2f}; target (a) <= {TARGET_S} s: {met}; "
        f"load average after: {figures['load_after']}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
