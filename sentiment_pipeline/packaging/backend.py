"""The packaging backend interface, and how backends are found (stevedore entry points).

A backend says *what* it makes for a set of Lambdas (:meth:`Backend.artifacts`,
pure) and *how* to write one artifact to a temporary path (:meth:`Backend.assemble`).
Everything around it (locking, fetching, verification, the final rename, the
report) is shared, so a third-party backend only declares an entry point:

.. code-block:: toml

    [project.entry-points."sentiment_pipeline.backends"]
    my-backend = "my_package.backend:MyBackend"
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.cache import WheelCache
    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.lock import LockFile
    from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan

__all__ = [
    "NAMESPACE",
    "AssembleResult",
    "Backend",
    "BackendError",
    "BuildContext",
    "StepError",
    "installed_backends",
    "load_backend",
]

NAMESPACE = "sentiment_pipeline.backends"


class BackendError(PipelineError, LookupError):
    """A backend that does not exist or does not implement :class:`Backend`."""


class StepError(PipelineError, RuntimeError):
    """A named build step failed: ``zip-in-docker:install - pip exited 1: ...``."""

    def __init__(self, backend: str, step: str, reason: str) -> None:
        self.backend, self.step, self.reason = backend, step, reason
        super().__init__(f"{backend}:{step} - {reason}")


@attrs.frozen
class BuildContext:
    """What every backend may use while it builds; one frozen value, not many kwargs."""

    engine: Engine | None
    """The container engine, or None for a local cross-install (``--engine none``)."""
    cache: WheelCache
    offline: bool
    work: Path
    """A scratch directory, removed after the build."""
    progress: Callable[[str], None] = attrs.field(default=lambda message: None, eq=False)
    build_image: str | None = None
    """``--build-image``: overrides every plan's build image."""
    base_image: str | None = None
    """``--base-image``: overrides every plan's base image (image backends)."""
    lockfile: LockFile | None = attrs.field(default=None, eq=False)
    """Where image backends pin the digests their base images resolved to."""
    push: str | None = None
    """``--push HOST/PREFIX``: where image backends publish verified images."""
    docker_archive: bool = False
    """``--docker-archive``: image backends also write a ``docker load`` tarball."""


@attrs.frozen
class AssembleResult:
    compiled: bool
    """Whether ``.pyc`` files compiled by the target interpreter were included."""
    notes: tuple[str, ...] = ()
    files: int = 0
    unzipped: int = 0


class Backend(abc.ABC):
    """A packaging backend. Subclasses set ``name`` and implement two methods."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    suffix: ClassVar[str] = ".zip"

    @abc.abstractmethod
    def artifacts(self, functions: Sequence[FunctionPlan]) -> list[ArtifactPlan]:
        """The artifacts this backend makes for ``functions``, dependencies first (pure)."""

    @abc.abstractmethod
    def assemble(
        self, artifact: ArtifactPlan, wheels: Sequence[Path], dest: Path, ctx: BuildContext
    ) -> AssembleResult:
        """Write ``artifact`` to ``dest`` (a temporary path the caller renames on success)."""

    def publish(self, artifact: ArtifactPlan, path: Path, ctx: BuildContext) -> str | None:
        """After ``path`` passed verification: publish it (e.g. push an image); returns
        where it went, or None when this backend has nothing to publish."""
        return None

    def output_name(self, artifact: ArtifactPlan) -> str:
        """The file name under ``dist/<backend>/``."""
        folder = "layers/" if artifact.kind == "layer" else ""
        return f"{folder}{artifact.name}{self.suffix}"


def installed_backends() -> list[str]:
    """Names of every registered backend (reads entry points only; imports none)."""
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group=NAMESPACE)})


def load_backend(name: str) -> Backend:
    """Load backend ``name`` with stevedore's DriverManager and check what it is."""
    from stevedore import DriverManager
    from stevedore.exception import NoMatches

    try:
        manager: DriverManager[Any] = DriverManager(
            namespace=NAMESPACE,
            name=name,
            invoke_on_load=True,
            on_load_failure_callback=_raise_load_failure,
        )
    except NoMatches:
        installed = ", ".join(installed_backends()) or "none"
        raise BackendError(f"No packaging backend {name!r}. Installed: {installed}.") from None
    backend = manager.driver
    if not isinstance(backend, Backend):
        raise BackendError(
            f"backend {name!r} ({type(backend).__module__}.{type(backend).__qualname__}) does not "
            "subclass sentiment_pipeline.packaging.backend.Backend; fix its entry point"
        )
    if getattr(backend, "name", None) != name:
        raise BackendError(
            f"backend registered as {name!r} calls itself {getattr(backend, 'name', None)!r}; "
            "the entry point name and Backend.name must agree"
        )
    return backend


def _raise_load_failure(manager: object, entrypoint: object, exc: BaseException) -> None:
    name = getattr(entrypoint, "name", "?")
    raise BackendError(f"backend {name!r} failed to load: {type(exc).__name__}: {exc}") from exc
