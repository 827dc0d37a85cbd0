"""OCI layouts, written and read, checked with umoci and skopeo.

The base image is made in the test with umoci, not with our code, so the
layout and manifest readers are exercised on another tool's output; our image
is then inspected, copied and unpacked by skopeo and umoci.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.packaging.oci.blobs import (
    BlobDigestError,
    blob_source,
    read_blob,
)
from sentiment_pipeline.packaging.oci.image import (
    ImageError,
    UnexpectedIndexError,
    build_manifest,
    canonical_json,
    derive_config,
    descriptor,
    parse_manifest,
)
from sentiment_pipeline.packaging.oci.layer import build_layer
from sentiment_pipeline.packaging.oci.layout import (
    LayoutError,
    read_layout,
    write_layout,
)
from sentiment_pipeline.packaging.oci.mediatypes import (
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
)
from sentiment_pipeline.packaging.oci.platform import (
    ArchitectureMismatchError,
    select_platform,
)
from tests.packaging.oci.conftest import CREATED, EPOCH, HANDLER, app_files, app_image, run

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(
    not (shutil.which("umoci") and shutil.which("skopeo")), reason="needs umoci and skopeo"
)


def test_layout_is_a_single_manifest_that_skopeo_reads(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    config, layers, blobs = app_image(bases["amd64"], tmp_path)
    dest = tmp_path / "dist" / "container-image" / "ingest"
    top = write_layout(dest, tag="1.0", config=config, layers=layers, blobs=blobs)

    raw = run("skopeo", "inspect", "--raw", f"oci:{dest}:1.0").encode()
    body = json.loads(raw)
    assert body["mediaType"] == OCI_MANIFEST
    assert "manifests" not in body
    assert top.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert body["config"]["mediaType"] == OCI_CONFIG
    assert {layer["mediaType"] for layer in body["layers"]} == {OCI_LAYER_GZIP}

    inspected = json.loads(run("skopeo", "inspect", "--config", f"oci:{dest}:1.0"))
    assert inspected["config"]["Cmd"] == [HANDLER]
    assert inspected["config"]["Entrypoint"] == ["/lambda-entrypoint.sh"]
    assert inspected["config"]["WorkingDir"] == "/var/task"
    assert "LAMBDA_TASK_ROOT=/var/task" in inspected["config"]["Env"]
    assert inspected["architecture"] == "amd64"
    assert len(inspected["rootfs"]["diff_ids"]) == 2

    index = json.loads((dest / "index.json").read_text())
    assert index["mediaType"] == OCI_INDEX
    [entry] = index["manifests"]
    assert entry["annotations"] == {"org.opencontainers.image.ref.name": "1.0"}
    assert entry["platform"] == {"architecture": "amd64", "os": "linux"}
    assert json.loads((dest / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    # every blob is named by its own hash, and nothing else is in the layout
    blobs_dir = dest / "blobs" / "sha256"
    for blob in blobs_dir.iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    assert len(list(blobs_dir.iterdir())) == 4  # manifest, config, base layer, app layer
    assert sorted(p.name for p in dest.parent.iterdir()) == ["ingest"]  # no temp dirs left


def test_unpacked_rootfs_has_normalized_var_task(bases: dict[str, Path], tmp_path: Path) -> None:
    config, layers, blobs = app_image(bases["amd64"], tmp_path)
    dest = tmp_path / "layout"
    write_layout(dest, tag="latest", config=config, layers=layers, blobs=blobs)
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--rootless", "--image", f"{dest}:latest", bundle)
    rootfs = bundle / "rootfs"
    assert (rootfs / "etc" / "os-release").read_text().startswith("ID=test")
    assert (rootfs / "lambda-entrypoint.sh").stat().st_mode & 0o777 == 0o755
    expected = {
        "var/task/handler.py": 0o644,
        "var/task/pkg/__init__.py": 0o644,
        "var/task/pkg/bin/tool": 0o755,
        "var/task/pkg": 0o755,
        "var/task/pkg/bin": 0o755,
    }
    for rel, mode in expected.items():
        info = (rootfs / rel).lstat()
        assert info.st_mode & 0o7777 == mode, rel
        assert (info.st_uid, info.st_gid) == (0, 0), rel
        assert int(info.st_mtime) == EPOCH, rel
    assert (rootfs / "var" / "task" / "handler.py").read_text().startswith("def handler")
    # /var/task itself is the base's: our layer has no entry for it, so its time is not ours
    assert int((rootfs / "var" / "task").stat().st_mtime) != EPOCH


def test_two_builds_give_the_same_image_digest(bases: dict[str, Path], tmp_path: Path) -> None:
    digests = []
    for n in range(2):
        config, layers, blobs = app_image(bases["amd64"], tmp_path / f"w{n}")
        dest = tmp_path / "layout"  # the second build replaces the first in place
        digests.append(
            write_layout(dest, tag="latest", config=config, layers=layers, blobs=blobs).digest
        )
        assert read_layout(dest, "latest").digest == digests[-1]
    assert digests[0] == digests[1]


def test_skopeo_copies_our_layout_to_a_docker_archive(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    config, layers, blobs = app_image(bases["amd64"], tmp_path)
    dest = tmp_path / "layout"
    write_layout(dest, tag="latest", config=config, layers=layers, blobs=blobs)
    archive = tmp_path / "copied.tar"
    run("skopeo", "copy", f"oci:{dest}:latest", f"docker-archive:{archive}:app:latest")
    inspected = json.loads(run("skopeo", "inspect", "--config", f"docker-archive:{archive}"))
    assert inspected["config"]["Cmd"] == [HANDLER]


def test_a_docker_family_base_is_converted_inside_the_layout(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    # skopeo writes the base as Docker v2 schema 2 into a dir: transport (blobs by hex name)
    docker_dir = tmp_path / "docker-base"
    run("skopeo", "copy", "--format", "v2s2", f"oci:{bases['amd64']}:latest", f"dir:{docker_dir}")
    manifest = parse_manifest((docker_dir / "manifest.json").read_bytes())
    assert manifest.media_type == DOCKER_MANIFEST
    assert manifest.config is not None

    def docker_blobs(digest: str) -> Path:
        return docker_dir / digest.removeprefix("sha256:")

    base_config = json.loads(read_blob(docker_blobs, manifest.config))
    layer = build_layer(app_files(), tmp_path / "l", mtime=EPOCH, skip_dirs=frozenset({"var"}))
    config = canonical_json(
        derive_config(
            base_config, cmd=HANDLER, diff_id=layer.diff_id, created=CREATED, history_comment="x"
        )
    )
    layers = [*manifest.layers, layer.descriptor()]
    # the registry push keeps the base's family...
    pushed = parse_manifest(build_manifest(config, layers, manifest.family))
    assert pushed.media_type == DOCKER_MANIFEST
    # ...the layout holds the same bytes under OCI types, which umoci accepts
    dest = tmp_path / "layout"
    write_layout(
        dest, tag="latest", config=config, layers=layers, blobs=blob_source([layer], docker_blobs)
    )
    ours = read_layout(dest, "latest")
    assert [d.digest for d in ours.layers] == [d.digest for d in pushed.layers]
    assert {d.media_type for d in ours.layers} == {OCI_LAYER_GZIP}
    run("umoci", "unpack", "--rootless", "--image", f"{dest}:latest", tmp_path / "bundle")
    assert (tmp_path / "bundle" / "rootfs" / "var" / "task" / "handler.py").is_file()


def test_base_of_the_other_architecture_is_refused(bases: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ArchitectureMismatchError, match="is for linux/arm64, the Lambda targets"):
        app_image(bases["arm64"], tmp_path, "x86_64")
    app_image(bases["arm64"], tmp_path, "arm64")  # the matching target is fine


def test_an_index_where_a_manifest_was_expected_is_detected(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    layout = tmp_path / "multi"
    shutil.copytree(bases["amd64"], layout)
    index = json.loads((layout / "index.json").read_text())
    [entry] = index["manifests"]
    platform_entry: dict[str, Any] = {
        "mediaType": entry["mediaType"],
        "digest": entry["digest"],
        "size": entry["size"],
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    nested = canonical_json(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [platform_entry]}
    )
    (layout / "blobs" / "sha256" / hashlib.sha256(nested).hexdigest()).write_bytes(nested)
    top = descriptor(OCI_INDEX, nested)
    index["manifests"].append(
        {**top.to_json(), "annotations": {"org.opencontainers.image.ref.name": "multi"}}
    )
    (layout / "index.json").write_text(json.dumps(index))

    with pytest.raises(UnexpectedIndexError, match="single-platform manifest is required"):
        read_layout(layout, "multi")
    # resolved to the platform's manifest, it is the base image again
    chosen = select_platform(parse_manifest(nested), "x86_64")
    assert chosen.digest == entry["digest"]
    assert read_layout(layout, "latest").digest == entry["digest"]


def test_read_layout_checks_the_manifest_against_the_index(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    layout = tmp_path / "copy"
    shutil.copytree(bases["amd64"], layout)
    [entry] = json.loads((layout / "index.json").read_text())["manifests"]
    blob = layout / "blobs" / "sha256" / entry["digest"].removeprefix("sha256:")
    blob.write_bytes(blob.read_bytes().replace(b"sha256:", b"sha256-", 1))  # same size
    with pytest.raises(BlobDigestError, match=f"blob {entry['digest']} does not match"):
        read_layout(layout, "latest")


def test_read_layout_says_what_the_layout_holds(bases: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"the layout holds: latest \(use oci:PATH:TAG\)") as err:
        read_layout(bases["amd64"], "nope")
    assert err.value.layout == bases["amd64"]
    with pytest.raises(LayoutError, match=r"not an OCI image layout \(no index.json\)"):
        read_layout(tmp_path)


def test_a_corrupt_base_blob_fails_and_keeps_the_previous_layout(
    bases: dict[str, Path], tmp_path: Path
) -> None:
    config, layers, blobs = app_image(bases["amd64"], tmp_path)
    dest = tmp_path / "layout"
    good = write_layout(dest, tag="latest", config=config, layers=layers, blobs=blobs)

    def corrupt(digest: str) -> Path | bytes:
        content = blobs(digest)
        return b"not the layer" if digest == layers[0].digest else content

    with pytest.raises(ImageError, match="corrupt or from another image"):
        write_layout(dest, tag="latest", config=config, layers=layers, blobs=corrupt)
    assert read_layout(dest, "latest").digest == good.digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(ImageError, match="plain tag"):
        write_layout(dest, tag="a/b", config=config, layers=layers, blobs=blobs)
