"""Container images: pushed by the container-image backend to the local registry of the
container-image tests, deployed by digest, updated only when the digest changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.deployment import RefusedError
from tests.deployment.conftest import Moto, Project

if TYPE_CHECKING:
    from pathlib import Path


def test_an_image_is_deployed_by_digest_and_updated_only_when_its_digest_changes(
    moto: Moto, tmp_path: Path, base_image: str, base_registry: str
) -> None:
    project = Project(tmp_path / "p", backend="container-image")
    push = f"{base_registry}/{project.prefix.rstrip('-')}"
    (built,) = project.build(base_image=base_image, push=push).artifacts
    assert built.pushed is not None and built.pushed.startswith(f"{push}/api@sha256:")
    first = project.deploy(moto)
    (api,) = first.functions
    code = moto.client.get_function(FunctionName=project.function)["Code"]
    assert (
        code["ImageUri"] == built.pushed
        and api.image_digest == "sha256:" + built.pushed.split("@sha256:")[1]
    )
    assert moto.latest(project.function)["PackageType"] == "Image"

    project.write_handler("2")
    (rebuilt,) = project.build(base_image=base_image, push=push).artifacts
    assert rebuilt.pushed != built.pushed
    second = project.deploy(moto)
    (api,) = second.functions
    assert api.changes[:2] == ("code uploaded", "published version 2")
    code = moto.client.get_function(FunctionName=project.function)["Code"]
    assert code["ImageUri"] == rebuilt.pushed and moto.alias_version(project.function) == "2"

    latest = moto.latest(project.function)
    third = project.deploy(moto)
    assert third.functions[0].changes == () and moto.versions(project.function) == [
        "$LATEST",
        "1",
        "2",
    ]
    assert moto.latest(project.function)["LastModified"] == latest["LastModified"]


def test_an_image_built_without_push_is_refused_with_the_push_command(
    moto: Moto, tmp_path: Path, base_image: str
) -> None:
    project = Project(tmp_path / "p", backend="container-image")
    project.build(base_image=base_image)
    with pytest.raises(RefusedError, match=r"never pushed.*--push REGISTRY/PREFIX"):
        project.deploy(moto)
    assert moto.snapshot(project.prefix) == {"layers": []}
