"""The contract every registered packaging backend keeps (third-party ones included).

For each backend: every artifact it makes is verified for its target and lands
at its final path only when verification passed; the same inputs give the same
bytes; the report names every artifact; a failed verification leaves nothing.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from sentiment_pipeline.packaging.backend import installed_backends, load_backend
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.plan import plan_functions
from tests.support.projects import make_project

BACKENDS = installed_backends()


def test_the_products_backends_are_registered() -> None:
    assert {"layer", "zip-in-docker"} <= set(BACKENDS)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_artifacts_are_planned_dependencies_first(
    backend: str, project_lock: str, tmp_path: Path
) -> None:
    manifest = Manifest.load(make_project(tmp_path, lock=project_lock))
    artifacts = load_backend(backend).artifacts(plan_functions(manifest))
    kinds = [a.kind for a in artifacts]
    assert kinds == sorted(kinds, key=lambda k: k != "layer")  # layers before functions
    assert {a.name for a in artifacts if a.kind == "function"} == {"api"}


def test_every_artifact_is_verified_deterministic_and_reported(
    backend: str, project_lock: str, base_image: str, tmp_path: Path
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    options = {"backend": backend, "engine": "none", "base_image": base_image}
    first = build(Manifest.load(manifest), BuildOptions(out=tmp_path / "a", **options))  # type: ignore[arg-type]
    second = build(Manifest.load(manifest), BuildOptions(out=tmp_path / "b", **options))  # type: ignore[arg-type]
    assert first.ok, [a.problems for a in first.artifacts]
    assert [a.sha256 for a in first.artifacts] == [a.sha256 for a in second.artifacts]
    report = json.loads((tmp_path / "a" / backend / "report.json").read_text())
    assert [a["name"] for a in report["artifacts"]] == [a.name for a in first.artifacts]
    for artifact in first.artifacts:
        path = Path(artifact.path)
        if path.is_dir():  # an image: an OCI layout, identified by its manifest digest
            assert (path / "oci-layout").is_file()
            assert artifact.sha256 and artifact.sha256.startswith("sha256:")
        else:
            assert artifact.zipped == path.stat().st_size
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None
        if artifact.kind == "function":
            assert (
                "imported app.main.lambda_handler" in artifact.dynamic
                or "skipped" in artifact.dynamic
            )


def test_a_failed_verification_leaves_no_artifact(
    backend: str, project_lock: str, base_image: str, tmp_path: Path
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock, handler="app.main.missing")
    result = build(
        Manifest.load(manifest),
        BuildOptions(backend=backend, out=tmp_path / "dist", engine="none", base_image=base_image),
    )
    functions = [a for a in result.artifacts if a.kind == "function"]
    assert functions and not any(a.ok for a in functions)
    assert all(not Path(a.path).exists() for a in functions)
    assert all(p["code"] == "handler-missing" for a in functions for p in a.problems)
    leftovers = [p for p in (tmp_path / "dist").rglob("*") if "partial" in p.name]
    assert leftovers == []
