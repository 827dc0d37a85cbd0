"""An index resolved to Lambda's architecture; a base config checked against it."""

from __future__ import annotations

import pytest

from sentiment_pipeline.packaging.oci.image import ImageError, parse_manifest
from sentiment_pipeline.packaging.oci.mediatypes import OCI_INDEX
from sentiment_pipeline.packaging.oci.platform import (
    ArchitectureMismatchError,
    PlatformNotFoundError,
    check_architecture,
    select_platform,
)
from tests.packaging.oci.test_image import BASE_CONFIG, ENTRIES, digest_of, index_json


@pytest.mark.parametrize(
    ("architecture", "expected"),
    [("x86_64", 10), ("amd64", 10), ("arm64", 11), ("aarch64", 11)],
)
def test_select_platform_maps_lambda_names(architecture: str, expected: int) -> None:
    index = parse_manifest(index_json(OCI_INDEX, ENTRIES))
    assert select_platform(index, architecture).digest == digest_of(expected)


def test_select_platform_accepts_arm64_without_variant_but_prefers_v8() -> None:
    bare = {
        **ENTRIES[1],
        "digest": digest_of(20),
        "platform": {"architecture": "arm64", "os": "linux"},
    }
    index = parse_manifest(index_json(OCI_INDEX, [bare, ENTRIES[1]]))
    assert select_platform(index, "arm64").digest == digest_of(11)
    assert select_platform(
        parse_manifest(index_json(OCI_INDEX, [bare])), "arm64"
    ).digest == digest_of(20)


def test_select_platform_names_what_is_available() -> None:
    index = parse_manifest(index_json(OCI_INDEX, [ENTRIES[0], ENTRIES[2]]))
    with pytest.raises(PlatformNotFoundError, match="no linux/arm64 manifest") as err:
        select_platform(index, "arm64", reference="public.ecr.aws/lambda/python:3.13")
    assert err.value.available == ("linux/amd64", "unknown/unknown")
    with pytest.raises(ImageError, match="x86_64 or arm64"):
        select_platform(index, "riscv64")


def test_check_architecture() -> None:
    check_architecture(BASE_CONFIG, "x86_64")
    check_architecture({"architecture": "arm64", "os": "linux", "variant": "v8"}, "arm64")
    with pytest.raises(ArchitectureMismatchError) as err:
        check_architecture(BASE_CONFIG, "arm64", reference="public.ecr.aws/lambda/python:3.13")
    message = str(err.value)
    assert "public.ecr.aws/lambda/python:3.13 is for linux/amd64" in message
    assert "targets arm64" in message
    assert "python:<version>-arm64" in message
    assert (err.value.expected, err.value.actual) == ("arm64", "linux/amd64")
    assert isinstance(err.value, ValueError)
    with pytest.raises(ArchitectureMismatchError, match="windows/amd64"):
        check_architecture({"architecture": "amd64", "os": "windows"}, "x86_64")
