"""Plans: pure values, every choice about a function or layer made once."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import (
    ArtifactPlan,
    Overrides,
    PlanError,
    plan_functions,
)
from sentiment_pipeline.packaging.slimming import SlimPolicy
from sentiment_pipeline.packaging.targets import get_target

MANIFEST = """\
[defaults]
runtime = "python3.12"
build-image = "registry.example/manifest-build:1"

[layers.common]
requirements = ["six==1.17.0"]

[layers.fast]
requirements = ["orjson==3.10.0"]
build-image = "registry.example/layer-build:1"

[lambdas.api]
handler = "app.main.handler"
requirements = ["markupsafe==3.0.3"]
layers = ["common", "fast"]
base-image = "registry.example/base:1"

[lambdas.worker]
handler = "app.worker.handler"
"""


def manifest() -> Manifest:
    return Manifest.parse(MANIFEST, path=Path("/project/lambdas.toml"), check_paths=False)


def test_the_manifest_chooses_each_image_and_the_build_overrides_them_all() -> None:
    api, worker = plan_functions(manifest())
    assert api.build_image == "registry.example/manifest-build:1"
    assert [layer.build_image for layer in api.layers] == [
        "registry.example/manifest-build:1",
        "registry.example/layer-build:1",
    ]
    assert (api.base_image, worker.base_image) == (
        "registry.example/base:1",
        get_target("python3.12").build_image,
    )
    api, worker = plan_functions(
        manifest(), build_image="registry.example/cli-build:2", base_image="registry.example/b:2"
    )
    images = {api.build_image, worker.build_image, *(layer.build_image for layer in api.layers)}
    assert images == {"registry.example/cli-build:2"}
    assert {api.base_image, worker.base_image} == {"registry.example/b:2"}


def test_an_artifact_takes_everything_from_its_subject() -> None:
    api, _ = plan_functions(manifest(), build_image="registry.example/cli-build:2")
    function = ArtifactPlan(api, provided_by_layers=api.layers)
    assert (function.kind, function.name, function.key, function.target) == (
        "function",
        "api",
        "lambdas.api",
        api.target,
    )
    assert function.function is api and function.layer is None
    assert function.build_image == "registry.example/cli-build:2"
    assert function.exclude == api.exclude
    assert function.requirements == ("six==1.17.0", "orjson==3.10.0", "markupsafe==3.0.3")
    common = ArtifactPlan(api.layers[0])
    assert (common.kind, common.key, common.requirements) == (
        "layer",
        "layers.common",
        ("six==1.17.0",),
    )
    assert common.layer is api.layers[0] and common.function is None
    assert ArtifactPlan(api, requirements=("six",)).requirements == ("six",)


def test_an_unknown_lambda_is_named_with_the_defined_ones() -> None:
    with pytest.raises(PlanError, match=r"no Lambda named 'web' in .*; defined: api, worker"):
        plan_functions(manifest(), only=["web"])


SHARED = """\
[layers.shared]
requirements = ["six==1.17.0"]
sources = ["libs/shared"]
exclude = ["**/tests/**"]

[layers.single]
requirements = ["six==1.17.0"]

[lambdas.api]
handler = "api.handler"
sources = ["api.py"]
runtime = "python3.11"
layers = ["shared", "single"]

[lambdas.data]
handler = "data.handler"
sources = ["data.py"]
runtime = "python3.12"
architecture = "arm64"
layers = ["shared"]
"""


def shared_manifest() -> Manifest:
    return Manifest.parse(SHARED, path=Path("/project/lambdas.toml"), check_paths=False)


def test_a_layer_used_by_lambdas_of_two_targets_is_planned_once_per_target() -> None:
    api, data = plan_functions(shared_manifest())
    shared_api, single = api.layers
    (shared_data,) = data.layers
    assert (shared_api.target, shared_data.target) == (api.target, data.target)
    assert (shared_api.key, shared_data.key) == (
        "layers.shared@python3.11-x86_64",
        "layers.shared@python3.12-arm64",
    )
    assert (shared_api.label, shared_data.label) == (
        "shared (python3.11/x86_64)",
        "shared (python3.12/arm64)",
    )
    assert (shared_api.stem, shared_data.stem) == (
        "shared-python3.11-x86_64",
        "shared-python3.12-arm64",
    )
    # a layer of one target keeps its plain names
    assert (single.key, single.label, single.stem) == ("layers.single", "single", "single")
    # decided over the whole manifest: selecting one Lambda does not rename the layer
    (only_data,) = plan_functions(shared_manifest(), only=["data"])
    assert only_data.layers[0].key == "layers.shared@python3.12-arm64"


def test_a_layer_carries_its_sources_and_a_self_contained_function_carries_them_too() -> None:
    api, _ = plan_functions(shared_manifest())
    shared = api.layers[0]
    assert shared.sources == (Path("libs/shared"),) and shared.root == Path("/project")
    (layer_set,) = ArtifactPlan(shared).source_sets
    assert (layer_set.owner, layer_set.sources) == (shared.key, (Path("libs/shared"),))
    assert "**/tests/**" in layer_set.exclude
    # zip-in-docker: the function carries its layers' sources, before its own
    alone = ArtifactPlan(api).source_sets
    assert [s.owner for s in alone] == [shared.key, "lambdas.api"]
    # layer backend: the layer artifact provides them
    split = ArtifactPlan(api, provided_by_layers=api.layers).source_sets
    assert [s.owner for s in split] == ["lambdas.api"]


def test_slim_and_s3_upload_come_from_the_manifest_and_the_command_line_forces_them() -> None:
    m = Manifest.parse(
        "[defaults]\nslim = { strip = true }\n"
        '[layers.common]\nrequirements = ["six"]\nslim = false\n'
        '[lambdas.api]\nhandler = "h.f"\nlayers = ["common"]\ns3-upload = true\n'
        '[lambdas.tiny]\nhandler = "h.f"\nslim = false\n',
        path=Path("/project/lambdas.toml"),
        check_paths=False,
    )
    api, tiny = plan_functions(m)
    assert api.slim == SlimPolicy(strip=True) and api.s3_upload
    assert api.layers[0].slim is None and not api.layers[0].s3_upload
    assert tiny.slim is None and not tiny.s3_upload
    assert ArtifactPlan(api.layers[0]).slim is None and ArtifactPlan(api).s3_upload
    forced = plan_functions(m, overrides=Overrides(slim=True, s3_upload=True))
    assert forced[1].slim == SlimPolicy() and forced[1].s3_upload
    assert forced[0].layers[0].slim == SlimPolicy() and forced[0].layers[0].s3_upload
    assert plan_functions(m, overrides=Overrides(strip=True))[1].slim == SlimPolicy(strip=True)
