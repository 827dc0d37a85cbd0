"""What ``slim`` saves: numpy + pandas built whole, slimmed, and slimmed and stripped.

What is measured
----------------
One generated project (a handler importing numpy and pandas, ``numpy==2.1.3`` and
``pandas==2.2.3`` pinned) is built for each target given (by default python3.12 arm64
and python3.11 x86_64) three ways, each by a whole ``python -m sentiment_pipeline build
--engine none`` process into a fresh ``--out``: as it is, with ``--slim`` and with
``--strip``. Each row gives the zipped and unzipped size in MiB (2^20 bytes), how much
smaller than the whole build it is unzipped, whether it verified, whether the handler
was imported (only where an interpreter of the target is on this machine), and the wall
time of the build (lock and wheel cache primed by one untimed build first).

Run from the repository root with the dev venv::

    python benchmarks/bench_slim.py
    python benchmarks/bench_slim.py --target python3.13/x86_64 --json bench-slim.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HANDLER = """\
import numpy
import pandas


def lambda_handler(event, context):
    return {"total": int(pandas.DataFrame({"a": numpy.arange(4)})["a"].sum())}
"""
REQUIREMENTS = ["numpy==2.1.3", "pandas==2.2.3"]
WAYS = {"whole": [], "slim": ["--slim"], "slim+strip": ["--strip"]}


def _project(root: Path, runtime: str, architecture: str) -> Path:
    root.mkdir(parents=True)
    (root / "handler.py").write_text(HANDLER)
    manifest = root / "lambdas.toml"
    manifest.write_text(
        f'[defaults]\nruntime = "{runtime}"\narchitecture = "{architecture}"\n\n'
        '[lambdas.data]\nhandler = "handler.lambda_handler"\nsources = ["handler.py"]\n'
        f"requirements = {json.dumps(REQUIREMENTS)}\n"
    )
    return manifest


def _build(manifest: Path, out: Path, extra: list[str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    command = [sys.executable, "-m", "sentiment_pipeline", "build", "--engine", "none"]
    subprocess.run(
        [*command, "--manifest", str(manifest), "--out", str(out), *extra],
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    (entry,) = json.loads((out / "zip-in-docker" / "report.json").read_text())["artifacts"]
    return seconds, entry


def measure(target: str, work: Path) -> list[dict[str, Any]]:
    """One row per way of building for ``target`` (``python3.12/arm64``)."""
    runtime, architecture = target.split("/")
    manifest = _project(work / target.replace("/", "-"), runtime, architecture)
    _build(manifest, work / "prime", [])  # lock and wheel cache
    rows = []
    whole = 0
    for name, extra in WAYS.items():
        seconds, entry = _build(manifest, work / f"{target.replace('/', '-')}-{name}", extra)
        whole = whole or entry["unzipped"]
        rows.append(
            {
                "target": target,
                "build": name,
                "zipped_mib": round(entry["zipped"] / 2**20, 1),
                "unzipped_mib": round(entry["unzipped"] / 2**20, 1),
                "smaller": round(1 - entry["unzipped"] / whole, 3),
                "verified": entry["ok"],
                "imported": "imported handler" in entry["dynamic"],
                "seconds": round(seconds, 2),
                "distributions": entry["distributions"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print the table (and write ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target",
        action="append",
        help="RUNTIME/ARCH (repeatable; default python3.12/arm64 and python3.11/x86_64)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    targets = args.target or ["python3.12/arm64", "python3.11/x86_64"]
    with tempfile.TemporaryDirectory(prefix="bench-slim-") as tmp:
        rows = [row for target in targets for row in measure(target, Path(tmp))]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("target             build       zipped     unzipped    smaller  verified  import  time")
    for r in rows:
        print(
            f"{r['target']:<18} {r['build']:<11} {r['zipped_mib']:>6.1f} MiB "
            f"{r['unzipped_mib']:>7.1f} MiB  {r['smaller']:>6.1%}  "
            f"{'yes' if r['verified'] else 'NO':<8}  {'yes' if r['imported'] else '-':<6}  "
            f"{r['seconds']:.2f} s"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["verified"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
