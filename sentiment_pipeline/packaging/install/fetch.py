"""Download wheels for a target platform with pip (the host's network and credentials)."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["FetchError", "download"]


class FetchError(PipelineError, RuntimeError):
    """pip could not download what was asked for the target."""


def download(
    requirements: Sequence[str],
    dest: Path,
    *,
    python: str,
    platforms: Sequence[str],
    deps: bool = True,
    timeout: float = 600,
) -> list[Path]:
    """Download binary wheels of ``requirements`` for CPython ``python`` on ``platforms``.

    pip matches ``--platform`` exactly, so pass every acceptable platform tag
    (``Target.platform_tags`` does). Returns the wheels now in ``dest``.

    >>> from sentiment_pipeline import get_target
    >>> t = get_target("python3.13")
    >>> download(["pydantic==2.12.4"], Path("wheels"), python=t.python,
    ...          platforms=t.platform_tags)  # doctest: +SKIP
    """
    dest.mkdir(parents=True, exist_ok=True)
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
        python,
        "--dest",
        str(dest),
    ]
    for platform in platforms:
        command += ["--platform", platform]
    if not deps:
        command.append("--no-deps")
    command += list(requirements)
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise FetchError(f"cannot run pip ({exc}); install pip in this environment") from exc
    except subprocess.TimeoutExpired as exc:
        raise FetchError(f"pip download timed out after {timeout:.0f} s") from exc
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        reason = next(
            (line for line in reversed(lines) if "ERROR" in line), lines[-1] if lines else "?"
        )
        raise FetchError(
            f"pip could not download {' '.join(requirements)} for CPython {python} on "
            f"{platforms[0] if platforms else 'any platform'}: {reason.strip()}"
        ) from exc
    return sorted(dest.glob("*.whl"))
