"""The options of a build, as one frozen value checked once, where it is made.

The CLI builds a :class:`BuildOptions` from its arguments, ``serve`` from its own,
a library user from keyword arguments; :func:`~sentiment_pipeline.packaging.build.build`
then trusts it: paths are absolute, names are known.

>>> options = BuildOptions(engine="none", only=["api"])
>>> options.engine, options.only, options.out.is_absolute()
('none', ('api',), True)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["ENGINE_CHOICES", "BuildOptions", "EngineChoice", "OptionsError"]

EngineChoice = Literal["auto", "docker", "podman", "buildah", "none"]
"""How a build installs wheels: ``"auto"`` (the first container engine found, else a
local cross-install), a named engine, or ``"none"`` (always a local cross-install)."""

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
    progress: Callable[[str], None] = attrs.field(default=_quiet, eq=False, repr=False)
    """Called with one line per step (``zip-in-docker: building lambdas.api``)."""
