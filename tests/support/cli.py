"""``sentiment-pipeline`` run as a user runs it: a separate process, from a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def run_cli(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m sentiment_pipeline ARGS`` from ``cwd`` (paths relative to it);
    ``env``: variables set on top of this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
