"""What `serve` checks before any work: moto's server (the [local] extra) and the target Python.

A missing one is named with the one command that fixes it, before anything is built.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.cli import main
from sentiment_pipeline.local import moto, serve
from sentiment_pipeline.local.stack import StackError
from sentiment_pipeline.packaging.targets import get_target

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.targets import Target


@pytest.fixture
def absent(host_target: Target) -> Target:
    """The host's Python for the other architecture: no interpreter here can run it."""
    other = "arm64" if host_target.architecture == "x86_64" else "x86_64"
    return get_target(host_target.runtime, other)


def test_a_present_interpreter_needs_nothing(
    host_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sentiment_pipeline.packaging.lock.uv_binary", lambda: pytest.fail("uv was called")
    )
    serve.ensure_interpreter(host_target, None, offline=False)


def test_offline_without_the_interpreter_names_the_ways_out(absent: Target) -> None:
    with pytest.raises(StackError, match=rf"no python{absent.python} interpreter.*--interpreter"):
        serve.ensure_interpreter(absent, None, offline=True)


def test_a_failed_uv_install_is_reported_with_uvs_reason(
    absent: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "uv"
    fake.write_text("#!/bin/sh\necho 'error: no route to the download host' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr("sentiment_pipeline.packaging.lock.uv_binary", lambda: str(fake))
    with pytest.raises(
        StackError, match=r"uv could not install one \(error: no route to the download host\)"
    ):
        serve.ensure_interpreter(absent, None, offline=False)


def _without_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "moto" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_without_moto_the_fix_is_the_local_extras_requirement_for_this_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert moto.missing_local_extra() is None  # the test environment has the extra
    _without_moto(monkeypatch)
    fix = moto.missing_local_extra()
    assert fix is not None
    assert fix.startswith(f"{sys.executable} -m pip install ")
    assert "'moto[server]" in fix  # read from the package's own [local] extra


PIPELINE_MANIFEST = "".join(
    f'[lambdas.{role}]\nhandler = "handlers.{role}.lambda_handler"\nsources = ["handlers"]\n'
    for role in ("ingestion", "analysis", "dashboard")
)


def test_serve_of_the_pipeline_without_moto_says_so_before_building_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_moto(monkeypatch)
    monkeypatch.setattr(
        serve, "build_specs", lambda *a, **k: pytest.fail("serve built before checking")
    )
    (tmp_path / "handlers").mkdir()
    (tmp_path / "lambdas.toml").write_text(PIPELINE_MANIFEST)
    monkeypatch.chdir(tmp_path)
    code = main(["serve"])
    err = capsys.readouterr().err
    assert code == 2
    assert "serve needs the [local] extra" in err and f"{sys.executable} -m pip install " in err
    assert "'moto[server]" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handlers", "lambdas.toml"]


def test_watch_with_the_pipelines_stack_is_refused_before_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        serve, "build_specs", lambda *a, **k: pytest.fail("serve built before checking")
    )
    (tmp_path / "handlers").mkdir()
    (tmp_path / "lambdas.toml").write_text(PIPELINE_MANIFEST)
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--watch"]) == 2
    err = capsys.readouterr().err
    assert "pipeline stack" in err and "--lambda NAME --watch" in err
