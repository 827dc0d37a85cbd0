"""The import check is ground truth for import time: a static ``unresolved-import`` is a
warning when the handler imported in an interpreter of the target, a failure otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.verify.dynamic import conclude
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from sentiment_pipeline.packaging.verify.sdk import SdkResult
from tests.support.synth import write_files, zip_tree

if TYPE_CHECKING:
    from sentiment_pipeline import Target

# Chalice-style: the handler puts its vendor/ folder on sys.path, then imports from it.
# The static walk cannot follow the sys.path change; importing it works.
HANDLER = """\
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "vendor"))
import simplelib


def lambda_handler(event, context):
    return simplelib.VALUE
"""
UNRESOLVED = ("unresolved-import", "handler.py:4")


def sentiment_pipeline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The console script, as a user runs it from the artifact's folder."""
    script = Path(sys.executable).parent / "sentiment-pipeline"
    return subprocess.run(
        [str(script), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    """``fn.zip`` in ``tmp_path``: a function whose handler extends sys.path."""
    fn = write_files(
        tmp_path / "fn", {"handler.py": HANDLER, "vendor/simplelib.py": "VALUE = 42\n"}
    )
    return zip_tree(fn, tmp_path / "fn.zip")


@pytest.fixture
def python311(py311: Target) -> str:
    found = find_interpreter(py311)
    if found is None:
        pytest.skip("no python3.11 interpreter for x86_64 here")
    return found


def codes_and_paths(items: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(item["code"], item["path"]) for item in items}


@pytest.mark.usefixtures("python311")
def test_an_import_the_handler_survives_is_a_warning_and_exit_0(artifact: Path) -> None:
    result = sentiment_pipeline(
        "verify", artifact.name, "--runtime", "python3.11", cwd=artifact.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "WARNINGS: 1 (not failures)" in lines
    (warning,) = [line for line in lines if line.startswith("  [unresolved-import] ")]
    assert "handler.py line 4 imports 'simplelib'" in warning
    assert (
        "Not a failure: " in warning and "imported handler.lambda_handler all the same" in warning
    )
    assert lines[-1].startswith("OK: no problems found") and lines[-1].endswith("deployable.")


@pytest.mark.usefixtures("python311")
def test_the_json_report_lists_it_under_warnings(artifact: Path) -> None:
    result = sentiment_pipeline(
        "verify", artifact.name, "--runtime", "python3.11", "--json", cwd=artifact.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["ok"] is True and document["problems"] == []
    assert codes_and_paths(document["warnings"]) == {UNRESOLVED}
    assert document["checked"]["dynamic"]["ran"] is True


def test_without_the_import_check_it_stays_a_failure(artifact: Path) -> None:
    result = sentiment_pipeline(
        "verify", artifact.name, "--runtime", "python3.11", "--no-import", "--json",
        cwd=artifact.parent,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert codes_and_paths(document["problems"]) == {UNRESOLVED}
    assert document["warnings"] == []


def test_without_an_interpreter_of_the_target_it_stays_a_failure(artifact: Path) -> None:
    """The interpreter given is of another Python: the import check is skipped."""
    other = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.13"
    result = sentiment_pipeline(
        "verify", artifact.name, "--runtime", other, "--interpreter", sys.executable,
        cwd=artifact.parent,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "dynamic check skipped: " in result.stdout
    assert "[unresolved-import] x1" in result.stdout and "WARNINGS" not in result.stdout


@pytest.mark.usefixtures("python311")
def test_a_failed_import_keeps_the_unresolved_import_a_failure(tmp_path: Path) -> None:
    write_files(
        tmp_path / "fn", {"handler.py": "import simplelib\ndef lambda_handler(e, c):\n    pass\n"}
    )
    result = sentiment_pipeline("verify", "fn", "--runtime", "python3.11", "--json", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert codes_and_paths(document["problems"]) == {
        ("import-failed", "handler.lambda_handler"),
        ("unresolved-import", "handler.py:1"),
    }
    assert document["warnings"] == []


def test_an_import_stopped_at_a_missing_sdk_module_proves_nothing() -> None:
    """Offline without the SDK cached, the import stops at ``import boto3``: the modules
    after it were never imported, so nothing may be demoted."""
    target = get_target("python3.11")
    result = {"ok": False, "missing": "boto3", "kind": "ModuleNotFoundError", "traceback": "..."}
    dynamic = conclude(
        target,
        "handler.lambda_handler",
        "python3.11",
        result,
        SdkResult(None, "offline"),
        lambda _path: result,
        offline=True,
        root=Path("sandbox"),
        host=True,
    )
    assert dynamic.ran and dynamic.problem is None
    assert not dynamic.imported
