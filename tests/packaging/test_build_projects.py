"""``build`` of Lambdas whose dependencies live in pyproject projects, as users run it.

The CLI runs in a subprocess from another directory with relative paths; the projects
are generated monorepos (a uv workspace with a member library, locked by the real ``uv
lock``) and the wheels are real ones from PyPI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.lock import LockFile
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import plan_functions
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.cli import run_cli
from tests.support.uvprojects import make_monorepo, write_library

if TYPE_CHECKING:
    from pathlib import Path

PYTHON312 = find_interpreter(get_target("python3.12", "x86_64"))


@pytest.fixture(scope="module")
def locked_monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The monorepo of :mod:`tests.support.uvprojects`, locked once (network: PyPI)."""
    return make_monorepo(tmp_path_factory.mktemp("monorepo") / "repo").parent


@pytest.fixture
def repo(locked_monorepo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "work" / "repo"
    shutil.copytree(locked_monorepo, copy)
    return copy


def build(cwd: Path, manifest: str = "repo/lambdas.toml") -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, "build", "--manifest", manifest, "--out", "dist", "--engine", "none")


def report(cwd: Path) -> dict[str, dict[str, object]]:
    data = json.loads((cwd / "dist" / "zip-in-docker" / "report.json").read_text())
    return {entry["name"]: entry for entry in data["artifacts"]}


def import_handler(artifact: Path, tmp_path: Path, handler: str) -> str:
    """Call ``handler`` from the unzipped artifact with python3.12 (the target's version)."""
    assert PYTHON312 is not None
    task = tmp_path / "task"
    shutil.rmtree(task, ignore_errors=True)
    with zipfile.ZipFile(artifact) as zf:
        zf.extractall(task)
    module, _, function = handler.rpartition(".")
    code = (
        f"import sys; sys.path.insert(0, {str(task)!r}); import {module} as m; "
        f"print(m.{function}({{}}, None))"
    )
    proc = subprocess.run(
        [PYTHON312, "-I", "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    return proc.stdout.strip()


def test_a_uv_workspace_builds_with_its_locked_versions_and_its_member_library(
    repo: Path, tmp_path: Path
) -> None:
    work = repo.parent
    proc = build(work)
    assert proc.returncode == 0, proc.stderr
    entries = report(work)
    assert entries["api"]["ok"] and entries["report"]["ok"]
    lock = LockFile(repo / "lambdas.lock").locks["lambdas.api"]
    versions = {w.name: w.version for w in lock.wheels}
    # uv.lock's versions (locked before 2024), its extra and group, not the newest ones;
    # tomli's marker (python < 3.11) is false for python3.12, so it is not there.
    assert versions == {
        "attrs": "23.2.0",
        "idna": "3.6",
        "mylib": "0.1.0",
        "six": "1.16.0",
    }
    assert {w.name: w.directory for w in lock.wheels}["mylib"] == "libs/mylib"
    assert str(tmp_path) not in (repo / "lambdas.lock").read_text()  # a committed file
    with zipfile.ZipFile(work / "dist" / "zip-in-docker" / "api.zip") as zf:
        names = set(zf.namelist())
    assert {"mylib/__init__.py", "mylib-0.1.0.dist-info/RECORD", "handler.py"} <= names
    if PYTHON312 is not None:
        out = import_handler(
            work / "dist" / "zip-in-docker" / "api.zip", tmp_path, "handler.handler"
        )
        assert out == "{'greeting': 'hello from mylib six', 'idna': '3.6'}"


def test_a_change_in_the_shared_library_rebuilds_only_the_lambdas_that_contain_it(
    repo: Path, tmp_path: Path
) -> None:
    work = repo.parent
    assert build(work).returncode == 0
    again = build(work)
    assert again.returncode == 0 and all(e["cache_hit"] for e in report(work).values())
    code = repo / "libs" / "mylib" / "src" / "mylib" / "__init__.py"
    code.write_text(code.read_text().replace("hello from mylib", "hello from mylib v2"))
    changed = build(work)
    assert changed.returncode == 0, changed.stderr
    entries = report(work)
    assert not entries["api"]["cache_hit"] and entries["report"]["cache_hit"]
    if PYTHON312 is not None:
        out = import_handler(
            work / "dist" / "zip-in-docker" / "api.zip", tmp_path, "handler.handler"
        )
        assert "hello from mylib v2" in out


def test_a_stale_uv_lock_exits_2_naming_the_manifest_line_and_uv_lock(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna",', '"idna", "packaging",'))
    proc = build(repo.parent)
    assert proc.returncode == 2
    assert "lambdas.toml:7: lambdas.api.project:" in proc.stderr
    assert "run `uv lock` in" in proc.stderr and "Traceback" not in proc.stderr


def test_a_missing_path_dependency_exits_2_naming_the_manifest_line(repo: Path) -> None:
    manifest = repo / "lambdas.toml"
    manifest.write_text(
        manifest.read_text().replace('"idna==3.10"]', '"idna==3.10", "gone @ file:libs/gone"]')
    )
    proc = build(repo.parent)
    assert proc.returncode == 2
    assert "lambdas.toml:14: lambdas.report.requirements: 'gone @ file:libs/gone'" in proc.stderr
    assert "libs/gone does not exist; fix the path" in proc.stderr


def test_a_layer_takes_a_workspace_members_locked_dependencies(repo: Path) -> None:
    manifest = repo / "lambdas.toml"
    manifest.write_text(
        manifest.read_text()
        + '\n[layers.shared]\nproject = "libs/mylib/pyproject.toml"\n'
        + '\n[lambdas.worker]\nhandler = "handler.handler"\nlayers = ["shared"]\n'
        + 'sources = ["services/report/handler.py"]\n'
    )
    (worker,) = plan_functions(Manifest.load(manifest), only=["worker"])
    (layer,) = worker.layers
    assert layer.requirements == ("mylib @ file:libs/mylib", "six==1.16.0")


PACKAGED = """\
[project]
name = "svc"
version = "2.0"
dependencies = ["mylib", "idna==3.10"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.uv.sources]
mylib = { path = "../libs/mylib" }
"""


def test_a_lambda_whose_code_is_the_projects_package_needs_no_sources(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_library(repo / "libs" / "mylib")
    (repo / "svc" / "src" / "svc").mkdir(parents=True)
    (repo / "svc" / "pyproject.toml").write_text(PACKAGED)
    (repo / "svc" / "src" / "svc" / "__init__.py").write_text("")
    (repo / "svc" / "src" / "svc" / "handler.py").write_text(
        "import mylib\n\n\ndef main(event, context):\n    return mylib.hello()\n"
    )
    (repo / "lambdas.toml").write_text(
        '[defaults]\nruntime = "python3.12"\n\n'
        '[lambdas.svc]\nhandler = "svc.handler.main"\nproject = "svc/pyproject.toml"\n'
    )
    proc = build(tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    lock = LockFile(repo / "lambdas.lock").locks["lambdas.svc"]
    assert {w.name: w.directory for w in lock.wheels if w.directory} == {
        "mylib": "libs/mylib",
        "svc": "svc",
    }
    artifact = tmp_path / "dist" / "zip-in-docker" / "svc.zip"
    with zipfile.ZipFile(artifact) as zf:
        assert "svc/handler.py" in zf.namelist() and "svc-2.0.dist-info/RECORD" in zf.namelist()
    if PYTHON312 is not None:
        assert import_handler(artifact, tmp_path, "svc.handler.main") == "hello from mylib six"
