"""HTTP to a registry: plain HTTP on loopback only, bounded retries."""

from __future__ import annotations

import pytest

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.oci.registry.auth import Auth
from sentiment_pipeline.packaging.oci.registry.transport import RegistryError, Transport
from tests.packaging.oci.conftest import FAST_RETRY
from tests.support.registry_server import free_port


def test_transport_is_http_only_on_loopback() -> None:
    for host in ("127.0.0.1:5000", "127.1.2.3", "localhost:80", "[::1]:5000"):
        assert Transport(host).base_url.startswith("http://"), host
    for host in ("registry.example.com", "10.0.0.1:5000", "public.ecr.aws", "[fe80::1]:5000"):
        assert Transport(host).base_url.startswith("https://"), host


def test_unreachable_registry_names_the_host() -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    transport = Transport(host, FAST_RETRY)
    with pytest.raises(RegistryError, match=f"registry {host} unreachable") as err:
        transport.request("HEAD", "/v2/x/manifests/v1", "x", {}, ok=(200,), auth=Auth(transport))
    assert isinstance(err.value, PipelineError) and isinstance(err.value, RuntimeError)
    assert transport.requests["HEAD"] == FAST_RETRY.attempts  # it retried, boundedly
