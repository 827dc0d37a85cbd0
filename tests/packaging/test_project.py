"""Dependencies from a pyproject project: declared, or pinned by its uv.lock (real ``uv``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.project import (
    ProjectError,
    check_project,
    find_uv_lock,
    project_requirements,
)
from tests.support.uvprojects import make_monorepo, uv_lock, write_library

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", str(cache))
    return cache


def _pyproject(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(text)
    return folder / "pyproject.toml"


PLAIN = """\
[project]
name = "svc"
version = "1"
dependencies = ["idna==3.10", "mylib @ file:../libs/mylib"]

[project.optional-dependencies]
Fast = ["attrs==25.3.0"]

[dependency-groups]
dev = ["pytest"]
base = ["six==1.17.0"]
prod = [{ include-group = "base" }, "packaging"]
"""


def test_declared_dependencies_with_extras_and_groups_rebased_to_the_manifest(
    tmp_path: Path,
) -> None:
    write_library(tmp_path / "libs" / "mylib")
    pyproject = _pyproject(tmp_path / "svc", PLAIN)
    got = project_requirements(pyproject, tmp_path, extras=["fast"], groups=["prod"])
    assert got == (
        "idna==3.10",
        "mylib @ file:libs/mylib",
        "attrs==25.3.0",
        "six==1.17.0",
        "packaging",
    )
    # No group unless asked: dev never reaches a Lambda.
    assert project_requirements(pyproject, tmp_path) == ("idna==3.10", "mylib @ file:libs/mylib")


def test_the_project_itself_is_installed_only_when_it_is_a_package(tmp_path: Path) -> None:
    pyproject = _pyproject(tmp_path / "svc", PLAIN.replace(', "mylib @ file:../libs/mylib"', ""))
    assert project_requirements(pyproject, tmp_path) == ("idna==3.10",)
    text = pyproject.read_text()
    pyproject.write_text(text + '[build-system]\nrequires = ["hatchling"]\n')
    assert project_requirements(pyproject, tmp_path, extras=["Fast"])[-1] == (
        "svc[Fast] @ file:svc"
    )
    pyproject.write_text(text + "[build-system]\n[tool.uv]\npackage = false\n")
    assert project_requirements(pyproject, tmp_path) == ("idna==3.10",)


def test_uv_sources_paths_are_followed_and_workspace_sources_need_the_lock(
    tmp_path: Path,
) -> None:
    write_library(tmp_path / "libs" / "mylib")
    pyproject = _pyproject(
        tmp_path / "svc",
        '[project]\nname = "svc"\nversion = "1"\n'
        "dependencies = [\"mylib[x]; python_version > '3'\"]\n"
        '[tool.uv.sources]\nmylib = { path = "../libs/mylib" }\n',
    )
    assert project_requirements(pyproject, tmp_path) == (
        "mylib[x] @ file:libs/mylib ; python_version > '3'",
    )
    pyproject.write_text(
        pyproject.read_text().replace('path = "../libs/mylib"', "workspace = true")
    )
    with pytest.raises(ProjectError, match=r"workspace member .*run `uv lock` in"):
        project_requirements(pyproject, tmp_path)


@pytest.mark.parametrize(
    ("text", "extras", "groups", "key", "message"),
    [
        (None, (), (), "project", r"does not exist; point project at a pyproject\.toml"),
        ("[tool.x]\na = 1\n", (), (), "project", r"has no \[project\] table"),
        ("[project\n", (), (), "project", "is not valid TOML"),
        (PLAIN, ("gpu",), (), "extras", r"unknown extra 'gpu' .*defined in .*: Fast\)"),
        (PLAIN, (), ("docs",), "groups", r"unknown group 'docs' .*: base, dev, prod\)"),
        (
            PLAIN.replace("../libs/mylib", "../libs/nope"),
            (),
            (),
            "project",
            r"libs/nope does not exist; fix the path \(it is relative to .*svc\)",
        ),
        (
            PLAIN.replace('"packaging"]', '{ include-group = "prod" }]'),
            (),
            ("prod",),
            "groups",
            "include a cycle: prod -> prod",
        ),
    ],
)
def test_a_project_that_cannot_be_used_names_the_key_and_the_fix(
    tmp_path: Path,
    text: str | None,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    key: str,
    message: str,
) -> None:
    write_library(tmp_path / "libs" / "mylib")
    pyproject = tmp_path / "svc" / "pyproject.toml"
    if text is not None:
        _pyproject(pyproject.parent, text)
    with pytest.raises(ProjectError, match=message) as caught:
        check_project(pyproject, extras, groups)
    assert caught.value.key == key


def test_a_uv_lock_gives_its_pinned_versions_and_workspace_members(
    tmp_path: Path, own_cache: Path
) -> None:
    manifest = make_monorepo(tmp_path / "repo")
    root = manifest.parent
    assert find_uv_lock(root) == root / "uv.lock"
    got = project_requirements(root / "pyproject.toml", root, extras=["fast"], groups=["prod"])
    # Locked before 2024: older than what a fresh resolution picks, so these are the lock's.
    assert "idna==3.6" in got and "attrs==23.2.0" in got
    assert "mylib @ file:libs/mylib" in got
    assert any(r.startswith("six==1.16.0") for r in got)
    assert not any(r.startswith("pytest") for r in got)  # the dev group is not asked for
    # A member's own project finds the workspace's lock, and comes out rebased.
    member = project_requirements(root / "libs" / "mylib" / "pyproject.toml", tmp_path)
    assert member == ("mylib @ file:repo/libs/mylib", "six==1.16.0")


def test_uv_export_runs_once_until_an_input_changes(
    tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_monorepo(tmp_path / "repo").parent
    first = project_requirements(root / "pyproject.toml", root)
    # Kept answer: uv is not run again while uv.lock and the pyprojects are unchanged.
    monkeypatch.setattr(
        "sentiment_pipeline.packaging.project._export",
        lambda *a: pytest.fail("uv export ran again although nothing changed"),
    )
    assert project_requirements(root / "pyproject.toml", root) == first
    lib = root / "libs" / "mylib" / "pyproject.toml"
    lib.write_text(lib.read_text() + "\n")
    with pytest.raises(pytest.fail.Exception, match="uv export ran again"):
        project_requirements(root / "pyproject.toml", root)


def test_a_stale_uv_lock_is_refused_naming_uv_lock(tmp_path: Path, own_cache: Path) -> None:
    root = make_monorepo(tmp_path / "repo").parent
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna",', '"idna", "packaging",'))
    with pytest.raises(ProjectError, match=r"uv\.lock is out of date with .*run `uv lock` in"):
        project_requirements(pyproject, root)
    uv_lock(root)
    assert any(r.startswith("packaging==") for r in project_requirements(pyproject, root))


def test_a_target_python_outside_requires_python_is_refused_before_resolving(
    tmp_path: Path,
) -> None:
    pyproject = _pyproject(
        tmp_path / "svc",
        '[project]\nname = "svc"\nversion = "1"\nrequires-python = ">=3.12"\n'
        'dependencies = ["six==1.17.0"]\n',
    )
    assert project_requirements(pyproject, tmp_path, python="3.12") == ("six==1.17.0",)
    with pytest.raises(ProjectError, match=r"requires Python >=3\.12, but this runs python3\.11"):
        project_requirements(pyproject, tmp_path, python="3.11")
