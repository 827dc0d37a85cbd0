"""Build and verify options: each one frozen value, checked once where it is made."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import attrs
import pytest

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.install.engines import ENGINES
from sentiment_pipeline.packaging.options import (
    ENGINE_CHOICES,
    BuildOptions,
    OptionsError,
    VerifyOptions,
    interpreter_path,
)


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


def test_verify_layers_are_made_absolute_when_made_and_a_bare_path_is_one_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    options = VerifyOptions(layers="common.zip")
    monkeypatch.chdir("/")
    assert options.layers == (tmp_path.resolve() / "common.zip",)
    both = VerifyOptions(layers=[Path("a.zip"), "b"])
    assert both.layers == (Path("/a.zip"), Path("/b"))


@pytest.mark.parametrize("image", ["oci:dist/container-image/api", "docker://127.0.0.1/api:v1"])
def test_an_image_given_as_a_layer_is_refused(image: str) -> None:
    with pytest.raises(OptionsError) as info:
        VerifyOptions(layers=["common.zip", image])
    assert info.value.option == "layers"
    assert str(info.value) == f"layers: {image!r} is an image; a layer is a zip or a directory"


def test_the_verify_defaults_are_the_clis() -> None:
    options = VerifyOptions()
    assert (options.layers, options.handler, options.dynamic, options.s3_upload) == (
        (),
        None,
        True,
        False,
    )
    assert (options.interpreter, options.offline, options.engine, options.image) == (
        None,
        False,
        "none",
        None,
    )
    assert not options.prefer_image


def test_verify_names_its_engine_as_build_does() -> None:
    for choice in ENGINE_CHOICES:
        assert VerifyOptions(engine=choice).engine == choice
    with pytest.raises(OptionsError, match=r"^engine: unknown engine 'dockr'; choose one of"):
        VerifyOptions(engine="dockr")  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["image", "prefer_image"])
def test_an_image_without_an_engine_to_run_it_is_refused(field: str) -> None:
    value: object = "public.ecr.aws/lambda/python:3.13" if field == "image" else True
    with pytest.raises(OptionsError) as info:
        VerifyOptions(**{field: value})  # type: ignore[arg-type]
    assert info.value.option == field
    assert "engine is 'none'; choose one of auto, docker, podman, buildah" in str(info.value)
    assert getattr(VerifyOptions(engine="auto", **{field: value}), field) == value  # type: ignore[arg-type]


def test_an_interpreter_is_made_absolute_with_its_links_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    monkeypatch.chdir(tmp_path)
    options = VerifyOptions(interpreter=Path("bin/python"))
    assert options.interpreter == str(tmp_path / "bin" / "python")


def test_an_interpreter_name_is_looked_up_on_path_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "python3.99").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert interpreter_path("python3.99") == str(tmp_path / "python3.99")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(OptionsError) as info:
        VerifyOptions(interpreter="python3.99")
    assert str(info.value) == (
        "interpreter: no interpreter named 'python3.99' on PATH; give its path "
        "(e.g. /usr/bin/python3.13)"
    )


def test_verify_options_are_frozen_and_checked_again_when_evolved() -> None:
    options = VerifyOptions(engine="auto", image="lambda:3.13")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.dynamic = False  # type: ignore[misc]
    with pytest.raises(OptionsError):
        attrs.evolve(options, engine="none")
