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

from sentiment_pipeline import __version__
from sentiment_pipeline.packaging.backend import Backend, BuildContext, StepError, load_backend
from sentiment_pipeline.packaging.cache import WheelCache, sha256_file
from sentiment_pipeline.packaging.lock import Lock, LockFile
from sentiment_pipeline.packaging.plan import ArtifactPlan, plan_functions

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sentiment_pipeline.packaging.manifest import Manifest

__all__ = ["ArtifactResult", "BuildResult", "build"]


@attrs.frozen
class ArtifactResult:
    """One artifact of a build, as it goes into ``report.json``."""

    name: str
    kind: str
    backend: str
    path: str
    runtime: str
    architecture: str
    ok: bool
    cache_hit: bool
    seconds: float
    key: str
    sha256: str | None = None
    zipped: int = 0
    unzipped: int = 0
    files: int = 0
    native: tuple[str, ...] = ()
    compiled: bool = False
    problems: tuple[dict[str, str], ...] = ()
    dynamic: str = ""
    notes: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
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
    artifacts: tuple[ArtifactResult, ...]
    reports: tuple[Path, ...]

    @property
    def ok(self) -> bool:
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


def build(
    manifest: Manifest,
    *,
    backend: str | None = None,
    only: Sequence[str] = (),
    out: Path = Path("dist"),
    engine: str = "auto",
    offline: bool = False,
    build_image: str | None = None,
    base_image: str | None = None,
    push: str | None = None,
    docker_archive: bool = False,
    verify_dynamic: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Build the selected Lambdas (all by default) with their backends; see the module doc."""
    out = Path(out).resolve()  # the report records where artifacts are: not cwd-bound
    functions = plan_functions(manifest, only=only, backend=backend)
    groups: dict[str, list[Any]] = {}
    for function in functions:
        groups.setdefault(function.backend, []).append(function)
    backends = {name: load_backend(name) for name in groups}
    # Engines are detected lazily: an unchanged rebuild must not pay for probing them.
    engine_state: dict[str, Any] = {}

    def get_engine() -> Any:
        if "engine" not in engine_state:
            if engine == "none":
                engine_state["engine"] = None
            else:
                from sentiment_pipeline.packaging.install.engines import detect

                engine_state["engine"] = detect(engine)
        return engine_state["engine"]

    lockfile = LockFile(manifest.path.with_suffix(".lock"))
    cache = WheelCache()
    results: list[ArtifactResult] = []
    reports: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sp-build-") as scratch:
        for name, group in groups.items():
            impl = backends[name]
            out_dir = out / name
            report_path = out_dir / "report.json"
            previous = _load_report(report_path)
            artifacts = impl.artifacts(group)
            locks = {
                a.key: lockfile.get(a.key, a.requirements, a.target, offline=offline)
                for a in artifacts
            }
            lockfile.save()
            built_layers: dict[str, Path] = {}
            group_results: list[ArtifactResult] = []
            for artifact in artifacts:
                wheels = _wheels_for(artifact, locks)
                image = build_image or (
                    artifact.function.build_image
                    if artifact.function
                    else artifact.layer.build_image
                    if artifact.layer
                    else None
                )
                key = _artifact_key(
                    impl,
                    artifact,
                    [w.sha256 for w in wheels],
                    engine,
                    image if engine != "none" else None,
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
                    not (push or docker_archive)
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
                        offline=offline,
                        work=Path(scratch),
                        progress=progress,
                        build_image=build_image,
                        base_image=base_image,
                        lockfile=lockfile,
                        push=push,
                        docker_archive=docker_archive,
                    )
                    from sentiment_pipeline.packaging.install.sdist import (
                        NativeBuilder,
                        built_wheels,
                    )

                    native = None
                    if ctx.engine is not None and image is not None:
                        native = NativeBuilder(ctx.engine, image, artifact.target, offline)
                    fetched = cache.fetch(wheels, offline=offline)
                    paths = built_wheels(wheels, fetched, cache, offline=offline, native=native)
                    result = _build_one(
                        impl, artifact, paths, final, ctx, key, layer_paths, verify_dynamic, started
                    )
                if artifact.kind == "layer" and result.ok:
                    built_layers[artifact.name] = final
                group_results.append(result)
            lockfile.save()  # image backends pin base digests while building
            _write_json(
                report_path,
                {
                    "backend": name,
                    "engine": engine,
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


def _image_of(artifact: ArtifactPlan, ctx: BuildContext) -> str | None:
    if ctx.build_image:
        return ctx.build_image
    if artifact.function is not None:
        return artifact.function.build_image
    return artifact.layer.build_image if artifact.layer is not None else None


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
    started: float,
) -> ArtifactResult:
    from sentiment_pipeline.packaging.verify import verify

    final.parent.mkdir(parents=True, exist_ok=True)
    # Lower-case hex only: an image layout here is also a container reference for the engine.
    token = hashlib.sha256(final.name.encode()).hexdigest()[:12]
    tmp = final.with_name(f"partial-{os.getpid()}-{token}{final.suffix}")
    try:
        assembled = impl.assemble(artifact, wheels, tmp, ctx)
        is_image = (tmp / "oci-layout").is_file()
        ctx.progress(f"{impl.name}:verify {artifact.key}")
        handler = artifact.function.handler if artifact.function else None
        report = verify(
            tmp,
            target=artifact.target,
            layers=layers,
            handler=handler,
            dynamic=verify_dynamic and artifact.kind == "function",
            offline=ctx.offline,
            # An image is imported inside itself when an engine is there; anything else
            # inside the build image, when this machine has no interpreter of the target.
            engine=ctx.engine,
            image=(f"oci:{tmp}:latest" if is_image else _image_of(artifact, ctx))
            if ctx.engine is not None
            else None,
            prefer_image=is_image,
        )
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
    dynamic = report.checked.get("dynamic", {}).get("summary", "") if handler else ""
    # A layer artifact verified alone is labelled with its temporary name: drop that prefix.
    own_native = tuple(
        n.removeprefix(f"{tmp.name}:")
        for n in report.checked.get("native", ())
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
