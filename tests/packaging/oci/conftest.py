"""Real ``docker-registry`` servers on 127.0.0.1: open, htpasswd Basic, and bearer tokens."""

from __future__ import annotations

import itertools
import shutil
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.registry import RegistryClient, RetryPolicy
from tests.support.registry_server import RegistryServer, TokenServer, start_registry

if TYPE_CHECKING:
    from collections.abc import Iterator

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
