"""The packaging backend interface, and how backends are found (stevedore entry points).

A backend says *what* it makes for a set of Lambdas (:meth:`Backend.artifacts`,
pure) and *how* to write one artifact to a temporary path (:meth:`Backend.assemble`).
Everything around it (locking, fetching, verification, the final rename, the
report) is shared, so a third-party backend is a :class:`Backend` subclass and
an entry point in the ``sentiment_pipeline.backends`` group of its package:

.. code-block:: toml

    [project.entry-points."sentiment_pipeline.backends"]
    my-backend = "my_package.backend:MyBackend"

The contract every method keeps is written on :class:`Backend`; its tests ship in
:mod:`sentiment_pipeline.packaging.testing`, for a backend's own test suite.
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
    from sentiment_pipeline.packaging.lock import LocalPins, LockFile
    from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan
    from sentiment_pipeline.packaging.slimming import DistributionSize

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
    """A backend that does not exist or does not implement :class:`Backend`.

    >>> load_backend("zipp")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.packaging.backend.BackendError: No packaging backend 'zipp'. Installed: ...
    """


class StepError(PipelineError, RuntimeError):
    """A named build step failed: ``zip-in-docker:install - pip exited 1: ...``.

    Backends raise it for every failure of their own steps (``backend``: their name,
    ``step``: a short verb such as ``install``, ``assemble``, ``image``, ``publish``),
    ``from`` the cause. The CLI prints it without a traceback and exits 1.

    >>> str(StepError("zip-in-docker", "install", "pip exited 1: no space left on device"))
    'zip-in-docker:install - pip exited 1: no space left on device'
    """

    def __init__(self, backend: str, step: str, reason: str) -> None:
        self.backend, self.step, self.reason = backend, step, reason
        super().__init__(f"{backend}:{step} - {reason}")


def _quiet(message: str) -> None:
    """The default progress callback: says nothing."""


@attrs.frozen
class BuildContext:
    """What a backend may use while it builds one artifact (made by the build).

    The plan (:class:`~sentiment_pipeline.packaging.plan.ArtifactPlan`) already holds
    every choice about the artifact itself (its target, sources, build and base
    images); the context holds the means of the build.

    >>> from pathlib import Path
    >>> from sentiment_pipeline.packaging.cache import WheelCache
    >>> ctx = BuildContext(engine=None, cache=WheelCache(), offline=True, work=Path("/tmp/w"))
    >>> ctx.engine is None, ctx.push, ctx.docker_archive
    (True, None, False)
    """

    engine: Engine | None
    """The container engine that installs with the target's interpreter, or None for a
    local cross-install (``--engine none``, or ``auto`` with no engine on the machine)."""
    cache: WheelCache
    """The content-addressed wheel cache (already holds every wheel given to assemble)."""
    offline: bool
    """``--offline``: never use the network (a backend that must, raises :class:`StepError`)."""
    work: Path
    """A scratch directory shared by the build's artifacts, removed after the build."""
    progress: Callable[[str], None] = attrs.field(default=_quiet, eq=False)
    """Report a step in one line, e.g. ``ctx.progress(f"{self.name}:install {wheel}")``."""
    lockfile: LockFile | LocalPins | None = attrs.field(default=None, eq=False)
    """Where image backends pin the digests their base images resolved to (the lock
    file; the cache's :class:`~sentiment_pipeline.packaging.lock.LocalPins` for a base
    image given on the command line)."""
    push: str | None = None
    """``--push HOST/PREFIX``: where image backends publish verified images."""
    docker_archive: bool = False
    """``--docker-archive``: image backends also write a ``docker load`` tarball."""


@attrs.frozen
class AssembleResult:
    """What :meth:`Backend.assemble` wrote, for the build's report.

    >>> AssembleResult(compiled=False, notes=("bytecode was not compiled",), files=12,
    ...                unzipped=40_960).files
    12
    """

    compiled: bool
    """Whether ``.pyc`` files compiled by the target interpreter were included."""
    notes: tuple[str, ...] = ()
    """Lines for the report (what was left out and why, what the user could do better)."""
    files: int = 0
    """Files in the artifact (directories not counted)."""
    unzipped: int = 0
    """Their total size in bytes, uncompressed."""
    distributions: tuple[DistributionSize, ...] = ()
    """The installed distributions, largest first, with what slimming saved in each."""
    slim: str = ""
    """``slim`` or ``slim+strip`` when the distributions were slimmed, else empty."""


