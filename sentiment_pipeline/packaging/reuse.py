"""When an artifact is unchanged: the key of everything it is made of, and what it is on disk.

An artifact whose key is in the last build's report and whose identity on disk is the
one reported then is not rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

from sentiment_pipeline._version import __version__
from sentiment_pipeline.packaging.cache import sha256_file

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.backend import Backend
    from sentiment_pipeline.packaging.plan import ArtifactPlan
    from sentiment_pipeline.packaging.results import ArtifactResult

__all__ = ["artifact_key", "identity", "unchanged"]


def _digest_sources(artifact: ArtifactPlan) -> str:
    """Content hash of the first-party files an artifact carries (names, modes and bytes:
    a function's sources, a layer's, and those of the layers a self-contained function
    carries), and of what decides them."""
    from sentiment_pipeline.packaging.assemble import first_party_members

    digest = hashlib.sha256()
    for member in sorted(first_party_members(artifact), key=lambda m: m.name):
        assert member.file is not None
        digest.update(member.name.encode() + b"\0" + str(member.executable).encode() + b"\0")
        digest.update(hashlib.sha256(member.file.read_bytes()).digest())
    for source_set in artifact.source_sets:
        digest.update(f"{source_set.owner}\0{source_set.exclude}\0".encode())
    function = artifact.function
    if function is not None:
        digest.update(f"{function.handler}\0{function.exclude}".encode())
        # The variables the import check ran with: another value, another verdict.
        digest.update(json.dumps(dict(function.environment), sort_keys=True).encode())
    elif artifact.layer is not None:
        digest.update(repr(artifact.layer.exclude).encode())
    return digest.hexdigest()


def _slimming(artifact: ArtifactPlan) -> str | None:
    """How the artifact is slimmed; with ``strip``, also the host's strip (another
    binutils, or another machine, strips other files or other bytes)."""
    policy = artifact.slim
    if policy is None:
        return None
    if not policy.strip:
        return policy.describe()
    from sentiment_pipeline.packaging.slimming import strip_identity

    return f"{policy.describe()}:{strip_identity()}"


def artifact_key(
    backend: Backend,
    artifact: ArtifactPlan,
    wheels: Sequence[str],
    engine: str,
    image: str | None,
    *,
    layers: Sequence[str] = (),
) -> str:
    """The hash of every input of ``artifact``: the builder's version, the backend, the
    subject, the target, the wheels' digests, the engine and its image, the sources,
    slimming, ``s3-upload`` and ``SOURCE_DATE_EPOCH``; and ``layers``, the keys of the
    layer artifacts it is verified with (a changed layer is a verification to run
    again). The same key, the same artifact, verified with the same layers."""
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
            "slim": _slimming(artifact),
            "s3_upload": artifact.s3_upload,
            "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
            **({"layers": list(layers)} if layers else {}),
        },
        sort_keys=True,
    )
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def identity(path: Path) -> str | None:
    """What the artifact is: a zip's sha256, or an image layout's manifest digest."""
    if path.is_dir():
        try:
            digest = json.loads((path / "index.json").read_text())["manifests"][0]["digest"]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        return str(digest)
    return sha256_file(path) if path.exists() else None


def unchanged(previous: dict[str, ArtifactResult], key: str, final: Path) -> ArtifactResult | None:
    """The earlier build's result for ``key``, when that artifact is still at ``final``."""
    hit = previous.get(key)
    if hit is None or not final.exists() or identity(final) != hit.sha256:
        return None
    return hit
