"""Turning resolved wheels and sources into one zip, locally or through an engine.

Shared by the zip-based backends: ``prefix`` is ``""`` for a function (unpacked
to ``/var/task``) and ``"python/"`` for a layer (unpacked to ``/opt``).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.backend import AssembleResult, BuildContext, StepError
from sentiment_pipeline.packaging.install.crossinstall import (
    InstallError,
    source_members,
    wheel_members,
)
from sentiment_pipeline.packaging.plan import ALWAYS_EXCLUDED
from sentiment_pipeline.packaging.sandbox import lambda_path
from sentiment_pipeline.packaging.slimming import slim_members, slim_tree
from sentiment_pipeline.packaging.zipwriting import Member, compile_globs, write_zip

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.plan import ArtifactPlan
    from sentiment_pipeline.packaging.slimming import DistributionSize

__all__ = ["NO_BYTECODE_NOTE", "assemble_zip"]

NO_BYTECODE_NOTE = (
    "bytecode was not compiled (--engine none): every cold start compiles the sources; build "
    "with a container engine to ship .pyc from the target interpreter"
)


def assemble_zip(
    backend: str,
    artifact: ArtifactPlan,
    wheels: Sequence[Path],
    dest: Path,
    ctx: BuildContext,
    *,
    prefix: str,
) -> AssembleResult:
    """Write ``artifact`` as one deterministic zip at ``dest``; the zip backends' assemble.

    Wheels go under ``prefix`` (``""`` for a function, ``"python/"`` for a layer), the
    function's sources (if any) at the root. Without an engine the wheels are
    cross-installed member by member; with ``ctx.engine`` they are installed (and
    compiled) in ``artifact.build_image``. ``artifact.exclude`` filters the function's
    sources only; ``artifact.slim`` slims the installed distributions (see
    :mod:`~sentiment_pipeline.packaging.slimming`), whose sizes the result lists,
    largest first. Failures are :class:`StepError` named
    ``<backend>:install`` or ``<backend>:assemble``.
    """
    function = artifact.function
    # `exclude` is for the project's own sources: a glob that also matches files of an
    # installed distribution would leave it broken (RECORD lists them), so those stay.
    exclude = artifact.exclude
    user_exclude = compile_globs([p for p in exclude if p not in ALWAYS_EXCLUDED])
    cache_tag = artifact.target.cache_tag
    slim = artifact.slim
    if ctx.engine is None:
        members: list[Member] = []
        notes: list[str] = []
        sizes: list[DistributionSize] = []
        matched = 0
        try:
            for wheel in wheels:
                ctx.progress(f"{backend}:install {wheel.name}")
                found, left_out = wheel_members(wheel, prefix=prefix)
                found, size, slim_notes = slim_members(
                    found, prefix=prefix, cache_tag=cache_tag, policy=slim
                )
                if user_exclude is not None:
                    matched += sum(1 for m in found if user_exclude.fullmatch(m.name))
                members += found
                notes += [*left_out, *slim_notes]
                sizes += [size] if size is not None else []
            if function is not None:
                members += source_members(
                    function.root, function.sources, prefix=prefix, exclude=exclude
                )
        except InstallError as exc:
            raise StepError(backend, "install", str(exc)) from exc
        stats = _write(backend, dest, members)
        notes += _exclude_note(matched)
        return AssembleResult(
            False,
            (NO_BYTECODE_NOTE, *notes),
            stats["files"],
            stats["unzipped"],
            distributions=_largest_first(sizes),
            slim=slim.describe() if slim else "",
        )

    image = artifact.build_image
    tree = ctx.work / artifact.key / "tree"
    site = tree / prefix if prefix else tree
    site.mkdir(parents=True, exist_ok=True)
    if function is not None:
        for member in source_members(function.root, function.sources, exclude=exclude):
            assert member.file is not None
            target = site / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(member.file, target)
    ctx.progress(f"{backend}:install {len(wheels)} wheels in {image} ({ctx.engine.name})")
    from sentiment_pipeline.packaging.install.containersteps import install_in_container
    from sentiment_pipeline.packaging.install.engines import EngineError

    try:
        install_in_container(
            ctx.engine,
            image,
            wheels,
            site,
            python=artifact.target.python,
            compile_prefix=lambda_path("layer" if prefix else "function", prefix.rstrip("/")),
        )
    except EngineError as exc:
        raise StepError(backend, "install", str(exc)) from exc
    sizes, notes = slim_tree(site, cache_tag=cache_tag, policy=slim)
    # pip writes console scripts to bin/ with the build image's shebang; Lambda never runs
    # them and the local path leaves them out too (RECORD lists them outside the root).
    scripts = f"{prefix}bin/"
    members = []
    matched = 0
    for path in sorted(tree.rglob("*")):
        name = path.relative_to(tree).as_posix()
        if not path.is_file() or name.startswith(scripts):
            continue
        # The sources were filtered when copied: what matches now was installed.
        matched += user_exclude is not None and user_exclude.fullmatch(name) is not None
        members.append(Member(name, executable=bool(path.stat().st_mode & 0o111), file=path))
    stats = _write(backend, dest, members)
    return AssembleResult(
        True,
        (*notes, *_exclude_note(matched)),
        stats["files"],
        stats["unzipped"],
        distributions=_largest_first(sizes),
        slim=slim.describe() if slim else "",
    )


def _largest_first(sizes: list[DistributionSize]) -> tuple[DistributionSize, ...]:
    return tuple(sorted(sizes, key=lambda d: (-d.unzipped, d.name)))


def _exclude_note(matched: int) -> list[str]:
    if not matched:
        return []
    return [
        f"exclude matched {matched} file(s) of installed dependencies; they were kept: "
        "exclude applies to the project's own sources only (removing files a RECORD lists "
        "breaks the distribution). Use slim = true (or build --slim) to drop dependencies' "
        "tests, stubs, C sources and docs with RECORD kept exact"
    ]


def _write(backend: str, dest: Path, members: list[Member]) -> dict[str, int]:
    from sentiment_pipeline.packaging.zipwriting import ArchiveError

    try:
        return write_zip(dest, members)
    except (ArchiveError, OSError) as exc:
        raise StepError(backend, "assemble", str(exc)) from exc
