"""`serve`'s interpreter check: a missing target Python is installed with uv, or named clearly."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.local import serve
from sentiment_pipeline.local.stack import StackError
from sentiment_pipeline.packaging.targets import get_target

if TYPE_CHECKING:
    from pathlib import Path

ABSENT = get_target("python3.13", "arm64")  # never runnable on this x86_64 machine
HOST = get_target(f"python3.{sys.version_info.minor}", "x86_64")


def test_a_present_interpreter_needs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "sentiment_pipeline.packaging.lock.uv_binary", lambda: pytest.fail("uv was called")
    )
    serve.ensure_interpreter(HOST, None, offline=False)


def test_offline_without_the_interpreter_names_the_ways_out() -> None:
    with pytest.raises(StackError, match=r"no python3\.13 interpreter.*--interpreter PATH"):
        serve.ensure_interpreter(ABSENT, None, offline=True)


def test_a_failed_uv_install_is_reported_with_uvs_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "uv"
    fake.write_text("#!/bin/sh\necho 'error: no route to the download host' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr("sentiment_pipeline.packaging.lock.uv_binary", lambda: str(fake))
    with pytest.raises(
        StackError, match=r"uv could not install one \(error: no route to the download host\)"
    ):
        serve.ensure_interpreter(ABSENT, None, offline=False)
