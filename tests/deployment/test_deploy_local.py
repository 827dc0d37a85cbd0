"""``nox -s deploy-local``'s program: this repository's Lambdas to moto, twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_this_repositorys_lambdas_deploy_then_deploy_again_uploading_nothing(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy_local.py"), str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split("# again: nothing changed")
    for name in ("ingestion", "analysis", "dashboard"):
        assert f"{name}: created; published version 1; smoke passed (aws, " in first
        assert f"{name}: unchanged (CodeSha256 " in second
    assert "dashboard: url https://" in second
    assert (tmp_path / "dist" / "deploy.json").is_file()
