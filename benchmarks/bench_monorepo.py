"""Forty Lambdas at once: ``sentiment-pipeline build`` of a generated monorepo, side by
side with a loop of ``uv pip install --target`` + ``zip -r`` over the same forty.

The monorepo (generated in a temp directory, python3.13 / x86_64, ``--engine none``)
---------------------------------------------------------------------------------------
* 40 handlers, ``handlers/hNN.py``, each a Lambda whose sources are its handler file
  and ``libs/shared`` (one local shared package, ``shared/``, imported by every
  handler; plain first-party ``sources``);
* 3 dependency sets, all sharing pydantic: ``api`` (pydantic + orjson), ``auth``
  (pydantic + cryptography), ``events`` (pydantic + python-dateutil);
* 2 layers: ``base`` (pydantic) for every Lambda, ``crypto`` (cryptography) for
  the ``auth`` ones; ``backend = "layer"``: 2 layer zips and 40 function zips that
  carry only what their layers do not (orjson, python-dateutil, and their sources).

What is measured, in one run, alternating the order every round (``--repeat``, default 3)
---------------------------------------------------------------------------------------
(a) **warm build**: lock and wheel cache present (one untimed priming build), a fresh,
    empty ``--out``: every artifact assembled and verified, each handler imported
    with its layers by a local python3.13 (the import check);
(b) **the loop**: for each of the 40, ``uv pip install --target DIR
    --python-platform x86_64-manylinux_2_34 --python-version 3.13 PINS`` (the
    Lambda's whole locked closure: what a team without layers ships) then its
    handler and ``shared/`` copied in and ``zip -qr``; uv's cache warm. Ratio (a)/(b),
    target <= 0.1;
(c) **no-op**: the same build again into (a)'s output, a whole process, checked to be
    all cache hits (target <= 0.3 s);
(d) **one handler changed**: one line appended to ``handlers/h07.py``, then the build
    into (a)'s output: checked that exactly ``h07`` was rebuilt (the only artifact
    containing that file), target <= 1.0 s;
(e) **max RSS** of (a)'s process tree (``os.wait4``, import children included),
    target <= 150 MB;
(f) **the floor** of (a)'s mandated work, in the same rounds: each handler imported once
    in its own ``python3.13 -I -S -B`` with its function and layers unpacked on
    ``sys.path`` (as many at a time as there are cores), nothing else; (f)/(b) is the
    lowest ratio any builder that imports every handler could reach here.

Our processes run with their bytecode cached (``PYTHONPYCACHEPREFIX`` in the temp
directory, primed by the priming build), as an installed tool has it. The machine's
load (``uptime``) is printed before and after. The script reports; it
never asserts timings. Exit 1 if a build fails or rebuilds the wrong Lambdas, 2 for
an unusable set-up (no ``uv``, ``zip``, or python3.13).

    python benchmarks/bench_monorepo.py [--repeat N] [--json OUT] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, NoReturn

from _procs import ProcessRun, SpawnError
from _procs import run_process as _run_process

from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.lock import LockFile
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter

RUNTIME = "python3.13"
ARCHITECTURE = "x86_64"
UV_PLATFORM = "x86_64-manylinux_2_34"
COUNT = 40
CHANGED = "h07"
LAYERS = {"base": ("pydantic==2.12.4",), "crypto": ("cryptography==50.0.2",)}
SETS: dict[str, dict[str, Any]] = {
    "api": {"layers": ("base",), "requirements": ("orjson==3.13.0",), "imports": ("orjson",)},
    "auth": {
        "layers": ("base", "crypto"),
        "requirements": (),
        "imports": ("cryptography.fernet",),
    },
    "events": {
        "layers": ("base",),
        "requirements": ("python-dateutil==2.9.0.post0",),
        "imports": ("dateutil.parser",),
    },
}
SHARED = '''\
"""The monorepo's shared code: one model every handler validates its event with."""

import pydantic


class Event(pydantic.BaseModel):
    name: str
    count: int = 0


def parse(event):
    return Event.model_validate(event)
