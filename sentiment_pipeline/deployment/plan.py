"""The plan of a deploy, pure: what to upload, update, create or leave alone, per layer
and function, from the verified artifacts and what Lambda has.

Nothing is uploaded that Lambda has already: a layer's content against its latest
version's ``CodeSha256``, a zip's base64 sha256 against the function's ``CodeSha256``,
an image's digest against the function's ``ImageUri``, each setting against the
function's. A version is published, smoke-tested and given the alias only when
something changed, or when the alias does not run what is to be deployed (a previous
deploy whose smoke failed, an alias moved by hand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from sentiment_pipeline.deployment.state import Configuration, cors_to_aws

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sentiment_pipeline.deployment.artifacts import Deployable, LayerArtifact
    from sentiment_pipeline.deployment.state import FunctionState, LayerState

__all__ = ["FunctionStep", "LayerStep", "desired_configuration", "plan_function", "plan_layer"]


@attrs.frozen
class LayerStep:
    """One layer: publish a new version, or use the latest one."""

    layer: LayerArtifact
    current: LayerState
    publish: bool

    @property
    def arn(self) -> str:
        """The version the functions use: the latest one, or the one to publish."""
        if not self.publish and self.current.arn is not None:
            return self.current.arn
        return self.current.next_arn()

    def describe(self) -> str:
        """One line: what happens to the layer and the hashes compared."""
        local = self.layer.artifact.code_sha256
        if not self.publish:
            return (
                f"layer {self.layer.name}: unchanged (CodeSha256 {local} = version "
                f"{self.current.version}) -> {self.current.arn}"
            )
        if self.current.version is None:
            return f"layer {self.layer.name}: publish version 1 (CodeSha256 {local}, a new layer)"
        return (
            f"layer {self.layer.name}: publish a new version (CodeSha256 {local}, latest "
            f"version {self.current.version} has {self.current.code_sha256})"
        )


def plan_layer(layer: LayerArtifact, current: LayerState) -> LayerStep:
    """Publish unless the latest version holds the same content."""
    same = current.code_sha256 is not None and current.code_sha256 == layer.artifact.code_sha256
    return LayerStep(layer, current, publish=not same)


def desired_configuration(item: Deployable, layer_arns: Mapping[str, str]) -> Configuration:
    """The function's settings as the manifest and the build say, with its layers'
    version ARNs (``layer_arns``: by layer name)."""
    settings = item.settings
    image = item.function.is_image
    return Configuration(
        architecture=item.target.architecture,
        handler=None if image else item.handler,
        runtime=None if image else item.target.runtime,
        layers=() if image else tuple(layer_arns[layer.name] for layer in item.layers),
        memory=settings.memory,
        timeout=settings.timeout,
        environment=tuple(sorted(settings.environment.items())),
    )


UrlAction = Literal["create", "update"]


@attrs.frozen
class FunctionStep:
    """One function: what changes, and whether a version is released to its alias."""

    item: Deployable
    current: FunctionState
    desired: Configuration
    create: bool
    code: bool
    """Upload the code (``UpdateFunctionCode``; also when only the architecture changes)."""
    changes: tuple[str, ...]
    """Settings ``UpdateFunctionConfiguration`` changes (empty: no call)."""
    release: str | None
    """Why a version is published, smoke-tested and given the alias; None: it is not."""
    url: UrlAction | None
    url_changes: tuple[str, ...]
    public: bool | None
    """Grant (True) or revoke (False) the public invoke permissions of an ``auth =
    "NONE"`` Function URL; None: they are as they should be."""

    @property
    def function_name(self) -> str:
        return self.item.settings.function_name

    @property
    def unchanged(self) -> bool:
        return not (self.create or self.code or self.changes or self.release or self.url) and (
            self.public is None
        )

    def describe(self) -> list[str]:
        """The plan's lines for this function: what is done and the hashes compared."""
        name = self.item.name
        if self.function_name != name:
            name = f"{name} -> {self.function_name}"
        local = self.item.function.image or self.item.function.code_sha256
        latest = self.current.latest
        if self.unchanged:
            version = self.current.alias_version.version if self.current.alias_version else "?"
            return [
                f"{name}: unchanged (code {_short(local)} = deployed, configuration "
                f"the same, alias {self.current.alias} -> {version})"
            ]
        lines = []
        if self.create:
            lines.append(f"{name}: create (code {_short(local)})")
        elif self.code:
            before = latest.code if latest else "none"
            lines.append(f"{name}: upload code (local {_short(local)}, deployed {_short(before)})")
            if latest and self.desired.architecture != latest.configuration.architecture:
                lines.append(
                    f"{name}: architecture {latest.configuration.architecture} -> "
                    f"{self.desired.architecture}"
                )
        else:
            lines.append(f"{name}: code unchanged ({_short(local)} = deployed)")
        lines += [f"{name}: update {change}" for change in self.changes]
        if self.release:
            lines.append(
                f"{name}: publish a version, smoke-test it, then move alias "
                f"{self.current.alias} to it ({self.release})"
            )
        if self.url:
            detail = f": {', '.join(self.url_changes)}" if self.url_changes else ""
            lines.append(f"{name}: {self.url} the Function URL on {self.current.alias}{detail}")
        if self.public is not None:
            verb = "grant" if self.public else "revoke"
            lines.append(f"{name}: {verb} public access to the Function URL (auth NONE)")
        return lines


