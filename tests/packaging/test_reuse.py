"""An artifact is reused only when nothing it is made of changed and it is still in place."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.packaging.backend import load_backend
from sentiment_pipeline.packaging.cache import sha256_file
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import Overrides, plan_functions
from sentiment_pipeline.packaging.results import ArtifactResult
from sentiment_pipeline.packaging.reuse import artifact_key, identity, unchanged
from sentiment_pipeline.packaging.testing import make_contract_project

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_the_key_changes_with_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = make_contract_project(tmp_path, backend="zip-in-docker")
    backend = load_backend("zip-in-docker")

    def key(
        wheels: tuple[str, ...] = ("a",), engine: str = "none", image: str | None = None
    ) -> str:
        (artifact,) = backend.artifacts(plan_functions(Manifest.load(project.manifest)))
        return artifact_key(backend, artifact, wheels, engine, image)

    first = key()
    assert first.startswith("sha256:") and key() == first
    assert key(wheels=("a", "b")) != first
    assert key(engine="buildah", image="lambda:3.13") != key(engine="buildah", image="other")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert key() != first
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    (tmp_path / "app" / "helper.py").write_text("def greeting():\n    return 'hi'\n")
    assert key() != first


def test_slim_strip_and_s3_upload_are_part_of_the_key(tmp_path: Path) -> None:
    project = make_contract_project(tmp_path, backend="zip-in-docker")
    backend = load_backend("zip-in-docker")

    def key(overrides: Overrides) -> str:
        plans = plan_functions(Manifest.load(project.manifest), overrides=overrides)
        (artifact,) = backend.artifacts(plans)
        return artifact_key(backend, artifact, ("a",), "none", None)

    keys = {
        key(Overrides()),
        key(Overrides(slim=True)),
        key(Overrides(strip=True)),
        key(Overrides(s3_upload=True)),
    }
    assert len(keys) == 4 and key(Overrides(slim=True)) == key(Overrides(slim=True))


def test_a_zip_is_its_sha256_and_an_image_layout_its_manifest_digest(tmp_path: Path) -> None:
    archive = tmp_path / "api.zip"
    archive.write_bytes(b"PK not really")
    assert identity(archive) == sha256_file(archive)
    layout = tmp_path / "api"
    layout.mkdir()
    digest = "sha256:" + "0" * 64
    (layout / "index.json").write_text(json.dumps({"manifests": [{"digest": digest}]}))
    assert identity(layout) == digest
    (layout / "index.json").write_text('{"manifests": []}')
    assert identity(layout) is None
    assert identity(tmp_path / "gone.zip") is None


def test_the_earlier_result_is_reused_only_while_its_artifact_is_in_place(
    tmp_path: Path,
) -> None:
    final = tmp_path / "api.zip"
    final.write_bytes(b"PK built")
    earlier = ArtifactResult(
        name="api",
        kind="function",
        backend="zip-in-docker",
        path=str(final),
        runtime="python3.13",
        architecture="x86_64",
        ok=True,
        cache_hit=False,
        seconds=1.0,
        key="sha256:k",
        sha256=sha256_file(final),
    )
    previous = {"sha256:k": earlier}
    assert unchanged(previous, "sha256:k", final) == earlier
    assert unchanged(previous, "sha256:other", final) is None
    assert (
        unchanged({"sha256:k": attrs.evolve(earlier, sha256="ab" * 32)}, "sha256:k", final) is None
    )
    final.write_bytes(b"PK changed by hand")
    assert unchanged(previous, "sha256:k", final) is None
    final.unlink()
    assert unchanged(previous, "sha256:k", final) is None