class Backend(abc.ABC):
    """A packaging backend: what it makes for a set of Lambdas, and how.

    Subclasses set :attr:`name` and implement :meth:`artifacts` and :meth:`assemble`;
    :meth:`output_name` and :meth:`publish` have defaults. The build calls them in
    this order, for each backend in turn:

    1. ``artifacts(functions)`` once, with the plans of the Lambdas this backend builds;
    2. per artifact, in the order returned: lock its ``requirements`` for its
       ``target``, fetch the wheels into the cache, then
       ``assemble(artifact, wheels, dest, ctx)`` into a temporary ``dest``;
    3. verify ``dest`` for its target (with the layer artifacts it is deployed with);
       only when that passed, rename it to ``<out>/<name>/<output_name(artifact)>``
       and call ``publish(artifact, path, ctx)``.

    The contract (:class:`~sentiment_pipeline.packaging.testing.BackendContract` tests
    it; run it from the backend's own tests):

    - **Loading.** The entry point's name and :attr:`name` are the same; the class
      takes no constructor arguments. One instance builds every artifact of a build,
      so state kept between :meth:`assemble` and :meth:`publish` is keyed by artifact.
    - **Planning** (:meth:`artifacts`) is pure: no files, no network, the same plans
      for the same functions. Exactly one function artifact per function; an
      artifact's layers (``provided_by_layers``) come before it.
    - **Assembling** (:meth:`assemble`) writes one artifact at ``dest`` (a file, or a
      directory for image layouts) and nothing else, except scratch files under
      ``ctx.work``: never the project, never ``<out>``, never the working directory.
      It reads the subject's sources and the given wheels only, installs them
      for the artifact's target (through ``ctx.engine`` when there is one), and is
      deterministic: the same inputs give the same bytes. Failures are
      :class:`StepError`.
    - **Publishing** (:meth:`publish`) runs after verification only, and may write
      beside ``path`` (a tarball) or to a registry, as the options in ``ctx`` ask.

    >>> from sentiment_pipeline.packaging.assemble import assemble_zip
    >>> from sentiment_pipeline.packaging.plan import ArtifactPlan
    >>> class SelfContained(Backend):
    ...     name = "self-contained"
    ...     description = "one zip per Lambda"
    ...
    ...     def artifacts(self, functions):
    ...         return [ArtifactPlan(f) for f in functions]
    ...
    ...     def assemble(self, artifact, wheels, dest, ctx):
    ...         return assemble_zip(self.name, artifact, wheels, dest, ctx, prefix="")
    >>> SelfContained().suffix
    '.zip'
    """

    name: ClassVar[str]
    """The backend's name: its entry point's, ``--backend NAME``, ``dist/NAME/``."""
    description: ClassVar[str] = ""
    """One line saying what it makes."""
    suffix: ClassVar[str] = ".zip"
    """What :meth:`output_name` appends to the artifact's name (``""`` for a directory)."""

    @abc.abstractmethod
    def artifacts(self, functions: Sequence[FunctionPlan]) -> list[ArtifactPlan]:
        """The artifacts this backend makes for ``functions``, dependencies first.

        Pure: reads nothing but its arguments and writes nothing. Returns exactly
        one function artifact (``ArtifactPlan(function)``) per function, and any
        other artifacts they need (e.g. a layer artifact per layer, which the
        function artifacts then name in ``provided_by_layers`` so its packages are
        left out of them), each before the artifacts that use it.
        """

    @abc.abstractmethod
    def assemble(
        self, artifact: ArtifactPlan, wheels: Sequence[Path], dest: Path, ctx: BuildContext
    ) -> AssembleResult:
        """Write ``artifact`` to ``dest``: a temporary path the build renames on success.

        ``wheels`` are the artifact's locked wheels, already in the cache and checked
        against their hashes (those its ``provided_by_layers`` provide are left out);
        the sources are the subject's (``artifact.function.sources`` relative to
        ``artifact.function.root``), minus ``artifact.exclude``. Install them for
        ``artifact.target``: with ``ctx.engine`` (in ``artifact.build_image``) when it
        is not None, else by a local cross-install. Write only ``dest`` (and
        scratch files under ``ctx.work``); the same inputs must give the same bytes.
        Raise :class:`StepError` for a failed step.
        """

    def publish(self, artifact: ArtifactPlan, path: Path, ctx: BuildContext) -> str | None:
        """Publish a verified artifact, now at its final ``path``; returns where it went.

        Called only after verification passed. The default publishes nothing and
        returns None; an image backend pushes to ``ctx.push`` or writes a tarball
        beside ``path`` when ``ctx.docker_archive`` asks. Raise :class:`StepError`
        (or any :class:`~sentiment_pipeline.errors.PipelineError`) on failure.
        """
        return None

    def output_name(self, artifact: ArtifactPlan) -> str:
        """The artifact's path under ``<out>/<name>/``: relative, unique per artifact.

        The default: ``NAME.zip`` for a function, ``layers/NAME.zip`` for a layer, or
        ``layers/NAME-RUNTIME-ARCH.zip`` for a layer built for several targets (with
        :attr:`suffix` instead of ``.zip``).
        """
        folder = "layers/" if artifact.kind == "layer" else ""
        return f"{folder}{artifact.subject.stem}{self.suffix}"


def installed_backends() -> list[str]:
    """Names of every registered backend, sorted (reads entry points only; imports none).

    >>> {"layer", "zip-in-docker"} <= set(installed_backends())
    True
    """
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group=NAMESPACE)})


def load_backend(name: str) -> Backend:
    """Load backend ``name`` with stevedore's DriverManager and check what it is.

    Raises :class:`BackendError` when no entry point has that name (the message
    lists the installed ones), when it fails to import, when it is not a
    :class:`Backend`, or when its :attr:`Backend.name` differs from the entry point's.

    >>> load_backend("layer").name
    'layer'
    """
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
