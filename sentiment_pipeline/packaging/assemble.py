"""Turning resolved wheels and sources into one zip, locally or through an engine.

Shared by the zip-based backends: ``prefix`` is ``""`` for a function (unpacked
to ``/var/task``) and ``"python/"`` for a layer (unpacked to ``/opt``).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import attrs

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
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.install.bytecode import Compiled, Compiler
    from sentiment_pipeline.packaging.plan import ArtifactPlan
    from sentiment_pipeline.packaging.slimming import DistributionSize

__all__ = ["NO_BYTECODE_NOTE", "assemble_zip", "first_party_members"]

NO_BYTECODE_NOTE = (
    "bytecode was not compiled (--engine none and no interpreter of the target's Python on "
    "this machine): every cold start compiles the sources; install that Python (e.g. `uv "
    "python install {python}`) or build with a container engine to ship .pyc"
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

    Wheels go under ``prefix`` (``""`` for a function, ``"python/"`` for a layer), and
    so do the first-party sources (:func:`first_party_members`). Without an engine the
    wheels are cross-installed member by member (and compiled by an interpreter of the
    target's Python when this machine has one); with ``ctx.engine`` they are installed
    (and compiled) in ``artifact.build_image``. ``artifact.exclude`` filters the
    first-party sources only; ``artifact.slim`` slims the installed distributions (see
    :mod:`~sentiment_pipeline.packaging.slimming`), whose sizes the result lists, largest
    first. Failures are :class:`StepError` named ``<backend>:install`` or
    ``<backend>:assemble``.
    """
    # `exclude` is for the project's own sources: a glob that also matches files of an
    # installed distribution would leave it broken (RECORD lists them), so those stay.
    user_exclude = compile_globs([p for p in artifact.exclude if p not in ALWAYS_EXCLUDED])
    slim = artifact.slim
    root = lambda_path("layer" if prefix else "function", prefix.rstrip("/"))
    if ctx.engine is None:
        from sentiment_pipeline.packaging.install.bytecode import BytecodeError, find_compiler

        compiler = find_compiler(artifact.target)
        try:
            try:
                installed = _cross_install(
                    backend, artifact, wheels, ctx, prefix=prefix, root=root, compiler=compiler
                )
            except BytecodeError as exc:  # a broken interpreter: ship without, and say so
                compiler = None
                installed = _cross_install(
                    backend, artifact, wheels, ctx, prefix=prefix, root=root, compiler=None
                )
                installed.notes.insert(0, f"bytecode was not compiled: {exc}")
        except InstallError as exc:
            raise StepError(backend, "install", str(exc)) from exc
        notes = installed.notes
        if compiler is not None:
            notes.insert(
                0, f"bytecode compiled by {compiler.executable} (Python {compiler.version})"
            )
        elif not notes or not notes[0].startswith("bytecode was not compiled"):
            notes.insert(0, NO_BYTECODE_NOTE.format(python=artifact.target.python))
        stats = _write(backend, dest, installed.members)
        return AssembleResult(
            compiler is not None,
            (*notes, *_exclude_note(installed.matched)),
            stats["files"],
            stats["unzipped"],
            distributions=_largest_first(installed.sizes),
            slim=slim.describe() if slim else "",
        )

    image = artifact.build_image
    tree = ctx.work / artifact.key / "tree"
    site = tree / prefix if prefix else tree
    site.mkdir(parents=True, exist_ok=True)
    try:
        first_party = first_party_members(artifact)
    except InstallError as exc:
        raise StepError(backend, "install", str(exc)) from exc
    for member in first_party:
        if member.file is not None:
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
            compile_prefix=root,
        )
    except EngineError as exc:
        raise StepError(backend, "install", str(exc)) from exc
    sizes, notes = slim_tree(site, cache_tag=artifact.target.cache_tag, policy=slim)
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


def first_party_members(artifact: ArtifactPlan, *, prefix: str = "") -> list[Member]:
    """The first-party files ``artifact`` carries (:attr:`ArtifactPlan.source_sets`: a
    layer's sources, a function's and those of its layers no layer artifact provides),
    under ``prefix``; each set's ``exclude`` matched before the prefix. Raises
    :class:`~sentiment_pipeline.packaging.install.crossinstall.InstallError` for a
    source that does not exist."""
    members: list[Member] = []
    for source_set in artifact.source_sets:
        for member in source_members(
            source_set.root, source_set.sources, exclude=source_set.exclude
        ):
            members.append(attrs.evolve(member, name=prefix + member.name))
    return members


@attrs.define
class _Installed:
    """What a cross-install put in an artifact."""

    members: list[Member] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    sizes: list[DistributionSize] = attrs.Factory(list)
    matched: int = 0
    """Installed files an ``exclude`` glob matches (kept: exclude is for sources)."""


def _cross_install(
    backend: str,
    artifact: ArtifactPlan,
    wheels: Sequence[Path],
    ctx: BuildContext,
    *,
    prefix: str,
    root: str,
    compiler: Compiler | None,
) -> _Installed:
    """The members of ``artifact`` cross-installed from ``wheels`` (slimmed by
    ``artifact.slim``) and its sources, with ``.pyc`` compiled by ``compiler`` (none
    without it), and notes on what was left out."""
    from sentiment_pipeline.packaging.install.bytecode import source_bytecode, wheel_bytecode

    user_exclude = compile_globs([p for p in artifact.exclude if p not in ALWAYS_EXCLUDED])
    out = _Installed()
    compile_wheel: Callable[[Path, dict[str, str]], Compiled] | None = None
    if compiler is not None:
        with_compiler = compiler

        def compile_wheel(wheel: Path, sources: dict[str, str]) -> Compiled:
            return wheel_bytecode(with_compiler, wheel, sources, root)

    for wheel in wheels:
        ctx.progress(f"{backend}:install {wheel.name}")
        found, left_out = wheel_members(wheel, prefix=prefix, bytecode=compile_wheel)
        found, size, slim_notes = slim_members(
            found, prefix=prefix, cache_tag=artifact.target.cache_tag, policy=artifact.slim
        )
        if user_exclude is not None:
            out.matched += sum(1 for m in found if user_exclude.fullmatch(m.name))
        out.members += found
        out.notes += [*left_out, *slim_notes]
        out.sizes += [size] if size is not None else []
    own = first_party_members(artifact, prefix=prefix)
    out.members += own
    if own and compiler is not None:
        files = {
            m.name.removeprefix(prefix): m.file
            for m in own
            if m.file is not None and m.name.endswith(".py")
        }
        compiled = source_bytecode(compiler, files, root)
        out.members += [Member(prefix + name, data=data) for name, data in compiled.data.items()]
    return out


def _write(backend: str, dest: Path, members: list[Member]) -> dict[str, int]:
    from sentiment_pipeline.packaging.zipwriting import ArchiveError

    try:
        return write_zip(dest, members)
    except (ArchiveError, OSError) as exc:
        raise StepError(backend, "assemble", str(exc)) from exc
