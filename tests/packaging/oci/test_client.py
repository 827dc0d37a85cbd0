"""The registry client against a real docker-registry, checked with skopeo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.image import sha256_digest
from sentiment_pipeline.packaging.oci.mediatypes import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from sentiment_pipeline.packaging.oci.reference import ImageRef
from sentiment_pipeline.packaging.oci.registry import RegistryClient, RegistryError
from tests.packaging.oci.conftest import FAST_RETRY
from tests.support.images import make_image

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.registry_server import RegistryServer

needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, timeout=60, check=False
    )


def tags(server: RegistryServer, repo: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{server.host}/v2/{repo}/tags/list") as resp:
            return list(json.load(resp).get("tags") or [])
    except urllib.error.HTTPError as exc:
        assert exc.code == 404  # NAME_UNKNOWN: the repository has no tag at all
        return []


# --- push and pull ---


@needs_skopeo
def test_push_then_skopeo_sees_our_manifest(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    ref = ImageRef.parse(f"{registry.host}/{repo}:v1")
    result = client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
    assert result.digest == image.digest
    assert sorted(result.uploaded) == sorted(image.blobs)
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}")
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout.encode() == image.manifest
    inspect = skopeo("inspect", "--tls-verify=false", f"docker://{ref}")
    assert json.loads(inspect.stdout)["Digest"] == image.digest


def test_second_push_uploads_no_blob(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    ref = ImageRef.parse(f"{registry.host}/{repo}:v1")
    client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
    again = client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
    assert again.uploaded == [] and again.mounted == []
    assert sorted(again.skipped) == sorted(image.blobs)
    assert again.requests == {"HEAD": 2, "PUT": 1}  # two blob HEADs, the manifest PUT
    assert again.digest == image.digest


def test_cross_repository_mount(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    client.push_image(
        ImageRef.parse(f"{registry.host}/{repo}:v1"), image.manifest, DOCKER_MANIFEST, image.blobs
    )
    other = ImageRef.parse(f"{registry.host}/{repo}-copy:v1")
    result = client.push_image(other, image.manifest, DOCKER_MANIFEST, {}, mount_from=repo)
    assert sorted(result.mounted) == sorted(image.blobs)
    assert result.uploaded == [] and "PATCH" not in result.requests
    assert client.blob_exists(other.repository, image.layer_digest)
    # a mount from a repository without the blob falls back (202): not mounted
    assert client.mount_blob(f"{repo}-third", image.layer_digest, "test/does-not-exist") is False
    assert client.mount_blob(f"{repo}-third", image.layer_digest, repo) is True


@needs_skopeo
def test_chunked_upload_of_5mb_blob(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path, content=os.urandom(5 * 1024 * 1024), name="model.bin")
    size = image.layer.stat().st_size
    ref = ImageRef.parse(f"{registry.host}/{repo}:big")
    result = client.push_image(
        ref, image.manifest, DOCKER_MANIFEST, image.blobs, chunk_size=1 << 20
    )
    assert result.requests["PATCH"] == -(-size // (1 << 20))  # one PATCH per MiB chunk
    out = tmp_path / "copy"
    copy = skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{out}")
    assert copy.returncode == 0, copy.stderr
    assert (
        out / image.layer_digest.removeprefix("sha256:")
    ).read_bytes() == image.layer.read_bytes()


def test_pull_by_tag_and_digest_verifies(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    ref = ImageRef.parse(f"{registry.host}/{repo}:v1")
    client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
    by_tag = client.get_manifest(ref, expect_manifest=True)
    assert by_tag == (image.manifest, DOCKER_MANIFEST, image.digest)
    assert client.resolve(ref) == image.digest
    by_digest = client.get_manifest(ImageRef.parse(f"{registry.host}/{repo}@{image.digest}"))
    assert by_digest.data == image.manifest
    cache = tmp_path / "cache"
    pulled = RegistryClient(registry.host, retry=FAST_RETRY, cache_dir=cache)
    dest = pulled.get_blob(repo, image.layer_digest, tmp_path / "layer.pulled")
    assert dest.read_bytes() == image.layer.read_bytes()
    assert pulled.requests["GET"] == 1
    pulled.get_blob(repo, image.layer_digest, tmp_path / "layer.again")
    assert pulled.requests["GET"] == 1  # served from the blob cache


def test_a_cached_blob_that_no_longer_matches_is_pulled_again(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path, name="cached.py")
    client.push_image(
        ImageRef.parse(f"{registry.host}/{repo}:v1"), image.manifest, DOCKER_MANIFEST, image.blobs
    )
    cache = tmp_path / "cache"
    puller = RegistryClient(registry.host, retry=FAST_RETRY, cache_dir=cache)
    puller.get_blob(repo, image.layer_digest, tmp_path / "first")
    cached = cache / image.layer_digest.replace(":", "/")
    good = cached.read_bytes()
    cached.write_bytes(bytes(len(good)))  # same size, other bytes
    again = puller.get_blob(repo, image.layer_digest, tmp_path / "again")
    assert again.read_bytes() == good
    assert puller.requests["GET"] == 2  # the damaged copy was not served
    assert cached.read_bytes() == good  # and the cache holds the checked blob again


def test_unknown_manifest(client: RegistryClient, registry: RegistryServer, repo: str) -> None:
    with pytest.raises(RegistryError, match="manifest unknown") as err:
        client.get_manifest(ImageRef.parse(f"{registry.host}/{repo}:nope"))
    assert err.value.status == 404


# --- failures ---


def test_tampered_blob_is_a_digest_mismatch(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path, name="tampered.py")
    client.push_image(
        ImageRef.parse(f"{registry.host}/{repo}:v1"), image.manifest, DOCKER_MANIFEST, image.blobs
    )
    stored = registry.blob_file(image.layer_digest)
    stored.write_bytes(stored.read_bytes()[::-1])
    dest = tmp_path / "out"
    with pytest.raises(RegistryError, match=f"expected {image.layer_digest}, got sha256:"):
        client.get_blob(repo, image.layer_digest, dest)
    assert not dest.exists() and list(tmp_path.glob(".blob-*")) == []


def test_tampered_manifest_is_a_digest_mismatch(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path, name="tampered-manifest.py")
    client.push_image(
        ImageRef.parse(f"{registry.host}/{repo}:v1"), image.manifest, DOCKER_MANIFEST, image.blobs
    )
    registry.blob_file(image.digest).write_bytes(json.dumps(json.loads(image.manifest)).encode())
    with pytest.raises(RegistryError, match=f"digest mismatch.*expected {image.digest}"):
        client.get_manifest(ImageRef.parse(f"{registry.host}/{repo}@{image.digest}"))


def test_index_where_a_manifest_was_expected(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    oci_manifest = image.manifest.replace(DOCKER_MANIFEST.encode(), OCI_MANIFEST.encode())
    client.push_image(
        ImageRef.parse(f"{registry.host}/{repo}:single"), oci_manifest, OCI_MANIFEST, image.blobs
    )
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "size": len(oci_manifest),
                    "digest": sha256_digest(oci_manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    ref = ImageRef.parse(f"{registry.host}/{repo}:multi")
    client.push_image(ref, index, OCI_INDEX, {})
    assert client.get_manifest(ref).media_type == OCI_INDEX  # fine when an index is acceptable
    with pytest.raises(RegistryError, match="an index was found where a manifest was expected"):
        client.get_manifest(ref, expect_manifest=True)


@needs_skopeo
def test_failed_blob_upload_leaves_no_tag(
    client: RegistryClient, registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    image.layer.write_bytes(image.layer.read_bytes() + b"corrupt")  # no longer its digest
    ref = ImageRef.parse(f"{registry.host}/{repo}:v1")
    with pytest.raises(RegistryError, match="DIGEST_INVALID"):
        client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
    assert client.requests["PUT"] == 2  # the config's and the failed layer's: no manifest PUT
    assert tags(registry, repo) == []
    assert skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}").returncode != 0


def test_registry_killed_mid_push_leaves_no_tag(tmp_path: Path, repo: str) -> None:
    from tests.support.registry_server import start_registry

    doomed = start_registry(tmp_path / "doomed")
    image = make_image(tmp_path, content=os.urandom(3 << 20), name="big.bin")
    client = RegistryClient(doomed.host, retry=FAST_RETRY)
    ref = ImageRef.parse(f"{doomed.host}/{repo}:v1")
    sent = client.transport.send

    def kill_on_first_patch(method: str, url: str, headers: dict[str, str], body: object) -> object:
        if method == "PATCH":
            doomed.stop()
        return sent(method, url, headers, body)  # type: ignore[arg-type]

    client.transport.send = kill_on_first_patch  # type: ignore[assignment,method-assign]
    try:
        with pytest.raises(RegistryError, match="unreachable"):
            client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs, chunk_size=1 << 20)
    finally:
        doomed.stop()
    assert client.requests["PUT"] == 1  # the config blob's only: the manifest was never sent
    revived = start_registry(tmp_path / "doomed")  # same storage, new port
    try:
        assert tags(revived, repo) == []
    finally:
        revived.stop()