def _short(code: str) -> str:
    """A digest shortened for a plan line (the record keeps it whole)."""
    if "@sha256:" in code:
        code = "sha256:" + code.rpartition("@sha256:")[2]
    return code if len(code) <= 23 else code[:20] + "..."


def plan_function(
    item: Deployable, current: FunctionState, layer_arns: Mapping[str, str]
) -> FunctionStep:
    """Compare what is to be deployed with what Lambda has (pure)."""
    desired = desired_configuration(item, layer_arns)
    artifact = item.function
    latest = current.latest
    create = latest is None
    code = False
    changes: tuple[str, ...] = ()
    if latest is not None:
        code = not latest.runs(artifact.code_sha256, artifact.image) or (
            desired.architecture != latest.configuration.architecture
        )
        changes = desired.changes_from(latest.configuration)
    release: str | None = None
    if create:
        release = "a new function"
    elif code or changes:
        release = "code or configuration changed"
    elif current.alias_version is None:
        release = f"no alias {current.alias} yet"
    elif not current.alias_version.runs(artifact.code_sha256, artifact.image) or (
        desired.changes_from(current.alias_version.configuration)
    ):
        release = f"alias {current.alias} is at version {current.alias_version.version}, " + (
            "which runs other code or settings"
        )
    url: UrlAction | None = None
    url_changes: tuple[str, ...] = ()
    public: bool | None = None
    wanted = item.settings.function_url
    if wanted is not None:
        cors = cors_to_aws(wanted.cors)
        if current.url is None:
            url = "create"
            url_changes = (f"auth {wanted.auth}", *(["cors"] if cors else []))
        else:
            if current.url.auth != wanted.auth:
                url_changes += (f"auth {current.url.auth} -> {wanted.auth}",)
            if _normal(current.url.cors) != _normal(cors):
                url_changes += ("cors",)
            url = "update" if url_changes else None
        if (wanted.auth == "NONE") != current.public:
            public = wanted.auth == "NONE"
    return FunctionStep(
        item, current, desired, create, code, changes, release, url, url_changes, public
    )


def _normal(cors: Mapping[str, object]) -> dict[str, object]:
    """CORS settings compared as sets (Lambda may reorder lists, and drop empty ones)."""
    out: dict[str, object] = {}
    for key, value in cors.items():
        if isinstance(value, list):
            if value:
                out[key] = sorted(
                    str(v).lower() if key == "AllowHeaders" else str(v) for v in value
                )
        elif value not in (None, False):
            out[key] = value
    return out
