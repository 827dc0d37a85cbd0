"""``docker load`` tarballs of our images, read back by skopeo and umoci."""

from __future__ import annotations

import json
import shutil
import tarfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.dockerarchive import write_docker_archive
from sentiment_pipeline.packaging.oci.image import ImageError
from tests.packaging.oci.conftest import app_image, run

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(
    not (shutil.which("umoci") and shutil.which("skopeo")), reason="needs umoci and skopeo"
)


def test_our_docker_archive_is_readable_by_skopeo(bases: dict[str, Path], tmp_path: Path) -> None:
    config, layers, blobs = app_image(bases["amd64"], tmp_path)
    archive = tmp_path / "dist" / "ingest.tar"
    write_docker_archive(
        archive, repo_tags=["ingest:latest"], config=config, layers=layers, blobs=blobs
    )
    inspected = json.loads(run("skopeo", "inspect", f"docker-archive:{archive}"))
    assert inspected["Architecture"] == "amd64"
    # a docker-archive's layers are the uncompressed tars: their digests are the diff_ids
    assert inspected["Layers"] == json.loads(config)["rootfs"]["diff_ids"]
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        [entry] = json.load(member)
    assert entry["RepoTags"] == ["ingest:latest"]
    raw_config = run("skopeo", "inspect", "--config", "--raw", f"docker-archive:{archive}")
    assert raw_config.encode() == config  # the very bytes we hashed
    # skopeo re-reads every layer tar and checks it against the config's diff_ids
    copied = tmp_path / "roundtrip"
    run("skopeo", "copy", f"docker-archive:{archive}", f"oci:{copied}:rt")
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--rootless", "--image", f"{copied}:rt", bundle)
    assert (bundle / "rootfs" / "var" / "task" / "pkg" / "bin" / "tool").stat().st_mode & 0o777 == (
        0o755
    )
    # deterministic: the same inputs give the same tarball bytes
    again = tmp_path / "again.tar"
    write_docker_archive(
        again, repo_tags=["ingest:latest"], config=config, layers=layers, blobs=blobs
    )
    assert again.read_bytes() == archive.read_bytes()
    assert sorted(p.name for p in archive.parent.iterdir()) == ["ingest.tar"]


def test_docker_archive_refuses_layers_that_do_not_match_the_config(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    config, layers, blobs = app_image(bases["amd64"], tmp_path)
    dest = tmp_path / "out" / "bad.tar"
    with pytest.raises(ImageError, match="but the config says"):
        write_docker_archive(
            dest, repo_tags=["x:1"], config=config, layers=layers[::-1], blobs=blobs
        )
    with pytest.raises(ImageError, match="1 layers"):
        write_docker_archive(dest, repo_tags=["x:1"], config=config, layers=layers[:1], blobs=blobs)
    assert list(dest.parent.iterdir()) == []  # nothing partial is left behind
