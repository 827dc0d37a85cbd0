"""What a build made, and ``report.json``: every artifact, written after each backend and
read back by the next build to reuse what did not change.

>>> BuildResult(artifacts=(), reports=()).ok
True
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline._version import __version__
from sentiment_pipeline.packaging.slimming import DistributionSize
from sentiment_pipeline.packaging.verify.findings import Problem

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.options import EngineChoice
    from sentiment_pipeline.packaging.plan import ArtifactKind

__all__ = [
    "MIB",
    "ArtifactResult",
    "BuildResult",
    "mib",
    "read_report",
    "write_report",
]

MIB = 2**20
"""Bytes in a MiB: Lambda's limits are in MiB (50 MiB zipped, 250 MiB unzipped)."""


def mib(size: int) -> str:
    """A size in MiB, as the build table and the notes print it (KiB under 0.1 MiB).

    >>> mib(255 * 10**6), mib(250 * 2**20), mib(6_000)
    ('243.2 MiB', '250.0 MiB', '5.9 KiB')
    """
    if size < MIB // 10:
        return f"{size / 2**10:.1f} KiB"
    return f"{size / MIB:.1f} MiB"


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
    """The function's or layer's name in the manifest; a layer built for several targets
    carries its target: ``shared (python3.12/arm64)``."""
    kind: ArtifactKind
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
    problems: tuple[Problem, ...] = ()
    """The verifier's problems when ``ok`` is false."""
    warnings: tuple[Problem, ...] = ()
    """The verifier's warnings: findings its import check showed to be harmless."""
    dynamic: str = ""
    """What the import check of the handler found, in one line."""
    notes: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    """The layer artifacts it was verified with, in order."""
    distributions: tuple[DistributionSize, ...] = ()
    """Its installed distributions, largest first (after slimming)."""
    slim: str = ""
    """``slim`` or ``slim+strip`` when the distributions were slimmed, else empty."""
    pushed: str | None = None
    """Where an image backend pushed the image, by digest (``HOST/REPO@sha256:...``)."""

    @property
    def source_code_hash(self) -> str | None:
        """A zip's sha256 in base64: Lambda's ``CodeSha256`` for it, and the value
        Terraform's ``aws_lambda_function.source_code_hash`` expects
        (``filebase64sha256("api.zip")``); None for an image or a failed artifact.

        >>> ArtifactResult(name="api", kind="function", backend="zip-in-docker",
        ...     path="/p/api.zip", runtime="python3.13", architecture="x86_64", ok=True,
        ...     cache_hit=False, seconds=0.1, key="k", sha256="00" * 32).source_code_hash
        'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
        """
        if not self.ok or not self.sha256 or not self.path.endswith(".zip"):
            return None
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")

    @property
    def saved(self) -> int:
        """Bytes slimming took out of the distributions."""
        return sum(d.saved for d in self.distributions)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``report.json`` (lists where this holds tuples; each problem
        as ``verify --json`` gives it)."""
        data = attrs.asdict(self, recurse=False)
        data["native"], data["notes"], data["layers"] = (
            list(self.native),
            list(self.notes),
            list(self.layers),
        )
        data["distributions"] = [d.to_json() for d in self.distributions]
        data["problems"] = [p.to_json() for p in self.problems]
        data["warnings"] = [p.to_json() for p in self.warnings]
        data["source_code_hash"] = self.source_code_hash
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArtifactResult:
        """An artifact read back from :meth:`to_json`; keys it does not know are ignored.

        Raises ``KeyError``, ``TypeError`` or ``ValueError`` for a document that is not one.

        >>> result = ArtifactResult(name="api", kind="function", backend="layer", path="/a.zip",
        ...     runtime="python3.13", architecture="x86_64", ok=True, cache_hit=False,
        ...     seconds=0.5, key="sha256:...", native=("a.so",))
        >>> ArtifactResult.from_json(result.to_json()) == result
        True
        """
        fields = {f.name for f in attrs.fields(cls)}
        known = {k: v for k, v in data.items() if k in fields}
        for key in ("native", "notes", "layers"):
            known[key] = tuple(known.get(key, ()))
        for key in ("problems", "warnings"):
            known[key] = tuple(Problem.from_json(p) for p in known.get(key, ()))
        known["distributions"] = tuple(
            DistributionSize(**d) for d in known.get("distributions", ())
        )
        return cls(**known)


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


def read_report(path: Path) -> dict[str, ArtifactResult]:
    """The artifacts an earlier build verified, by key, from its ``report.json``; nothing
    when there is none or it cannot be read (then everything is built anew)."""
    try:
        data = json.loads(path.read_text())
        return {
            a["key"]: ArtifactResult.from_json(a) for a in data.get("artifacts", []) if a.get("ok")
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def write_report(
    path: Path, *, backend: str, engine: EngineChoice, artifacts: Sequence[ArtifactResult]
) -> None:
    """Write ``report.json`` for one backend's artifacts: whole or not at all."""
    data = {
        "backend": backend,
        "engine": engine,
        "builder": __version__,
        "artifacts": [a.to_json() for a in artifacts],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(data, tmp, indent=2)
        tmp.write("\n")
    Path(tmp.name).chmod(0o644)
    os.replace(tmp.name, path)
