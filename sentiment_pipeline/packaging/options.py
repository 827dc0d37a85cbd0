"""The options of a build and of a verification, each one frozen value checked once,
where it is made.

The CLI builds a :class:`BuildOptions` or a :class:`VerifyOptions` from its arguments,
``serve`` from its own, a library user from keyword arguments;
:func:`~sentiment_pipeline.packaging.build.build` and
:func:`~sentiment_pipeline.packaging.verify.verify` then trust it: paths are absolute,
names are known. Both name a container engine the same way, an :data:`EngineChoice`.

>>> options = BuildOptions(engine="none", only=["api"])
>>> options.engine, options.only, options.out.is_absolute()
('none', ('api',), True)
>>> VerifyOptions(layers="dist/common.zip").layers[0].is_absolute()
True
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "ENGINE_CHOICES",
    "BuildOptions",
    "EngineChoice",
    "OptionsError",
    "VerifyOptions",
    "interpreter_path",
]

EngineChoice = Literal["auto", "docker", "podman", "buildah", "none"]
"""Which container engine to use: ``"auto"`` (the first one found, else none), a named
engine, or ``"none"``. A build installs wheels with it (without one: a local
cross-install); a verification may import the handler inside an image with it."""

ENGINE_CHOICES: tuple[EngineChoice, ...] = get_args(EngineChoice)
"""Every :data:`EngineChoice`, in the order the CLI lists them."""


class OptionsError(PipelineError, ValueError):
    """An option value that cannot be used; the message names the option and the choices.

    >>> BuildOptions(engine="dockr")  # type: ignore[arg-type]
    Traceback (most recent call last):
    ...
    sentiment_pipeline.packaging.options.OptionsError: engine: unknown engine 'dockr'; ...
    """

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


def _absolute(value: str | Path) -> Path:
    return Path(value).resolve()


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    # A bare string is one name: tuple("api") would select 'a', 'p' and 'i'.
    return (value,) if isinstance(value, str) else tuple(value)


def _known_engine(instance: Any, attribute: Any, value: object) -> None:
    if value not in ENGINE_CHOICES:
        raise OptionsError(
            attribute.name, f"unknown engine {value!r}; choose one of {', '.join(ENGINE_CHOICES)}"
        )


def _layers(
    value: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> tuple[Path, ...]:
    from sentiment_pipeline.packaging.oci.reference import LAYOUT_SCHEME, REGISTRY_SCHEME

    # A bare path is one layer: tuple("l.zip") would be five.
    given = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    layers = []
    for layer in given:
        text = os.fspath(layer)
        if text.startswith((LAYOUT_SCHEME, REGISTRY_SCHEME)):
            raise OptionsError("layers", f"{text!r} is an image; a layer is a zip or a directory")
        layers.append(_absolute(text))
    return tuple(layers)


def interpreter_path(value: str | os.PathLike[str]) -> str:
    """An interpreter given by path, made absolute, or by name, looked up on ``PATH``.

    Never with its links resolved: a virtual environment's ``python`` is a link whose
    target would run without the environment. Raises :class:`OptionsError` for a name
    found nowhere on ``PATH``.

    >>> interpreter_path("/usr/bin/python3")
    '/usr/bin/python3'
    """
    text = os.fspath(value)
    found = text if os.sep in text or text.startswith("~") else shutil.which(text)
    if found is None:
        raise OptionsError(
            "interpreter",
            f"no interpreter named {text!r} on PATH; give its path (e.g. /usr/bin/python3.13)",
        )
    return str(Path(found).expanduser().absolute())


def _optional_interpreter(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else interpreter_path(value)


def _engine_to_run(instance: VerifyOptions, attribute: Any, value: object) -> None:
    if value and instance.engine == "none":
        raise OptionsError(
            attribute.name,
            "an image is run by a container engine, and engine is 'none'; choose one of "
            f"{', '.join(c for c in ENGINE_CHOICES if c != 'none')}",
        )


def _quiet(message: str) -> None:
    """The default progress callback: says nothing."""


@attrs.frozen
class BuildOptions:
    """What to build and how: every choice of ``sentiment-pipeline build`` in one value.

    Every field has the CLI's default; ``out`` is made absolute against the working
    directory when the options are made (artifacts and the report name absolute
    paths). Change one field of an existing value with ``attrs.evolve``.

    >>> from pathlib import Path
    >>> options = BuildOptions(backend="layer", out=Path("build"), offline=True)
    >>> options.out == Path("build").resolve(), options.engine, options.verify_dynamic
    (True, 'auto', True)
    >>> import attrs
    >>> attrs.evolve(options, engine="none").engine
    'none'
    """

    backend: str | None = None
    """Build every selected Lambda with this backend (``--backend``), instead of the
    manifest's ``backend`` setting."""
    only: tuple[str, ...] = attrs.field(default=(), converter=_names)
    """The Lambdas to build (``--lambda``); empty: all of them."""
    out: Path = attrs.field(default=Path("dist"), converter=_absolute)
    """Where artifacts go, one folder per backend (``--out``)."""
    engine: EngineChoice = attrs.field(default="auto", validator=_known_engine)
    """The container engine that installs the wheels (``--engine``)."""
    offline: bool = False
    """Build from the lock file and the wheel cache only; never the network (``--offline``)."""
    build_image: str | None = None
    """Override every function's and layer's build image (``--build-image``)."""
    base_image: str | None = None
    """Override every function's base image, for image backends (``--base-image``)."""
    push: str | None = None
    """``HOST/PREFIX``: image backends push verified images there (``--push``)."""
    docker_archive: bool = False
    """Image backends also write a ``docker load`` tarball (``--docker-archive``)."""
    verify_dynamic: bool = True
    """Import each handler when an interpreter of the target is available; false:
    static checks only (``--no-import``)."""
    slim: bool = False
    """Slim every artifact's installed distributions (``--slim``), whatever the
    manifest's ``slim`` says: tests, stubs, C sources, docs and foreign bytecode out,
    RECORD rewritten."""
    strip: bool = False
    """Slim, and ``strip --strip-unneeded`` shared objects the host can strip (``--strip``)."""
    s3_upload: bool = False
    """Every zip is deployed through S3 (``--s3-upload``): over 50 MiB zipped is allowed,
    the 250 MiB unzipped limit still holds."""
    progress: Callable[[str], None] = attrs.field(default=_quiet, eq=False, repr=False)
    """Called with one line per step (``zip-in-docker: building lambdas.api``)."""


