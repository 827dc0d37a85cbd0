"""This repository's own lambdas.toml builds, verifies, and ships the runtime side only."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from tests.test_architecture import BUILD_SIDE

ROOT = Path(__file__).resolve().parent.parent
# The build side, as module paths inside an artifact (tests/test_architecture.py).
PACKAGING = tuple(
    m.replace(".", "/") + ("/" if (ROOT / m.replace(".", "/")).is_dir() else ".py")
    for m in BUILD_SIDE
)
BUILD_ONLY_DISTRIBUTIONS = ("uv", "stevedore", "pyelftools", "installer", "packaging", "attrs")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    out = tmp_path_factory.mktemp("dist")
    result = build(
        Manifest.load(ROOT / "lambdas.toml"), BuildOptions(out=out, engine="none", offline=False)
    )
    assert result.ok, [(a.name, a.problems) for a in result.artifacts]
    names = {}
    for artifact in result.artifacts:
        assert "imported handlers." in artifact.dynamic or "skipped" in artifact.dynamic
        with zipfile.ZipFile(artifact.path) as zf:
            names[artifact.name] = zf.namelist()
    return names


def test_the_three_lambdas_build_and_verify(built: dict[str, list[str]]) -> None:
    assert set(built) == {"ingestion", "analysis", "dashboard"}
    for name, files in built.items():
        assert f"handlers/{name}.py" in files
        assert any(f.startswith("pydantic_core/_pydantic_core.cpython-313-x86_64") for f in files)
    assert any(f.startswith("vaderSentiment/") for f in built["analysis"])


def test_artifacts_carry_no_packaging_code(built: dict[str, list[str]]) -> None:
    for files in built.values():
        leaked = [f for f in files if f.startswith(PACKAGING)]
        assert leaked == []
        dists = {f.split("-", 1)[0].lower() for f in files if ".dist-info/" in f}
        assert not dists & set(BUILD_ONLY_DISTRIBUTIONS)
