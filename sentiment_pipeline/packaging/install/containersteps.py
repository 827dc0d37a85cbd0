"""Install wheels, or build one, with a build image's own interpreter, inside a container.

The steps themselves are a real program, :mod:`.incontainer`, run by the image's
``python3 -I -c``; this module is the host's side of them: it stages the input
files as one read-only mount, mounts the output directory writable, runs the
program through an :class:`~sentiment_pipeline.packaging.install.engines.Engine`
and turns its outcome into files or an :class:`EngineError` that says what to
do. Nothing inside the container touches the network.

>>> install_in_container(engine, "public.ecr.aws/lambda/python:3.13-x86_64", wheels,
...                      Path("out"), python="3.13", compile_prefix="/var/task")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.install.engines import EngineError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.install.engines import Engine

__all__ = ["PROGRAM", "WRONG_PYTHON", "build_wheel_in_container", "install_in_container"]

PROGRAM = Path(__file__).with_name("incontainer.py")
"""The program run inside the container (read, and passed to ``python3 -I -c``)."""
WRONG_PYTHON = 90
"""The program's exit status when the image's ``python3`` is not the target's."""

_WHEELS = "/sp-wheels"
_OUT = "/sp-out"


def install_in_container(
    engine: Engine,
    image: str,
    wheels: Sequence[Path],
    out: Path,
    *,
    python: str,
    compile_prefix: str,
    timeout: float = 900,
) -> None:
    """Install ``wheels`` into ``out`` inside ``image``, offline, and compile ``.pyc``.

    ``python3 -m pip install --no-index --no-deps --no-compile --target`` with
    the wheels mounted read-only, then ``compileall`` with
    ``--invalidation-mode unchecked-hash`` over all of ``out`` (sources already
    there included), with paths rewritten to ``compile_prefix`` ("/var/task"
    for a function, "/opt/python" for a layer) so tracebacks show Lambda's
    paths. The image's ``python3`` must be Python ``python`` ("3.13").
    Files end up owned by the invoking user and world-readable.

    Raises :class:`EngineError` with pip's message if the install fails.
    """
    out.mkdir(parents=True, exist_ok=True)
    names: dict[str, Path] = {}
    for wheel in wheels:
        seen = names.setdefault(wheel.name, wheel)
        if seen != wheel:
            raise EngineError(
                engine.name,
                f"two wheels named {wheel.name}: {seen} and {wheel}",
                fix="pass each distribution once",
            )
    arguments = [compile_prefix, _OUT, *(f"{_WHEELS}/{name}" for name in sorted(names))]
    proc = _run_staged(
        engine,
        image,
        names,
        ["install", python, *arguments],
        out,
        env={"PYTHONHASHSEED": "0", "HOME": "/tmp"},
        cwd="/",
        timeout=timeout,
        python=python,
        doing=f"installing {len(names)} wheels",
    )
    if proc.returncode != 0:
        raise EngineError(
            engine.name,
            f"pip install --target of {len(names)} wheels in {image} exited {proc.returncode}",
            output=proc.stderr or proc.stdout,
            fix="the install is offline (--no-index --no-deps): a wheel pip calls invalid "
            "is damaged (delete it from the cache and build again); a missing dependency "
            "means the lock is incomplete (lock again); the image needs python3 with pip",
        )
    collisions = [
        line.strip()
        for line in (proc.stdout + proc.stderr).splitlines()
        if "Target directory" in line and "already exists" in line
    ]
    if collisions:
        # pip keeps what was there and only warns: the artifact would miss files.
        raise EngineError(
            engine.name,
            "pip did not install over files already in the output",
            output="\n".join(collisions),
            fix="a source directory has the name of a package a wheel installs; "
            "rename it or remove the requirement",
        )


def build_wheel_in_container(
    engine: Engine,
    image: str,
    sdist: Path,
    build_wheels: Sequence[Path],
    out: Path,
    *,
    python: str,
    timeout: float = 900,
) -> Path:
    """Build ``sdist`` into a wheel inside ``image`` with its ``python3``, offline.

    ``pip wheel --no-deps --no-index`` with the source archive and the wheels of
    its build requirements (``build_wheels``) mounted read-only; pip makes its
    isolated build environment from those. The image needs the target's Python,
    a compiler and Python's headers (a SAM build image, or the Lambda image
    with ``gcc`` and ``python3-devel`` added). Returns the wheel, in ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    proc = _run_staged(
        engine,
        image,
        {path.name: path for path in (sdist, *build_wheels)},
        ["build-wheel", python, f"{_WHEELS}/{sdist.name}", _OUT],
        out,
        env={"HOME": "/tmp", "PIP_NO_INPUT": "1", "SOURCE_DATE_EPOCH": "315532800"},
        cwd="/tmp",
        timeout=timeout,
        python=python,
        doing=f"building {sdist.name}",
    )
    built = sorted(out.glob("*.whl"))
    if proc.returncode != 0 or len(built) != 1:
        raise EngineError(
            engine.name,
            f"pip wheel of {sdist.name} in {image} exited {proc.returncode}",
            output=proc.stderr or proc.stdout,
            fix="the build image needs a compiler and Python's headers (e.g. "
            "public.ecr.aws/sam/build-python<ver>, or gcc and python3-devel added to the "
            "Lambda image) and the archive's build requirements must have wheels",
        )
    return built[0]


def _run_staged(
    engine: Engine,
    image: str,
    files: dict[str, Path],
    arguments: list[str],
    out: Path,
    *,
    env: dict[str, str],
    cwd: str,
    timeout: float,
    python: str,
    doing: str,
) -> subprocess.CompletedProcess[str]:
    """Run the program with ``arguments`` in ``image``, ``files`` mounted read-only at the
    wheels path and ``out`` writable; a timeout or an image of another Python is an
    :class:`EngineError`."""
    argv = ["python3", "-I", "-c", PROGRAM.read_text("utf-8"), *arguments]
    with tempfile.TemporaryDirectory(prefix="sp-wheels-") as staging:
        # One read-only directory of hard links (copies across filesystems), so
        # the content-addressed cache is never mounted, let alone writable.
        for name, path in files.items():
            try:
                os.link(path, Path(staging, name))
            except OSError:
                shutil.copyfile(path, Path(staging, name))
        try:
            proc = engine.run(
                image,
                argv,
                mounts=[(Path(staging), _WHEELS, True), (out, _OUT, False)],
                env=env,
                cwd=cwd,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(
                engine.name,
                f"{doing} in {image} took over {timeout:.0f} s",
                output=str(exc.stderr or ""),
            ) from exc
    if proc.returncode == WRONG_PYTHON:
        raise EngineError(
            engine.name,
            f"{image} is not a Python {python} image",
            output=proc.stderr,
            fix=f"use a build image of the target's Python (public.ecr.aws/lambda/"
            f"python:{python}-<arch>) with build-image / --build-image",
        )
    return proc
