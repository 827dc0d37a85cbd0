"""``build`` end to end with a local cross-install (``--engine none``) and real wheels."""

from __future__ import annotations

import json
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.install import bytecode
from sentiment_pipeline.packaging.lock import LockFile, ResolutionError
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from tests.support.cli import run_cli
from tests.support.projects import make_project

if TYPE_CHECKING:
    from pathlib import Path


def run_build(manifest: Path, out: Path, *args: str) -> int:
    return main(
        ["build", "--manifest", str(manifest), "--out", str(out), "--engine", "none", *args]
    )


def test_zip_in_docker_builds_a_verified_self_contained_zip(
    project_lock: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No interpreter of the target's Python here: no bytecode (tests/packaging/install/
    # test_bytecode.py has the other case).
    monkeypatch.setattr(bytecode, "find_compiler", lambda target, explicit=None: None)
    manifest = make_project(tmp_path / "p", lock=project_lock)
    assert run_build(manifest, tmp_path / "dist") == 0
    artifact = tmp_path / "dist" / "zip-in-docker" / "api.zip"
    with zipfile.ZipFile(artifact) as zf:
        names = zf.namelist()
    assert "app/main.py" in names and "six.py" in names
    assert any(n.startswith("markupsafe/_speedups.cpython-313-x86_64") for n in names)
    assert not any("__pycache__" in n for n in names)  # the host's bytecode never ships
    report = json.loads((tmp_path / "dist" / "zip-in-docker" / "report.json").read_text())
    (entry,) = report["artifacts"]
    assert entry["ok"] and not entry["cache_hit"] and not entry["compiled"]
    assert entry["native"] == ["markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so"]
    assert entry["zipped"] == artifact.stat().st_size
    assert "bytecode was not compiled" in entry["notes"][0]
    lock = LockFile(manifest.with_suffix(".lock"))
    assert {w.name for w in lock.locks["lambdas.api"].wheels} == {"markupsafe", "six"}
    assert "api       function  zip-in-docker" in capsys.readouterr().out


def test_an_unchanged_rebuild_is_a_cache_hit_and_a_change_rebuilds(
    project_lock: str, tmp_path: Path
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    out = tmp_path / "dist"
    first = build(Manifest.load(manifest), BuildOptions(out=out, engine="none"))
    artifact = out / "zip-in-docker" / "api.zip"
    before = artifact.stat().st_mtime_ns
    second = build(Manifest.load(manifest), BuildOptions(out=out, engine="none"))
    assert [a.cache_hit for a in second.artifacts] == [True]
    assert artifact.stat().st_mtime_ns == before
    assert second.artifacts[0].sha256 == first.artifacts[0].sha256
    (tmp_path / "p" / "app" / "main.py").write_text(
        (tmp_path / "p" / "app" / "main.py").read_text() + "\n# changed\n"
    )
    third = build(Manifest.load(manifest), BuildOptions(out=out, engine="none"))
    assert [a.cache_hit for a in third.artifacts] == [False]
    assert third.artifacts[0].sha256 != first.artifacts[0].sha256


def test_builds_are_byte_identical(project_lock: str, tmp_path: Path) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    a = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "a", engine="none", backend="layer")
    )
    b = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "b", engine="none", backend="layer")
    )
    assert [r.sha256 for r in a.artifacts] == [r.sha256 for r in b.artifacts]
    assert all(r.sha256 for r in a.artifacts)


def test_layer_backend_splits_dependencies(project_lock: str, tmp_path: Path) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    result = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "dist", engine="none", backend="layer")
    )
    assert [(a.kind, a.name, a.ok) for a in result.artifacts] == [
        ("layer", "common", True),
        ("function", "api", True),
    ]
    with zipfile.ZipFile(tmp_path / "dist" / "layer" / "layers" / "common.zip") as zf:
        layer = zf.namelist()
    with zipfile.ZipFile(tmp_path / "dist" / "layer" / "api.zip") as zf:
        function = zf.namelist()
    assert all(n.startswith("python/") for n in layer)
    assert "python/six.py" in layer and "six.py" not in function
    assert any(n.startswith("markupsafe/") for n in function)
    assert result.artifacts[1].layers == (
        str(tmp_path / "dist" / "layer" / "layers" / "common.zip"),
    )


def test_offline_builds_from_lock_and_cache(project_lock: str, tmp_path: Path) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    build(Manifest.load(manifest), BuildOptions(out=tmp_path / "a", engine="none"))
    offline = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "b", engine="none", offline=True)
    )
    assert offline.ok
    manifest.write_text(manifest.read_text().replace('"markupsafe==3.0.3"', '"markupsafe==3.0.2"'))
    with pytest.raises(ResolutionError, match=r"out of date.*run the build once without --offline"):
        build(
            Manifest.load(manifest), BuildOptions(out=tmp_path / "c", engine="none", offline=True)
        )


