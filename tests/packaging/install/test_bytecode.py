"""``--engine none`` ships ``.pyc`` compiled by an interpreter of the target's Python here:
unchecked-hash, Lambda's paths, listed in RECORD, byte-identical rebuilds, keyed by the
interpreter's version; the "not compiled" note only when there is none."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import threading
import zipfile
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.install import bytecode
from sentiment_pipeline.packaging.install.bytecode import find_compiler, pyc_name
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.targets import get_target
from tests.support.cli import run_cli
from tests.support.projects import make_project

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

PY313 = find_compiler(get_target("python3.13", "x86_64"))
needs_313 = pytest.mark.skipif(PY313 is None, reason="no CPython 3.13 on this machine")


def cli(cwd: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``sentiment-pipeline`` as a user runs it, from ``cwd`` with relative paths."""
    return run_cli(cwd, *args, env={"SENTIMENT_PIPELINE_CACHE": str(cache)} if cache else None)


def record_rows(zf: zipfile.ZipFile, dist_info: str) -> dict[str, list[str]]:
    text = zf.read(f"{dist_info}/RECORD").decode()
    return {row[0]: row[1:] for row in csv.reader(io.StringIO(text)) if row}


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@needs_313
def test_engine_none_ships_unchecked_hash_pyc_listed_in_record(
    project_lock: str, tmp_path: Path
) -> None:
    make_project(tmp_path / "p", lock=project_lock)
    proc = cli(tmp_path, "build", "--manifest", "p/lambdas.toml", "--out", "d", "--engine", "none")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    report = json.loads((tmp_path / "d" / "zip-in-docker" / "report.json").read_text())
    (entry,) = report["artifacts"]
    assert entry["ok"] and entry["compiled"]
    assert not any("not compiled" in note for note in entry["notes"])
    with zipfile.ZipFile(tmp_path / "d" / "zip-in-docker" / "api.zip") as zf:
        names = set(zf.namelist())
        for source in ("six.py", "markupsafe/__init__.py", "app/main.py", "app/__init__.py"):
            assert pyc_name(source, "cpython-313") in names
        six_pyc = zf.read("__pycache__/six.cpython-313.pyc")
        main_pyc = zf.read("app/__pycache__/main.cpython-313.pyc")
        rows = record_rows(zf, "six-1.17.0.dist-info")
        markupsafe_rows = record_rows(zf, "markupsafe-3.0.3.dist-info")
    # PEP 552 flags: hash-based (bit 0), never checked against the source (bit 1 unset).
    assert int.from_bytes(six_pyc[4:8], "little") == 1
    assert six_pyc[:4] == bytes.fromhex(PY313.magic)  # type: ignore[union-attr]
    assert b"/var/task/six.py" in six_pyc and b"/var/task/app/main.py" in main_pyc
    assert rows["__pycache__/six.cpython-313.pyc"] == [record_hash(six_pyc), str(len(six_pyc))]
    assert "markupsafe/__pycache__/_native.cpython-313.pyc" in markupsafe_rows
    # The target's interpreter imports the handler from the zip with the shipped bytecode.
    assert "imported app.main.lambda_handler" in entry["dynamic"]


@pytest.mark.skipif(
    find_compiler(get_target("python3.9", "x86_64")) is None, reason="no CPython 3.9 here"
)
def test_rebuilds_from_empty_caches_are_byte_identical(tmp_path: Path) -> None:
    # python3.9: before 3.11 marshal writes frozenset constants in hash order.
    manifest = make_project(tmp_path / "p")
    manifest.write_text(manifest.read_text().replace("python3.13", "python3.9"))
    digests = []
    for n in (1, 2):
        out = f"d{n}"
        proc = cli(tmp_path / "p", "build", "--engine", "none", "--out", out, cache=tmp_path / out)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        artifact = tmp_path / "p" / out / "zip-in-docker" / "api.zip"
        with zipfile.ZipFile(artifact) as zf:
            assert "__pycache__/six.cpython-39.pyc" in zf.namelist()
        digests.append(hashlib.sha256(artifact.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_without_an_interpreter_the_note_says_so_and_no_pyc_ships(
    project_lock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "find_compiler", lambda target, explicit=None: None)
    manifest = make_project(tmp_path / "p", lock=project_lock)
    (result,) = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "d", engine="none")
    ).artifacts
    assert result.ok and not result.compiled
    assert "bytecode was not compiled" in result.notes[0]
    assert "uv python install 3.13" in result.notes[0]
    with zipfile.ZipFile(result.path) as zf:
        assert not any(n.endswith(".pyc") for n in zf.namelist())


