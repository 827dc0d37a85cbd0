"""Build every artifact a manifest describes: plan, lock, fetch, assemble, verify, report.

An artifact reaches its final path only after verification passed; a failed or
interrupted build leaves the previous artifact intact (temp path, then rename).
Unchanged artifacts (same lock, target, sources, backend and engine) are not
rebuilt: the report of the last build says what they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline._version import __version__
from sentiment_pipeline.packaging.backend import Backend, BuildContext, StepError, load_backend
from sentiment_pipeline.packaging.cache import WheelCache, sha256_file
from sentiment_pipeline.packaging.lock import Lock, LockFile
from sentiment_pipeline.packaging.options import BuildOptions, VerifyOptions
from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan, plan_functions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import EngineChoice

__all__ = ["ArtifactResult", "BuildResult", "build"]


@attrs.frozen
class ArtifactResult:
    """One artifact of a build, as it goes into ``report.json``.

    >>> result = ArtifactResult(name="api", kind="function", backend="zip-in-docker",
    ...     path="/p/dist/zip-in-docker/api.zip", runtime="python3.13", architecture="x86_64",
    ...     ok=True, cache_hit=False, seconds=1.5, key="sha256:...")
    >>> result.to_json()["path"], result.to_json()["native"]
    ('/p/dist/zip-in-docker/api.zip', [])
    """

    name: str
    """The function's or layer's name in the manifest."""
    kind: str
    """``"function"`` or ``"layer"``."""
    backend: str
    path: str
    """Where the artifact is (absolute), or would have been when ``ok`` is false."""
    runtime: str
    architecture: str
    ok: bool
    """Whether it was built and passed verification."""
    cache_hit: bool
    """Whether an unchanged artifact of an earlier build was kept (not rebuilt)."""
    seconds: float
    key: str
    """The hash of every input of the artifact; the same key, the same artifact."""
    sha256: str | None = None
    """The zip's sha256, or an image layout's manifest digest."""
    zipped: int = 0
    """Bytes on disk."""
    unzipped: int = 0
    files: int = 0
    native: tuple[str, ...] = ()
    """Native files (extension modules, shared libraries) of the artifact."""
    compiled: bool = False
    """Whether ``.pyc`` compiled by the target interpreter were included."""
    problems: tuple[dict[str, str], ...] = ()
    """The verifier's problems (``code``, ``path``, ``message``) when ``ok`` is false."""
    dynamic: str = ""
    """What the import check of the handler found, in one line."""
    notes: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    """The layer artifacts it was verified with, in order."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``report.json`` (lists where this holds tuples)."""
        data = attrs.asdict(self)
        data["native"], data["notes"], data["layers"] = (
            list(self.native),
            list(self.notes),
            list(self.layers),
        )
        data["problems"] = [dict(p) for p in self.problems]
        return data


@attrs.frozen
class BuildResult:
    """What :func:`build` did: every artifact, and the reports it wrote.

    >>> BuildResult(artifacts=(), reports=()).ok
    True
    """

    artifacts: tuple[ArtifactResult, ...]
    """Every artifact, in build order (a backend's dependencies first)."""
    reports: tuple[Path, ...]
    """``<out>/<backend>/report.json``, one per backend."""

    @property
    def ok(self) -> bool:
        """Whether every artifact was built and verified."""
        return all(a.ok for a in self.artifacts)


def _digest_sources(artifact: ArtifactPlan) -> str:
    """Content hash of the sources an artifact copies (names and bytes)."""
    from sentiment_pipeline.packaging.install.crossinstall import source_members

    digest = hashlib.sha256()
    function = artifact.function
    if function is not None:
        for member in sorted(
            source_members(function.root, function.sources, exclude=function.exclude),
            key=lambda m: m.name,
        ):
            assert member.file is not None
            digest.update(member.name.encode() + b"\0" + str(member.executable).encode() + b"\0")
            digest.update(hashlib.sha256(member.file.read_bytes()).digest())
        digest.update(f"{function.handler}\0{function.exclude}".encode())
    elif artifact.layer is not None:
        digest.update(repr(artifact.layer.exclude).encode())
    return digest.hexdigest()


