"""The runtime's pre-installed SDK (boto3 and friends), provisioned for dynamic checks.

Lambda's Python runtimes ship boto3/botocore; a handler that imports them but does
not bundle them imports fine in Lambda. To import such a handler faithfully we put
the same versions (from the target catalog) after the standard library, where the
runtime has them. They are pure-Python wheels, fetched once with pip into the
user's cache and reused offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ..targets import Target

__all__ = ["SdkResult", "cache_dir", "runtime_sdk"]


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sentiment-pipeline`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sentiment-pipeline"


@attrs.frozen
class SdkResult:
    path: Path | None
    reason: str


def runtime_sdk(target: Target, *, offline: bool = False) -> SdkResult:
    """A directory holding the target runtime's SDK, or None and why not."""
    pins = dict(target.sdk_reference)
    if not pins:
        return SdkResult(None, f"the catalog lists no SDK versions for {target.runtime}")
    label = "-".join(f"{n}{v}" for n, v in sorted(pins.items()))
    final = cache_dir() / "runtime-sdk" / f"{target.runtime}-{target.architecture}-{label}"
    if (final / ".complete").exists():
        return SdkResult(final, f"cached: {', '.join(f'{n}=={v}' for n, v in pins.items())}")
    if offline:
        return SdkResult(None, "not cached and --offline was given")
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent) as tmp:
        download = Path(tmp) / "wheels"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            target.python,
            "--abi",
            target.cp,
            "--platform",
            target.platform_tags[0],
            "--dest",
            str(download),
            *(f"{n}=={v}" for n, v in sorted(pins.items())),
        ]
        for tag in target.platform_tags[1:]:
            command[-len(pins) : -len(pins)] = []  # keep the list shape readable below
            command.insert(command.index("--dest"), "--platform")
            command.insert(command.index("--dest"), tag)
        try:
            subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
        except FileNotFoundError as exc:
            return SdkResult(None, f"pip is not available ({exc})")
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or ["?"]
            return SdkResult(None, f"pip download failed: {last[0]}")
        except subprocess.TimeoutExpired:
            return SdkResult(None, "pip download timed out")
        staging = Path(tmp) / "site"
        for wheel in sorted(download.glob("*.whl")):
            with zipfile.ZipFile(wheel) as zf:
                for member in zf.infolist():
                    if ".data/" in member.filename.split("/", 1)[0] + "/":
                        continue
                    zf.extract(member, staging)
        (staging / ".complete").write_text(
            "\n".join(sorted(p.name for p in download.glob("*.whl")))
        )
        try:
            staging.rename(final)
        except OSError:
            if not (final / ".complete").exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # another process won the race
    return SdkResult(final, f"fetched: {', '.join(f'{n}=={v}' for n, v in pins.items())}")
