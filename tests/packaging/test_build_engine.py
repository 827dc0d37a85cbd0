"""The engine path for real: buildah (vfs, chroot) with a Lambda-like build image.

The target interpreter installs offline and compiles .pyc; the result is verified,
reproducible, and its handler importable inside the image even when this machine
has no interpreter of the target.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import attrs

from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions, VerifyOptions
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify import verify
from tests.support.projects import make_project


def test_zip_in_docker_with_buildah_ships_target_bytecode(
    project_lock: str, lambda_image: str, tmp_path: Path
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    first = build(
        Manifest.load(manifest),
        BuildOptions(out=tmp_path / "a", engine="buildah", build_image=lambda_image),
    )
    (artifact,) = first.artifacts
    assert artifact.ok and artifact.compiled and artifact.notes == ()
    with zipfile.ZipFile(artifact.path) as zf:
        names = set(zf.namelist())
        pyc = zf.read("app/__pycache__/main.cpython-313.pyc")
    assert "app/__pycache__/main.cpython-311.pyc" not in names  # the host's never ships
    assert "six.py" in names and "__pycache__/six.cpython-313.pyc" in names
    flags = int.from_bytes(pyc[4:8], "little")
    assert flags == 0b01, "unchecked-hash pyc: valid on a read-only /var/task, reproducible"
    second = build(
        Manifest.load(manifest),
        BuildOptions(out=tmp_path / "b", engine="buildah", build_image=lambda_image),
    )
    assert second.artifacts[0].sha256 == artifact.sha256


def test_a_python313_artifact_is_imported_inside_the_image_on_a_host_without_it(
    project_lock: str, lambda_image: str, tmp_path: Path
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    result = build(Manifest.load(manifest), BuildOptions(out=tmp_path / "dist", engine="none"))
    path = Path(result.artifacts[0].path)
    # Point the verifier at this 3.11 interpreter only: it is refused, so the image is used.
    report = verify(
        path,
        get_target("python3.13"),
        VerifyOptions(
            handler="app.main.lambda_handler",
            interpreter=sys.executable,
            engine="buildah",
            image=lambda_image,
        ),
    )
    assert report.ok, report.render()
    assert report.checked.dynamic.summary.startswith(
        "dynamic check: imported app.main.lambda_handler with python3 in "
    )
    assert "(buildah)" in report.checked.dynamic.summary


def test_slim_with_buildah_trims_pips_tree_and_its_record_and_keeps_target_bytecode(
    lambda_image: str, tmp_path: Path
) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "handler.py").write_text(
        "import numpy\n\n\ndef lambda_handler(event, context):\n"
        "    return int(numpy.ones(2).sum())\n"
    )
    manifest = tmp_path / "p" / "lambdas.toml"
    manifest.write_text(
        '[lambdas.data]\nhandler = "handler.lambda_handler"\nsources = ["handler.py"]\n'
        'requirements = ["numpy==2.1.3"]\nexclude = ["**/tests/**"]\n'
    )
    options = BuildOptions(out=tmp_path / "dist", engine="buildah", build_image=lambda_image)
    whole = build(Manifest.load(manifest), options).artifacts[0]
    slim = build(Manifest.load(manifest), attrs.evolve(options, slim=True)).artifacts[0]
    assert whole.ok and slim.ok and whole.compiled and slim.compiled, slim.problems
    with zipfile.ZipFile(slim.path) as zf:
        names = set(zf.namelist())
        record = zf.read("numpy-2.1.3.dist-info/RECORD").decode()
    assert not [n for n in names if "/tests/" in n or n.endswith((".pyi", ".h"))]
    assert "numpy/_core/tests/" not in record and "numpy/testing/__init__.py" in record
    assert "numpy/__pycache__/__init__.cpython-313.pyc" in names  # the target's bytecode
    (numpy,) = slim.distributions
    assert numpy.saved > 5 * 2**20 and slim.unzipped < whole.unzipped - numpy.saved // 2
    # exclude matched numpy's tests in the whole build: they were kept, and it verified.
    assert any(n.startswith("exclude matched") for n in whole.notes)
