"""Build options: one frozen value, checked once where it is made."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.install.engines import ENGINES
from sentiment_pipeline.packaging.options import ENGINE_CHOICES, BuildOptions, OptionsError


def test_out_is_made_absolute_against_the_working_directory_when_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    options = BuildOptions(out=Path("build"))
    monkeypatch.chdir("/")
    assert options.out == tmp_path.resolve() / "build"
    assert BuildOptions(out="dist").out == Path("/dist")  # a str is taken as a path


def test_the_defaults_are_the_clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    options = BuildOptions()
    assert (options.backend, options.only, options.out, options.engine) == (
        None,
        (),
        tmp_path.resolve() / "dist",
        "auto",
    )
    assert (options.offline, options.verify_dynamic, options.push, options.docker_archive) == (
        False,
        True,
        None,
        False,
    )


def test_an_unknown_engine_is_refused_with_the_choices() -> None:
    with pytest.raises(OptionsError) as info:
        BuildOptions(engine="dockr")  # type: ignore[arg-type]
    assert str(info.value) == (
        "engine: unknown engine 'dockr'; choose one of auto, docker, podman, buildah, none"
    )
    assert isinstance(info.value, PipelineError) and isinstance(info.value, ValueError)
    assert info.value.option == "engine"


def test_a_bare_name_selects_one_lambda_not_its_letters() -> None:
    assert BuildOptions(only="api").only == ("api",)
    assert BuildOptions(only=["api", "web"]).only == ("api", "web")


def test_the_engine_choices_are_the_engines_the_installer_knows() -> None:
    assert ("auto", *(engine.name for engine in ENGINES), "none") == ENGINE_CHOICES


def test_options_are_frozen_and_evolve_into_new_values(tmp_path: Path) -> None:
    options = BuildOptions(out=tmp_path)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.engine = "none"  # type: ignore[misc]
    changed = attrs.evolve(options, engine="none", only=("api",))
    assert (changed.engine, changed.only, changed.out) == ("none", ("api",), tmp_path.resolve())
    with pytest.raises(OptionsError):
        attrs.evolve(options, engine="kubernetes")  # type: ignore[arg-type]
