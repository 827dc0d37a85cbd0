"""The steps run in a container of the build image, run for real with buildah.

The build image is the Lambda-like Debian image of ``tests/support/build_image.py``
(python3.13, pip, an externally-managed interpreter, a Lambda-style entrypoint).
Building a wheel in the image is covered with a native source archive in
``test_sdist.py``; the program itself, on every interpreter here, in
``test_incontainer.py``.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.install.containersteps import install_in_container
from sentiment_pipeline.packaging.install.engines import Buildah, EngineError
from tests.support import wheelhouse

if TYPE_CHECKING:
    from pathlib import Path

PLATFORM = "manylinux_2_17_x86_64"
WHEELS = ("six==1.17.0", "markupsafe==3.0.2")  # pure Python + a C extension
MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of 3.13


@pytest.fixture(scope="module")
def buildah() -> Buildah:
    return Buildah()


@pytest.fixture(scope="module")
def wheels() -> list[Path]:
    found = wheelhouse.fetch(WHEELS, python="3.13", platform=PLATFORM)
    assert len(found) == 2, found
    return found


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_install_compiles_reproducible_bytecode_for_the_target(
    buildah: Buildah, lambda_image: str, wheels: list[Path], tmp_path: Path
) -> None:
    # The image's interpreter is "externally managed" (PEP 668), as Debian's are:
    # a plain pip install is refused there, an install --target is not.
    refused = buildah.run(
        lambda_image, ["python3", "-m", "pip", "install", "--no-index", "six"], timeout=120
    )
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stdout + refused.stderr

    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        out.mkdir()
        (out / "handler.py").write_text("import six\n\ndef lambda_handler(e, c):\n    return 1\n")
        install_in_container(
            buildah, lambda_image, wheels, out, python="3.13", compile_prefix="/var/task"
        )

    out = outs[0]
    for name in (
        "six.py",
        "six-1.17.0.dist-info/RECORD",
        "markupsafe/__init__.py",
        "markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so",
        "MarkupSafe-3.0.2.dist-info/METADATA",
        "__pycache__/six.cpython-313.pyc",
        "__pycache__/handler.cpython-313.pyc",  # sources already in the output too
        "markupsafe/__pycache__/__init__.cpython-313.pyc",
    ):
        assert (out / name).is_file(), name
    pycs = sorted(out.rglob("*.pyc"))
    assert all(p.name.endswith(".cpython-313.pyc") for p in pycs), pycs
    for pyc in pycs:
        header = pyc.read_bytes()[:8]
        assert header[:4] == MAGIC_313, pyc
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc  # hash-based, unchecked
    for path in out.rglob("*"):
        mode = path.stat().st_mode
        assert path.stat().st_uid == os.getuid(), path
        assert mode & stat.S_IROTH, path  # world-readable, as Lambda needs
    assert tree(outs[0]) == tree(outs[1])  # byte-identical, bytecode included

    # Tracebacks name Lambda's paths, not the container's mount point.
    shown = buildah.run(
        lambda_image,
        [
            "python3",
            "-c",
            "import marshal; f = open('/o/__pycache__/six.cpython-313.pyc', 'rb'); "
            "f.seek(16); print(marshal.loads(f.read()).co_filename)",
        ],
        mounts=[(out, "/o", True)],
    )
    assert shown.stdout.strip() == "/var/task/six.py", shown.stderr


def test_install_for_a_layer_compiles_with_opt_python_paths(
    buildah: Buildah, lambda_image: str, wheels: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "python"
    install_in_container(
        buildah, lambda_image, wheels[:1], out, python="3.13", compile_prefix="/opt/python"
    )
    pyc = next(out.rglob("*.pyc")).read_bytes()
    assert b"/opt/python/" in pyc and b"/sp-out" not in pyc


def test_a_corrupt_wheel_fails_with_pips_message(
    buildah: Buildah, lambda_image: str, tmp_path: Path
) -> None:
    broken = tmp_path / "wheels" / "broken-1.0-py3-none-any.whl"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not a zip file")
    with pytest.raises(EngineError) as info:
        install_in_container(
            buildah,
            lambda_image,
            [broken],
            tmp_path / "out",
            python="3.13",
            compile_prefix="/var/task",
        )
    message = str(info.value)
    assert message.startswith(f"buildah: pip install --target of 1 wheels in {lambda_image}")
    assert "ERROR:" in message and "broken-1.0-py3-none-any.whl" in message
    assert "is invalid; the install is offline" in message
    assert "\n" not in message


def test_an_image_of_another_python_is_refused(
    buildah: Buildah, lambda_image: str, wheels: list[Path], tmp_path: Path
) -> None:
    with pytest.raises(EngineError) as info:
        install_in_container(
            buildah,
            lambda_image,
            wheels,
            tmp_path / "out",
            python="3.12",
            compile_prefix="/var/task",
        )
    message = str(info.value)
    assert f"{lambda_image} is not a Python 3.12 image" in message
    assert "Python 3.13, not 3.12" in message
    assert "public.ecr.aws/lambda/python:3.12-<arch>" in message
    assert not (tmp_path / "out" / "six.py").exists()


def test_two_wheels_of_one_name_are_refused_before_any_container_starts(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "six-1.0-py3-none-any.whl", tmp_path / "b"
    with pytest.raises(EngineError, match=r"two wheels named six-1.0-py3-none-any.whl"):
        install_in_container(
            Buildah(),
            "localhost/never-started",
            [first, second / first.name],
            tmp_path / "out",
            python="3.13",
            compile_prefix="/var/task",
        )
