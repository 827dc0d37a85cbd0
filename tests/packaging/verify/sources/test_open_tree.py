"""open_tree: what an artifact argument names, and the error when it names nothing readable."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ArtifactError, Target
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.sources import DirTree, ZipTree, open_tree
from tests.packaging.verify.sources.test_archives import make_zip

if TYPE_CHECKING:
    from pathlib import Path


def test_missing_input_raises_artifact_error(tmp_path: Path, py313: Target) -> None:
    with pytest.raises(ArtifactError, match="no such file"):
        verify(tmp_path / "nope.zip", target=py313)


def test_a_zip_and_a_directory_open_as_such(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    with open_tree(tmp_path / "fn") as tree:
        assert isinstance(tree, DirTree)
    with open_tree(make_zip(tmp_path / "fn.zip", {"a.py": b""})) as tree:
        assert isinstance(tree, ZipTree)


def test_what_is_neither_a_file_nor_a_directory_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ArtifactError, match="is neither a zip file nor a directory"):
        open_tree(tmp_path / "pipe")


def test_an_oci_reference_without_a_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="not an OCI image layout"):
        open_tree(f"oci:{tmp_path}")
