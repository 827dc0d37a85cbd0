"""Registry credentials: bearer tokens, Basic, ECR, and what a refusal says to do."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.image import sha256_digest
from sentiment_pipeline.packaging.oci.mediatypes import DOCKER_MANIFEST
from sentiment_pipeline.packaging.oci.reference import ImageRef
from sentiment_pipeline.packaging.oci.registry import (
    RegistryClient,
    RegistryError,
    parse_ecr_token,
    parse_www_authenticate,
)
from tests.packaging.oci.conftest import FAST_RETRY, PASSWORD, USER
from tests.support.images import make_image

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.registry_server import RegistryServer, TokenServer


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
