"""Speed, no-op rebuild, peak memory and cold start of ``sentiment-pipeline build``.

What is measured
----------------
Everything below runs in one invocation, so that the baselines share the machine's
state with the builder: alternating the order every round, ``--repeat`` rounds
(default 5), the median wall time of whole processes, with each child's max RSS.
Failed runs are counted, not timed. Dirty pages are flushed (``os.sync``)
before every timed process, so that none pays for its predecessor's writes.

1. **Warm build** of one Lambda, ``big``: a handler importing pydantic, orjson,
   vaderSentiment and cryptography, for python3.13 / x86_64 (about 26 MB
   unzipped), in a temp project this script generates. The lock and the wheel
   cache are primed by one untimed build first; every timed build writes into a
   fresh, empty ``--out`` directory, so nothing is reused but the cache:

   (a) ``python -m sentiment_pipeline build --manifest M --out O --engine none``,
       verification as by default (static checks plus importing the handler
       with a local python3.13): *ours*;
   (b) the same with ``--no-import`` (static verification only);
   (a0) (a) with the import check's bytecode cache emptied before each round (a
       cache root of its own that shares the wheel cache): what the first build
       after a cache wipe, or one with all-new dependencies, pays;
   (c) the common recipe ``pip install --platform manylinux2014_x86_64
       --python-version 3.13 --implementation cp --only-binary=:all: -t DIR
       PINS && (cd DIR && zip -qr OUT .)``, pip's cache warmed by one untimed
       run (pip's own configuration files are ignored: ``PIP_CONFIG_FILE`` is
       the null device, so it uses the registry only, as a default set-up does);
   (c') the same pip recipe from a local directory of the wheels it installs
       (``--no-index --find-links``, primed untimed by ``pip download``): not the
       issue's recipe, only to show how much of (c) is the index;
   (d) ``uv pip install --target DIR --python-platform x86_64-manylinux_2_34
       --python-version 3.13 PINS && (cd DIR && zip -qr OUT .)``, uv's cache warm;
   (e) ``zip -qr OUT .`` alone, on the tree (d) installs;
   (f) the floor: a bare ``python -I -S`` process copying the compressed members
       of the cached wheels into one zip (no inflate, no deflate);
   (i) loading the builder: ``python -c "import ..."`` of the modules every build
       loads (the CLI, the manifest's pydantic models, the build, the verifier with
       pyelftools, the backend), bytecode cached: what a Python builder pays before
       any work, beside (d).

   pip's HTTP cache is reported after priming: the registry this machine reaches
   sends no caching headers, so it stays empty and every pip run fetches the index
   pages and wheels again (at local-network speed).
   PINS is the whole closure the prime build locked (``name==version`` of every
   wheel in ``lambdas.lock``), so every contender installs the same versions.
   Ratios against uv, the baseline (the pip recipe's time here depends on the
   registry, so its ratios are shown without a target): (a) / (d) (target <= 0.25:
   full verification, import check included) and (b) / (d) (target <= 0.15: static
   checks only). The floor of the mandated work beside them: (f) plus the import of
   the handler with its bytecode cached (the cold start's ``.pyc`` proxy row), over (d).

2. **Unchanged rebuild** of this repository's three Lambdas (its own
   ``lambdas.toml``, ``--engine none``) as a whole process, after one priming
   build into a temp out directory (target <= 0.25 s wall). The manifest, its
   lock and its sources are snapshotted into a temp directory first: the build
   must not write into the checkout (``lambdas.lock``, ``dist/``), and an edit
   made elsewhere while the rounds run would turn the no-op into a rebuild.
   Floors in the same rounds: ``python -c pass`` and ``python -c "import
   sentiment_pipeline.cli"``. Every timed no-op is checked to be all cache hits.
   Python children run with their bytecode cached (``PYTHONPYCACHEPREFIX`` in the
   temp directory, primed by the untimed runs), as an installed tool has it; the
   no-op is also timed with ``PYTHONDONTWRITEBYTECODE=1``, which an editable
   install in a shell that sets it gets: our own modules compiled at every start.

3. **Peak memory**: the max RSS of the build process tree (``os.wait4``, which
   includes the handler-import child of the dynamic check) for a small Lambda
   (``six`` only) beside ``big``, both with and without ``--no-import``, and a
   third point, ``large`` (``big`` plus numpy, about 79 MB unzipped), with
   ``--no-import``: it should not grow with the artifact (members are streamed).

4. **Engine path and cold start**, when ``sentiment_pipeline/packaging/install/engines.py``
   exists, ``buildah`` runs as root, and ``tests/support/build_image.py`` provides
   ``lambda_like_image("3.13")``: ``--engine buildah --build-image IMAGE``
   beside ``--engine none`` for ``big``, in rounds of their own after the others
   (a container build writes hundreds of MB, which would weigh on whatever runs
   next); otherwise skipped with the reason. In
   any case, the cold start of the built artifact: importing its handler with
   ``python3.13 -B -I -S``, the artifact's directory first on ``sys.path``, from
   a read-only unpacked copy (zip timestamps restored, ``chmod -R a-w``), for
   the ``--engine none`` artifact with its ``__pycache__`` removed (no ``.pyc``:
   the baseline), the same artifact as built (``.pyc`` compiled by the local
   python3.13), the engine's (``.pyc`` by the target interpreter), and a proxy: the
   baseline compiled by ``compileall --invalidation-mode checked-hash``. Ratio with /
   without bytecode (target <= 0.6).

This script reports; it never asserts timings. Exit 1 if one of our builds fails
or a no-op rebuilds something (a builder bug), 2 for an unusable set-up (no
``zip``, no ``uv``, the registry unreachable on the priming runs), else 0.

Usage::

    python benchmarks/bench_build.py [--json OUT] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import importlib
import importlib.util
import io
import json
import os
import platform
import pstats
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
from _procs import ProcessRun, SpawnError, rss_floor
from _procs import run_process as _run_process

import sentiment_pipeline
from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.cache import WheelCache
from sentiment_pipeline.packaging.lock import LockFile
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.packaging.lock import Lock

# -- the projects ----------------------------------------------------------------------

BUILDER_IMPORTS = (
    "import sentiment_pipeline.cli.commands, sentiment_pipeline.packaging.manifest, "
    "sentiment_pipeline.packaging.build, sentiment_pipeline.packaging.verify.check, "
    "sentiment_pipeline.backends.zip_in_docker"
)
"""What every build process loads before it does any work: the floor of a Python builder
(besides the interpreter's start), measured as (i)."""

RUNTIME = "python3.13"
ARCHITECTURE = "x86_64"
PYTHON_VERSION = "3.13"
# Top-level pins; the closure comes from the lock the priming build writes.
BIG_REQUIREMENTS = (
    "pydantic==2.12.4",
    "orjson==3.13.0",
    "vaderSentiment==3.3.2",
    "cryptography==50.0.2",
)
SMALL_REQUIREMENTS = ("six==1.17.0",)
# A third memory point, about three times ``big``: the same plus numpy (whose
# OpenBLAS is a 24 MB shared library).
LARGE_REQUIREMENTS = (*BIG_REQUIREMENTS, "numpy==2.5.5")
BIG_HANDLER = """\
import cryptography.fernet
import orjson
import pydantic
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


class Event(pydantic.BaseModel):
    text: str


def lambda_handler(event, context):
    scores = SentimentIntensityAnalyzer().polarity_scores(Event(**event).text)
    return orjson.dumps({"scores": scores, "key": cryptography.fernet.Fernet.generate_key()})
"""
SMALL_HANDLER = """\
import six


def lambda_handler(event, context):
    return {"six": six.__version__}
"""

PIP_PLATFORM = "manylinux2014_x86_64"
UV_PLATFORM = "x86_64-manylinux_2_34"

TARGET_UV = 0.25
TARGET_UV_STATIC = 0.15
TARGET_NOOP_S = 0.25
TARGET_COLD = 0.6
MB = 1_000_000

REPO = Path(__file__).resolve().parent.parent


def fail(message: str) -> NoReturn:
    """Unusable set-up (tools missing, registry unreachable): exit 2."""
    print(f"bench_build: {message}", file=sys.stderr)
    raise SystemExit(2)


def run_process(
    command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> ProcessRun:
    """Run ``command`` through the shared spawner; a spawner failure is a set-up error."""
    try:
        return _run_process(command, env=env, cwd=cwd, sync=True)
    except SpawnError as exc:
        fail(str(exc))


def manifest_text() -> str:
    def toml_list(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return f"""\
[defaults]
runtime = "{RUNTIME}"
architecture = "{ARCHITECTURE}"
backend = "zip-in-docker"

[lambdas.big]
handler = "app.main.lambda_handler"
sources = ["app"]
requirements = {toml_list(BIG_REQUIREMENTS)}

[lambdas.small]
handler = "tiny.main.lambda_handler"
sources = ["tiny"]
requirements = {toml_list(SMALL_REQUIREMENTS)}

[lambdas.large]
handler = "app.main.lambda_handler"
sources = ["app"]
requirements = {toml_list(LARGE_REQUIREMENTS)}
"""


def make_project(root: Path) -> Path:
    """The benchmark's project (``big``, ``small``, ``large``); returns its manifest."""
    for package, handler in (("app", BIG_HANDLER), ("tiny", SMALL_HANDLER)):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "main.py").write_text(handler)
    manifest = root / "lambdas.toml"
    manifest.write_text(manifest_text())
    return manifest


def snapshot_repo(dest: Path) -> Path:
    """This repository's manifest, lock and every path it names, copied; returns the manifest."""
    manifest = REPO / "lambdas.toml"
    if not manifest.exists():
        fail(f"no lambdas.toml at the repository root ({REPO.name}/)")
    dest.mkdir(parents=True)
    shutil.copy2(manifest, dest / "lambdas.toml")
    if (REPO / "lambdas.lock").exists():
        shutil.copy2(REPO / "lambdas.lock", dest / "lambdas.lock")
    document = tomllib.loads(manifest.read_text())
    paths: set[str] = set()
    for section in ("lambdas", "layers"):
        for item in document.get(section, {}).values():
            paths.update(item.get("sources", ()))
            if item.get("requirements-file"):
                paths.add(item["requirements-file"])
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for rel in sorted(paths):
        source = REPO / rel
        if source.is_dir():
            shutil.copytree(source, dest / rel, ignore=ignore, symlinks=True)
        elif source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest / "lambdas.toml"


# -- running processes -----------------------------------------------------------------


def build_command(
    manifest: Path,
    out: Path,
    *,
    only: str | None = None,
    engine: str = "none",
    image: str | None = None,
    no_import: bool = False,
) -> list[str]:
    command = [
        sys.executable, "-m", "sentiment_pipeline", "build", "--manifest", str(manifest),
        "--out", str(out), "--engine", engine, "--json",
    ]  # fmt: skip
    if only is not None:
        command += ["--lambda", only]
    if image is not None:
        command += ["--build-image", image]
    if no_import:
        command.append("--no-import")
    return command


@attrs.frozen
class BuildRun:
    run: ProcessRun
    ok: bool
    artifacts: tuple[dict[str, Any], ...]

    @property
    def all_hits(self) -> bool:
        return bool(self.artifacts) and all(a.get("cache_hit") for a in self.artifacts)


def run_build(command: list[str], env: dict[str, str] | None = None) -> BuildRun:
    run = run_process(command, env=env)
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        report = {}
    artifacts = tuple(report.get("artifacts", ()))
    ok = run.exit_code == 0 and report.get("ok") is True
    if not ok:
        print(f"  build exited {run.exit_code}: {shlex.join(command[1:])}")
        for artifact in artifacts:
            for problem in artifact.get("problems", ()):
                print(
                    f"    {artifact.get('name')}: [{problem.get('code')}] {problem.get('message')}"
                )
        if run.stderr.strip():
            print("    " + run.stderr.strip().replace("\n", "\n    "))
    return BuildRun(run, ok, artifacts)


def fresh_dir(parent: Path, name: str) -> Path:
    path = parent / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def uv_binary() -> str:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        fail("uv is not installed (pip install uv)")
    return found


def pip_env() -> dict[str, str]:
    """The environment for the pip recipe: no pip configuration file, no extra indexes."""
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    # Also pip's default bytecode behaviour: it compiles what it installs, into the
    # target's __pycache__ (with the host interpreter; a pycache prefix would move it).
    for name in (
        "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_REQUIRE_VIRTUALENV",
        "PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE",
    ):  # fmt: skip
        env.pop(name, None)
    return env


def pip_recipe(
    pins: list[str], target: Path, out: Path, find_links: Path | None = None
) -> list[str]:
    """The issue's pip recipe; with ``find_links``, the same from a local directory of
    wheels and no index (a variant, only to show what the index costs)."""
    local = ["--no-index", "--find-links", str(find_links)] if find_links is not None else []
    install = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        *local, "--platform", PIP_PLATFORM, "--python-version", PYTHON_VERSION,
        "--implementation", "cp", "--only-binary=:all:", "-t", str(target), *pins,
    ]  # fmt: skip
    return ["sh", "-c", f"{shlex.join(install)} && {zip_script(target, out)}"]


def pip_download(pins: list[str], dest: Path) -> list[str]:
    """The wheels the pip recipe installs, into ``dest`` (for its find-links variant)."""
    return [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--platform", PIP_PLATFORM, "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--only-binary=:all:", "--no-deps", "-d", str(dest), *pins,
    ]  # fmt: skip


def pip_http_cache_files() -> int | None:
    """How many responses pip's HTTP cache holds (None if pip cannot say): zero after the
    priming run means the registry's answers are not cacheable, so every pip run fetches
    the index pages and wheels again, warm cache or not."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False,
        env=pip_env(),
    )  # fmt: skip
    if done.returncode != 0 or not done.stdout.strip():
        return None
    root = Path(done.stdout.strip())
    return sum(1 for p in root.glob("http*/**/*") if p.is_file())


def cold_bytecode_root(work: Path) -> Path:
    """A cache root sharing the wheel cache, the runtime SDK and the interpreter probes
    with the real one, but with its own (emptied) bytecode cache of the import check."""
    from sentiment_pipeline.packaging.cache import default_cache_root

    real, root = default_cache_root(), work / "cold-bytecode-cache"
    root.mkdir(parents=True, exist_ok=True)
    for name in ("wheels", "built", "runtime-sdk", "interpreters.json"):
        link = root / name
        if (real / name).exists() and not link.is_symlink():
            link.symlink_to(real / name)
    return root


def uv_recipe(uv: str, pins: list[str], target: Path, out: Path) -> list[str]:
    install = [
        uv, "pip", "install", "--quiet", "--target", str(target),
        "--python-platform", UV_PLATFORM, "--python-version", PYTHON_VERSION, *pins,
    ]  # fmt: skip
    return ["sh", "-c", f"{shlex.join(install)} && {zip_script(target, out)}"]


def zip_script(tree: Path, out: Path) -> str:
    return f"cd {shlex.quote(str(tree))} && zip -qr {shlex.quote(str(out))} ."


# The floor: copy every member's compressed bytes from the wheels into one zip, as
# a bare interpreter (stdlib only, no site). No RECORD rewriting, no sorting, no
# sources, no verification: what is left when all the builder's work is removed.
_COPY = """\
import struct, sys, zipfile
LOCAL = struct.Struct("<IHHHHHIIIHH")
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
central = []
with open(sys.argv[1], "wb") as out:
    for wheel in sys.argv[2:]:
        with open(wheel, "rb") as fh:
            for info in zipfile.ZipFile(fh).infolist():
                if info.is_dir():
                    continue
                fh.seek(info.header_offset + 26)
                n, e = struct.unpack("<HH", fh.read(4))
                fh.seek(info.header_offset + 30 + n + e)
                data = fh.read(info.compress_size)
                name = info.filename.encode()
                offset = out.tell()
                out.write(LOCAL.pack(0x04034B50, 20, 0, info.compress_type, 0, 0x21, info.CRC,
                                     len(data), info.file_size, len(name), 0) + name)
                out.write(data)
                central.append(CENTRAL.pack(0x02014B50, 0x314, 20, 0, info.compress_type, 0, 0x21,
                                            info.CRC, len(data), info.file_size, len(name), 0, 0,
                                            0, 0, info.external_attr, offset) + name)
    start = out.tell()
    out.writelines(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
"""


def copy_command(out: Path, wheels: list[Path]) -> list[str]:
    return [sys.executable, "-I", "-S", "-c", _COPY, str(out), *map(str, wheels)]


# -- cold start ------------------------------------------------------------------------

# Import the handler with the artifact's directory first on sys.path, as Lambda
# does with /var/task; prints the import's own seconds.
_COLD = """\
import importlib, sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
module = importlib.import_module(sys.argv[2])
getattr(module, sys.argv[3])
print(repr(time.perf_counter() - start))
"""


def drop_bytecode(root: Path) -> None:
    """Remove every ``__pycache__`` under ``root``: the artifact as if no .pyc were shipped."""
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)


def unpack(artifact: Path, dest: Path) -> None:
    """Unzip with the members' timestamps restored (as Lambda unpacks into /var/task)."""
    with zipfile.ZipFile(artifact) as zf:
        for info in zf.infolist():
            zf.extract(info, dest)
            mtime = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(dest / info.filename, (mtime, mtime))
            if info.external_attr >> 16 & 0o111:
                (dest / info.filename).chmod(0o755)


def set_writable(root: Path, writable: bool) -> None:
    """``chmod -R a-w`` (or back to u+w), directories last on the way down."""
    paths = [root, *root.rglob("*")]
    for path in sorted(paths, key=lambda p: len(p.parts), reverse=not writable):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o7777
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


def pyc_summary(root: Path) -> dict[str, int]:
    """How many ``.pyc`` the tree holds, by invalidation mode; stale timestamp ones."""
    counts = {"pyc": 0, "timestamp": 0, "checked_hash": 0, "unchecked_hash": 0, "stale": 0}
    for pyc in root.rglob("*.pyc"):
        counts["pyc"] += 1
        header = pyc.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        if flags == 0:
            counts["timestamp"] += 1
            stem = pyc.name.split(".", 1)[0]
            parent = pyc.parent.parent if pyc.parent.name == "__pycache__" else pyc.parent
            source = parent / f"{stem}.py"
            if source.exists():
                st = source.stat()
                recorded = int.from_bytes(header[8:12], "little")
                size = int.from_bytes(header[12:16], "little")
                if recorded != int(st.st_mtime) & 0xFFFFFFFF or size != st.st_size & 0xFFFFFFFF:
                    counts["stale"] += 1
        elif flags & 1:
            counts["checked_hash" if flags & 2 else "unchecked_hash"] += 1
    return counts


@attrs.frozen
class EngineSetup:
    image: str | None
    reason: str


def engine_setup() -> EngineSetup:
    """The build image for the engine path, or why that part is skipped.

    Called again before every engine round: ``tests/support/build_image.py`` names the
    image by a hash of its recipe and removes the images of older recipes, so a
    recipe edited while the rounds run replaces the image (made here, untimed).
    """
    if importlib.util.find_spec("sentiment_pipeline.packaging.install.engines") is None:
        return EngineSetup(
            None, "sentiment_pipeline/packaging/install/engines.py does not exist (yet)"
        )
    if shutil.which("buildah") is None:
        return EngineSetup(None, "buildah is not installed")
    try:
        version = subprocess.run(
            ["buildah", "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return EngineSetup(None, f"`buildah --version` failed: {exc}")
    if version.returncode != 0:
        return EngineSetup(None, f"`buildah --version` exited {version.returncode}")
    if os.geteuid() != 0:
        return EngineSetup(None, "buildah is used as root here; run the benchmark as root")
    if not (REPO / "tests" / "support" / "build_image.py").exists():
        return EngineSetup(
            None, "tests/support/build_image.py (lambda_like_image) does not exist (yet)"
        )
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    try:
        module = importlib.import_module("tests.support.build_image")
        module = importlib.reload(module)
        make_image: Callable[[str], object] | None = getattr(module, "lambda_like_image", None)
        if make_image is None:
            return EngineSetup(None, "tests/support/build_image.py has no lambda_like_image()")
        image = make_image(PYTHON_VERSION)
    except Exception as exc:  # whatever the helper raises, this part is skipped, not the rest
        return EngineSetup(None, f"lambda_like_image({PYTHON_VERSION!r}) failed: {exc!r}")
    if not image:
        return EngineSetup(None, f"lambda_like_image({PYTHON_VERSION!r}) gave no image")
    return EngineSetup(str(image), version.stdout.strip())


# -- reporting -------------------------------------------------------------------------


def summary(times: list[float], rss: list[int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "times_s": [round(t, 4) for t in times],
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
    }
    if rss:
        out["max_rss_kib"] = max(rss)
    return out


def command_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = [line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("This is Zip"):
            return line.split(" (")[0]
    return lines[0] if lines else "unknown"


def source_revision() -> str:
    """``git describe`` of the checkout the builder is imported from (``-dirty``: edited)."""
    root = Path(sentiment_pipeline.__file__).resolve().parent.parent
    return command_version(["git", "-C", str(root), "describe", "--always", "--dirty"])


def environment(python313: str | None, uv: str) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "pip": command_version([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
        "uv": command_version([uv, "--version"]),
        "zip": command_version(["zip", "-v"]),
        "target_python": command_version([python313, "--version"]) if python313 else None,
        "buildah": command_version(["buildah", "--version"]) if shutil.which("buildah") else None,
        "sentiment_pipeline": sentiment_pipeline.__version__,
        "source": source_revision(),
    }


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))


def mem(kib: int | None, floor: int) -> str:
    if kib is None:
        return "-"
    if kib <= floor + 256:
        return f"<= {floor * 1024 / MB:.1f} MB (floor)"
    return f"{kib * 1024 / MB:.1f} MB"


def size(n: int | None) -> str:
    if not n:
        return "-"
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1000:.0f} kB"


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def profile_build(manifest: Path, out: Path, only: list[str], top: int = 25) -> str:
    """cProfile of one in-process build (``--engine none``, default verification)."""
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions

    loaded = Manifest.load(manifest)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    result = build(loaded, BuildOptions(only=only, out=out, engine="none"))
    profiler.disable()
    seconds = time.perf_counter() - start
    buffer = io.StringIO()
    buffer.write(f"{seconds:.3f} s under the profiler; ok={result.ok}\n")
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buffer.getvalue()


def import_times(command: list[str], top: int = 15) -> str:
    """The slowest imports (cumulative) of a process, from ``-X importtime``."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True, check=False
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(cumulative), int(own), name.strip()))
    total = sum(r[1] for r in rows)
    lines = [f"{len(rows)} modules imported, {total / 1e3:.1f} ms self time in total"]
    for cumulative_us, own_us, module in sorted(rows, reverse=True)[:top]:
        lines.append(
            f"  {cumulative_us / 1e3:7.1f} ms cumulative {own_us / 1e3:6.1f} ms self  {module}"
        )
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="sentiment-pipeline build vs pip / uv recipes, no-op rebuild, memory, "
        "cold start."
    )
    parser.add_argument("--json", metavar="OUT", type=Path, help="also write the results as JSON")
    parser.add_argument(
        "--repeat", metavar="N", type=int, default=5, help="rounds per contender (default: 5)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of one in-process warm build and no-op rebuild",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if shutil.which("zip") is None:
        fail("Info-ZIP `zip` is not installed; on Debian/Ubuntu: `sudo apt-get install zip`")
    uv = uv_binary()
    target = get_target(RUNTIME, ARCHITECTURE)
    python313 = find_interpreter(target)
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        work = Path(tmp)
        # Every Python child keeps its bytecode, as an installed tool has it: in a
        # prefix tree of the temp dir (never __pycache__ in the checkout), primed by
        # the untimed runs. The no-op is also timed without (``noop_no_pyc``).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        try:
            return run(args, work, uv, python313)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            for path in work.glob("cold-*"):
                set_writable(path, True)


def run(args: argparse.Namespace, work: Path, uv: str, python313: str | None) -> int:
    healthy = True
    floor = rss_floor()

    # -- priming (untimed) -------------------------------------------------------------
    manifest = make_project(work / "project")
    print("priming: lock + wheel cache of the benchmark project (untimed)")
    prime = run_build(build_command(manifest, work / "prime-none"))
    if not prime.ok:
        fail("the priming build of the benchmark project failed (registry reachable?)")
    by_name = {a["name"]: a for a in prime.artifacts}
    big_artifact = Path(by_name["big"]["path"])
    lock: Lock = LockFile(manifest.with_suffix(".lock")).locks["lambdas.big"]
    pins = [f"{w.name}=={w.version}" for w in lock.wheels]
    cache = WheelCache()
    wheels = [cache.path_for(w) for w in lock.wheels]
    if not all(w.exists() for w in wheels):
        fail("the priming build left wheels out of the cache")
    print("pins: " + " ".join(pins))

    print("priming: pip's and uv's caches (untimed)")
    pip_tree, uv_tree = work / "pip-tree", work / "uv-tree"
    pip_zip, uv_zip = work / "pip.zip", work / "uv.zip"
    for name, command, env in (
        ("pip", pip_recipe(pins, pip_tree, pip_zip), pip_env()),
        ("uv", uv_recipe(uv, pins, uv_tree, uv_zip), None),
    ):
        primed = run_process(command, env=env)
        if primed.exit_code != 0:
            fail(f"the {name} recipe failed ({primed.exit_code}): {primed.stderr.strip()}")
    uv_zip_size, pip_zip_size = uv_zip.stat().st_size, pip_zip.stat().st_size
    pip_wheels, pip_local_tree, pip_local_zip = (
        work / "pip-wheels",
        work / "pip-local-tree",
        work / "pip-local.zip",
    )
    if run_process(pip_download(pins, pip_wheels), env=pip_env()).exit_code != 0:
        fail("pip download of the pins failed")
    pip_http = pip_http_cache_files()
    print(f"pip's HTTP cache after the priming run: {pip_http} responses stored")
    cold_root = cold_bytecode_root(work)
    floor_zip = work / "floor.zip"
    if run_process(copy_command(floor_zip, wheels)).exit_code != 0:
        fail("the floor copier failed")
    with zipfile.ZipFile(floor_zip) as zf:
        bad = zf.testzip()
    if bad is not None:
        fail(f"the floor copier wrote a bad zip ({bad})")

    print("priming: a build of this repository's Lambdas (snapshot, untimed)")
    repo_manifest = snapshot_repo(work / "repo")
    repo_out = work / "repo-out"
    repo_prime = run_build(build_command(repo_manifest, repo_out))
    if not repo_prime.ok or not run_build(build_command(repo_manifest, repo_out)).all_hits:
        fail("the priming build of this repository's lambdas.toml failed (or was not reused)")

    engine = engine_setup()
    engine_artifact: Path | None = None
    if engine.image is not None:
        print(f"priming: an engine build with {engine.image} (untimed)")
        engine_prime = run_build(
            build_command(
                manifest, work / "prime-engine", only="big", engine="buildah", image=engine.image
            )
        )
        if not engine_prime.ok:
            print("  the engine build failed: engine part skipped")
            engine = EngineSetup(None, "the priming engine build failed (see above)")
            healthy = False
        else:
            engine_artifact = Path(engine_prime.artifacts[0]["path"])
    else:
        print(f"engine path skipped: {engine.reason}")

    # -- timed rounds ------------------------------------------------------------------
    times: dict[str, list[float]] = {}
    rss: dict[str, list[int]] = {}
    sizes: dict[str, dict[str, Any]] = {}
    failures: dict[str, int] = {}

    def record(key: str, run: ProcessRun) -> None:
        times.setdefault(key, []).append(run.seconds)
        rss.setdefault(key, []).append(run.max_rss_kib)

    def ours(key: str, only: str, no_import: bool, engine_name: str = "none") -> Callable[[], None]:
        def go() -> None:
            nonlocal healthy
            image = None
            if engine_name != "none":
                image = engine_setup().image  # untimed; made anew if it was replaced
                if image is None:
                    failures[key] = failures.get(key, 0) + 1
                    return
            out = fresh_dir(work, f"out-{key}")
            built = run_build(
                build_command(
                    manifest, out, only=only, engine=engine_name, image=image, no_import=no_import
                )
            )
            if not built.ok or built.all_hits:
                # A failed build is not a timing: counted, reported, exit 1.
                healthy = False
                failures[key] = failures.get(key, 0) + 1
                shutil.rmtree(out)
                return
            record(key, built.run)
            if built.artifacts:
                a = built.artifacts[0]
                sizes[key] = {k: a.get(k) for k in ("zipped", "unzipped", "files", "compiled")}
            shutil.rmtree(out)

        return go

    def recipe(
        key: str, make: Callable[[], list[str]], env: dict[str, str] | None, tree: Path, out: Path
    ) -> Callable[[], None]:
        def go() -> None:
            shutil.rmtree(tree, ignore_errors=True)
            out.unlink(missing_ok=True)
            done = run_process(make(), env=env)
            if done.exit_code != 0:
                fail(f"{key} failed ({done.exit_code}): {done.stderr.strip()}")
            record(key, done)

        return go

    def ours_cold_pyc() -> None:
        # Untimed: empty the import check's bytecode cache (a separate cache root that
        # shares the wheels), so this build compiles every module the handler imports.
        shutil.rmtree(cold_root / "bytecode", ignore_errors=True)
        run = ours("ours_cold_pyc", "big", no_import=False)
        saved = os.environ.get("SENTIMENT_PIPELINE_CACHE")
        os.environ["SENTIMENT_PIPELINE_CACHE"] = str(cold_root)
        try:
            run()
        finally:
            if saved is None:
                os.environ.pop("SENTIMENT_PIPELINE_CACHE", None)
            else:
                os.environ["SENTIMENT_PIPELINE_CACHE"] = saved

    zip_alone_tree = work / "zip-tree"

    def zip_alone() -> None:
        (work / "alone.zip").unlink(missing_ok=True)
        done = run_process(["sh", "-c", zip_script(zip_alone_tree, work / "alone.zip")])
        if done.exit_code != 0:
            fail(f"zip failed: {done.stderr.strip()}")
        record("zip_alone", done)

    def copy_floor() -> None:
        floor_zip.unlink(missing_ok=True)
        record("copy_floor", run_process(copy_command(floor_zip, wheels)))

    def noop() -> None:
        nonlocal healthy
        built = run_build(build_command(repo_manifest, repo_out))
        if not built.all_hits:
            print("  the unchanged rebuild rebuilt something: a builder bug")
            healthy = False
        record("noop", built.run)

    no_pyc_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    no_pyc_env.pop("PYTHONPYCACHEPREFIX", None)

    def noop_no_pyc() -> None:
        nonlocal healthy
        built = run_build(build_command(repo_manifest, repo_out), env=no_pyc_env)
        if not built.all_hits:
            print("  the unchanged rebuild rebuilt something: a builder bug")
            healthy = False
        record("noop_no_pyc", built.run)

    def python_pass() -> None:
        record("python_pass", run_process([sys.executable, "-c", "pass"]))

    def import_cli() -> None:
        record("import_cli", run_process([sys.executable, "-c", "import sentiment_pipeline.cli"]))

    def import_builder() -> None:
        record("import_builder", run_process([sys.executable, "-c", BUILDER_IMPORTS]))

    # The tree `zip -r` alone compresses: what the uv recipe installs.
    shutil.copytree(uv_tree, zip_alone_tree, symlinks=True)
    contenders: list[tuple[str, Callable[[], None]]] = [
        ("ours", ours("ours", "big", no_import=False)),
        ("ours_no_import", ours("ours_no_import", "big", no_import=True)),
        ("ours_cold_pyc", ours_cold_pyc),
        ("pip_recipe", recipe("pip_recipe", lambda: pip_recipe(pins, pip_tree, pip_zip),
                              pip_env(), pip_tree, pip_zip)),
        ("pip_local", recipe("pip_local",
                             lambda: pip_recipe(pins, pip_local_tree, pip_local_zip, pip_wheels),
                             pip_env(), pip_local_tree, pip_local_zip)),
        ("uv_recipe", recipe("uv_recipe", lambda: uv_recipe(uv, pins, uv_tree, uv_zip), None,
                             uv_tree, uv_zip)),
        ("zip_alone", zip_alone),
        ("copy_floor", copy_floor),
        ("ours_small", ours("ours_small", "small", no_import=False)),
        ("ours_small_no_import", ours("ours_small_no_import", "small", no_import=True)),
        ("ours_large_no_import", ours("ours_large_no_import", "large", no_import=True)),
        ("noop", noop),
        ("noop_no_pyc", noop_no_pyc),
        ("python_pass", python_pass),
        ("import_cli", import_cli),
        ("import_builder", import_builder),
    ]  # fmt: skip
    # The engine path runs in rounds of its own, beside a local build of the same
    # Lambda: a container build writes hundreds of MB (vfs storage copies the image),
    # which would weigh on whatever runs next.
    engine_contenders: list[tuple[str, Callable[[], None]]] = []
    if engine.image is not None:
        engine_contenders = [
            ("ours_engine", ours("ours_engine", "big", False, "buildah")),
            ("ours_engine_pair", ours("ours_engine_pair", "big", False)),
        ]
    for phase in (contenders, engine_contenders):
        for round_ in range(args.repeat if phase else 0):
            order = phase if round_ % 2 == 0 else phase[::-1]
            done_before = {k: len(v) for k, v in times.items()}
            for _, go in order:
                go()
            print(
                f"round {round_ + 1}/{args.repeat}: "
                + ", ".join(
                    f"{k} {times[k][-1]:.3f}s"
                    if len(times.get(k, ())) > done_before.get(k, 0)
                    else f"{k} FAILED"
                    for k, _ in phase
                )
            )
    contenders += engine_contenders

    # -- cold start --------------------------------------------------------------------
    cold: dict[str, Any] = {}
    cold_skipped = ""
    if python313 is None:
        cold_skipped = f"no local {RUNTIME} interpreter (find_interpreter found none)"
    else:
        copies: dict[str, Path] = {}
        # --engine none compiles .pyc when a target interpreter is here: the no-.pyc
        # baseline is its artifact with every __pycache__ removed.
        copies["no_pyc"] = work / "cold-none"
        unpack(big_artifact, copies["no_pyc"])
        drop_bytecode(copies["no_pyc"])
        copies["pyc_none"] = work / "cold-none-pyc"
        unpack(big_artifact, copies["pyc_none"])
        copies["pyc_proxy"] = work / "cold-proxy"
        unpack(big_artifact, copies["pyc_proxy"])
        drop_bytecode(copies["pyc_proxy"])
        compiled = subprocess.run(
            [python313, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
             "checked-hash", str(copies["pyc_proxy"])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if compiled.returncode != 0:
            print(f"  compileall exited {compiled.returncode}: {compiled.stdout}{compiled.stderr}")
        if engine_artifact is not None:
            copies["pyc_engine"] = work / "cold-engine"
            unpack(engine_artifact, copies["pyc_engine"])
        for path in copies.values():
            set_writable(path, False)
        module, _, attribute = "app.main.lambda_handler".rpartition(".")
        cold_times: dict[str, list[float]] = {k: [] for k in copies}
        cold_wall: dict[str, list[float]] = {k: [] for k in copies}
        cold_rss: dict[str, list[int]] = {k: [] for k in copies}
        keys = list(copies)
        for round_ in range(max(args.repeat, 5)):
            for key in keys if round_ % 2 == 0 else keys[::-1]:
                command = [python313, "-B", "-I", "-S", "-c", _COLD, str(copies[key]), module,
                           attribute]  # fmt: skip
                done = run_process(command)
                if done.exit_code != 0:
                    print(f"  cold start of {key} failed:\n    {done.stderr.strip()}")
                    healthy = False
                    continue
                cold_times[key].append(float(done.stdout.strip().splitlines()[-1]))
                cold_wall[key].append(done.seconds)
                cold_rss[key].append(done.max_rss_kib)
        for key in keys:
            if cold_times[key]:
                cold[key] = {
                    "import": summary(cold_times[key]),
                    "process": summary(cold_wall[key], cold_rss[key]),
                    "pyc": pyc_summary(copies[key]),
                }

    # -- results -----------------------------------------------------------------------
    results: dict[str, Any] = {k: summary(times[k], rss[k]) for k, _ in contenders if times.get(k)}
    for key, count in failures.items():
        results.setdefault(key, {})["failed_runs"] = count
    for key, data in sizes.items():
        results[key]["artifact"] = data
    results["uv_recipe"]["artifact"] = {"zipped": uv_zip_size}
    results["pip_recipe"]["artifact"] = {"zipped": pip_zip_size}
    if pip_local_zip.exists():
        results["pip_local"]["artifact"] = {"zipped": pip_local_zip.stat().st_size}
    results["copy_floor"]["artifact"] = {"zipped": floor_zip.stat().st_size}
    med = {k: r["median_s"] for k, r in results.items() if "median_s" in r}
    peak = {k: max(v) for k, v in rss.items() if v}
    pairs = {
        "ours/pip_recipe": (med, "ours", "pip_recipe"),
        "ours/uv_recipe": (med, "ours", "uv_recipe"),
        "ours_no_import/pip_recipe": (med, "ours_no_import", "pip_recipe"),
        "ours_no_import/uv_recipe": (med, "ours_no_import", "uv_recipe"),
        "ours_cold_pyc/pip_recipe": (med, "ours_cold_pyc", "pip_recipe"),
        "ours_cold_pyc/uv_recipe": (med, "ours_cold_pyc", "uv_recipe"),
        "ours/pip_local": (med, "ours", "pip_local"),
        "pip_recipe/pip_local": (med, "pip_recipe", "pip_local"),
        "ours/copy_floor": (med, "ours", "copy_floor"),
        "import_builder/uv_recipe": (med, "import_builder", "uv_recipe"),
        "ours_no_import/copy_floor": (med, "ours_no_import", "copy_floor"),
        "ours_engine/ours": (med, "ours_engine", "ours_engine_pair"),
        "rss big/small": (peak, "ours", "ours_small"),
        "rss big/small (no import)": (peak, "ours_no_import", "ours_small_no_import"),
        "rss large/big (no import)": (peak, "ours_large_no_import", "ours_no_import"),
    }
    ratios: dict[str, float] = {
        name: round(table[a] / table[b], 3)
        for name, (table, a, b) in pairs.items()
        if a in table and b in table
    }
    if "pyc_proxy" in cold and "copy_floor" in med and "uv_recipe" in med:
        floor_s = med["copy_floor"] + cold["pyc_proxy"]["import"]["median_s"]
        ratios["floor/uv_recipe"] = round(floor_s / med["uv_recipe"], 3)
    for key in ("pyc_engine", "pyc_none", "pyc_proxy"):
        if key in cold and "no_pyc" in cold:
            ratios[f"cold {key}/no_pyc"] = round(
                cold[key]["import"]["median_s"] / cold["no_pyc"]["import"]["median_s"], 3
            )

    labels = {
        "ours": "(a) ours: build --engine none (static + import)",
        "ours_no_import": "(b) ours: build --engine none --no-import",
        "ours_cold_pyc": "(a0) ours, (a) with the bytecode cache emptied",
        "pip_recipe": "(c) pip install --platform ... -t DIR && zip -qr",
        "pip_local": "(c') the same from a local --find-links dir, --no-index",
        "uv_recipe": "(d) uv pip install --target DIR ... && zip -qr",
        "zip_alone": "(e) zip -qr alone (installed tree)",
        "copy_floor": "(f) floor: bare python copying wheel members",
        "ours_engine": "(g) ours: build --engine buildah (static + import)",
        "ours_engine_pair": "(a') ours: --engine none, in (g)'s rounds",
        "ours_small": "small (six): build --engine none",
        "ours_small_no_import": "small (six): build --engine none --no-import",
        "ours_large_no_import": "large (big + numpy): build --engine none --no-import",
        "noop": "no-op rebuild, repo's 3 Lambdas",
        "noop_no_pyc": "  same, PYTHONDONTWRITEBYTECODE=1",
        "python_pass": "python -c pass",
        "import_cli": "python -c 'import sentiment_pipeline.cli'",
        "import_builder": "python -c 'import <the modules a build loads>'",
    }
    rows: list[tuple[str, ...]] = [
        ("contender", "median s", "min s", "max s", "max RSS", "zip", "unzipped", "failed")
    ]
    for key, _ in contenders:
        r = results.get(key, {})
        failed = str(r.get("failed_runs", ""))
        if "median_s" not in r:
            rows.append((labels[key], "-", "-", "-", "-", "-", "-", failed))
            continue
        rows.append(
            (
                labels[key],
                f"{r['median_s']:.3f}",
                f"{r['min_s']:.3f}",
                f"{r['max_s']:.3f}",
                mem(r["max_rss_kib"], floor),
                size(r.get("artifact", {}).get("zipped")),
                size(r.get("artifact", {}).get("unzipped")),
                failed,
            )
        )
    print_table(rows)
    print(
        f"\nmax RSS of the process tree (floor {floor * 1024 / MB:.1f} MB: `true` via the spawner)"
    )

    def show(name: str, label: str, target: float | None = None, fmt: str = ".3f") -> None:
        if name not in ratios:
            print(f"  {label}: n/a (no successful run)")
            return
        value = ratios[name]
        goal = f" (target <= {target:g}): {verdict(value, target)}" if target is not None else ""
        print(f"  {label} = {value:{fmt}}{goal}")

    show("ours/uv_recipe", "(a)/(d) ours / uv recipe", TARGET_UV)
    show("ours_no_import/uv_recipe", "(b)/(d) ours --no-import / uv recipe", TARGET_UV_STATIC)
    show("floor/uv_recipe", "((f) + import with .pyc)/(d) floor of the mandated work / uv recipe")
    show(
        "import_builder/uv_recipe",
        "(i)/(d) loading the builder's modules (Python, pydantic, pyelftools...) / uv recipe",
    )
    show("ours/pip_recipe", "(a)/(c) ours / pip recipe")
    show("ours_no_import/pip_recipe", "(b)/(c) ours --no-import / pip recipe")
    show("ours_cold_pyc/pip_recipe", "(a0)/(c) ours, bytecode cache empty / pip recipe")
    show("ours_cold_pyc/uv_recipe", "(a0)/(d) ours, bytecode cache empty / uv recipe")
    show("pip_recipe/pip_local", "(c)/(c') pip from the index / from local find-links")
    show("ours/pip_local", "(a)/(c') ours / pip from local find-links")
    print(f"  pip's HTTP cache held {pip_http} responses after priming (0: nothing is cacheable)")
    show("ours/copy_floor", "(a)/(f) ours / floor", fmt=".1f")
    show("ours_no_import/copy_floor", "(b)/(f) ours --no-import / floor", fmt=".1f")
    if "noop" in med:
        print(
            f"  no-op rebuild {med['noop']:.3f} s (target <= {TARGET_NOOP_S} s): "
            f"{verdict(med['noop'], TARGET_NOOP_S)}"
        )
    show("rss big/small", "max RSS big / small", fmt=".2f")
    show("rss big/small (no import)", "max RSS big / small, --no-import", fmt=".2f")
    show("rss large/big (no import)", "max RSS large / big, --no-import", fmt=".2f")
    if engine.image is not None or "ours_engine" in failures:
        show("ours_engine/ours", "(g)/(a') engine / local", fmt=".2f")
    else:
        print(f"  engine path skipped: {engine.reason}")

    if cold:
        print(f"\ncold start: import app.main from a read-only copy with {python313} -B -I -S")
        cold_rows: list[tuple[str, ...]] = [
            ("artifact", "import median s", "min s", "process median s", "pyc", "stale pyc")
        ]
        cold_labels = {
            "no_pyc": "no .pyc (--engine none's, __pycache__ removed)",
            "pyc_none": "--engine none (.pyc by the local python3.13)",
            "pyc_proxy": "proxy: + compileall checked-hash",
            "pyc_engine": "--engine buildah (.pyc by engine)",
        }
        for key, data in cold.items():
            cold_rows.append(
                (
                    cold_labels[key],
                    f"{data['import']['median_s']:.3f}",
                    f"{data['import']['min_s']:.3f}",
                    f"{data['process']['median_s']:.3f}",
                    str(data["pyc"]["pyc"]),
                    str(data["pyc"]["stale"]),
                )
            )
        print_table(cold_rows)
        for key in ("pyc_engine", "pyc_none", "pyc_proxy"):
            ratio_key = f"cold {key}/no_pyc"
            if ratio_key in ratios:
                print(
                    f"  {cold_labels[key]} / no .pyc = {ratios[ratio_key]:.2f} (target <= "
                    f"{TARGET_COLD}): {verdict(ratios[ratio_key], TARGET_COLD)}"
                )
        if "pyc_engine" not in cold:
            print(f"  engine artifact: skipped ({engine.reason})")
    else:
        print(f"\ncold start skipped: {cold_skipped}")

    if args.profile:
        print("\ncProfile of one in-process warm build of `big` (fresh out dir):")
        print(profile_build(manifest, fresh_dir(work, "profile-out"), ["big"]))
        print("cProfile of one in-process no-op rebuild of the repository's Lambdas:")
        print(profile_build(repo_manifest, repo_out, []))
        print("imports of the no-op rebuild process (-X importtime):")
        print(import_times(build_command(repo_manifest, repo_out)))

    if args.json is not None:
        document = {
            "benchmark": "bench_build",
            "targets": {
                "ours/uv_recipe_max": TARGET_UV,
                "ours_no_import/uv_recipe_max": TARGET_UV_STATIC,
                "noop_max_s": TARGET_NOOP_S,
                "cold_pyc/no_pyc_max": TARGET_COLD,
            },
            "environment": {**environment(python313, uv), "pip_http_cache_files": pip_http},
            "project": {
                "big": {"requirements": list(BIG_REQUIREMENTS), "pins": pins},
                "small": {"requirements": list(SMALL_REQUIREMENTS)},
                "large": {"requirements": list(LARGE_REQUIREMENTS)},
            },
            "repeat": args.repeat,
            "rss_floor_kib": floor,
            "results": results,
            "cold_start": cold,
            "skipped": {"engine": engine.reason if engine.image is None else None,
                        "cold_start": cold_skipped or None},
            "ratios": ratios,
            "failures": failures,
            "healthy": healthy,
        }  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
