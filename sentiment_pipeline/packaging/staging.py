"""One artifact from assembly to its place: assembled at a temporary path beside its
final one, verified there, and renamed into place only when verification passed (the
previous artifact is untouched otherwise); then published.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.backend import StepError
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.results import ArtifactResult, mib
from sentiment_pipeline.packaging.reuse import identity
from sentiment_pipeline.packaging.verify.findings import ProblemCode

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.backend import AssembleResult, Backend, BuildContext
    from sentiment_pipeline.packaging.options import BuildOptions
    from sentiment_pipeline.packaging.plan import ArtifactPlan
    from sentiment_pipeline.packaging.verify.findings import Problem
    from sentiment_pipeline.packaging.verify.memo import ReadMemo

__all__ = ["name_largest", "place_verified", "size_notes"]


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


def place_verified(
    impl: Backend,
    artifact: ArtifactPlan,
    wheels: list[Path],
    final: Path,
    ctx: BuildContext,
    options: BuildOptions,
    *,
    key: str,
    layers: list[Path],
    started: float,
    memo: ReadMemo | None = None,
) -> ArtifactResult:
    """Assemble ``artifact`` from ``wheels`` with ``impl``, verify it with ``layers`` (the
    layer artifacts it is deployed with), and put it at ``final`` only when it passed;
    then publish it. A failed verification is a result with ``ok`` false and the
    problems, nothing at ``final``; a failed publish a :class:`StepError`. With
    ``memo``, a layer's member facts are kept for verifying the functions that use it,
    and a function's layers verified earlier in the build are not read again."""
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
        checks = VerifyOptions(
            layers=layers,
            handler=handler,
            dynamic=options.verify_dynamic and artifact.kind == "function",
            offline=ctx.offline,
            s3_upload=artifact.s3_upload,
            # An image is imported inside itself when an engine is there; anything else
            # inside the build image, when this machine has no interpreter of the target.
            engine=options.engine if engine is not None else "none",
            image=(f"oci:{tmp}:latest" if is_image else artifact.build_image)
            if engine is not None
            else None,
            prefer_image=is_image and engine is not None,
            environment=artifact.function.environment if artifact.function else {},
        )
        # The target is known: an image built for another architecture is a problem of
        # this build (its base image), reported, not unusable input.
        if memo is not None and artifact.kind == "layer" and not is_image:
            memo.record(tmp)
        report = verify_with(
            tmp, artifact.target, checks, container=lambda: engine, conflicts="report", memo=memo
        )
        ok = report.ok
        sha = identity(tmp) if ok else None
        if memo is not None:
            memo.seal(tmp, sha, final)
        zipped = _size(tmp)
        if ok:
            if tmp.is_file():
                tmp.chmod(0o644)  # whatever the umask: every user (and engine) reads it
            _put_in_place(tmp, final)
    finally:
        _discard(tmp)
    published = None
    if ok:
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
    notes += [f"warning: {warning}" for warning in report.checked.warnings]
    if published:
        notes.append(f"pushed {published}")
    notes += size_notes(artifact, final, zipped, ok=ok)
    if not ok:
        notes.insert(
            0,
            f"verification failed: {final} was not written (the previous one, if "
            "any, is untouched)",
        )
    return ArtifactResult(
        name=artifact.label,
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
        problems=name_largest(report.problems, artifact, assembled),
        warnings=report.warnings,
        dynamic=dynamic,
        notes=tuple(notes),
        layers=tuple(str(p) for p in layers),
        distributions=assembled.distributions,
        slim=assembled.slim,
        pushed=_pushed_reference(published),
    )


def _pushed_reference(published: str | None) -> str | None:
    """The ``HOST/REPO@sha256:...`` that a backend's publish() names first, if any.

    >>> _pushed_reference("127.0.0.1:5000/sp/api@sha256:ab (uploaded 1)")
    '127.0.0.1:5000/sp/api@sha256:ab'
    """
    first = (published or "").split(" ", 1)[0]
    return first if "@sha256:" in first else None


def size_notes(artifact: ArtifactPlan, final: Path, zipped: int, *, ok: bool) -> list[str]:
    """How to deploy a verified zip over Lambda's 50 MiB direct upload: through S3."""
    limits = artifact.target.limits
    if not ok or final.suffix != ".zip" or zipped <= limits.zipped_upload:
        return []
    key = f"{artifact.name}.zip"
    if artifact.kind == "layer":
        deploy = (
            f"aws lambda publish-layer-version --layer-name {artifact.name} "
            f"--content S3Bucket=BUCKET,S3Key={key}"
        )
    else:
        deploy = (
            f"aws lambda update-function-code --function-name FUNCTION "
            f"--s3-bucket BUCKET --s3-key {key}"
        )
    return [
        f"{mib(zipped)} zipped is over the {mib(limits.zipped_upload)} of a direct upload: "
        f"deploy through S3 (aws s3 cp {final} s3://BUCKET/{key}, then {deploy})"
    ]


def name_largest(
    problems: tuple[Problem, ...], artifact: ArtifactPlan, assembled: AssembleResult
) -> tuple[Problem, ...]:
    """The 250 MiB unzipped problem, with this artifact's largest distributions named and
    what to do about them (``slim``, a container image); other problems as they are."""
    out = []
    for problem in problems:
        if problem.code is ProblemCode.SIZE_LIMIT and problem.path == "unzipped":
            heaviest = ", ".join(f"{d.name} {mib(d.unzipped)}" for d in assembled.distributions[:5])
            advice = [] if assembled.slim else ["slim = true (or build --slim)"]
            if artifact.kind == "function":
                advice.append('backend = "container-image" (10 GB)')
            extra = f" Largest distributions of {artifact.name}: {heaviest or 'none'}" + (
                f"; try {' or '.join(advice)}." if advice else "."
            )
            problem = attrs.evolve(problem, message=problem.message + extra)
        out.append(problem)
    return tuple(out)