def test_an_unresolvable_dependency_exits_1_naming_package_and_target(
    project_lock: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    manifest.write_text(
        manifest.read_text()
        .replace('runtime = "python3.13"', 'runtime = "python3.9"')
        .replace('"markupsafe==3.0.3"', '"cryptography==50.0.2"')
    )
    assert run_build(manifest, tmp_path / "dist") == 1
    err = capsys.readouterr().err
    assert "cryptography" in err and "python3.9/x86_64" in err and "Fix: pin versions" in err
    assert not (tmp_path / "dist" / "zip-in-docker" / "api.zip").exists()


def test_bad_manifest_exits_2(
    project_lock: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    manifest.write_text(manifest.read_text() + "colour = 'red'\n")
    assert run_build(manifest, tmp_path / "dist") == 2
    assert "lambdas.toml:14: lambdas.api.colour: unknown key" in capsys.readouterr().err


def test_unknown_lambda_and_backend_exit_2(
    project_lock: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    assert run_build(manifest, tmp_path / "dist", "--lambda", "nope") == 2
    assert "no Lambda named 'nope'" in capsys.readouterr().err
    assert run_build(manifest, tmp_path / "dist", "--backend", "zipp") == 2
    assert "No packaging backend 'zipp'. Installed: " in capsys.readouterr().err


AL2_APP = """\
import pydantic_core
import six


def lambda_handler(event, context):
    return {"statusCode": 200, "body": pydantic_core.to_json({"six": six.__version__}).decode()}
"""


@pytest.mark.network
@pytest.mark.parametrize("architecture", ["x86_64", "aarch64"])
def test_a_python311_function_builds_with_engine_none_and_verifies(
    architecture: str, tmp_path: Path
) -> None:
    """Amazon Linux 2 (glibc 2.26) resolves with a platform uv accepts (manylinux_2_17);
    before, uv refused x86_64-manylinux_2_26 and no python3.9-3.11 Lambda could build."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(AL2_APP)
    (project / "lambdas.toml").write_text(
        "[defaults]\n"
        'runtime = "python3.11"\n'
        f'architecture = "{architecture}"\n'
        "[lambdas.api]\n"
        'handler = "app.lambda_handler"\n'
        'sources = ["app.py"]\n'
        'requirements = ["six==1.17.0", "pydantic-core==2.41.5"]\n'
    )
    built = run_cli(
        tmp_path,
        "build",
        "--manifest",
        "project/lambdas.toml",
        "--out",
        "dist",
        "--engine",
        "none",
        "--json",
    )
    assert built.returncode == 0, built.stdout + built.stderr
    # python3.11 is past its deprecation date: it builds, with one warning line
    assert built.stderr.splitlines() == [
        "sentiment-pipeline: warning: python3.11 is deprecated since 2026-06-30: Lambda no "
        "longer patches it, then blocks creating and updating functions on it; move to "
        "python3.13"
    ]
    [artifact] = json.loads(built.stdout)["artifacts"]
    assert artifact["ok"] and artifact["runtime"] == "python3.11"
    assert any(n.startswith("warning: python3.11 is deprecated") for n in artifact["notes"])
    assert artifact["architecture"] == "arm64" if architecture == "aarch64" else "x86_64"
    machine = "aarch64" if architecture == "aarch64" else "x86_64"
    assert artifact["native"] == [
        f"pydantic_core/_pydantic_core.cpython-311-{machine}-linux-gnu.so"
    ]
    lock = LockFile(project / "lambdas.lock").locks["lambdas.api"]
    core = next(w for w in lock.wheels if w.name == "pydantic-core")
    assert "manylinux_2_17" in core.filename or "manylinux2014" in core.filename

    # and the artifact verifies on its own, as a user checks it
    checked = run_cli(
        tmp_path,
        "verify",
        "dist/zip-in-docker/api.zip",
        "--runtime",
        "python3.11",
        "--architecture",
        architecture,
        "--json",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["ok"] is True


def test_a_build_of_one_lambda_keeps_the_others_reusable(project_lock: str, tmp_path: Path) -> None:
    # `build --lambda api`, then `--lambda web`, then `--lambda api` again (what `invoke`
    # does for each Lambda it runs): the third build reuses api's artifact.
    extra = '\n[lambdas.web]\nhandler = "web.lambda_handler"\nsources = ["web.py"]\n'
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "web.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    manifest = Manifest.load(make_project(tmp_path / "p", lock=project_lock, extra=extra))
    out = tmp_path / "dist"
    first = build(manifest, BuildOptions(out=out, engine="none", only="api"))
    assert build(manifest, BuildOptions(out=out, engine="none", only="web")).ok
    again = build(manifest, BuildOptions(out=out, engine="none", only="api"))
    assert [(a.name, a.cache_hit) for a in first.artifacts] == [("api", False)]
    assert [(a.name, a.cache_hit) for a in again.artifacts] == [("api", True)]
    report = json.loads((out / "zip-in-docker" / "report.json").read_text())
    assert sorted(a["name"] for a in report["artifacts"]) == ["api", "web"]
