"""The import check runs with the function's deploy environment, as Lambda's init does:
a handler that reads a variable at import builds when the manifest sets it."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.cli import run_cli

if TYPE_CHECKING:
    from pathlib import Path

HANDLER = """\
import os

TABLE = os.environ["TABLE_NAME"]  # read at import, as Lambda code often does


def handler(event, context):
    return {"table": TABLE}
"""


def project(root: Path, environment: str) -> None:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "main.py").write_text(HANDLER)
    (root / "lambdas.toml").write_text(
        textwrap.dedent("""\
        [lambdas.api]
        runtime = "python3.13"
        handler = "app.main.handler"
        sources = ["app"]
        """)
        + (f"\n[lambdas.api.deploy]\nenvironment = {environment}\n" if environment else "")
    )


def build(root: Path) -> dict[str, Any]:
    done = run_cli(root, "build", "--engine", "none", "--json")
    (artifact,) = json.loads(done.stdout)["artifacts"]
    return dict(artifact)


@pytest.fixture(autouse=True)
def _python313() -> None:
    if find_interpreter(get_target("python3.13", "x86_64")) is None:
        pytest.skip("no python3.13 x86_64 interpreter here: the import check cannot run")


def test_the_import_check_sees_the_deploy_environment(tmp_path: Path) -> None:
    project(tmp_path, '{ TABLE_NAME = "items" }')
    artifact = build(tmp_path)
    assert artifact["ok"], artifact["problems"]
    assert "imported app.main.handler" in str(artifact["dynamic"])


def test_without_it_the_import_fails_as_it_would_on_lambda(tmp_path: Path) -> None:
    project(tmp_path, "")
    artifact = build(tmp_path)
    assert not artifact["ok"]
    (problem,) = artifact["problems"]
    assert problem["code"] == "import-failed"
    assert "KeyError: 'TABLE_NAME'" in problem["message"]


def test_another_value_is_verified_again(tmp_path: Path) -> None:
    project(tmp_path, '{ TABLE_NAME = "items" }')
    assert build(tmp_path)["ok"]
    assert build(tmp_path)["cache_hit"]
    project(tmp_path, '{ TABLE_NAME = "orders" }')
    again = build(tmp_path)
    assert again["ok"] and not again["cache_hit"]
