"""CI configuration: the workflow is valid, and its backend matrix is generated from nox."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sentiment_pipeline.backend import installed_backends

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def test_the_workflow_is_valid_against_the_github_workflow_schema() -> None:
    # check-jsonschema ships SchemaStore's github-workflow schema: no network needed.
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert tool, "check-jsonschema is a test dependency (pip install -e '.[test]')"
    result = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_matrix_is_one_nox_session_per_registered_backend() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-t", "package", "--json", "-l"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    sessions = sorted(s["session"] for s in json.loads(listed.stdout))
    assert sessions == sorted(f"package-{name}" for name in installed_backends())
    text = WORKFLOW.read_text()
    assert "nox -t package --json -l" in text
    assert "fromJSON(needs.backends.outputs.sessions)" in text


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [
        line
        for block in re.findall(r"```bash\n(.*?)```", quickstart, re.S)
        for line in block.splitlines()
        if line.strip()
    ]
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
