"""The registry client against a real docker-registry, checked with skopeo."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.oci.image import sha256_digest
from sentiment_pipeline.packaging.oci.mediatypes import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
)
from sentiment_pipeline.packaging.oci.registry import (
    ImageRef,
    RegistryClient,
    RegistryError,
    parse_ecr_token,
    parse_www_authenticate,
)
from tests.packaging.oci.conftest import FAST_RETRY, PASSWORD, USER
from tests.support.registry_server import free_port

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.registry_server import RegistryServer, TokenServer

needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")


@dataclass
class Image:
    manifest: bytes
    digest: str
    config: bytes
    layer: Path
    blobs: dict[str, Path | bytes]

    @property
    def layer_digest(self) -> str:
        return sha256_digest(self.layer.read_bytes())


def make_image(tmp_path: Path, content: bytes = b"print('hi')\n", name: str = "app.py") -> Image:
    """One gzipped layer with ``/var/task/<name>``, a config and a Docker v2 manifest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"var/task/{name}")
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    layer = tmp_path / f"layer-{name}.tar.gz"
    layer.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["app.handler"], "WorkingDir": "/var/task"},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(raw.getvalue())]},
        },
        sort_keys=True,
    ).encode()
    layer_bytes = layer.read_bytes()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": sha256_digest(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer_bytes),
                    "digest": sha256_digest(layer_bytes),
                }
            ],
        },
        indent=3,
    ).encode()
    blobs: dict[str, Path | bytes] = {
        sha256_digest(config): config,
        sha256_digest(layer_bytes): layer,
    }
    return Image(manifest, sha256_digest(manifest), config, layer, blobs)


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


# --- references and parsing ---


@pytest.mark.parametrize(
    ("text", "host", "repo", "tag", "digest"),
    [
        ("127.0.0.1:5000/a/b:v1", "127.0.0.1:5000", "a/b", "v1", None),
        ("docker://localhost/a", "localhost", "a", None, None),
        (f"r.example.com/x@sha256:{'a' * 64}", "r.example.com", "x", None, f"sha256:{'a' * 64}"),
        (f"[::1]:5000/x:t@sha256:{'b' * 64}", "[::1]:5000", "x", "t", f"sha256:{'b' * 64}"),
    ],
)
def test_imageref_parse(
    text: str, host: str, repo: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageRef.parse(text)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == (host, repo, tag, digest)


@pytest.mark.parametrize(
    "text", ["python:3.12", "a/b:v1", "127.0.0.1:5000/UPPER", "h.io/x@sha256:1"]
)
def test_imageref_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="image reference"):
        ImageRef.parse(text)


def test_transport_is_http_only_on_loopback() -> None:
    for host in ("127.0.0.1:5000", "127.1.2.3", "localhost:80", "[::1]:5000"):
        assert RegistryClient(host).base_url.startswith("http://"), host
    for host in ("registry.example.com", "10.0.0.1:5000", "public.ecr.aws", "[fe80::1]:5000"):
        assert RegistryClient(host).base_url.startswith("https://"), host


def test_www_authenticate_bearer() -> None:
    scheme, params = parse_www_authenticate(
        'Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",'
        'scope="aws",error="invalid_token"'
    )
    assert scheme == "bearer"
    assert params["realm"] == "https://public.ecr.aws/token/"
    assert params["service"] == "public.ecr.aws"


def test_ecr_branch_uses_the_token_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTIMENT_PIPELINE_REGISTRY_USER", raising=False)
    regions: list[str] = []

    def fake_token(region: str) -> str:  # stands in for AWS only: no account here
        regions.append(region)
        return base64.b64encode(b"AWS:eyJwYXlsb2Fk").decode()

    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    client = RegistryClient(host, ecr_token=fake_token)
    assert regions == ["eu-west-1"]
    assert (client.username, client.password) == ("AWS", "eyJwYXlsb2Fk")
    assert client.base_url == f"https://{host}"
    with pytest.raises(ValueError, match="AWS:password"):
        parse_ecr_token(base64.b64encode(b"no-colon").decode())