def _artifact_key(
    backend: Backend, artifact: ArtifactPlan, wheels: Sequence[str], engine: str, image: str | None
) -> str:
    payload = json.dumps(
        {
            "builder": __version__,
            "backend": backend.name,
            "artifact": artifact.key,
            "target": [artifact.target.runtime, artifact.target.architecture],
            "wheels": sorted(wheels),
            "engine": engine,
            "image": image,
            "sources": _digest_sources(artifact),
            "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        },
        sort_keys=True,
    )
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def _load_report(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
        return {a["key"]: a for a in data.get("artifacts", []) if a.get("ok")}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(data, tmp, indent=2)
        tmp.write("\n")
    Path(tmp.name).chmod(0o644)
    os.replace(tmp.name, path)


def build(manifest: Manifest, options: BuildOptions | None = None) -> BuildResult:
    """Build, verify and report every selected Lambda of ``manifest`` with its backend.

    ``options`` says which Lambdas (all by default), with which backend, engine and
    images, and where artifacts go (see :class:`BuildOptions`; ``None``: the CLI's
    defaults, ``dist/`` under the working directory). For each backend, in turn:
    plan its artifacts, lock each for its target (the lock file beside the
    manifest), fetch the wheels into the cache, assemble, verify, rename into
    ``<out>/<backend>/`` only when verification passed, and write
    ``<out>/<backend>/report.json``. An unchanged artifact is not rebuilt.

    A failed verification is not an exception: its :class:`ArtifactResult` has
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
    )
    groups: dict[str, list[FunctionPlan]] = {}
    for function in functions:
        groups.setdefault(function.backend, []).append(function)
    backends = {name: load_backend(name) for name in groups}
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
    cache = WheelCache()
    results: list[ArtifactResult] = []
    reports: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sp-build-") as scratch:
        for name, group in groups.items():
            impl = backends[name]
            out_dir = options.out / name
            report_path = out_dir / "report.json"
            previous = _load_report(report_path)
            artifacts = impl.artifacts(group)
            locks = {
                a.key: lockfile.get(a.key, a.requirements, a.target, offline=options.offline)
                for a in artifacts
            }
            lockfile.save()
            built_layers: dict[str, Path] = {}
            group_results: list[ArtifactResult] = []
            for artifact in artifacts:
                wheels = _wheels_for(artifact, locks)
                key = _artifact_key(
                    impl,
                    artifact,
                    [w.sha256 for w in wheels],
                    options.engine,
                    artifact.build_image if options.engine != "none" else None,
                )
                final = out_dir / impl.output_name(artifact)
                layer_paths = [
                    built_layers[layer.name]
                    for layer in artifact.provided_by_layers
                    if layer.name in built_layers
                ]
                hit = previous.get(key)
                started = time.perf_counter()
                # With --push, rebuild (cheap: layers are cached) so the image can be pushed.
                if (
                    not (options.push or options.docker_archive)
                    and hit
                    and final.exists()
                    and _identity(final) == hit.get("sha256")
                ):
                    result = ArtifactResult(
                        **{
                            **_from_json(hit),
                            "cache_hit": True,
                            "seconds": time.perf_counter() - started,
                        }
                    )
                else:
                    progress(f"{name}: building {artifact.key}")
                    ctx = BuildContext(
                        engine=get_engine(),
                        cache=cache,
                        offline=options.offline,
                        work=Path(scratch),
                        progress=progress,
                        lockfile=lockfile,
                        push=options.push,
                        docker_archive=options.docker_archive,
                    )
                    from sentiment_pipeline.packaging.install.sdist import (
                        NativeBuilder,
                        built_wheels,
                    )

                    native = None
                    if ctx.engine is not None:
                        native = NativeBuilder(
                            ctx.engine, artifact.build_image, artifact.target, options.offline
                        )
                    fetched = cache.fetch(wheels, offline=options.offline)
                    paths = built_wheels(
                        wheels, fetched, cache, offline=options.offline, native=native
                    )
                    result = _build_one(
                        impl,
                        artifact,
                        paths,
                        final,
                        ctx,
                        key,
                        layer_paths,
                        options.verify_dynamic,
                        options.engine,
                        started,
                    )
                if artifact.kind == "layer" and result.ok:
                    built_layers[artifact.name] = final
                group_results.append(result)
            lockfile.save()  # image backends pin base digests while building
            _write_json(
                report_path,
                {
                    "backend": name,
                    "engine": options.engine,
                    "builder": __version__,
                    "artifacts": [r.to_json() for r in group_results],
                },
            )
            reports.append(report_path)
            results += group_results
    return BuildResult(tuple(results), tuple(reports))


def _wheels_for(artifact: ArtifactPlan, locks: dict[str, Lock]) -> list[Any]:
    lock = locks[artifact.key]
    provided: dict[str, str] = {}
    for layer in artifact.provided_by_layers:
        provided.update(locks[layer.key].names())
    return [w for w in lock.wheels if provided.get(w.name) != w.version]


def _identity(path: Path) -> str | None:
    """What the artifact is: a zip's sha256, or an image layout's manifest digest."""
    if path.is_dir():
        try:
            digest = json.loads((path / "index.json").read_text())["manifests"][0]["digest"]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        return str(digest)
    return sha256_file(path) if path.exists() else None


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _put_in_place(tmp: Path, final: Path) -> None:
    """Rename the verified artifact into place; a directory replaces the old one whole."""
    if tmp.is_dir():
        old = final.with_name(f".{final.name}.{os.getpid()}.old")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _discard(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


def _from_json(data: dict[str, Any]) -> dict[str, Any]:
    fields = {f.name for f in attrs.fields(ArtifactResult)}
    out = {k: v for k, v in data.items() if k in fields}
    for key in ("native", "notes", "layers"):
        out[key] = tuple(out.get(key, ()))
    out["problems"] = tuple(out.get("problems", ()))
    return out


def _build_one(
    impl: Backend,
    artifact: ArtifactPlan,
    wheels: list[Path],
    final: Path,
    ctx: BuildContext,
    key: str,
    layers: list[Path],
    verify_dynamic: bool,
    engine_choice: EngineChoice,
    started: float,
) -> ArtifactResult:
    from sentiment_pipeline.packaging.verify.check import verify_with

    final.parent.mkdir(parents=True, exist_ok=True)
    # Lower-case hex only: an image layout here is also a container reference for the engine.
    token = hashlib.sha256(final.name.encode()).hexdigest()[:12]
    tmp = final.with_name(f"partial-{os.getpid()}-{token}{final.suffix}")
    try:
        assembled = impl.assemble(artifact, wheels, tmp, ctx)
        is_image = (tmp / "oci-layout").is_file()
        ctx.progress(f"{impl.name}:verify {artifact.key}")
        handler = artifact.function.handler if artifact.function else None
        engine = ctx.engine
        options = VerifyOptions(
            layers=layers,
            handler=handler,
            dynamic=verify_dynamic and artifact.kind == "function",
            offline=ctx.offline,
            # An image is imported inside itself when an engine is there; anything else
            # inside the build image, when this machine has no interpreter of the target.
            engine=engine_choice if engine is not None else "none",
            image=(f"oci:{tmp}:latest" if is_image else artifact.build_image)
            if engine is not None
            else None,
            prefer_image=is_image and engine is not None,
        )
        report = verify_with(tmp, artifact.target, options, container=lambda: engine)
        ok = report.ok
        sha = _identity(tmp) if ok else None
        zipped = _size(tmp)
        if ok:
            _put_in_place(tmp, final)
    finally:
        _discard(tmp)
    published = None
    if ok:
        from sentiment_pipeline.errors import PipelineError

        try:
            published = impl.publish(artifact, final, ctx)
        except PipelineError as exc:
            raise StepError(impl.name, "publish", str(exc)) from exc
    dynamic = report.checked.dynamic.summary if handler else ""
    # A layer artifact verified alone is labelled with its temporary name: drop that prefix.
    own_native = tuple(
        n.removeprefix(f"{tmp.name}:")
        for n in report.checked.native
        if not any(n.startswith(f"{layer.name}:") for layer in layers)
    )
    notes = list(assembled.notes)
    if published:
        notes.append(f"pushed {published}")
    if not ok:
        notes.insert(
            0,
            f"verification failed: {final} was not written (the previous one, if "
            "any, is untouched)",
        )
    return ArtifactResult(
        name=artifact.name,
        kind=artifact.kind,
        backend=impl.name,
        path=str(final),
        runtime=artifact.target.runtime,
        architecture=artifact.target.architecture,
        ok=ok,
        cache_hit=False,
        seconds=round(time.perf_counter() - started, 3),
        key=key,
        sha256=sha,
        zipped=zipped,
        unzipped=assembled.unzipped,
        files=assembled.files,
        native=own_native,
        compiled=assembled.compiled,
        problems=tuple(p.to_json() for p in report.problems),
        dynamic=dynamic,
        notes=tuple(notes),
        layers=tuple(str(p) for p in layers),
    )
