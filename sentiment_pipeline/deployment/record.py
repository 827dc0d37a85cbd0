"""``dist/deploy.json``: what a deploy did, per layer and function.

Written whole or not at all (a temporary file, then a rename), after every deploy
that was attempted (a dry run writes nothing); ``deploy --json`` prints it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline._version import __version__

if TYPE_CHECKING:
    from sentiment_pipeline.deployment.smoke import SmokeResult

__all__ = ["DeployRecord", "FunctionRecord", "LayerRecord", "render"]


@attrs.frozen
class LayerRecord:
    """One layer: the version the functions use and whether it was published now."""

    name: str
    arn: str
    version: int | None
    code_sha256: str
    published: bool


@attrs.frozen
class FunctionRecord:
    """One function after the deploy."""

    name: str
    """The Lambda's name in the manifest."""
    function_name: str
    alias: str
    version: str | None
    """The version the alias points at now (None: there is no alias yet)."""
    published: str | None
    """The version published by this deploy, if any (the alias may not point at it)."""
    code_sha256: str
    """Lambda's ``CodeSha256`` of what was deployed (base64 sha256 of a zip; an image's
    digest in hex)."""
    image_digest: str | None
    url: str | None
    changes: tuple[str, ...]
    """What changed, in order (empty: nothing)."""
    smoke: SmokeResult | None = None

    @property
    def ok(self) -> bool:
        return self.smoke is None or self.smoke.passed is not False

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["changes"] = list(self.changes)
        data["smoke"] = self.smoke.to_json() if self.smoke else None
        data["ok"] = self.ok
        return data


@attrs.frozen
class DeployRecord:
    """What :func:`~sentiment_pipeline.deployment.deploy` did (or, for a dry run, would do).

    >>> DeployRecord(region="us-east-1", dry_run=True, plan=("layer common: ...",)).ok
    True
    """

    region: str
    dry_run: bool = False
    layers: tuple[LayerRecord, ...] = ()
    functions: tuple[FunctionRecord, ...] = ()
    plan: tuple[str, ...] = ()
    """The plan's lines, as ``--dry-run`` prints them."""
    path: Path | None = None
    """Where the record was written (None for a dry run)."""

    @property
    def ok(self) -> bool:
        """Whether every function's smoke passed (or was skipped)."""
        return all(f.ok for f in self.functions)

    def to_json(self) -> dict[str, Any]:
        return {
            "deployer": __version__,
            "region": self.region,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "plan": list(self.plan),
            "layers": [attrs.asdict(layer) for layer in self.layers],
            "functions": [f.to_json() for f in self.functions],
        }

    def write(self, path: Path) -> DeployRecord:
        """Write the record to ``path`` (whole or not at all); returns it with ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            json.dump(self.to_json(), tmp, indent=2)
            tmp.write("\n")
        Path(tmp.name).chmod(0o644)
        os.replace(tmp.name, path)
        return attrs.evolve(self, path=path)


def render(record: DeployRecord) -> str:
    """The deploy as ``sentiment-pipeline deploy`` prints it: per layer and function
    what changed (or that nothing did), the smoke, where the alias is, the URL."""
    if record.dry_run:
        return "\n".join(["dry run: nothing was changed", *record.plan])
    lines = []
    for layer in record.layers:
        what = "published" if layer.published else "unchanged"
        lines.append(
            f"layer {layer.name}: {what}, version {layer.version} (CodeSha256 "
            f"{layer.code_sha256}) {layer.arn}"
        )
    for f in record.functions:
        head = f.name if f.function_name == f.name else f"{f.name} -> {f.function_name}"
        code = f"image {f.image_digest}" if f.image_digest else f"CodeSha256 {f.code_sha256}"
        if not f.changes and f.smoke is None:
            lines.append(f"{head}: unchanged ({code}); alias {f.alias} -> {f.version}")
        else:
            steps = list(f.changes)
            if f.smoke is not None:
                steps.insert(
                    steps.index(f"published version {f.published}") + 1, f.smoke.describe()
                )
            lines.append(f"{head}: {'; '.join(steps)} ({code})")
        if f.smoke is not None and f.smoke.passed is False:
            where = f"stays at version {f.version}" if f.version else "does not exist yet"
            lines.append(
                f"{head}: alias {f.alias} {where}: no traffic reaches version {f.published}"
            )
            lines += [f"{head}: log: {line}" for line in f.smoke.log_tail]
        if f.url:
            lines.append(f"{head}: url {f.url}")
    if record.path is not None:
        lines.append(f"record: {_shown(record.path)}")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
