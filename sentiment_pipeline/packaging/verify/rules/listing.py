"""What an artifact's listing alone shows: unsafe names, Lambda's size limits, and
bytecode compiled for another Python."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.sandbox import TASK_ROOT
from sentiment_pipeline.packaging.verify.findings import ProblemCode, where

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.findings import Findings

__all__ = ["ListingChecks"]

# A bytecode cache file: __pycache__/NAME.TAG[.opt-N].pyc (PEP 3147, PEP 488).
_CACHED_BYTECODE = re.compile(r"(?:^|/)__pycache__/[^/.]+\.([^/.]+)(?:\.opt-\d+)?\.pyc$")


class ListingChecks:
    """Checks of names and sizes, artifact by artifact, then over all of them."""

    def __init__(self, findings: Findings, target: Target) -> None:
        self.findings = findings
        self.target = target
        self.foreign_bytecode: dict[str, list[int]] = {}
        """Per cache tag other than the target's: [files, bytes]."""

    def check(self, placed: Placed) -> None:
        """Unsafe entries; count the files, their bytes and the foreign bytecode."""
        tally = self.findings.counts
        for entry in placed.tree.entries():
            if entry.unsafe:
                self.findings.add(
                    ProblemCode.UNSAFE_PATH,
                    where(placed, entry.name),
                    f"{entry.name} {entry.unsafe}.",
                    fix="Rebuild the artifact from a clean directory; never deploy an "
                    "archive with such entries.",
                )
                continue
            if entry.kind != "file":
                continue
            tally.files += 1
            tally.bytes_unzipped += entry.size
            cached = _CACHED_BYTECODE.search(entry.name)
            if cached is not None and cached.group(1) != self.target.cache_tag:
                counts = self.foreign_bytecode.setdefault(cached.group(1), [0, 0])
                counts[0] += 1
                counts[1] += entry.size

    def note_foreign_bytecode(self) -> None:
        """Bytecode compiled by another Python (the build host's, often) is never read on
        the target: dead weight, not a failure. Say how much there is."""
        if not self.foreign_bytecode:
            return
        t = self.target
        files = sum(n for n, _ in self.foreign_bytecode.values())
        size = sum(b for _, b in self.foreign_bytecode.values())
        tags = ", ".join(f"{tag}: {n}" for tag, (n, _) in sorted(self.foreign_bytecode.items()))
        amount = f"{size / 2**20:.1f} MiB" if size >= 100_000 else f"{size / 2**10:.1f} KiB"
        self.findings.notes.append(
            f"{files} .pyc file(s) ({amount} unzipped) hold bytecode for another Python "
            f"({tags}); {t.runtime} reads only {t.cache_tag} bytecode, so they are dead "
            "weight: drop them (delete the __pycache__ directories; sentiment-pipeline "
            "build never ships the project's own and drops those of dependencies with "
            "slim = true)."
        )

    def check_size(self, placed: Sequence[Placed], *, s3_upload: bool) -> None:
        """Lambda's limits: layers per function, unzipped size (or image size), and the
        zip size of a direct upload."""
        t = self.target
        add = self.findings.add
        layers = [p for p in placed if p.role == "layer"]
        if len(layers) > t.limits.layers:
            add(
                ProblemCode.SIZE_LIMIT,
                "layers",
                f"{len(layers)} layers given; Lambda allows at most {t.limits.layers} per "
                "function. Merge layers, or move dependencies into the function.",
            )
        total = self.findings.counts.bytes_unzipped
        if any(p.tree.kind == "image" for p in placed):
            if total > t.limits.image:
                add(
                    ProblemCode.SIZE_LIMIT,
                    "image",
                    f"{TASK_ROOT} holds {total} bytes, over Lambda's {t.limits.image} byte "
                    "(10 GB) image limit. Drop unused dependencies, data and models.",
                )
        elif total > t.limits.unzipped:
            what = "function and layers unpack" if layers else "artifact unpacks"
            add(
                ProblemCode.SIZE_LIMIT,
                "unzipped",
                f"the {what} to {total} bytes ({total / 2**20:.1f} MiB); Lambda's "
                f"limit is {t.limits.unzipped} bytes (250 MiB) including all layers. Drop "
                "unused dependencies, build with slim = true (tests and C sources out of "
                'the dependencies, RECORD kept exact), or use backend = "container-image" '
                "(10 GB).",
            )
        for artifact in placed:
            size = artifact.tree.archive_size
            if size is not None and size > t.limits.zipped_upload and not s3_upload:
                add(
                    ProblemCode.SIZE_LIMIT,
                    artifact.tree.label,
                    f"the zip is {size} bytes ({size / 2**20:.1f} MiB), over the "
                    f"{t.limits.zipped_upload} byte (50 MiB) limit of a direct upload. "
                    "Upload it through S3 (build --s3-upload or s3-upload = true in "
                    "lambdas.toml; verify --s3-upload), or move dependencies "
                    "into a layer.",
                )
