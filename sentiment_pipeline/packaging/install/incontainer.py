"""The steps run by a build image's ``python3``, inside the container: install, build a wheel.

This file is never imported by the host:
:mod:`sentiment_pipeline.packaging.install.containersteps` reads its text and
runs it with ``python3 -I -c`` in a container of the build image, with the
wheels mounted read-only and the output directory writable. It must therefore
run on every Python the catalog knows (3.9+): no newer syntax, standard library
(and the image's pip) only. Nothing here touches the network.

Usage (``python3 -I -c <this file> STEP PYTHON ...``):

``install PYTHON PREFIX OUT WHEEL...``
    ``pip install --target OUT`` of the wheels, offline, then bytecode for all of
    ``OUT`` (sources already there included) with paths as Lambda has them
    (``PREFIX``: ``/var/task`` or ``/opt/python``), listed in their distributions'
    RECORD, then every file made world-readable. One container does both steps:
    with vfs storage every container start copies the image, so two containers
    would cost twice.
``build-wheel PYTHON SDIST OUT``
    ``pip wheel`` of one source archive into ``OUT``, offline, with pip's isolated
    build environment made from the wheels beside the archive (its build
    requirements).

Either exits with :data:`WRONG_PYTHON` when the image's ``python3`` is not
Python ``PYTHON`` ("3.13"), else with pip's status.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

WRONG_PYTHON = 90
"""The exit status when this interpreter is not the target's (``containersteps`` reads it)."""


def install(prefix: str, out: str, wheels: list[str]) -> int:
    if wheels:
        # --isolated: no pip.conf or PIP_* variables of the image; --no-index: offline.
        # --target is exempt from PEP 668's "externally managed" refusal (checked on
        # Debian's pip 23.0.1 and 25.1.1), so no --break-system-packages is needed.
        status = subprocess.call(
            [
                *(sys.executable, "-m", "pip", "--isolated", "install"),
                *("--no-index", "--no-deps", "--no-compile", "--no-cache-dir"),
                *("--disable-pip-version-check", "--target", out),
                *wheels,
            ]
        )
        if status:
            return status
    # Reproducible bytecode: no mtimes in headers (unchecked-hash), paths as Lambda has
    # them in tracebacks, and PYTHONHASHSEED=0: before 3.11 marshal writes frozenset
    # constants in hash order. This process runs with -I, which ignores PYTHONHASHSEED,
    # so compileall runs in a child that honours it. Like pip, a file that does not
    # compile ships without .pyc (it fails only if imported): its status is not checked.
    subprocess.call(
        [
            *(sys.executable, "-s", "-S", "-m", "compileall", "-q", "-q", "-j", "0"),
            *("-s", out, "-p", prefix, "--invalidation-mode", "unchecked-hash", out),
        ],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
            "PYTHONHASHSEED": "0",
        },
        cwd="/",
    )
    list_bytecode(out)
    for top, dirs, files in os.walk(out):  # Lambda needs every file world-readable
        for name in dirs + files:
            path = Path(top, name)
            if not path.is_symlink():
                mode = path.stat().st_mode & 0o7777
                wanted = mode | (0o555 if name in dirs else 0o444)
                if mode != wanted:
                    path.chmod(wanted)
    return 0


def list_bytecode(out: str) -> None:
    """Add the ``.pyc`` just compiled to the RECORD of the distribution whose ``.py`` it
    is, with hash and size, as pip does when it compiles (here it installed with
    ``--no-compile``, so that one pass compiles sources and wheels alike)."""
    for dist_info in sorted(Path(out).glob("*.dist-info")):
        record = dist_info / "RECORD"
        if not record.is_file():
            continue
        with open(record, newline="", encoding="utf-8") as fh:
            rows = [row for row in csv.reader(fh) if row]
        listed = {row[0] for row in rows}
        added = []
        for row in rows:
            if not row[0].endswith(".py") or row[0].startswith(("/", "../")):
                continue
            cached = importlib.util.cache_from_source(row[0])
            path = Path(out, cached)
            if cached not in listed and path.is_file():
                data = path.read_bytes()
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                added.append([cached, "sha256=" + digest.decode("ascii"), str(len(data))])
        if added:
            with open(record, "a", newline="", encoding="utf-8") as fh:
                csv.writer(fh, lineterminator="\n").writerows(sorted(added))


def build_wheel(sdist: str, out: str) -> int:
    # The build requirements' wheels are mounted beside the archive: --find-links.
    return subprocess.call(
        [
            *(sys.executable, "-m", "pip", "--isolated", "wheel"),
            *("--no-deps", "--no-index", "--find-links", str(Path(sdist).parent)),
            *("--no-cache-dir", "--disable-pip-version-check", "--wheel-dir", out, sdist),
        ]
    )


def main(argv: list[str]) -> int:
    step, want = argv[0], argv[1]
    have = "{}.{}".format(*sys.version_info[:2])
    if have != want:
        sys.stderr.write(f"python3 in this image is Python {have}, not {want}\n")
        return WRONG_PYTHON
    os.umask(0o022)
    if step == "install":
        return install(argv[2], argv[3], argv[4:])
    if step == "build-wheel":
        return build_wheel(argv[2], argv[3])
    sys.stderr.write(f"unknown step {step!r}: install or build-wheel\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
