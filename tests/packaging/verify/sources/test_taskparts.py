"""A layer's /var/task part: read through the digest check, cached only after it passed."""

from __future__ import annotations

import tarfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.blobs import BlobDigestError
from sentiment_pipeline.packaging.oci.layer import Layer, LayerFile, build_layer
from sentiment_pipeline.packaging.verify.sources.taskparts import TaskPartCache, task_part

if TYPE_CHECKING:
    from pathlib import Path


def layer_of(files: dict[str, bytes], out: Path) -> Layer:
    return build_layer(
        [LayerFile(path, data) for path, data in files.items()], out, mtime=0, skip_dirs=frozenset()
    )


def names(part: Path) -> list[str]:
    with tarfile.open(part) as tar:
        return tar.getnames()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "scratch"
    path.mkdir()
    return path


def test_only_var_task_is_kept_and_the_part_is_cached_by_the_checked_digest(
    tmp_path: Path, scratch: Path
) -> None:
    layer = layer_of({"var/task/h.py": b"x = 1\n", "etc/os-release": b"ID=x\n"}, tmp_path)
    cache = TaskPartCache(tmp_path / "cache")
    part = task_part(lambda _: layer.path, layer.descriptor(), scratch, cache)
    assert names(part) == ["var/task", "var/task/h.py"]
    assert cache.get(layer.digest) == part


def test_a_blob_that_inflates_fine_but_is_not_the_digests_is_refused_and_not_cached(
    tmp_path: Path, scratch: Path
) -> None:
    real = layer_of({"var/task/h.py": b"x = 1\n"}, tmp_path / "real")
    other = layer_of({"var/task/h.py": b"x = 2\n"}, tmp_path / "other")
    assert other.size == real.size  # same size, other bytes: a valid layer all the same
    cache = TaskPartCache(tmp_path / "cache")
    with pytest.raises(BlobDigestError, match=f"blob {real.digest} does not match its digest"):
        task_part(lambda _: other.path, real.descriptor(), scratch, cache)
    assert cache.get(real.digest) is None


def test_a_cached_part_is_not_used_when_the_blob_changed_since(
    tmp_path: Path, scratch: Path
) -> None:
    real = layer_of({"var/task/h.py": b"x = 1\n"}, tmp_path / "real")
    other = layer_of({"var/task/h.py": b"x = 2\n"}, tmp_path / "other")
    cache = TaskPartCache(tmp_path / "cache")
    task_part(lambda _: real.path, real.descriptor(), scratch, cache)
    assert cache.get(real.digest) is not None
    with pytest.raises(BlobDigestError, match=f"read {other.digest}"):
        task_part(lambda _: other.path, real.descriptor(), scratch, cache)


def test_a_damaged_cache_entry_is_dropped_and_read_again(tmp_path: Path, scratch: Path) -> None:
    layer = layer_of({"var/task/h.py": b"x = 1\n"}, tmp_path)
    cache = TaskPartCache(tmp_path / "cache")
    part = task_part(lambda _: layer.path, layer.descriptor(), scratch, cache)
    part.write_bytes(bytes(part.stat().st_size))  # same size, not the part it recorded
    assert cache.get(layer.digest) is None
    again = task_part(lambda _: layer.path, layer.descriptor(), scratch, cache)
    assert names(again) == ["var/task", "var/task/h.py"]


def test_an_unwritable_cache_costs_speed_only(tmp_path: Path, scratch: Path) -> None:
    layer = layer_of({"var/task/h.py": b"x = 1\n"}, tmp_path)
    (tmp_path / "not-a-dir").write_text("")
    cache = TaskPartCache(tmp_path / "not-a-dir" / "cache")
    part = task_part(lambda _: layer.path, layer.descriptor(), scratch, cache)
    assert part.parent == scratch
    assert names(part) == ["var/task", "var/task/h.py"]
