"""``sentiment-pipeline deploy`` run as users run it: a subprocess in the project's
folder, relative paths, the default dist/ and lambdas.toml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.deployment.conftest import RAISES, REGION, Moto, Project

SCRIPT = Path(sys.executable).parent / "sentiment-pipeline"


def run(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
        timeout=300,
    )


def test_build_then_deploy_then_a_no_op_deploy_from_the_project_folder(
    moto: Moto, project: Project
) -> None:
    assert run(project, "build", "--engine", "none").returncode == 0
    first = run(project, "deploy", "--region", REGION, "--endpoint-url", moto.url)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"layer {project.layer}: published, version 1 (CodeSha256 ")
    assert lines[1].startswith(
        f"api -> {project.function}: created; published version 1; smoke passed (aws, "
    )
    assert "alias live (new) -> 1" in lines[1]
    assert lines[-1] == "record: dist/deploy.json"
    assert first.stderr == ""

    again = run(project, "deploy", "--region", REGION, "--endpoint-url", moto.url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1].startswith(
        f"api -> {project.function}: unchanged (CodeSha256 "
    )
    assert again.stdout.splitlines()[1].endswith("alias live -> 1")
    assert moto.versions(project.function) == ["$LATEST", "1"]

    printed = run(project, "deploy", "--region", REGION, "--endpoint-url", moto.url, "--json")
    record = json.loads(printed.stdout)
    assert record == json.loads((project.root / "dist" / "deploy.json").read_text())
    assert record["functions"][0]["version"] == "1" and record["functions"][0]["changes"] == []


def test_a_failed_smoke_exits_1_with_the_functions_error_and_the_alias_kept(
    moto: Moto, project: Project
) -> None:
    run(project, "build", "--engine", "none")
    assert run(project, "deploy", "--region", REGION, "--endpoint-url", moto.url).returncode == 0
    project.write_handler("2", RAISES)
    run(project, "build", "--engine", "none")
    failed = run(
        project, "deploy", "--region", REGION, "--endpoint-url", moto.url, "--smoke", "local"
    )
    assert failed.returncode == 1
    lines = failed.stdout.splitlines()
    assert any(
        "published version 2; smoke FAILED (local): ValueError: version 2 is broken" in line
        for line in lines
    )
    assert (
        f"api -> {project.function}: alias live stays at version 1: no traffic reaches version 2"
        in lines
    )
    assert any(
        line.startswith(f"api -> {project.function}: log: [ERROR] ValueError") for line in lines
    )
    assert moto.alias_version(project.function) == "1"


def test_an_unbuilt_project_exits_2_with_the_build_command_and_uploads_nothing(
    moto: Moto, project: Project
) -> None:
    refused = run(project, "deploy", "--region", REGION, "--endpoint-url", moto.url)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        "sentiment-pipeline: error: api: no build report at "
        f"{project.root / 'dist' / 'layer' / 'report.json'}; build first: "
        "sentiment-pipeline build --lambda api\n"
    )
    assert moto.snapshot(project.prefix) == {"layers": []}


def test_a_tampered_artifact_is_refused_with_the_command_that_rebuilds_it(
    moto: Moto, project: Project
) -> None:
    run(project, "build", "--engine", "none")
    zipped = project.root / "dist" / "layer" / "api.zip"
    zipped.write_bytes(zipped.read_bytes() + b"\0")
    refused = run(project, "deploy", "--region", REGION, "--endpoint-url", moto.url)
    assert refused.returncode == 2
    assert "api: " in refused.stderr and "changed since it was verified" in refused.stderr
    assert refused.stderr.rstrip().endswith("rebuild it: sentiment-pipeline build --lambda api")
    assert moto.snapshot(project.prefix) == {"layers": []}


def test_an_unreachable_endpoint_is_one_line_naming_the_call_and_exits_1(
    project: Project,
) -> None:
    import socket

    run(project, "build", "--engine", "none")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    failed = run(
        project, "deploy", "--region", REGION, "--endpoint-url", f"http://127.0.0.1:{port}"
    )
    assert failed.returncode == 1 and failed.stdout == ""
    (line,) = failed.stderr.splitlines()
    assert line.startswith(f"sentiment-pipeline: {project.layer}: ListLayerVersions: cannot reach")
    assert "is the region 'us-east-1' right" in line and "Traceback" not in failed.stderr
