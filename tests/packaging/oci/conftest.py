"""Shared by the oci tests: real ``docker-registry`` servers on 127.0.0.1 (open, htpasswd
Basic, bearer tokens), and Lambda-like base images made by umoci with our app image over them."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.blobs import BlobSource, blob_source, read_blob
from sentiment_pipeline.packaging.oci.image import Descriptor, canonical_json, derive_config
from sentiment_pipeline.packaging.oci.layer import LayerFile, build_layer
from sentiment_pipeline.packaging.oci.layout import layout_blob_source, read_layout
from sentiment_pipeline.packaging.oci.platform import check_architecture
from sentiment_pipeline.packaging.oci.registry import RegistryClient, RetryPolicy
from tests.support.registry_server import RegistryServer, TokenServer, start_registry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

USER, PASSWORD = "pipeline", "correct-horse-battery"
FAST_RETRY = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.05, timeout=10)

_counter = itertools.count()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: apt-get install docker-registry")
    server = start_registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: apt-get install docker-registry")
    server = start_registry(tmp_path_factory.mktemp("auth-registry"), credentials=(USER, PASSWORD))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path_factory.mktemp("token"), (USER, PASSWORD))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, token_server: TokenServer
) -> Iterator[RegistryServer]:
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: apt-get install docker-registry")
    server = start_registry(tmp_path_factory.mktemp("token-registry"), token_server=token_server)
    yield server
    server.stop()


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A repository name of its own for each test."""
    name = request.node.name.lower().replace("[", "-").replace("]", "").replace("_", "-")
    return f"test/{name.strip('-')}-{next(_counter)}"


@pytest.fixture
def client(registry: RegistryServer) -> Iterator[RegistryClient]:
    c = RegistryClient(registry.host, username=None, password=None, retry=FAST_RETRY)
    yield c
    c.close()


# --- umoci-made bases and our image over them ---

EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"
HANDLER = "handler.handler"


def run(*argv: str | Path) -> str:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{argv}: {proc.stderr}"
    return proc.stdout


def umoci_base(root: Path, architecture: str) -> Path:
    """A Lambda-like base in an OCI layout, made by umoci: /var/task, os-release, entrypoint."""
    rootfs = root / f"rootfs-{architecture}"
    (rootfs / "var" / "task").mkdir(parents=True)
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "os-release").write_text('ID=test\nPRETTY_NAME="base"\n')
    entry = rootfs / "lambda-entrypoint.sh"
    entry.write_text('#!/bin/sh\nexec "$@"\n')
    entry.chmod(0o755)
    layout = root / f"base-{architecture}"
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", f"{layout}:latest")
    run("umoci", "insert", "--image", f"{layout}:latest", rootfs, "/")
    run(
        "umoci", "config", "--image", f"{layout}:latest",
        "--config.entrypoint", "/lambda-entrypoint.sh",
        "--config.env", "LAMBDA_TASK_ROOT=/var/task",
        "--config.env", "LAMBDA_RUNTIME_DIR=/var/runtime",
        "--config.workingdir", "/var/task",
        "--architecture", architecture, "--os", "linux",
    )  # fmt: skip
    return layout


@pytest.fixture(scope="session")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bases")
    return {arch: umoci_base(root, arch) for arch in ("amd64", "arm64")}


def app_files() -> list[LayerFile]:
    return [
        LayerFile("var/task/handler.py", b"def handler(event, context):\n    return event\n"),
        LayerFile("var/task/pkg/__init__.py", b"VERSION = 1\n"),
        LayerFile("var/task/pkg/bin/tool", b"#!/bin/sh\necho tool\n", 0o755),
    ]


def app_image(
    base: Path, work: Path, architecture: str = "x86_64"
) -> tuple[bytes, list[Descriptor], BlobSource]:
    """Our image over ``base``: (config bytes, layer descriptors, blob source)."""
    manifest = read_layout(base, "latest")
    assert manifest.config is not None
    base_blobs = layout_blob_source(base)
    base_config = json.loads(read_blob(base_blobs, manifest.config))
    check_architecture(base_config, architecture, reference=f"oci:{base}:latest")
    layer = build_layer(
        app_files(), work / "layers", mtime=EPOCH, skip_dirs=frozenset({"var", "var/task"})
    )
    config = derive_config(
        base_config,
        cmd=HANDLER,
        diff_id=layer.diff_id,
        created=CREATED,
        history_comment="sentiment-pipeline: app layer",
    )
    layers = [
        *manifest.layers,
        layer.descriptor(),
    ]
    return canonical_json(config), layers, blob_source([layer], base_blobs)
