"""Every file an installed distribution's ``RECORD`` lists: present, and as installed
(the preprod 502 was a ``.so`` listed there and missing from the zip).

Bytecode under ``__pycache__`` is the exception: installers recompile it (pip
rewrites the ``numpy/distutils/__pycache__/*.pyc`` numpy's wheel ships), and Python
loads it only beside its source, checking it against that source and compiling the
source when it does not match. Such a ``.pyc`` that differs from RECORD, or is missing
while its source is there, is a note. A ``.pyc`` outside ``__pycache__`` (a sourceless
distribution), or one whose source is missing too, is checked like any other file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.verify.findings import ProblemCode, where

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.verify.distributions import Distribution, RecordRow
    from sentiment_pipeline.packaging.verify.findings import Findings

__all__ = ["Owners", "cached_source", "check_missing", "check_record"]

Owners = dict[str, tuple["Distribution", "RecordRow"]]
"""Which distribution's RECORD row claims each file of an artifact."""


def cached_source(path: str) -> str | None:
    """The source a ``__pycache__`` bytecode file is compiled from, or None for any
    other file.

    >>> cached_source("numpy/distutils/__pycache__/conv_template.cpython-311.pyc")
    'numpy/distutils/conv_template.py'
    >>> cached_source("legacy/module.pyc") is None
    True
    """
    *folders, cache, leaf = ["", *path.split("/")]
    if cache != "__pycache__" or not leaf.endswith(".pyc"):
        return None
    return "/".join([*folders[1:], leaf.partition(".")[0] + ".py"])


def check_missing(findings: Findings, placed: Placed, owners: Owners) -> None:
    """Files ``RECORD`` lists that ``placed`` does not hold."""
    files = {e.name for e in placed.tree.entries() if e.kind in ("file", "symlink")}
    for path, (dist, row) in owners.items():
        if path in files or row.digest is None:
            continue  # unhashed rows: RECORD itself, bytecode compiled at install time
        source = cached_source(path)
        if source is not None and source in files:
            findings.notes.append(
                f"{where(placed, path)} (listed in {dist.record_path}) is missing: not a "
                f"failure, Python compiles {source} instead"
            )
            continue
        findings.add(
            ProblemCode.MISSING_FILE,
            where(placed, path),
            f"{path} is listed in {dist.record_path} of {dist.display_name} "
            f"{dist.version} but is not in the artifact; importing it fails at run "
            "time (the preprod 502: 'No module named ...').",
            fix=f"Reinstall {dist.display_name} for the target and check that nothing "
            "strips files (exclude patterns, size trimming).",
        )


def check_record(
    findings: Findings,
    placed: Placed,
    name: str,
    dist: Distribution,
    row: RecordRow,
    *,
    digest: str,
    size: int,
) -> None:
    """A file's hash (RECORD's spelling) and size against its ``RECORD`` row."""
    findings.counts.hashed_files += 1
    if digest == row.digest and (row.size is None or row.size == size):
        return
    if cached_source(name) is not None:
        findings.notes.append(
            f"{where(placed, name)} differs from {dist.record_path}: not a failure, "
            "installers recompile __pycache__ and Python checks bytecode against its source"
        )
        return
    findings.add(
        ProblemCode.RECORD_MISMATCH,
        where(placed, name),
        f"{name} differs from {dist.record_path} ("
        + (f"size {size}, RECORD says {row.size}; " if row.size not in (None, size) else "")
        + f"{row.algorithm} {digest}, RECORD says {row.digest}): the file was "
        "modified or corrupted after install.",
        fix=f"Reinstall {dist.display_name} {dist.version} for the target.",
    )
