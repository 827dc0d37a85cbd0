"""The plan, pure: what differs between the verified artifacts and what Lambda has."""

from __future__ import annotations

from pathlib import Path

from sentiment_pipeline.deployment.artifacts import Artifact, Deployable
from sentiment_pipeline.deployment.plan import plan_function
from sentiment_pipeline.deployment.state import Configuration, Deployed, FunctionState, UrlState
from sentiment_pipeline.packaging.manifest import Cors, DeploySettings, FunctionUrl
from sentiment_pipeline.packaging.targets import get_target

ZIP = Artifact("api", Path("/p/dist/zip-in-docker/api.zip"), "ab" * 32, 1000)
CODE = ZIP.code_sha256
IMAGE = Artifact(
    "api",
    Path("/p/dist/container-image/api"),
    "sha256:" + "1" * 64,
    0,
    image="registry.example/sp/api@sha256:" + "2" * 64,
)


def item(artifact: Artifact = ZIP, **settings: object) -> Deployable:
    values: dict[str, object] = {
        "function_name": "prod-api",
        "role": None,
        "memory": None,
        "timeout": None,
        "environment": {},
        "function_url": None,
        "smoke_event": None,
        "alias": "live",
    }
    values.update(settings)
    return Deployable(
        "api",
        "app.main.handler",
        get_target("python3.13"),
        "zip-in-docker",
        artifact,
        (),
        DeploySettings(**values),  # type: ignore[arg-type]
    )


def deployed(version: str, code: str = CODE, **config: object) -> Deployed:
    values: dict[str, object] = {
        "architecture": "x86_64",
        "handler": "app.main.handler",
        "runtime": "python3.13",
        "memory": 128,
        "timeout": 3,
    }
    values.update(config)
    return Deployed(version, "Zip", code, None, Configuration(**values))  # type: ignore[arg-type]


def state(latest: Deployed | None, alias: Deployed | None, **extra: object) -> FunctionState:
    return FunctionState("prod-api", latest, "live", alias, **extra)  # type: ignore[arg-type]


def test_the_same_code_and_settings_at_latest_and_the_alias_is_unchanged() -> None:
    step = plan_function(item(), state(deployed("$LATEST"), deployed("4")), {})
    assert step.unchanged
    assert step.describe() == [
        f"api -> prod-api: unchanged (code {CODE[:20]}... = deployed, configuration the same, "
        "alias live -> 4)"
    ]


def test_memory_and_timeout_left_unset_are_not_managed() -> None:
    current = deployed("$LATEST", memory=1024, timeout=60)
    step = plan_function(item(), state(current, deployed("4", memory=1024, timeout=60)), {})
    assert step.unchanged
    step = plan_function(item(timeout=30), state(current, current), {})
    assert step.changes == ("timeout 60 -> 30",) and not step.code and step.release


def test_an_architecture_change_is_a_code_upload() -> None:
    current = deployed("$LATEST", architecture="arm64")
    step = plan_function(item(), state(current, current), {})
    assert step.code and step.changes == ()


def test_an_alias_on_other_code_is_released_again_without_an_upload() -> None:
    step = plan_function(item(), state(deployed("$LATEST"), deployed("3", code="old")), {})
    assert not step.code and not step.changes
    assert step.release == "alias live is at version 3, which runs other code or settings"


def test_environment_values_never_appear_in_the_plan() -> None:
    current = deployed("$LATEST", environment=(("TOKEN", "old-secret"),))
    step = plan_function(item(environment={"TOKEN": "new-secret"}), state(current, current), {})
    text = "\n".join(step.describe())
    assert "environment: TOKEN changed" in text
    assert "secret" not in text.replace("TOKEN", "")


def test_an_image_in_another_repository_at_the_same_digest_is_other_code() -> None:
    digest = IMAGE.image.rpartition("@")[2]  # type: ignore[union-attr]
    same = Deployed(
        "$LATEST", "Image", "x", f"registry.example/sp/api@{digest}", Configuration("x86_64")
    )
    moved = Deployed(
        "$LATEST", "Image", "x", f"registry.example/other/api@{digest}", Configuration("x86_64")
    )
    assert not plan_function(item(IMAGE), state(same, same), {}).code
    assert plan_function(item(IMAGE), state(moved, same), {}).code


def test_cors_in_another_order_or_header_case_is_no_url_update() -> None:
    url = FunctionUrl(
        auth="NONE",
        cors=Cors(allow_origins=("https://b", "https://a"), allow_headers=("X-Api-Key",)),
    )
    current = UrlState(
        "https://u",
        "NONE",
        {"AllowOrigins": ["https://a", "https://b"], "AllowHeaders": ["x-api-key"]},
    )
    step = plan_function(
        item(function_url=url),
        state(deployed("$LATEST"), deployed("1"), url=current, public=True),
        {},
    )
    assert step.url is None and step.public is None and step.unchanged


def test_switching_a_url_to_iam_auth_revokes_public_access() -> None:
    url = FunctionUrl(auth="AWS_IAM")
    current = UrlState("https://u", "NONE", {})
    step = plan_function(
        item(function_url=url),
        state(deployed("$LATEST"), deployed("1"), url=current, public=True),
        {},
    )
    assert step.url == "update" and step.url_changes == ("auth NONE -> AWS_IAM",)
    assert step.public is False
