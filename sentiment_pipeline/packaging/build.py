"""Build every artifact a manifest describes: plan, lock, fetch, assemble, verify, report.

An artifact reaches its final path only after verification passed; a failed or
interrupted build leaves the previous artifact intact (temp path, then rename).
Unchanged artifacts (same lock, target, sources, backend and engine) are not
rebuilt: the report of the last build says what they were.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from sentiment_pipeline.packaging.backend import BackendError, BuildContext, load_backend
from sentiment_pipeline.packaging.cache import WheelCache, default_cache_root
from sentiment_pipeline.packaging.install.localpackages import SourceDigests, local_wheel
from sentiment_pipeline.packaging.lock import LocalPins, LockFile
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.plan import Overrides, plan_functions
from sentiment_pipeline.packaging.results import BuildResult, read_report, write_report
from sentiment_pipeline.packaging.reuse import artifact_key, unchanged
from sentiment_pipeline.packaging.staging import place_verified

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sentiment_pipeline.packaging.backend import Backend
    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.install.sdist import NativeBuilder
    from sentiment_pipeline.packaging.lock import Lock, LockedWheel
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan
    from sentiment_pipeline.packaging.results import ArtifactResult

__all__ = ["build", "run_all"]

_T = TypeVar("_T")


def build(manifest: Manifest, options: BuildOptions | None = None) -> BuildResult:
    """Build, verify and report every selected Lambda of ``manifest`` with its backend.

    ``options`` says which Lambdas (all by default), with which backend, engine and
    images, and where artifacts go (see :class:`BuildOptions`; ``None``: the CLI's
    defaults, ``dist/`` under the working directory). For each backend, in turn:
    plan its artifacts, lock each for its target (the lock file beside the
    manifest), fetch the wheels into the cache, assemble, verify, rename into
    ``<out>/<backend>/`` only when verification passed, and write
    ``<out>/<backend>/report.json``. An unchanged artifact is not rebuilt.

    A failed verification is not an exception: its
    :class:`~sentiment_pipeline.packaging.results.ArtifactResult` has
    ``ok`` false and its problems, and the previous artifact, if any, is untouched.
    Raises :class:`~sentiment_pipeline.packaging.plan.PlanError` (a name in
    ``only`` the manifest lacks), :class:`~sentiment_pipeline.packaging.backend.BackendError`
    (an unknown backend), :class:`~sentiment_pipeline.packaging.lock.ResolutionError`
    (no wheels for the target), :class:`~sentiment_pipeline.packaging.cache.CacheError`
    (a wheel that cannot be fetched) and
    :class:`~sentiment_pipeline.packaging.backend.StepError` (a backend step failed).

    >>> from sentiment_pipeline import BuildOptions, Manifest, build
    >>> result = build(Manifest.load("lambdas.toml"), BuildOptions(engine="none"))  # doctest: +SKIP
    >>> result.ok, [a.name for a in result.artifacts]  # doctest: +SKIP
    (True, ['ingestion', 'analysis', 'dashboard'])
    """
    options = options if options is not None else BuildOptions()
    progress = options.progress
    functions = plan_functions(
        manifest,
        only=options.only,
        backend=options.backend,
        build_image=options.build_image,
        base_image=options.base_image,
        overrides=Overrides(slim=options.slim, strip=options.strip, s3_upload=options.s3_upload),
    )
    groups: dict[str, list[FunctionPlan]] = {}
    for function in functions:
        groups.setdefault(function.backend, []).append(function)
    backends = {name: _load(name, manifest, group, options) for name, group in groups.items()}
    # Engines are detected lazily: an unchanged rebuild must not pay for probing them.
    engine_state: dict[str, Engine | None] = {}

    def get_engine() -> Engine | None:
        if "engine" not in engine_state:
            if options.engine == "none":
                engine_state["engine"] = None
            else:
                from sentiment_pipeline.packaging.install.engines import detect

                engine_state["engine"] = detect(options.engine)
        return engine_state["engine"]

    lockfile = LockFile(manifest.path.with_suffix(".lock"))
    # A base image chosen on the command line is this machine's choice: its digest is
    # pinned in the cache, never in the committed lock.
    pins = LocalPins(lockfile.path, default_cache_root()) if options.base_image else lockfile
    cache = WheelCache()
    digests = SourceDigests(manifest.root)
    results: list[ArtifactResult] = []
    reports: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sp-build-") as scratch:
        from sentiment_pipeline.packaging.verify.memo import ReadMemo

        # A layer verified once (in this build or an earlier one, same sha256) is not
        # read again for each function verified with it.
        memo = ReadMemo(default_cache_root() / "verified")
        for name, group in groups.items():
            impl = backends[name]
            out_dir = options.out / name
            report_path = out_dir / "report.json"
            previous = read_report(report_path)
            artifacts = impl.artifacts(group)
            locks = {
                a.key: lockfile.get(a.key, a.requirements, a.target, offline=options.offline)
                for a in artifacts
            }
            lockfile.save()
            built_layers: dict[str, Path] = {}
            layer_keys: dict[str, str] = {}
            done: dict[str, ArtifactResult] = {}
            # Layers first (functions are verified with them, and their keys are part of
            # the functions'), then functions; within each phase, artifacts are
            # independent: assembled and verified concurrently.
            for phase in ("layer", "function"):
                jobs: dict[str, Callable[[], ArtifactResult]] = {}
                for artifact in (a for a in artifacts if a.kind == phase):
                    wheels = _wheels_for(artifact, locks)
                    key = artifact_key(
                        impl,
                        artifact,
                        digests.identities(wheels),
                        options.engine,
                        artifact.build_image
                        if options.engine != "none"
                        else _bytecode_compiler(artifact),
                        layers=[
                            layer_keys.get(layer.key, "") for layer in artifact.provided_by_layers
                        ],
                    )
                    if artifact.kind == "layer":
                        layer_keys[artifact.key] = key
                    final = out_dir / impl.output_name(artifact)
                    # Each function is verified with the layers of its own target.
                    layer_paths = [
                        built_layers[layer.key]
                        for layer in artifact.provided_by_layers
                        if layer.key in built_layers
                    ]
                    started = time.perf_counter()
                    # With --push, rebuild (cheap: layers are cached) so the image can be
                    # pushed.
                    kept = None
                    if not options.push:
                        kept = unchanged(previous, key, final)
                    if kept is not None and options.docker_archive and final.is_dir():
                        from sentiment_pipeline.packaging.oci.dockerarchive import describes

                        # The tarball beside an unchanged image must be that image's.
                        tarball = final.with_name(f"{final.name}.tar")
                        if not describes(tarball, final, f"{artifact.name}:latest"):
                            kept = None
                    if kept is not None:
                        done[artifact.key] = attrs.evolve(
                            kept, cache_hit=True, seconds=time.perf_counter() - started
                        )
                        if artifact.kind == "layer":
                            memo.reuse(final, kept.sha256)
                        continue
                    progress(f"{name}: building {artifact.key}")
                    ctx = BuildContext(
                        engine=get_engine(),
                        cache=cache,
                        offline=options.offline,
                        work=Path(scratch),
                        progress=progress,
                        lockfile=pins,
                        push=options.push,
                        docker_archive=options.docker_archive,
                    )
                    from sentiment_pipeline.packaging.install.sdist import NativeBuilder

                    native = None
                    if ctx.engine is not None:
                        native = NativeBuilder(
                            ctx.engine, artifact.build_image, artifact.target, options.offline
                        )
                    paths = _wheel_paths(wheels, cache, digests, options.offline, native)
                    jobs[artifact.key] = functools.partial(
                        _timed,
                        time.perf_counter() - started,
                        place_verified,
                        impl,
                        artifact,
                        paths,
                        final,
                        ctx,
                        options,
                        key=key,
                        layers=layer_paths,
                        memo=memo,
                    )
                # An engine's builds stay one at a time (its storage and the lock's
                # image pins are shared); local ones use every core.
                workers = _workers() if options.engine == "none" else 1
                done.update(zip(jobs, run_all(list(jobs.values()), workers), strict=True))
                for artifact in artifacts:
                    result = done.get(artifact.key)
                    if artifact.kind == "layer" and result is not None and result.ok:
                        built_layers[artifact.key] = out_dir / impl.output_name(artifact)
            group_results = [done[a.key] for a in artifacts]
            lockfile.save()
            pins.save()  # image backends pin base digests while building
            # A build of some Lambdas (--lambda, invoke) keeps the others' entries: the
            # next build of those reuses their artifacts instead of rebuilding them.
            built_paths = {a.path for a in group_results}
            others = [
                a
                for a in previous.values()
                if options.only and a.path not in built_paths and Path(a.path).exists()
            ]
            write_report(
                report_path,
                backend=name,
                engine=options.engine,
                artifacts=[*others, *group_results],
            )
            reports.append(report_path)
            results += group_results
    return BuildResult(tuple(results), tuple(reports))


def _workers() -> int:
    """The cores this process may use (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run_all(jobs: Sequence[Callable[[], _T]], workers: int) -> list[_T]:
    """Every job's result, in the jobs' order; up to ``workers`` at once (threads: the
    work is inflating, hashing, writing and waiting on import checks, which release the
    GIL). The first exception raised by a job is raised once every job has ended."""
    if workers <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    from concurrent.futures import ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = [pool.submit(job) for job in jobs]
        wait(futures)
    return [future.result() for future in futures]


def _timed(
    before: float, step: Callable[..., ArtifactResult], *args: Any, **kwargs: Any
) -> ArtifactResult:
    """``step`` timed from when it starts (not from when it was queued), plus ``before``
    seconds spent on the artifact earlier (fetching its wheels)."""
    return step(*args, **kwargs, started=time.perf_counter() - before)


def _wheel_paths(
    wheels: list[LockedWheel],
    cache: WheelCache,
    digests: SourceDigests,
    offline: bool,
    native: NativeBuilder | None,
) -> list[Path]:
    """Each lock entry's wheel, in order: fetched, built from its source archive, or built
    from its folder (a path dependency)."""
    from sentiment_pipeline.packaging.install.sdist import built_wheels

    remote = [w for w in wheels if w.directory is None]
    fetched = cache.fetch(remote, offline=offline)
    built = iter(built_wheels(remote, fetched, cache, offline=offline, native=native))
    return [
        local_wheel(w, digests, cache, offline=offline) if w.directory is not None else next(built)
        for w in wheels
    ]


def _load(
    name: str, manifest: Manifest, group: list[FunctionPlan], options: BuildOptions
) -> Backend:
    """The backend ``name``; when the manifest chose it, an unknown one is reported at the
    line of the key that names it."""
    try:
        return load_backend(name)
    except BackendError as exc:
        if options.backend is not None:
            raise
        raise BackendError(f"{manifest.where('lambdas', group[0].name, 'backend')}: {exc}") from exc


def _bytecode_compiler(artifact: ArtifactPlan) -> str | None:
    """Without an engine, what compiles the artifact's ``.pyc`` (an interpreter of the
    target's Python here, by version), or None: a part of the artifact's key."""
    from sentiment_pipeline.packaging.install.bytecode import find_compiler

    compiler = find_compiler(artifact.target)
    return f"bytecode:{compiler.identity}" if compiler is not None else None


def _wheels_for(artifact: ArtifactPlan, locks: dict[str, Lock]) -> list[LockedWheel]:
    """The artifact's locked wheels, but those its layers provide at the same version."""
    lock = locks[artifact.key]
    provided: dict[str, str] = {}
    for layer in artifact.provided_by_layers:
        provided.update(locks[layer.key].names())
    return [w for w in lock.wheels if provided.get(w.name) != w.version]