def _variables(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen
class VerifyOptions:
    """How to verify an artifact: every choice of ``sentiment-pipeline verify`` in one value.

    Every field has the CLI's default: static checks, then the handler imported by an
    interpreter of the target found on this machine. Layer paths are made absolute
    against the working directory when the options are made; a bare path is one layer.
    Change one field of an existing value with ``attrs.evolve``.

    >>> options = VerifyOptions(layers="dist/common.zip", dynamic=False)
    >>> options.layers == (Path("dist/common.zip").resolve(),), options.engine
    (True, 'none')
    >>> VerifyOptions(image="public.ecr.aws/lambda/python:3.13")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.packaging.options.OptionsError: image: an image is run by ...
    """

    layers: tuple[Path, ...] = attrs.field(default=(), converter=_layers)
    """The layers (zips or directories) the function is deployed with, in Lambda's
    order (``--layer``)."""
    handler: str | None = None
    """``module.function`` (``--handler``); by default ``handler.lambda_handler`` when
    the artifact has a ``handler.py`` at its root, else no handler is checked."""
    dynamic: bool = True
    """Import the handler in an interpreter of the target when one is available;
    false: static checks only (``--no-import``)."""
    s3_upload: bool = False
    """The zip is deployed through S3: allow more than 50 MiB zipped (``--s3-upload``)."""
    interpreter: str | None = attrs.field(default=None, converter=_optional_interpreter)
    """The interpreter that imports the handler (``--interpreter``), a path or a name on
    ``PATH``, made absolute; by default one of the target's Python and architecture
    found on this machine."""
    offline: bool = False
    """Never fetch the runtime's SDK for the import: use it only when it is cached."""
    engine: EngineChoice = attrs.field(default="none", validator=_known_engine)
    """A container engine that imports the handler inside :attr:`image` when this
    machine has no interpreter of the target; detected when first needed. ``"none"``
    (the default): the import is then skipped, and the report says so."""
    image: str | None = attrs.field(default=None, validator=_engine_to_run)
    """The image whose ``python3`` imports the handler, with :attr:`engine`; by
    default the target's Lambda base image."""
    prefer_image: bool = attrs.field(default=False, validator=_engine_to_run)
    """Import inside :attr:`image` even when this machine has an interpreter of the
    target: the artifact is that image."""
    environment: Mapping[str, str] = attrs.field(factory=dict, converter=_variables)
    """The function's own variables (its ``deploy.environment``): set for the import,
    over Lambda's, as Lambda sets them for its init."""
