"""Throughput of static verification (``sentiment-pipeline verify --no-import``).

What is measured
----------------
One large, real Lambda artifact: a function zip holding numpy, pydantic (with
pydantic-core) and cryptography (with cffi), installed for python3.13 on x86_64
from the registry's manylinux wheels, plus a ``handler.py`` importing all three.
It is built once and cached by a content key (the pinned requirements, the
platform tags, the handler and the zip settings) under
``${XDG_CACHE_HOME:-~/.cache}/sentiment-pipeline/bench/<key>/``.

In the same run, alternating the order each round, ``--repeat`` times (default 5),
the median wall time of:

(a) ``unzip -tq ARTIFACT``: Info-ZIP inflating and CRC-checking every member. This
    is the floor: the verifier must inflate every byte too (to hash it against
    RECORD and to read ELF headers), so it cannot be much faster than this.
(b) ``python -m sentiment_pipeline verify ARTIFACT --runtime python3.13
    --architecture x86_64 --no-import --json`` as a whole process (interpreter
    start-up, imports, verification, JSON report), with the child's max RSS.
(c) ``verify(path, target, VerifyOptions(dynamic=False))`` (``sentiment_pipeline``) in
    this process: verification alone. Its peak Python allocations are measured with
    ``tracemalloc`` in one extra, untimed run (tracing slows allocation down).
(d) (b) with the import check (no ``--no-import``), when this machine has a python3.13
    for x86_64: the whole verification a build runs, including importing the handler
    (numpy, pydantic, cryptography) in the sandbox and recording the shared objects the
    import loaded. Not held to the ``unzip -t`` target (it runs the handler's imports);
    it is the row to compare across revisions for the import check's own cost.

Throughput is unzipped bytes / wall time, in MB/s (MB = 10**6 bytes).

With ``--against DIR`` (another checkout of the project with its own ``.venv``, e.g. a
``git worktree`` of the previous release), (b) and (d) of that revision run in the same
rounds, alternated with this one's, and the ratios this / that are printed for wall
time and for CPU time (user + system of the process and its children, which a busy
machine disturbs far less than wall time). That is how a change's cost is held to a
budget ("at most 10% over today").

Target
------
verify / ``unzip -t`` <= 2, for both (b) and (c): static verification should
cost at most twice a plain integrity test of the same zip. This script reports
the ratio; it does not assert it. It exits 1 if the verifier does not find the
artifact deployable (that would be a verifier bug: the artifact is built from
manylinux wheels for the target), 2 for unusable set-up (no ``unzip``, the
download fails), and 0 otherwise.

Usage::

    python benchmarks/bench_verify.py [--json OUT] [--repeat N] [--profile] [--against DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from _procs import ProcessRun, SpawnError, rss_floor
from _procs import run_process as _run_process
from _verify_artifact import (
    ARCHITECTURE,
    REQUIREMENTS,
    RUNTIME,
    ArtifactInfo,
    build_artifact,
    describe,
    fail,
)

import sentiment_pipeline
from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify

TARGET_RATIO = 2.0
MB = 1_000_000


def run_process(
    command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> ProcessRun:
    """Run ``command`` through the shared spawner; a spawner failure is a set-up error."""
    try:
        return _run_process(command, env=env, cwd=cwd)
    except SpawnError as exc:
        fail(str(exc))


# -- the contenders --------------------------------------------------------------------


def unzip_command(artifact: Path) -> list[str]:
    return ["unzip", "-tq", str(artifact)]


def verify_command(artifact: Path, python: str = sys.executable) -> list[str]:
    return [
        python, "-m", "sentiment_pipeline", "verify", str(artifact),
        "--runtime", RUNTIME, "--architecture", ARCHITECTURE, "--no-import", "--json",
    ]  # fmt: skip


def verify_import_command(artifact: Path, python: str = sys.executable) -> list[str]:
    return [c for c in verify_command(artifact, python) if c != "--no-import"]


def print_problems(problems: list[dict[str, Any]]) -> None:
    print(f"  verifier BUG: {len(problems)} problem(s) reported on a good artifact:")
    for p in problems[:50]:
        print(f"    [{p.get('code')}] {p.get('path')}: {p.get('message')}")
    if len(problems) > 50:
        print(f"    ... and {len(problems) - 50} more")


def check_verify_run(run: ProcessRun) -> tuple[bool, dict[str, Any]]:
    """Whether the whole-process verify said ok; prints the problems if not."""
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(f"  verify exited {run.exit_code} without a JSON report; stderr:")
        print("    " + run.stderr.strip().replace("\n", "\n    "))
        return False, {}
    ok = run.exit_code == 0 and report.get("ok") is True
    if not ok:
        print(f"  verify exited {run.exit_code}, ok={report.get('ok')!r}")
        print_problems(report.get("problems", []))
    return ok, report


def verify_in_process(artifact: Path) -> tuple[float, sentiment_pipeline.Report]:
    target = get_target(RUNTIME, ARCHITECTURE)
    start = time.perf_counter()
    report = verify(artifact, target, VerifyOptions(dynamic=False))
    return time.perf_counter() - start, report


def traced_peak(artifact: Path) -> int:
    """Peak Python allocations (bytes) of one in-process verification."""
    target = get_target(RUNTIME, ARCHITECTURE)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        verify(artifact, target, VerifyOptions(dynamic=False))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def profile(artifact: Path, top: int = 25) -> str:
    target = get_target(RUNTIME, ARCHITECTURE)
    profiler = cProfile.Profile()
    profiler.enable()
    verify(artifact, target, VerifyOptions(dynamic=False))
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buffer.getvalue()


# -- reporting -------------------------------------------------------------------------


def summary(times: list[float], unzipped: int) -> dict[str, Any]:
    median = statistics.median(times)
    return {
        "times_s": [round(t, 4) for t in times],
        "median_s": round(median, 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "mb_per_s": round(unzipped / MB / median, 1),
    }


def unzip_version() -> str:
    try:
        out = subprocess.run(["unzip", "-v"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = out.stdout.strip().splitlines()
    return first[0] if first else "unknown"


def environment() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "unzip": unzip_version(),
        "sentiment_pipeline": sentiment_pipeline.__version__,
        "source": source_revision(),
    }


def source_revision() -> str:
    """``git describe`` of the checkout the verifier is imported from (``-dirty``: edited)."""
    root = Path(sentiment_pipeline.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def print_table(info: ArtifactInfo, results: dict[str, Any]) -> None:
    rows = [
        ("contender", "median s", "min s", "max s", "MB/s", "ratio", "max RSS / peak"),
    ]
    names = {
        "unzip_t": "(a) unzip -tq",
        "verify_process": "(b) verify (process)",
        "verify_in_process": "(c) verify (in-process)",
        "verify_import": "(d) verify with the import (process)",
    }
    for key, label in names.items():
        if key not in results:
            continue
        r = results[key]
        ratio = "1.00" if key == "unzip_t" else f"{results['ratios'].get(key, 0):.2f}"
        if key == "verify_import":
            ratio = f"({r['median_s'] / results['unzip_t']['median_s']:.2f})"
            memory = f"{r['max_rss_kib'] * 1024 / MB:.1f} MB RSS"
        elif key == "verify_in_process":
            memory = f"{r['tracemalloc_peak_bytes'] / MB:.1f} MB (traced)"
        elif r["max_rss_kib"] <= results["rss_floor_kib"] + 256:
            memory = f"<= {results['rss_floor_kib'] * 1024 / MB:.1f} MB RSS (floor)"
        else:
            memory = f"{r['max_rss_kib'] * 1024 / MB:.1f} MB RSS"
        rows.append(
            (
                label,
                f"{r['median_s']:.3f}",
                f"{r['min_s']:.3f}",
                f"{r['max_s']:.3f}",
                f"{r['mb_per_s']:.1f}",
                ratio,
                memory,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))
    print(
        f"\nthroughput = {info.unzipped / MB:.1f} MB unzipped / median wall time; "
        f"ratio = verify / unzip -t (target <= {TARGET_RATIO:g}); max RSS of the child "
        f"process (floor: {results['rss_floor_kib'] * 1024 / MB:.1f} MB, what `true` reports "
        "through the spawner); peak = tracemalloc peak of one extra in-process run"
    )
    for key in ("verify_process", "verify_in_process"):
        ratio = results["ratios"][key]
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(f"  {names[key]}: {ratio:.2f}x -> target {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Static verification throughput vs `unzip -t` on a large real artifact."
    )
    parser.add_argument("--json", metavar="OUT", type=Path, help="also write the results as JSON")
    parser.add_argument(
        "--repeat", metavar="N", type=int, default=5, help="rounds per contender (default: 5)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of one in-process verify"
    )
    parser.add_argument(
        "--against",
        metavar="DIR",
        type=Path,
        help="another checkout (with its .venv) whose (b) and (d) run in the same rounds",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    other_python: str | None = None
    if args.against is not None:
        candidate = args.against.resolve() / ".venv" / "bin" / "python"
        if not candidate.exists():
            parser.error(
                f"--against {args.against}: no {candidate}; create it there with "
                "`uv venv && uv pip install -e .`"
            )
        other_python = str(candidate)
    if shutil.which("unzip") is None:
        print(
            "bench_verify: `unzip` (Info-ZIP) is not installed; on Debian/Ubuntu: "
            "`sudo apt-get install unzip`",
            file=sys.stderr,
        )
        return 2

    info = describe(build_artifact())
    print(
        f"artifact: {info.zipped / MB:.1f} MB zipped, {info.unzipped / MB:.1f} MB unzipped, "
        f"{info.files} files (sha256 {info.sha256[:16]})"
    )

    floor = rss_floor()
    times: dict[str, list[float]] = {"unzip_t": [], "verify_process": [], "verify_in_process": []}
    rss: dict[str, int] = {"unzip_t": 0, "verify_process": 0}
    verified_ok = True
    process_report: dict[str, Any] = {}
    in_process_report: sentiment_pipeline.Report | None = None

    def run_unzip() -> None:
        run = run_process(unzip_command(info.path))
        if run.exit_code != 0:
            fail(
                f"unzip -tq failed ({run.exit_code}) on the cached artifact; delete "
                f"{info.path.parent} to rebuild it.\n{run.stdout}{run.stderr}"
            )
        times["unzip_t"].append(run.seconds)
        rss["unzip_t"] = max(rss["unzip_t"], run.max_rss_kib)

    cpu: dict[str, list[float]] = {}

    def run_verify_process() -> None:
        nonlocal verified_ok, process_report
        run = run_process(verify_command(info.path))
        ok, report = check_verify_run(run)
        verified_ok &= ok
        process_report = report or process_report
        times["verify_process"].append(run.seconds)
        cpu.setdefault("verify_process", []).append(run.cpu_seconds)
        rss["verify_process"] = max(rss["verify_process"], run.max_rss_kib)

    def run_verify_in_process() -> None:
        nonlocal in_process_report
        seconds, report = verify_in_process(info.path)
        in_process_report = report
        times["verify_in_process"].append(seconds)

    from sentiment_pipeline.packaging.verify.interpreters import find_interpreter

    contenders = [run_unzip, run_verify_process, run_verify_in_process]
    with_import = find_interpreter(get_target(RUNTIME, ARCHITECTURE), None) is not None
    if with_import:
        times["verify_import"] = []
        rss["verify_import"] = 0

        def run_verify_import() -> None:
            nonlocal verified_ok
            run = run_process(verify_import_command(info.path))
            ok, report = check_verify_run(run)
            verified_ok &= ok and bool(report.get("checked", {}).get("dynamic", {}).get("ran"))
            times["verify_import"].append(run.seconds)
            cpu.setdefault("verify_import", []).append(run.cpu_seconds)
            rss["verify_import"] = max(rss["verify_import"], run.max_rss_kib)

        contenders.append(run_verify_import)
    else:
        print(f"(d) skipped: no {RUNTIME} interpreter for {ARCHITECTURE} on this machine")
    against: dict[str, dict[str, list[float]]] = {}
    if other_python is not None:
        commands = {"verify_process": verify_command(info.path, other_python)}
        if with_import:
            commands["verify_import"] = verify_import_command(info.path, other_python)

        def run_against() -> None:
            for key, command in commands.items():
                run = run_process(command)
                if run.exit_code != 0:
                    fail(f"--against: {' '.join(command)} exited {run.exit_code}\n{run.stderr}")
                entry = against.setdefault(key, {"wall": [], "cpu": []})
                entry["wall"].append(run.seconds)
                entry["cpu"].append(run.cpu_seconds)

        contenders.append(run_against)
    for round_ in range(args.repeat):
        order = contenders if round_ % 2 == 0 else contenders[::-1]
        for run in order:
            run()
        print(
            f"round {round_ + 1}/{args.repeat}: "
            + ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items())
        )

    assert in_process_report is not None
    if not in_process_report.ok:
        print("in-process verify did not find the artifact deployable:")
        print_problems([p.to_json() for p in in_process_report.problems])
        verified_ok = False
    peak = traced_peak(info.path)

    results: dict[str, Any] = {
        "unzip_t": {**summary(times["unzip_t"], info.unzipped), "max_rss_kib": rss["unzip_t"]},
        "verify_process": {
            **summary(times["verify_process"], info.unzipped),
            "max_rss_kib": rss["verify_process"],
            "ok": bool(process_report.get("ok")),
        },
        "verify_in_process": {
            **summary(times["verify_in_process"], info.unzipped),
            "tracemalloc_peak_bytes": peak,
            "ok": in_process_report.ok,
        },
    }
    if with_import:
        results["verify_import"] = {
            **summary(times["verify_import"], info.unzipped),
            "max_rss_kib": rss["verify_import"],
        }
    for key, values in cpu.items():
        results[key]["cpu_median_s"] = round(statistics.median(values), 4)
    if against:
        results["against"] = {"dir": str(args.against), "ratios": {}}
        for key, entry in against.items():
            wall = statistics.median(times[key]) / statistics.median(entry["wall"])
            cpu_ratio = statistics.median(cpu[key]) / statistics.median(entry["cpu"])
            results["against"]["ratios"][key] = {
                "wall": round(wall, 3),
                "cpu": round(cpu_ratio, 3),
                "other_wall_median_s": round(statistics.median(entry["wall"]), 4),
                "other_cpu_median_s": round(statistics.median(entry["cpu"]), 4),
            }
    results["rss_floor_kib"] = floor
    base = results["unzip_t"]["median_s"]
    results["ratios"] = {
        key: round(results[key]["median_s"] / base, 2)
        for key in ("verify_process", "verify_in_process")
    }
    print_table(info, results)
    for key, ratio in results.get("against", {}).get("ratios", {}).items():
        print(
            f"  {key} vs {args.against}: wall {ratio['wall']:.3f}x "
            f"(this {results[key]['median_s']:.3f} s, that {ratio['other_wall_median_s']:.3f} s), "
            f"CPU {ratio['cpu']:.3f}x (this {results[key]['cpu_median_s']:.3f} s, "
            f"that {ratio['other_cpu_median_s']:.3f} s)"
        )
    checked = in_process_report.checked
    print(
        f"verify checked {checked.files} files, {checked.hashed_files} RECORD "
        f"hashes, {checked.native_files} native files, "
        f"{checked.distributions} distributions"
    )

    if args.profile:
        print("\ncProfile of one in-process verify:")
        print(profile(info.path))

    if args.json is not None:
        document = {
            "benchmark": "bench_verify",
            "target": {"ratio_max": TARGET_RATIO},
            "environment": environment(),
            "artifact": {**info.to_json(), "requirements": list(REQUIREMENTS)},
            "repeat": args.repeat,
            "commands": {
                "unzip_t": unzip_command(info.path),
                "verify_process": verify_command(info.path),
                "verify_import": verify_import_command(info.path),
            },
            "checked": {
                k: checked.to_json()[k]
                for k in (
                    "files",
                    "bytes_unzipped",
                    "hashed_files",
                    "native_files",
                    "distributions",
                )
            },
            "results": results,
            "verified_ok": verified_ok,
            "target_met": all(r <= TARGET_RATIO for r in results["ratios"].values()),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if verified_ok else 1


if __name__ == "__main__":
    sys.exit(main())
