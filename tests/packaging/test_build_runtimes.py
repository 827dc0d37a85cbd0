"""Every Python runtime of the catalog, both architectures: a Lambda with a native
dependency (pydantic_core, real wheels) builds with ``--engine none``, verifies, and
imports wherever this machine has an interpreter of that version and architecture.

One manifest holds the twelve Lambdas, built once for the module (one lock, one wheel
cache: the shared pure wheel is downloaded once); each (runtime, architecture) is then
its own test. The import is skipped, naming the missing interpreter, never the build.
"""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest

from sentiment_pipeline.packaging.lock import LockFile
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.cli import run_cli

RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
ARCHITECTURES = ("x86_64", "arm64")
# pydantic-core 2.41.5 publishes wheels for CPython 3.9 to 3.14, x86_64 and aarch64.
PINS = ("six==1.17.0", "pydantic-core==2.41.5")

APP = """\
import pydantic_core
import six


def lambda_handler(event, context):
    return {"statusCode": 200, "body": pydantic_core.to_json({"six": six.__version__}).decode()}
"""

# Amazon Linux 2 (python3.9-3.11) has glibc 2.26, Amazon Linux 2023 glibc 2.34.
GLIBC = {"python3.9": (2, 26), "python3.10": (2, 26), "python3.11": (2, 26)}


def _name(runtime: str, architecture: str) -> str:
    return f"{runtime.replace('.', '')}-{architecture}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The twelve Lambdas built in one ``build --engine none --json`` run."""
    root = tmp_path_factory.mktemp("runtimes")
    project = root / "project"
    project.mkdir()
    (project / "app.py").write_text(APP)
    text = ""
    for runtime in RUNTIMES:
        for architecture in ARCHITECTURES:
            text += (
                f"[lambdas.{_name(runtime, architecture)}]\n"
                f'runtime = "{runtime}"\n'
                f'architecture = "{architecture}"\n'
                'handler = "app.lambda_handler"\n'
                'sources = ["app.py"]\n'
                f"requirements = {json.dumps(list(PINS))}\n"
            )
    (project / "lambdas.toml").write_text(text)
    result = run_cli(
        root,
        "build",
        "--manifest",
        "project/lambdas.toml",
        "--out",
        "dist",
        "--engine",
        "none",
        "--json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    artifacts = {a["name"]: a for a in json.loads(result.stdout)["artifacts"]}
    return {"root": root, "artifacts": artifacts, "lock": LockFile(project / "lambdas.lock")}


def _wheel_glibc(filename: str) -> tuple[int, int]:
    """The glibc a manylinux wheel's platform tag asks for (manylinux2014 is 2.17)."""
    tags = filename.removesuffix(".whl").split("-")[-1].split(".")
    best = (0, 0)
    for tag in tags:
        if tag.startswith("manylinux2014"):
            best = max(best, (2, 17))
        elif tag.startswith("manylinux_"):
            major, minor = tag.split("_")[1:3]
            best = max(best, (int(major), int(minor)))
    return best


@pytest.mark.network
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_builds_and_verifies(built: dict[str, Any], runtime: str, architecture: str) -> None:
    """Built and verified for the target, with the target's own pydantic_core wheel,
    never one above the runtime's glibc."""
    name = _name(runtime, architecture)
    artifact = built["artifacts"][name]
    assert artifact["ok"], artifact["problems"]
    assert (artifact["runtime"], artifact["architecture"]) == (runtime, architecture)
    target = get_target(runtime, architecture)
    abi = f"cpython-{target.python.replace('.', '')}-{target.machine}-linux-gnu"
    assert artifact["native"] == [f"pydantic_core/_pydantic_core.{abi}.so"]
    with zipfile.ZipFile(artifact["path"]) as archive:
        names = set(archive.namelist())
    assert {"app.py", "six.py", f"pydantic_core/_pydantic_core.{abi}.so"} <= names
    core = next(
        w for w in built["lock"].locks[f"lambdas.{name}"].wheels if w.name == "pydantic-core"
    )
    assert target.machine in core.filename
    assert _wheel_glibc(core.filename) <= GLIBC.get(runtime, (2, 34))


@pytest.mark.network
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_imports_where_an_interpreter_exists(
    built: dict[str, Any], runtime: str, architecture: str
) -> None:
    """The build's import check ran the handler in a local interpreter of the target's
    version and architecture; where there is none, it said so (and this test skips)."""
    artifact = built["artifacts"][_name(runtime, architecture)]
    target = get_target(runtime, architecture)
    interpreter = find_interpreter(target)
    if interpreter is None:
        assert artifact["dynamic"] == (
            f"dynamic check skipped: no python{target.python} interpreter for {architecture}"
        )
        pytest.skip(f"no {runtime} interpreter for {architecture} on this machine: import not run")
    assert artifact["dynamic"] == f"dynamic check: imported app.lambda_handler with {interpreter}"
