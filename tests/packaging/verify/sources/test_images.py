"""Verifying an image's /var/task from an OCI layout made by an independent tool (umoci)."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ArtifactError, ProblemCode, Target
from sentiment_pipeline.packaging.verify import verify

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CORE_SO = "pydantic_core/_pydantic_core.cpython-{}-x86_64-linux-gnu.so"


def umoci(*args: str | Path) -> None:
    subprocess.run(["umoci", *map(str, args)], check=True, capture_output=True)


def image_of(tree: Path, layout: Path) -> str:
    """An image whose /var/task holds ``tree`` (umoci: init, new, insert)."""
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:fn")
    umoci("insert", "--rootless", "--image", f"{layout}:fn", tree, "/var/task")
    return f"oci:{layout}:fn"


def test_a_good_image_verifies_and_imports(
    pydantic_tree: Callable[[str, str], Path], tmp_path: Path, py313: Target
) -> None:
    ref = image_of(pydantic_tree("3.13", "manylinux2014_x86_64"), tmp_path / "img")
    report = verify(ref, target=py313)
    assert report.ok, report.render()
    assert report.checked["hashed_files"] > 100
    assert report.checked["handler"] == "handler.lambda_handler"


def test_the_incident_inside_an_image(
    pydantic_tree: Callable[[str, str], Path], tmp_path: Path, py313: Target
) -> None:
    ref = image_of(pydantic_tree("3.12", "manylinux2014_x86_64"), tmp_path / "img")
    report = verify(ref, target=py313, dynamic=False)
    assert (ProblemCode.ABI_MISMATCH, CORE_SO.format("312")) in {
        (p.code, p.path) for p in report.problems
    }


def test_a_whiteout_in_a_later_layer_removes_the_file(
    pydantic_tree: Callable[[str, str], Path], tmp_path: Path, py313: Target
) -> None:
    layout = tmp_path / "img"
    ref = image_of(pydantic_tree("3.13", "manylinux2014_x86_64"), layout)
    umoci(
        "insert",
        "--rootless",
        "--image",
        f"{layout}:fn",
        "--whiteout",
        "/var/task/" + CORE_SO.format("313"),
    )
    report = verify(ref, target=py313, dynamic=False)
    assert report.codes() == {"missing-file"}


def test_an_index_where_a_manifest_belongs_is_refused(tmp_path: Path, py313: Target) -> None:
    layout = tmp_path / "img"
    (tmp_path / "fn").mkdir()
    image_of(tmp_path / "fn", layout)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["mediaType"] = "application/vnd.oci.image.index.v1+json"
    (layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(ArtifactError, match="index was found where a single-platform manifest"):
        verify(f"oci:{layout}:fn", target=py313)


def test_not_a_layout_and_unknown_tags_are_unusable_input(tmp_path: Path, py313: Target) -> None:
    with pytest.raises(ArtifactError, match="not an OCI image layout"):
        verify(f"oci:{tmp_path}", target=py313)
    (tmp_path / "fn").mkdir()
    image_of(tmp_path / "fn", tmp_path / "img")
    with pytest.raises(ArtifactError, match="the layout holds: fn"):
        verify(f"oci:{tmp_path / 'img'}:nope", target=py313)
