"""Container engines, run for real with buildah (vfs storage, chroot isolation).

The build image is the Lambda-like Debian image of ``tests/support/build_image.py``
(python3.13, pip, an externally-managed interpreter, a Lambda-style entrypoint).
Without root, buildah or debootstrap the fixture fails with what to install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.install.engines import (
    ENGINES,
    Buildah,
    Docker,
    EngineError,
    Podman,
    detect,
)
from sentiment_pipeline.packaging.sandbox import Placed
from sentiment_pipeline.packaging.verify.dynamic import run_dynamic
from sentiment_pipeline.packaging.verify.sources import open_tree
from tests.support.build_image import BuildImageError, lambda_like_image

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline import Target


@pytest.fixture(scope="module")
def buildah() -> Buildah:
    return Buildah()


# --- detect() ---


def test_none_means_no_engine() -> None:
    assert detect("none") is None


def test_an_unknown_engine_lists_the_choices() -> None:
    with pytest.raises(EngineError) as info:
        detect("dockr")
    assert "unknown engine 'dockr'" in str(info.value)
    assert "auto, docker, podman, buildah, none" in str(info.value)


def test_auto_takes_the_first_available_engine(lambda_image: str) -> None:
    engine = detect("auto")
    assert engine is not None
    order = [cls.name for cls in ENGINES]
    assert order == ["docker", "podman", "buildah"]
    earlier = ENGINES[: order.index(engine.name)]
    assert not any(cls.available() for cls in earlier)
    assert type(engine).available()


def test_buildah_is_found_here(lambda_image: str) -> None:
    assert isinstance(detect("buildah"), Buildah)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("docker", "install Docker Engine"),
        ("podman", "apt-get install podman"),
        ("buildah", "apt-get install buildah"),
    ],
)
def test_a_named_engine_that_is_missing_says_how_to_install_it(
    name: str, hint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no engine binary on PATH
    with pytest.raises(EngineError) as info:
        detect(name)
    message = str(info.value)
    assert message.startswith(f"{name}: not available ({name} is not on PATH)")
    assert hint in message
    assert "--engine none" in message and "--build-image" in message


def test_auto_without_any_engine_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect("auto") is None


@pytest.mark.parametrize("engine", [Docker(), Podman()], ids=["docker", "podman"])
def test_daemon_engines_run_offline_past_the_entrypoint(
    engine: Docker | Podman, tmp_path: Path
) -> None:
    """docker/podman are not on this machine: check the command line they would run."""
    argv = engine.run_command(
        "public.ecr.aws/lambda/python:3.13",
        ["python3", "-c", "print(1)"],
        name="sp-test",
        mounts=[(tmp_path, "/in", True), (tmp_path, "/out", False)],
        env={"A": "b"},
        cwd="/",
    )
    assert argv[:4] == [engine.binary, "run", "--rm", "--name"]
    assert argv[argv.index("--network") + 1] == "none"
    assert argv[argv.index("--entrypoint") + 1] == "python3"
    assert argv[-3:] == ["public.ecr.aws/lambda/python:3.13", "-c", "print(1)"]
    assert f"{tmp_path.resolve()}:/in:ro" in argv
    assert f"{tmp_path.resolve()}:/out" in argv
    assert "A=b" in argv
    if isinstance(engine, Docker) and os.getuid() != 0:
        assert argv[argv.index("--user") + 1] == f"{os.getuid()}:{os.getgid()}"


def test_paths_that_cannot_be_mounted_are_refused(buildah: Buildah, tmp_path: Path) -> None:
    odd = tmp_path / "a:b"
    odd.mkdir()
    with pytest.raises(EngineError, match="must not contain ':' or ','"):
        buildah.run("localhost/any", ["true"], mounts=[(odd, "/x", True)])


def test_the_image_fixture_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither buildah nor debootstrap
    with pytest.raises(BuildImageError) as info:
        lambda_like_image("3.13")
    assert "buildah and debootstrap not on PATH" in str(info.value)
    assert "apt-get install buildah debootstrap" in str(info.value)


# --- run() ---


def test_run_executes_python_in_the_image(
    buildah: Buildah, lambda_image: str, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "message.txt").write_text("hello")
    (tmp_path / "out").mkdir()
    script = (
        "import os, sys; print('%d.%d' % sys.version_info[:2]); print(os.getcwd());"
        "print(os.environ['GREETING'], open('/in/message.txt').read());"
        "open('/out/written.txt', 'w').write('from the container')\n"
        "try:\n    open('/in/nope.txt', 'w')\nexcept OSError as exc:\n    print(exc.strerror)\n"
        "sys.exit(7)"
    )
    proc = buildah.run(
        lambda_image,
        ["python3", "-c", script],
        mounts=[(tmp_path / "in", "/in", True), (tmp_path / "out", "/out", False)],
        env={"GREETING": "hi"},
        cwd="/tmp",
    )
    assert proc.returncode == 7, proc.stderr  # the command's status is returned, not raised
    assert proc.stdout.splitlines() == ["3.13", "/tmp", "hi hello", "Read-only file system"]
    written = tmp_path / "out" / "written.txt"
    assert written.read_text() == "from the container"
    assert written.stat().st_uid == os.getuid()


def test_run_kills_a_command_that_times_out(lambda_image: str) -> None:
    engine = Buildah()
    engine.container_prefix = f"sp-test-{uuid.uuid4().hex[:8]}-"  # other sessions run buildah
    with pytest.raises(subprocess.TimeoutExpired):
        engine.run(lambda_image, ["sleep", "317"], timeout=2)
    containers = subprocess.run(
        engine.command("containers", "--all", "--format", "{{.ContainerName}}"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [c for c in containers if c.startswith(engine.container_prefix)]
    left = subprocess.run(["pgrep", "-f", "^sleep 317$"], capture_output=True, check=False)
    assert left.returncode == 1, left.stdout  # no such process


def test_an_image_that_does_not_exist_is_an_engine_error(buildah: Buildah) -> None:
    with pytest.raises(EngineError) as info:
        buildah.run("localhost/sentiment-pipeline/no-such-image:0", ["true"])
    message = str(info.value)
    assert "cannot create a container of localhost/sentiment-pipeline/no-such-image:0" in message
    assert "image not known" in message
    assert "build it first" in message


def test_an_image_the_registry_cannot_give_names_the_ways_around_an_engine(
    buildah: Buildah,
) -> None:
    # Nothing listens on 127.0.0.1:9: the pull fails as public.ecr.aws does without network.
    with pytest.raises(EngineError) as info:
        buildah.run("127.0.0.1:9/lambda/python:3.13-x86_64", ["true"])
    message = str(info.value)
    assert "cannot create a container of 127.0.0.1:9/lambda/python:3.13-x86_64" in message
    assert "--engine none" in message and "--build-image" in message


def test_a_build_whose_engine_cannot_pull_says_engine_none_would_work(
    project_lock: str, tmp_path: Path
) -> None:
    from tests.support.projects import make_project

    make_project(tmp_path / "p", lock=project_lock)
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "sentiment_pipeline", "build", "--manifest", "p/lambdas.toml"),
            *("--out", "d", "--engine", "buildah"),
            *("--build-image", "127.0.0.1:9/lambda/python:3.13-x86_64"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "--engine none" in proc.stderr and "--build-image" in proc.stderr


def test_has_image(buildah: Buildah, lambda_image: str) -> None:
    assert buildah.has_image(lambda_image)
    assert not buildah.has_image("localhost/sentiment-pipeline/no-such-image:0")


# --- the dynamic import check through the engine ---


def function_dir(root: Path, handler: str) -> Placed:
    root.mkdir()
    (root / "handler.py").write_text(handler)
    return Placed(open_tree(root), "function", 0)


def test_the_dynamic_check_imports_a_313_handler_in_the_image(
    buildah: Buildah, lambda_image: str, py313: Target, tmp_path: Path
) -> None:
    """The host interpreter (3.11) is refused for python3.13: the image's python3 imports."""
    placed = function_dir(
        tmp_path / "fn",
        "import sys\nfrom warnings import deprecated  # new in 3.13\n"
        "assert sys.version_info[:2] == (3, 13), sys.version\n"
        "def lambda_handler(event, context):\n    return 1\n",
    )
    result = run_dynamic(
        py313,
        [placed],
        "handler.lambda_handler",
        interpreter=sys.executable,
        engine=buildah,
        image=lambda_image,
    )
    assert result.problem is None, result.problem
    assert result.ran
    assert result.summary == (
        f"dynamic check: imported handler.lambda_handler with python3 in {lambda_image} (buildah)"
    )


