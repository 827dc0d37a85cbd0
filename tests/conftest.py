"""Shared fixtures: real wheel trees, synthetic artifacts and targets."""

from __future__ import annotations

import platform
import shutil
import sys
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import Target, UnknownTargetError, get_target
from tests.support import wheelhouse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture(scope="session")
def py313() -> Target:
    return get_target("python3.13", "x86_64")


@pytest.fixture(scope="session")
def py311() -> Target:
    return get_target("python3.11", "x86_64")


# platform.machine() spellings of the catalog's architectures.
_HOST_ARCHITECTURES = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


@pytest.fixture(scope="session")
def host_target() -> Target:
    """The catalog target this machine's interpreter is (its Python version and
    architecture): artifacts for it import and run here. Skips where there is none."""
    machine = platform.machine()
    architecture = _HOST_ARCHITECTURES.get(machine)
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if architecture is None:
        pytest.skip(f"this machine's architecture ({machine}) is no Lambda architecture")
    try:
        return get_target(runtime, architecture)
    except UnknownTargetError:
        pytest.skip(f"this machine's Python ({runtime}) is no Lambda runtime in the catalog")


@pytest.fixture(scope="session")
def pydantic_tree(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """A directory with pydantic 2.12.4 installed for (python, platform) and a handler.py.

    Built once per session per combination; tests copy it before changing it.
    """
    built: dict[tuple[str, str], Path] = {}

    def make(python: str, platform: str) -> Path:
        key = (python, platform)
        if key not in built:
            wheels = wheelhouse.fetch(wheelhouse.PYDANTIC, python=python, platform=platform)
            dest = tmp_path_factory.mktemp(f"pydantic-{python}-{platform}")
            wheelhouse.install_wheels(wheels, dest)
            (dest / "handler.py").write_text(wheelhouse.HANDLER)
            built[key] = dest
        return built[key]

    return make


@pytest.fixture
def copy_tree(tmp_path: Path) -> Callable[[Path], Path]:
    def copy(source: Path) -> Path:
        dest = tmp_path / f"copy-{source.name}"
        shutil.copytree(source, dest, symlinks=True)
        return dest

    return copy


@pytest.fixture(scope="session")
def project_lock(tmp_path_factory: pytest.TempPathFactory) -> str:
    """lambdas.lock of the fixture project, resolved once per session (network: uv, PyPI)."""
    from sentiment_pipeline.packaging.lock import LockFile
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.plan import plan_functions
    from tests.support.projects import make_project

    root = tmp_path_factory.mktemp("locked-project")
    manifest = Manifest.load(make_project(root))
    lockfile = LockFile(root / "lambdas.lock")
    for function in plan_functions(manifest):
        lockfile.get(function.key, function.all_requirements, function.target)
        for layer in function.layers:
            lockfile.get(layer.key, layer.requirements, layer.target)
    lockfile.save()
    return (root / "lambdas.lock").read_text()


@pytest.fixture(scope="session")
def lambda_image() -> str:
    """A Lambda-like python3.13 build image in buildah's storage, built once per machine.

    Fails (never skips) with what to install when root, buildah or debootstrap are missing.
    """
    from tests.support.build_image import lambda_like_image

    return lambda_like_image("3.13")


@pytest.fixture(scope="session")
def native_build_image() -> str:
    """The Lambda-like python3.13 image plus gcc and Python's headers (a SAM-like build
    image: native source archives compile in it). Built once per machine."""
    from tests.support.build_image import lambda_like_image

    return lambda_like_image("3.13", extra=("gcc", "libc6-dev", "python3-dev"))


@pytest.fixture(scope="session")
def base_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real docker-registry on 127.0.0.1 holding a Lambda-like base image.

    The python3.13 build image (debootstrap, buildah) is pushed with buildah, an
    independent tool; returns ``HOST:PORT``.
    """
    from tests.support.build_image import lambda_like_image, push_to_registry
    from tests.support.registry_server import start_registry

    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: apt-get install docker-registry")
    server = start_registry(tmp_path_factory.mktemp("base-registry"))
    push_to_registry(lambda_like_image("3.13"), f"{server.host}/lambda/python:3.13-x86_64")
    yield server.host
    server.stop()


@pytest.fixture(scope="session")
def base_image(base_registry: str) -> str:
    """The Lambda-like base image's reference in :func:`base_registry`."""
    return f"{base_registry}/lambda/python:3.13-x86_64"
