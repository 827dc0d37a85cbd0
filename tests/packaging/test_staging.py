"""One artifact put in place only once verified, reached through ``build`` as a user
reaches it: the previous artifact survives a failed verification or an interruption."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging import zipwriting as archive
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.verify import Problem, ProblemCode
from tests.support.projects import make_project

if TYPE_CHECKING:
    from pathlib import Path


def run_build(manifest: Path, out: Path) -> int:
    return main(["build", "--manifest", str(manifest), "--out", str(out), "--engine", "none"])


def test_a_failed_verification_leaves_the_previous_artifact(
    project_lock: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    out = tmp_path / "dist"
    assert run_build(manifest, out) == 0
    artifact = out / "zip-in-docker" / "api.zip"
    good = artifact.read_bytes()
    text = manifest.read_text().replace("app.main.lambda_handler", "app.main.handle")
    manifest.write_text(text)
    capsys.readouterr()
    assert run_build(manifest, out) == 1
    output = capsys.readouterr().out
    assert "[handler-missing]" in output and "was not written" in output
    assert artifact.read_bytes() == good
    assert not list(artifact.parent.glob("partial-*"))
    (entry,) = json.loads((artifact.parent / "report.json").read_text())["artifacts"]
    assert not entry["ok"] and entry["sha256"] is None
    assert [set(p) for p in entry["problems"]] == [{"code", "path", "message"}]
    assert entry["problems"][0]["code"] == "handler-missing"


def test_a_failed_result_carries_the_verifiers_problems(project_lock: str, tmp_path: Path) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    manifest.write_text(manifest.read_text().replace("app.main.lambda_handler", "app.main.nope"))
    result = build(Manifest.load(manifest), BuildOptions(out=tmp_path / "dist", engine="none"))
    (artifact,) = result.artifacts
    assert not artifact.ok and artifact.sha256 is None
    (problem,) = artifact.problems
    assert isinstance(problem, Problem)
    assert (problem.code, problem.path) == (ProblemCode.HANDLER_MISSING, "app/main.py")
    assert "has no top-level 'nope'" in problem.message


def test_an_interrupted_build_leaves_nothing_half_written(
    project_lock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    out = tmp_path / "dist"
    build(Manifest.load(manifest), BuildOptions(out=out, engine="none"))
    artifact = out / "zip-in-docker" / "api.zip"
    good = artifact.read_bytes()
    (tmp_path / "p" / "app" / "extra.py").write_text("X = 1\n")
    real = archive.write_zip

    def crash(path: Path, members: object, **kwargs: object) -> dict[str, int]:
        path.write_bytes(b"PK partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("sentiment_pipeline.packaging.assemble.write_zip", crash)
    with pytest.raises(KeyboardInterrupt):
        build(Manifest.load(manifest), BuildOptions(out=out, engine="none"))
    assert artifact.read_bytes() == good
    assert sorted(p.name for p in artifact.parent.iterdir()) == ["api.zip", "report.json"]
    assert real is archive.write_zip


def test_the_artifact_is_world_readable_whatever_the_umask(
    project_lock: str, tmp_path: Path
) -> None:
    import os
    import stat
    import subprocess
    import sys

    make_project(tmp_path / "p", lock=project_lock)
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "sentiment_pipeline", "build", "--manifest", "p/lambdas.toml"),
            *("--out", "d", "--engine", "none"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        preexec_fn=lambda: os.umask(0o077),
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    artifact = tmp_path / "d" / "zip-in-docker" / "api.zip"
    assert stat.S_IMODE(artifact.stat().st_mode) == 0o644
