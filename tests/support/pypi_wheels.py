"""Exact wheel files from PyPI, downloaded once per machine and checked on every use.

A :class:`PinnedWheel` names one file of one release and the sha256 PyPI publishes
for it. :func:`fetch` keeps it in ``$XDG_CACHE_HOME/sentiment-pipeline-tests/wheels``
(``~/.cache/...`` without the variable), keyed by the file name: a cached file whose
hash differs is downloaded again; a download whose hash differs is an error. The
download is pip's (``pip download --require-hashes``), so the index's own hash of
the link is checked too.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

__all__ = ["PinnedWheel", "WheelDownloadError", "cache_dir", "fetch"]


class WheelDownloadError(RuntimeError):
    """A pinned wheel that could not be downloaded, or whose bytes are not the pinned ones."""


@dataclass(frozen=True)
class PinnedWheel:
    """One wheel file of PyPI: its exact name and the sha256 PyPI publishes for it."""

    filename: str
    sha256: str

    @property
    def project(self) -> str:
        return str(parse_wheel_filename(self.filename)[0])

    @property
    def version(self) -> str:
        return str(parse_wheel_filename(self.filename)[1])

    def pip_tag_options(self) -> list[str]:
        """pip's ``--platform``/``--python-version``/``--abi`` options that select this file."""
        tags = parse_wheel_filename(self.filename)[3]
        platforms = sorted({t.platform for t in tags} - {"any"})
        options: list[str] = []
        if platforms:
            options += [f"--platform={p}" for p in platforms]
        interpreters = sorted({t.interpreter for t in tags if t.interpreter.startswith("cp")})
        if interpreters:
            digits = interpreters[0].removeprefix("cp")
            options += [f"--python-version={digits[0]}.{digits[1:]}", "--implementation=cp"]
            options += [f"--abi={t.abi}" for t in sorted(tags, key=str) if t.abi != "none"][:1]
        return options


def cache_dir() -> Path:
    """Where downloaded wheels are kept, one file per name."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".cache"
    return root / "sentiment-pipeline-tests" / "wheels"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(wheel: PinnedWheel, *, timeout: float = 900) -> Path:
    """The cached file of ``wheel``, downloaded first if absent or altered."""
    folder = cache_dir()
    path = folder / wheel.filename
    if path.is_file() and _sha256(path) == wheel.sha256:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(f"{wheel.project}=={wheel.version} --hash=sha256:{wheel.sha256}\n")
        dest = Path(tmp) / "out"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            *wheel.pip_tag_options(),
            "--dest",
            str(dest),
            "-r",
            str(requirements),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise WheelDownloadError(
                f"{wheel.filename}: PyPI did not answer within {timeout:.0f} s"
            ) from exc
        got = dest / wheel.filename
        if done.returncode != 0 or not got.is_file():
            raise WheelDownloadError(
                f"{wheel.filename}: pip download failed (exit {done.returncode}); is PyPI "
                f"reachable? {done.stderr.strip()[-800:]}"
            )
        if _sha256(got) != wheel.sha256:
            raise WheelDownloadError(
                f"{wheel.filename}: downloaded bytes have sha256 {_sha256(got)}, PyPI publishes "
                f"{wheel.sha256}"
            )
        os.replace(got, path)
    return path