# --- push and pull against the real registry ---


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


def test_unknown_manifest(client: RegistryClient, registry: RegistryServer, repo: str) -> None:
    with pytest.raises(RegistryError, match="manifest unknown") as err:
        client.get_manifest(ImageRef.parse(f"{registry.host}/{repo}:nope"))
    assert err.value.status == 404


# --- failures ---


def test_unreachable_registry_names_the_host() -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    client = RegistryClient(host, retry=FAST_RETRY)
    with pytest.raises(RegistryError, match=f"registry {host} unreachable") as err:
        client.resolve(ImageRef.parse(f"{host}/x:v1"))
    assert isinstance(err.value, PipelineError) and isinstance(err.value, RuntimeError)
    assert client.requests["HEAD"] == FAST_RETRY.attempts  # it retried, boundedly


def test_401_without_credentials_names_the_repo(
    auth_registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SENTIMENT_PIPELINE_REGISTRY_USER", raising=False)
    client = RegistryClient(auth_registry.host, retry=FAST_RETRY)
    with pytest.raises(RegistryError, match=r"repository 'team/app' \(401\).*anonymous") as err:
        client.get_manifest(ImageRef.parse(f"{auth_registry.host}/team/app:v1"))
    assert err.value.status == 401 and "SENTIMENT_PIPELINE_REGISTRY_USER" in str(err.value)


def test_wrong_credentials_are_a_401(auth_registry: RegistryServer) -> None:
    client = RegistryClient(auth_registry.host, username=USER, password="wrong", retry=FAST_RETRY)
    with pytest.raises(RegistryError, match=f"401.*user '{USER}'"):
        client.blob_exists("team/app", sha256_digest(b""))


def test_basic_auth_from_environment(
    auth_registry: RegistryServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SENTIMENT_PIPELINE_REGISTRY_USER", USER)
    monkeypatch.setenv("SENTIMENT_PIPELINE_REGISTRY_PASSWORD", PASSWORD)
    client = RegistryClient(auth_registry.host, retry=FAST_RETRY)
    image = make_image(tmp_path)
    ref = ImageRef.parse(f"{auth_registry.host}/team/app:v1")
    assert (
        client.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs).digest == image.digest
    )
    assert client.get_manifest(ref).digest == image.digest


def test_bearer_token_flow(
    token_registry: RegistryServer,
    token_server: TokenServer,
    repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SENTIMENT_PIPELINE_REGISTRY_USER", raising=False)
    image = make_image(tmp_path)
    ref = ImageRef.parse(f"{token_registry.host}/{repo}:v1")
    pusher = RegistryClient(token_registry.host, username=USER, password=PASSWORD, retry=FAST_RETRY)
    assert (
        pusher.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs).digest == image.digest
    )
    assert f"repository:{repo}:pull,push" in token_server.issued
    again = pusher.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
    assert again.requests == {"HEAD": 2, "PUT": 1}  # the token is cached per scope

    anonymous = RegistryClient(token_registry.host, retry=FAST_RETRY)
    assert anonymous.get_manifest(ref).digest == image.digest  # anonymous pull token
    assert anonymous.requests["GET"] == 3  # 401 challenge, token, manifest
    with pytest.raises(RegistryError, match=rf"repository '{repo}' \(401\).*anonymous"):
        anonymous.push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)

    wrong = RegistryClient(token_registry.host, username=USER, password="nope", retry=FAST_RETRY)
    with pytest.raises(RegistryError, match=f"401.*user '{USER}'"):
        wrong.get_manifest(ref)


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
    sent = client._send

    def kill_on_first_patch(method: str, url: str, headers: dict[str, str], body: object) -> object:
        if method == "PATCH":
            doomed.stop()
        return sent(method, url, headers, body)  # type: ignore[arg-type]

    client._send = kill_on_first_patch  # type: ignore[assignment,method-assign]
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