def test_the_dynamic_check_in_the_image_reports_an_import_failure(
    buildah: Buildah, lambda_image: str, py313: Target, tmp_path: Path
) -> None:
    placed = function_dir(
        tmp_path / "fn", "import orjson\ndef lambda_handler(event, context):\n    return 1\n"
    )
    result = run_dynamic(
        py313,
        [placed],
        "handler.lambda_handler",
        interpreter=sys.executable,
        offline=True,
        engine=buildah,
        image=lambda_image,
    )
    assert result.ran
    assert result.problem is not None
    assert f"with python3 in {lambda_image} (buildah) failed" in result.problem
    assert "ModuleNotFoundError: No module named 'orjson'" in result.problem


def test_the_dynamic_check_refuses_an_image_of_another_python(
    buildah: Buildah, lambda_image: str, py311: Target, tmp_path: Path
) -> None:
    placed = function_dir(tmp_path / "fn", "def lambda_handler(event, context):\n    return 1\n")
    result = run_dynamic(
        py311,
        [placed],
        "handler.lambda_handler",
        interpreter=str(tmp_path / "no-python"),
        engine=buildah,
        image=lambda_image,
    )
    assert not result.ran
    assert result.summary == (
        f"dynamic check skipped: {lambda_image}: its python3 is Python 3.13, not 3.11"
    )
