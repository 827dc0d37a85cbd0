"""Every path a command takes is made absolute where it enters, against the right base.

CLI options against the working directory; manifest keys against the manifest's
folder. Each command runs here from a directory that is not the project's, with
relative paths, in its own process (as a user's shell runs it).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sentiment_pipeline.cli.arguments import artifact as _artifact
from sentiment_pipeline.cli.arguments import interpreter as _interpreter
from sentiment_pipeline.cli.arguments import path as _path
from sentiment_pipeline.local.stack import StackOptions
from sentiment_pipeline.packaging.manifest import Manifest
from tests.packaging.verify.sources.test_images import umoci
from tests.support.synth import add_dist

HANDLER = "import six\n\ndef lambda_handler(event, context):\n    return six.X\n"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``project/fn.zip`` (a handler importing six) and ``project/layer.zip`` (six)."""
    root = tmp_path / "project"
    (root / "fn").mkdir(parents=True)
    (root / "fn" / "handler.py").write_text(HANDLER)
    layer = root / "layer" / "python"
    layer.mkdir(parents=True)
    add_dist(layer, "six", "1.17.0", {"six.py": "X = 1\n"})
    for name in ("fn", "layer"):
        with zipfile.ZipFile(root / f"{name}.zip", "w") as archive:
            for file in sorted((root / name).rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(root / name).as_posix())
    (tmp_path / "elsewhere").mkdir()
    return root


def test_verify_with_relative_artifact_layer_and_interpreter_from_another_directory(
    project: Path, tmp_path: Path
) -> None:
    # An interpreter given by a relative path to a link (a venv's python is one):
    # the import check runs it from the sandbox, another directory.
    links = tmp_path / "elsewhere" / "bin"
    links.mkdir()
    (links / "python").symlink_to(sys.executable)
    minor = f"python3.{sys.version_info.minor}"
    result = run(
        tmp_path / "elsewhere",
        "verify",
        "../project/fn.zip",
        "--layer",
        "../project/layer.zip",
        "--runtime",
        minor,
        "--interpreter",
        "bin/python",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "handler imported" in result.stdout, result.stdout  # the import ran, and passed
    assert str(links / "python") in result.stdout  # by the interpreter given, made absolute


def test_an_interpreter_name_is_looked_up_on_path_or_named_clearly(tmp_path: Path) -> None:
    found = Path(_interpreter("python3"))
    assert found.is_absolute() and found.name == "python3"  # a link is kept, not resolved
    result = run(tmp_path, "verify", "x.zip", "--interpreter", "no-such-python3.99")
    assert result.returncode == 2
    assert "no interpreter named 'no-such-python3.99' on PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_oci_layout_given_relative_is_read_from_another_directory(
    project: Path, tmp_path: Path
) -> None:
    layout = project / "image"
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:fn")
    umoci("insert", "--rootless", "--image", f"{layout}:fn", project / "fn", "/var/task")
    umoci(
        "insert", "--rootless", "--image", f"{layout}:fn", project / "layer/python", "/opt/python"
    )
    result = run(tmp_path / "elsewhere", "verify", "oci:../project/image:fn", "--no-import")
    assert "handler.lambda_handler" in result.stdout, result.stdout + result.stderr
    assert "no such file" not in result.stdout + result.stderr


def test_cli_path_values_are_absolute_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "layout").mkdir()
    assert _path("dist") == tmp_path / "dist"
    assert _path("~/x") == Path.home() / "x"
    assert _artifact("fn.zip") == str(tmp_path / "fn.zip")
    assert _artifact("oci:layout:v1") == f"oci:{tmp_path / 'layout'}:v1"
    assert _artifact("oci:layout") == f"oci:{tmp_path / 'layout'}"
    assert _artifact("docker://127.0.0.1:5000/fn:latest") == "docker://127.0.0.1:5000/fn:latest"


def test_manifest_keys_are_relative_to_the_manifest_folder_whatever_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "proj" / "app").mkdir(parents=True)
    (tmp_path / "proj" / "lambdas.toml").write_text(
        '[lambdas.api]\nhandler = "app.main.handler"\nsources = ["app"]\n'
    )
    monkeypatch.chdir(tmp_path)
    manifest = Manifest.load("proj/lambdas.toml")
    monkeypatch.chdir(tmp_path / "proj" / "app")  # what runs later may run elsewhere
    assert manifest.path == tmp_path / "proj" / "lambdas.toml"
    assert (manifest.root / manifest.lambdas["api"].sources[0]).is_dir()


def test_the_stack_state_directory_is_absolute_when_given_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert StackOptions(state_dir=Path(".sentiment-pipeline")).state_dir == (
        tmp_path / ".sentiment-pipeline"
    )