'''
HANDLER = """\
{imports}
from shared.models import parse


def lambda_handler(event, context):
    return {{"statusCode": 200, "handler": {number}, "name": parse(event).name}}
"""


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"bench_monorepo: {message}", file=sys.stderr)
    raise SystemExit(code)


def build_env(work: Path) -> dict[str, str]:
    """Our processes with their bytecode cached (under ``work``), as an installed tool has
    it, even where the shell sets ``PYTHONDONTWRITEBYTECODE``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


ENV: dict[str, str] | None = None


def run_process(command: list[str], cwd: Path | None = None) -> ProcessRun:
    try:
        return _run_process(command, env=ENV, cwd=cwd, sync=True)
    except SpawnError as exc:
        fail(str(exc))


def set_of(index: int) -> str:
    return tuple(SETS)[index % len(SETS)]


def make_monorepo(root: Path) -> Path:
    """The generated monorepo; returns its manifest."""
    (root / "handlers").mkdir(parents=True)
    shared = root / "libs" / "shared"
    shared.mkdir(parents=True)
    (shared / "__init__.py").write_text("")
    (shared / "models.py").write_text(SHARED)
    lines = [
        "[defaults]",
        f'runtime = "{RUNTIME}"',
        f'architecture = "{ARCHITECTURE}"',
        'backend = "layer"',
        "",
    ]
    for name, pins in LAYERS.items():
        lines += [f"[layers.{name}]", f"requirements = {json.dumps(list(pins))}", ""]
    for i in range(1, COUNT + 1):
        name = f"h{i:02d}"
        spec = SETS[set_of(i)]
        imports = "\n".join(f"import {m}" for m in spec["imports"])
        (root / "handlers" / f"{name}.py").write_text(HANDLER.format(imports=imports, number=i))
        lines += [
            f"[lambdas.{name}]",
            f'handler = "{name}.lambda_handler"',
            f'sources = ["handlers/{name}.py", "libs/shared"]',
            f"layers = {json.dumps(list(spec['layers']))}",
            f"requirements = {json.dumps(list(spec['requirements']))}",
            "",
        ]
    manifest = root / "lambdas.toml"
    manifest.write_text("\n".join(lines))
    return manifest


def build_command(manifest: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "sentiment_pipeline", "build", "--manifest", str(manifest),
        "--out", str(out), "--engine", "none", "--json",
    ]  # fmt: skip


def run_build(manifest: Path, out: Path) -> tuple[ProcessRun, list[dict[str, Any]]]:
    run = run_process(build_command(manifest, out))
    try:
        artifacts = list(json.loads(run.stdout)["artifacts"])
    except (ValueError, KeyError):
        artifacts = []
    if run.exit_code != 0 or not artifacts or not all(a["ok"] for a in artifacts):
        for artifact in artifacts:
            for problem in artifact.get("problems", ()):
                print(f"  {artifact['name']}: [{problem['code']}] {problem['message']}")
        fail(f"build exited {run.exit_code}: {run.stderr.strip()[-2000:]}", code=1)
    return run, artifacts


def loop_script(uv: str, root: Path, work: Path, pins: dict[str, list[str]]) -> str:
    """One shell script: for each Lambda, install its closure, copy its sources, zip."""
    steps = []
    for name, closure in pins.items():
        tree = work / name
        out = work / f"{name}.zip"
        install = [
            uv, "pip", "install", "--quiet", "--target", str(tree),
            "--python-platform", UV_PLATFORM, "--python-version", RUNTIME.removeprefix("python"),
            *closure,
        ]  # fmt: skip
        sources = [str(root / "handlers" / f"{name}.py"), str(root / "libs" / "shared")]
        copy = ["cp", "-r", *sources, str(tree)]
        steps.append(
            f"{shlex.join(install)} && {shlex.join(copy)} && "
            f"(cd {shlex.quote(str(tree))} && zip -qr {shlex.quote(str(out))} .)"
        )
    return "set -e\n" + "\n".join(steps) + "\n"


def import_floor_script(python: str, prime: Path, work: Path) -> str:
    """The floor of the mandated work: each of the 40 handlers imported once, in its own
    ``python -I -S -B`` with its function and its layers on ``sys.path`` (unpacked here,
    untimed), as many at a time as there are cores; nothing else of a build."""
    layers = {}
    for name in LAYERS:
        layers[name] = work / "layers" / name
        with zipfile.ZipFile(prime / "layer" / "layers" / f"{name}.zip") as zf:
            zf.extractall(layers[name])
    lines = []
    for i in range(1, COUNT + 1):
        name = f"h{i:02d}"
        tree = work / name
        with zipfile.ZipFile(prime / "layer" / f"{name}.zip") as zf:
            zf.extractall(tree)
        path = [str(tree), *(str(layers[n] / "python") for n in SETS[set_of(i)]["layers"])]
        code = f"import sys; sys.path[:0] = {path!r}; import {name}"
        lines.append(shlex.join([python, "-I", "-S", "-B", "-c", code]))
    listing = work / "commands.txt"
    listing.write_text("\n".join(lines) + "\n")
    cores = len(os.sched_getaffinity(0))
    return f"set -e\nxargs -P {cores} -d '\\n' -n 1 sh -c < {shlex.quote(str(listing))}\n"


def closures(manifest: Path) -> dict[str, list[str]]:
    """Every Lambda's whole closure (layers' and own), as the priming build locked it."""
    lockfile = LockFile(manifest.with_suffix(".lock"))
    out = {}
    for i in range(1, COUNT + 1):
        name = f"h{i:02d}"
        pins = dict.fromkeys(
            f"{w.name}=={w.version}" for w in lockfile.locks[f"lambdas.{name}"].wheels
        )
        out[name] = list(pins)
    return out


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def profile(manifest: Path, out: Path) -> str:
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions

    profiler = cProfile.Profile()
    profiler.enable()
    build(Manifest.load(manifest), BuildOptions(engine="none", out=out))
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--json", metavar="OUT", type=Path, help="also write the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one warm build (in-process)"
    )
    args = parser.parse_args(argv)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        fail("uv is not installed (pip install uv)")
    if shutil.which("zip") is None:
        fail("zip is not installed (apt-get install zip)")
    if find_interpreter(get_target(RUNTIME, ARCHITECTURE)) is None:
        fail(f"no {RUNTIME} interpreter for {ARCHITECTURE}: the import check would not run")
    load_before = uptime()
    with tempfile.TemporaryDirectory(prefix="bench-monorepo-") as tmp:
        work = Path(tmp)
        global ENV
        ENV = build_env(work)
        manifest = make_monorepo(work / "repo")
        print("priming: lock, wheel cache, uv cache (untimed)")
        run_build(manifest, work / "prime")
        pins = closures(manifest)
        script = work / "loop.sh"
        script.write_text(loop_script(uv, work / "repo", work / "loop", pins))
        primed = run_process(["sh", str(script)])
        if primed.exit_code != 0:
            fail(f"the uv loop failed: {primed.stderr.strip()[-2000:]}")
        python = find_interpreter(get_target(RUNTIME, ARCHITECTURE))
        assert python is not None
        floor_script = work / "floor.sh"
        floor_script.write_text(import_floor_script(python, work / "prime", work / "floor"))
        if run_process(["sh", str(floor_script)]).exit_code != 0:
            fail("the import floor failed: a handler does not import from its unpacked tree", 1)
        times: dict[str, list[float]] = {
            "build": [], "loop": [], "floor": [], "noop": [], "changed": []
        }  # fmt: skip
        rss: list[int] = []
        rebuilt: list[list[str]] = []
        handler = work / "repo" / "handlers" / f"{CHANGED}.py"
        original = handler.read_text()
        for round_ in range(args.repeat):
            out = work / f"out-{round_}"

            def ours(out: Path = out) -> None:
                run, artifacts = run_build(manifest, out)
                if any(a["cache_hit"] for a in artifacts):
                    fail("a warm build into an empty --out reused an artifact", code=1)
                times["build"].append(run.seconds)
                rss.append(run.max_rss_kib)

            def loop() -> None:
                shutil.rmtree(work / "loop", ignore_errors=True)
                run = run_process(["sh", str(script)])
                if run.exit_code != 0:
                    fail(f"the uv loop failed: {run.stderr.strip()[-2000:]}", code=1)
                times["loop"].append(run.seconds)

            def floor() -> None:
                times["floor"].append(run_process(["sh", str(floor_script)]).seconds)

            for step in (ours, loop, floor) if round_ % 2 == 0 else (floor, loop, ours):
                step()
            run, artifacts = run_build(manifest, out)
            if not all(a["cache_hit"] for a in artifacts):
                fail("an unchanged rebuild rebuilt something", code=1)
            times["noop"].append(run.seconds)
            handler.write_text(original + f"\n# change {round_}\n")
            run, artifacts = run_build(manifest, out)
            names = sorted(a["name"] for a in artifacts if not a["cache_hit"])
            rebuilt.append(names)
            if names != [CHANGED]:
                fail(f"changing handlers/{CHANGED}.py rebuilt {names}", code=1)
            times["changed"].append(run.seconds)
            handler.write_text(original)
            run_build(manifest, out)  # back to the original for the next round
        profiled = profile(manifest, work / "profile-out") if args.profile else None
    load_after = uptime()
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["build"] / median["loop"]
    floor_ratio = median["floor"] / median["loop"]
    peak = max(rss) / 1024

    def goal(value: float, limit: float, unit: str = "") -> str:
        return f"target <= {limit:g}{unit}: {'met' if value <= limit else 'NOT met'}"

    rows = [
        ("warm build, 2 layers + 40 functions", f"{median['build']:.2f} s", ""),
        ("uv pip install --target + zip -r, x40 (self-contained)", f"{median['loop']:.2f} s", ""),
        ("ratio build / loop", f"{ratio:.3f}", goal(ratio, 0.1)),
        ("floor: the 40 handler imports alone, cores at a time", f"{median['floor']:.2f} s", ""),
        ("ratio floor / loop (the mandated imports)", f"{floor_ratio:.3f}", ""),
        ("ratio build / floor", f"{median['build'] / median['floor']:.2f}", ""),
        ("no-op (whole process)", f"{median['noop']:.3f} s", goal(median["noop"], 0.3, " s")),
        (
            f"handlers/{CHANGED}.py changed (rebuilt: {CHANGED} only)",
            f"{median['changed']:.3f} s",
            goal(median["changed"], 1.0, " s"),
        ),
        ("max RSS of the warm build (tree)", f"{peak:.0f} MiB", goal(peak * 1.048576, 150, " MB")),
    ]
    print(f"load before: {load_before}\nload after:  {load_after}")
    print(f"median of {args.repeat} rounds, alternating order")
    for label, value, note in rows:
        print(f"  {label:<56} {value:>10}  {note}")
    if profiled:
        print(profiled)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"times": times, "median": median, "ratio": ratio, "floor_ratio": floor_ratio,
                 "max_rss_kib": rss,
                 "rebuilt": rebuilt, "load": [load_before, load_after]},
                indent=1,
            )
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
