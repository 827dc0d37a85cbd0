"""deploy() against moto: create, update, no-op; layers reused; the alias moves only after
a passing smoke; the Function URL and its CORS; a dry run writes nothing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.deployment import RefusedError
from tests.deployment.conftest import RAISES, Moto, Project

if TYPE_CHECKING:
    from pathlib import Path

URL = (
    'function-url = { auth = "NONE", cors = { allow-origins = ["https://example.org"], '
    'allow-methods = ["GET"] } }'
)


def test_create_then_update_then_a_no_op_that_publishes_and_updates_nothing(
    moto: Moto, project: Project
) -> None:
    project.build()
    first = project.deploy(moto)
    (api,) = first.functions
    assert api.changes[0] == "created" and api.version == "1" and api.smoke and api.smoke.passed
    assert moto.versions(project.function) == ["$LATEST", "1"]
    assert moto.alias_version(project.function) == "1"

    project.write_handler("2")
    (built,) = [a for a in project.build().artifacts if a.kind == "function"]
    second = project.deploy(moto)
    (api,) = second.functions
    assert api.changes[:2] == ("code uploaded", "published version 2")
    assert moto.versions(project.function) == ["$LATEST", "1", "2"]
    assert moto.alias_version(project.function) == "2"
    latest = moto.latest(project.function)
    assert latest["CodeSha256"] == built.source_code_hash == api.code_sha256

    third = project.deploy(moto)
    (api,) = third.functions
    assert api.changes == () and api.published is None and api.smoke is None
    assert moto.versions(project.function) == ["$LATEST", "1", "2"]
    again = moto.latest(project.function)
    assert (again["LastModified"], again["CodeSha256"]) == (
        latest["LastModified"],
        latest["CodeSha256"],
    )
    assert third.layers[0].published is False
    assert moto.layer_versions(project.layer) == [1]
    record = json.loads((project.root / "dist" / "deploy.json").read_text())
    assert record["functions"][0]["changes"] == [] and record["functions"][0]["version"] == "2"


def test_an_unchanged_layer_is_reused_and_a_changed_one_is_a_new_version(
    moto: Moto, project: Project
) -> None:
    project.build()
    project.deploy(moto)
    project.write_handler("2")  # the function changes, the layer does not
    project.build()
    second = project.deploy(moto)
    assert [layer.published for layer in second.layers] == [False]
    assert moto.layer_versions(project.layer) == [1]
    layers = [layer["Arn"] for layer in moto.latest(project.function)["Layers"]]
    assert layers == [second.layers[0].arn] and layers[0].endswith(f"{project.layer}:1")

    (project.root / "shared" / "greeting.py").write_text("WORDS = 'bonjour'\n")
    project.build()
    third = project.deploy(moto)
    assert [layer.published for layer in third.layers] == [True]
    assert moto.layer_versions(project.layer) == [1, 2]
    (api,) = third.functions
    assert api.changes[0].startswith("configuration: layers [") and api.version == "3"
    assert [layer["Arn"] for layer in moto.latest(project.function)["Layers"]] == [
        third.layers[0].arn
    ]
    assert third.layers[0].arn.endswith(f"{project.layer}:2")


def test_a_smoke_failing_in_aws_keeps_the_alias_then_a_passing_one_moves_it(
    moto: Moto, project: Project
) -> None:
    project.build()
    project.deploy(moto)
    project.write_handler("2")
    project.build()
    # moto's docker-less Lambda answers the next invocation with Lambda's error document.
    moto.queue_invoke_results(
        {"errorType": "ImportError", "errorMessage": "No module named 'six'", "stackTrace": []}
    )
    failed = project.deploy(moto)
    (api,) = failed.functions
    assert not failed.ok and api.smoke is not None and api.smoke.mode == "aws"
    assert (api.smoke.error_type, api.smoke.error_message) == (
        "ImportError",
        "No module named 'six'",
    )
    assert api.published == "2" and api.version == "1"
    assert moto.alias_version(project.function) == "1"
    assert moto.versions(project.function) == ["$LATEST", "1", "2"]

    # Nothing to upload now, but the alias does not run what was built: test it again.
    passed = project.deploy(moto)
    (api,) = passed.functions
    assert passed.ok and api.smoke is not None and api.smoke.passed
    assert "code uploaded" not in api.changes and api.published == "2"
    assert moto.alias_version(project.function) == "2"


def test_a_function_url_answering_5xx_fails_the_smoke(moto: Moto, tmp_path: Path) -> None:
    project = Project(tmp_path / "p", function_url="function-url = true")
    project.build()
    moto.queue_invoke_results({"statusCode": 503, "body": "table unreachable"})
    record = project.deploy(moto)
    (api,) = record.functions
    assert api.smoke is not None and (api.smoke.error_type, api.smoke.status_code) == (
        "HTTP 503",
        503,
    )
    assert api.version is None and api.url is None  # no alias: nothing takes traffic
    assert moto.client.list_aliases(FunctionName=project.function)["Aliases"] == []


def test_a_smoke_failing_locally_keeps_the_alias_and_reports_the_functions_error(
    moto: Moto, project: Project
) -> None:
    project.build()
    good = project.deploy(moto, smoke="local")
    assert good.functions[0].smoke is not None and good.functions[0].smoke.passed
    project.write_handler("2", RAISES)
    project.build()
    failed = project.deploy(moto, smoke="local")
    (api,) = failed.functions
    assert api.smoke is not None and api.smoke.mode == "local" and not api.smoke.passed
    assert (api.smoke.error_type, api.smoke.error_message) == ("ValueError", "version 2 is broken")
    assert any("ValueError" in line for line in api.smoke.log_tail)
    assert moto.alias_version(project.function) == "1" and api.published == "2"


def test_the_function_url_points_at_the_alias_with_its_cors(moto: Moto, tmp_path: Path) -> None:
    project = Project(tmp_path / "p", function_url=URL)
    project.build()
    record = project.deploy(moto)
    (api,) = record.functions
    config = moto.client.get_function_url_config(FunctionName=project.function, Qualifier="live")
    assert api.url == config["FunctionUrl"] and config["AuthType"] == "NONE"
    assert config["Cors"] == {"AllowOrigins": ["https://example.org"], "AllowMethods": ["GET"]}
    policy = json.loads(
        moto.client.get_policy(FunctionName=project.function, Qualifier="live")["Policy"]
    )
    actions = sorted(s["Action"] for s in policy["Statement"])
    assert actions == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]

    text = project.manifest.read_text().replace(
        '"https://example.org"', '"https://app.example.org"'
    )
    project.manifest.write_text(text)
    updated = project.deploy(moto)
    (api,) = updated.functions
    assert api.changes == ("url updated (cors)",) and api.published is None
    config = moto.client.get_function_url_config(FunctionName=project.function, Qualifier="live")
    assert config["Cors"]["AllowOrigins"] == ["https://app.example.org"]
    assert moto.versions(project.function) == ["$LATEST", "1"]


def test_configuration_changes_are_updated_without_uploading_code(
    moto: Moto, project: Project
) -> None:
    project.build()
    project.deploy(moto)
    text = (
        project.manifest.read_text()
        + '\n[lambdas.api.deploy]\ntimeout = 10\nenvironment = { TOKEN = "s3cret-value" }\n'
    )
    project.manifest.write_text(text)
    record = project.deploy(moto)
    (api,) = record.functions
    assert api.changes[0] == "configuration: timeout 3 -> 10; environment: TOKEN added"
    assert "code uploaded" not in api.changes and api.version == "2"
    latest = moto.latest(project.function)
    assert latest["Timeout"] == 10 and latest["Environment"]["Variables"] == {
        "TOKEN": "s3cret-value"
    }
    assert "s3cret-value" not in json.dumps(record.to_json())


def test_a_dry_run_prints_the_plan_with_hashes_and_changes_nothing(
    moto: Moto, project: Project
) -> None:
    project.build()
    before = moto.snapshot(project.prefix)
    plan = project.deploy(moto, dry_run=True)
    assert plan.dry_run and moto.snapshot(project.prefix) == before == {"layers": []}
    assert not (project.root / "dist" / "deploy.json").exists()
    assert plan.plan[0].startswith(f"layer {project.layer}: publish version 1 (CodeSha256 ")
    assert plan.plan[1].startswith(f"api -> {project.function}: create (code ")

    project.deploy(moto)
    record = (project.root / "dist" / "deploy.json").read_bytes()
    project.write_handler("2")
    project.build()
    deployed = moto.snapshot(project.prefix)
    plan = project.deploy(moto, dry_run=True)
    assert moto.snapshot(project.prefix) == deployed
    assert (project.root / "dist" / "deploy.json").read_bytes() == record
    upload = next(line for line in plan.plan if "upload code" in line)
    assert "(local " in upload and ", deployed " in upload
    assert any(line.startswith(f"layer {project.layer}: unchanged") for line in plan.plan)


def test_an_artifact_that_failed_verification_is_refused_and_nothing_is_uploaded(
    moto: Moto, project: Project
) -> None:
    text = project.manifest.read_text().replace("app.main.lambda_handler", "app.main.missing")
    project.manifest.write_text(text)
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions

    result = build(
        Manifest.load(project.manifest), BuildOptions(engine="none", out=project.root / "dist")
    )
    assert not result.ok
    with pytest.raises(RefusedError) as refused:
        project.deploy(moto)
    (problem,) = refused.value.problems
    assert problem.startswith("api: failed verification in the last build")
    assert "sentiment-pipeline build" in problem and "--lambda api" in problem
    assert moto.snapshot(project.prefix) == {"layers": []}


def test_a_function_that_does_not_exist_without_a_role_is_refused_naming_the_key(
    moto: Moto, tmp_path: Path
) -> None:
    project = Project(tmp_path / "p", role=False)
    project.build()
    with pytest.raises(
        RefusedError, match=r"does not exist in us-east-1.*\[lambdas\.api\.deploy\]"
    ):
        project.deploy(moto)
    assert moto.snapshot(project.prefix) == {"layers": []}


def test_a_version_over_its_timeout_fails_the_local_smoke(moto: Moto, tmp_path: Path) -> None:
    project = Project(tmp_path / "p", deploy_table="\n[lambdas.api.deploy]\ntimeout = 1\n")
    project.write_handler("1", "    import time; time.sleep(30)")
    project.build()
    record = project.deploy(moto, smoke="local")
    (api,) = record.functions
    assert api.smoke is not None and api.smoke.error_type == "Sandbox.Timedout"
    assert not record.ok and api.version is None


def test_the_alias_option_moves_another_alias(moto: Moto, project: Project) -> None:
    project.build()
    project.deploy(moto)
    project.write_handler("2")
    project.build()
    record = project.deploy(moto, alias="canary")
    assert record.functions[0].alias == "canary"
    assert moto.alias_version(project.function, "canary") == "2"
    assert moto.alias_version(project.function, "live") == "1"
