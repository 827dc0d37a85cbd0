"""The artifact bench_verify.py measures: numpy, pydantic and cryptography installed for
python3.13 on x86_64 from the registry's manylinux wheels, plus a ``handler.py``, zipped
once and cached by a content key under the cache root's ``bench/<key>/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, NoReturn

import attrs
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from sentiment_pipeline.packaging.cache import default_cache_root

RUNTIME = "python3.13"
ARCHITECTURE = "x86_64"
PYTHON_VERSION = "3.13"
ABI = "cp313"
PLATFORMS = (
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_34_x86_64",
)
# The three top-level pins, then their whole dependency closure as resolved on
# 2025-11-25, so that the artifact is the same on every machine.
REQUIREMENTS = (
    "numpy==2.5.5",
    "pydantic==2.12.4",
    "cryptography==50.0.2",
    "pydantic-core==2.41.5",
    "typing-extensions==4.16.0",
    "annotated-types==0.8.0",
    "typing-inspection==0.4.5",
    "cffi==2.1.1",
    "pycparser==3.12",
)
INTERPRETER = "/var/lang/bin/python3.13"
COMPRESSLEVEL = 6
HANDLER = """\
import cryptography
import numpy
import pydantic


def lambda_handler(event, context):
    return {}
"""
# Bump when the way the artifact is built changes (invalidates the cache).
RECIPE = 1
ZIP_NAME = "lambda-numpy-pydantic-cryptography.zip"


def fail(message: str) -> NoReturn:
    """Unusable set-up (download, unzip, spawning): exit 2."""
    print(f"bench_verify: {message}", file=sys.stderr)
    raise SystemExit(2)


def cache_root() -> Path:
    return default_cache_root() / "bench"


def content_key() -> str:
    recipe = {
        "recipe": RECIPE,
        "requirements": REQUIREMENTS,
        "python": PYTHON_VERSION,
        "abi": ABI,
        "platforms": PLATFORMS,
        "interpreter": INTERPRETER,
        "handler": HANDLER,
        "compresslevel": COMPRESSLEVEL,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def download_wheels(dest: Path) -> list[Path]:
    marker = dest / ".complete"
    if not marker.exists():
        dest.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--python-version", PYTHON_VERSION,
            "--implementation", "cp", "--abi", ABI,
        ]  # fmt: skip
        for plat in PLATFORMS:
            command += ["--platform", plat]
        command += [*REQUIREMENTS, "-d", str(dest)]
        print("downloading wheels:", " ".join(REQUIREMENTS[:3]), "(+ dependencies)")
        try:
            subprocess.run(command, check=True, timeout=900)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            fail(f"pip download failed ({exc})")
        marker.write_text("\n".join(REQUIREMENTS) + "\n")
    return sorted(dest.glob("*.whl"))


def install_wheels(wheels: list[Path], dest: Path) -> None:
    """Install like ``pip install --target dest``: files plus ``*.dist-info`` with RECORD."""
    schemes = {
        "purelib": dest,
        "platlib": dest,
        "scripts": dest / "bin",
        "headers": dest / "include",
        "data": dest / "data",
    }
    for wheel in wheels:
        destination = SchemeDictionaryDestination(
            {k: str(v) for k, v in schemes.items()},
            interpreter=INTERPRETER,
            script_kind="posix",
        )
        with WheelFile.open(wheel) as source:
            install(source, destination, {"INSTALLER": b"bench"})


def write_zip(source: Path, target: Path) -> None:
    """Zip ``source``'s contents, sorted and deflated, atomically (temp name, then replace).

    Timestamps are fixed so that the same recipe gives the same bytes.
    """
    files = sorted((p.relative_to(source).as_posix(), p) for p in source.rglob("*") if p.is_file())
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".zip", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
            for name, path in files:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                mode = stat.S_IMODE(path.stat().st_mode)
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.create_system = 3  # Unix, so the mode bits are honoured
                zf.writestr(
                    info, path.read_bytes(), zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL
                )
        tmp.chmod(0o644)  # mkstemp creates 0600
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def build_artifact() -> Path:
    """The cached artifact, built first if needed."""
    home = cache_root() / content_key()
    artifact = home / ZIP_NAME
    if artifact.exists():
        print(f"artifact (cached): {artifact}")
        return artifact
    wheels = download_wheels(home / "wheels")
    for requirement in REQUIREMENTS:
        stem = requirement.split("==")[0].replace("-", "_")
        if not any(w.name.lower().startswith(stem + "-") for w in wheels):
            fail(f"no wheel for {requirement} in {home / 'wheels'}")
    with tempfile.TemporaryDirectory(prefix="tree-", dir=home) as tmp:
        tree = Path(tmp)
        install_wheels(wheels, tree)
        (tree / "handler.py").write_text(HANDLER)
        write_zip(tree, artifact)
    print(f"artifact (built): {artifact}")
    return artifact


@attrs.frozen
class ArtifactInfo:
    path: Path
    zipped: int
    unzipped: int
    files: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "zipped_bytes": self.zipped,
            "unzipped_bytes": self.unzipped,
            "files": self.files,
            "sha256": self.sha256,
        }


def describe(path: Path) -> ArtifactInfo:
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    digest = hashlib.sha256()
    with path.open("rb") as fh:  # also warms the page cache for every contender
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return ArtifactInfo(
        path=path,
        zipped=path.stat().st_size,
        unzipped=sum(i.file_size for i in infos),
        files=len(infos),
        sha256=digest.hexdigest(),
    )