@needs_313
def test_the_interpreter_version_is_part_of_the_artifact_key(
    project_lock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    options = BuildOptions(out=tmp_path / "d", engine="none", verify_dynamic=False)
    first = build(Manifest.load(manifest), options).artifacts[0]
    assert build(Manifest.load(manifest), options).artifacts[0].cache_hit
    assert PY313 is not None
    newer = attrs.evolve(PY313, version="3.13.99")
    monkeypatch.setattr(bytecode, "find_compiler", lambda target, explicit=None: newer)
    third = build(Manifest.load(manifest), options).artifacts[0]
    assert not third.cache_hit and third.key != first.key
    assert "Python 3.13.99" in third.notes[0]


@needs_313
def test_an_excluded_source_ships_no_bytecode(project_lock: str, tmp_path: Path) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    (tmp_path / "p" / "app" / "scratch.py").write_text("X = 1\n")
    manifest.write_text(manifest.read_text() + 'exclude = ["app/scratch.py"]\n')
    (result,) = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "d", engine="none")
    ).artifacts
    assert result.ok, result.problems
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
    assert "app/__pycache__/main.cpython-313.pyc" in names
    assert not any("scratch" in n for n in names)


@needs_313
def test_one_wheel_compiled_on_two_threads_at_once_is_cached_once_without_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent builds may compile the same wheel at the same time (two Lambdas sharing
    a dependency): each thread stages its own temporary file before the rename."""
    from concurrent.futures import ThreadPoolExecutor

    from sentiment_pipeline.packaging.testing.wheels import write_wheel

    assert PY313 is not None
    wheel = write_wheel(tmp_path, "shared-dep", "VALUE = 1\n")
    sources = {"shared_dep/__init__.py": "shared_dep/__init__.py"}
    for attempt in range(4):  # the race is at the rename: try it a few times
        cache = tmp_path / f"cache{attempt}"
        monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", str(cache))
        barrier = threading.Barrier(6)

        def compile_once(barrier: threading.Barrier) -> bytecode.Compiled:
            barrier.wait(timeout=30)
            return bytecode.wheel_bytecode(PY313, wheel, sources, "/var/task")

        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(compile_once, [barrier] * 6))
        assert len({tuple(sorted(r.record.items())) for r in results}) == 1
        assert results[0].archive is not None
        cached = [p.name for p in (cache / "pyc").rglob("*") if p.is_file()]
        assert cached == [results[0].archive.name]


@needs_313
def test_own_sources_compile_once_per_content_and_a_changed_file_alone_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PY313 is not None
    monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", str(tmp_path / "cache"))
    compiled_files: list[list[str]] = []
    run = bytecode._run

    def counting(compiler: bytecode.Compiler, jobs: list[tuple[str, str, str]]) -> list[Any]:
        compiled_files.append(sorted(job[2] for job in jobs))
        return run(compiler, jobs)

    monkeypatch.setattr(bytecode, "_run", counting)
    (tmp_path / "app.py").write_text("VALUE = 1\n")
    (tmp_path / "util.py").write_text("def f():\n    return 2\n")
    files = {"app.py": tmp_path / "app.py", "util.py": tmp_path / "util.py"}
    first = bytecode.source_bytecode(PY313, files, "/var/task")
    again = bytecode.source_bytecode(PY313, files, "/var/task")
    assert again.record == first.record and again.data == first.data
    (tmp_path / "app.py").write_text("VALUE = 3\n")
    changed = bytecode.source_bytecode(PY313, files, "/var/task")
    assert compiled_files == [["/var/task/app.py", "/var/task/util.py"], ["/var/task/app.py"]]
    name = pyc_name("app.py", PY313.cache_tag)
    assert changed.data is not None and first.data is not None
    assert changed.data[name] != first.data[name]
    assert (
        changed.data[pyc_name("util.py", PY313.cache_tag)]
        == first.data[pyc_name("util.py", PY313.cache_tag)]
    )
