"""Independent artifacts built at once, and layers read once per build."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.packaging.build import build, run_all
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.verify.memo import KnownTree
from tests.support.projects import make_project

if TYPE_CHECKING:
    from pathlib import Path


def test_run_all_runs_jobs_at_once_and_keeps_their_order() -> None:
    # Each job waits for the other: one after the other, the barrier would time out.
    barrier = threading.Barrier(2, timeout=10)

    def job(value: int) -> int:
        barrier.wait()
        return value

    assert run_all([lambda: job(1), lambda: job(2)], workers=2) == [1, 2]


def test_run_all_raises_a_jobs_error_after_every_job_ended() -> None:
    ended: list[str] = []

    def fails() -> str:
        raise ValueError("step failed")

    def slow() -> str:
        threading.Event().wait(0.2)
        ended.append("slow")
        return "slow"

    with pytest.raises(ValueError, match="step failed"):
        run_all([fails, slow], workers=2)
    assert ended == ["slow"]
    assert run_all([lambda: "a"], workers=4) == ["a"]


def test_a_layer_verified_in_the_build_is_not_read_again_for_its_function(
    project_lock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function is verified with the layer's recorded facts (replayed, and copied
    into the import check's sandbox from one unpacked copy), with the same verdict as
    the standalone verification of the same zips."""
    replayed: list[str] = []
    real = KnownTree.matches

    def spy(self: KnownTree, entries: list[Any]) -> bool:
        replayed.append(self.path.name)
        return real(self, entries)

    monkeypatch.setattr(KnownTree, "matches", spy)
    manifest = make_project(tmp_path / "p", lock=project_lock)
    result = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "dist", engine="none", backend="layer")
    )
    assert [(a.kind, a.name, a.ok) for a in result.artifacts] == [
        ("layer", "common", True),
        ("function", "api", True),
    ]
    assert replayed == ["common.zip"]
    from sentiment_pipeline import VerifyOptions, verify

    function = result.artifacts[1]
    alone = verify(
        function.path,
        "python3.13",
        VerifyOptions(layers=list(function.layers), handler="app.main.lambda_handler"),
    )
    assert tuple(alone.problems) == function.problems
    assert tuple(alone.warnings) == function.warnings
    assert alone.checked.dynamic.summary == function.dynamic

    # The function changes, the layer does not: a later build reuses the layer as it is
    # and verifies the function with the layer's facts from the store, not reading it.
    main = tmp_path / "p" / "app" / "main.py"
    main.write_text(main.read_text() + "\n# changed\n")
    replayed.clear()
    again = build(
        Manifest.load(manifest), BuildOptions(out=tmp_path / "dist", engine="none", backend="layer")
    )
    assert [(a.name, a.cache_hit, a.ok) for a in again.artifacts] == [
        ("common", True, True),
        ("api", False, True),
    ]
    assert replayed == ["common.zip"]
    assert again.artifacts[1].problems == function.problems
    assert again.artifacts[1].dynamic == function.dynamic
