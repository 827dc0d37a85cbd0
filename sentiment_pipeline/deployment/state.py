"""What Lambda has: a function's ``$LATEST``, the version its alias points at, its
Function URL, a layer's latest version. Plain values read from AWS's answers (by
:mod:`.aws`), compared with what is to be deployed (by :mod:`.plan`).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

__all__ = [
    "Configuration",
    "Deployed",
    "FunctionState",
    "LayerState",
    "UrlState",
    "cors_to_aws",
    "image_digest",
]


def image_digest(uri: str | None) -> str | None:
    """The ``sha256:...`` of an image reference by digest, else None.

    >>> image_digest("1.dkr.ecr.us-east-1.amazonaws.com/api@sha256:ab"), image_digest("x:1")
    ('sha256:ab', None)
    """
    if not uri or "@sha256:" not in uri:
        return None
    return "sha256:" + uri.rpartition("@sha256:")[2]


@attrs.frozen
class Configuration:
    """The settings of a function that deploy manages, comparable.

    ``memory`` and ``timeout`` None: not managed (Lambda's defaults on creation, left
    alone after). ``handler``, ``runtime`` and ``layers`` are None/empty for an image.
    """

    architecture: str
    handler: str | None = None
    runtime: str | None = None
    layers: tuple[str, ...] = ()
    memory: int | None = None
    timeout: int | None = None
    environment: tuple[tuple[str, str], ...] = ()
    """Sorted (name, value) pairs: the function's whole environment."""

    @classmethod
    def from_aws(cls, conf: dict[str, Any]) -> Configuration:
        """From a ``GetFunctionConfiguration`` answer."""
        variables = (conf.get("Environment") or {}).get("Variables") or {}
        return cls(
            architecture=(conf.get("Architectures") or ["x86_64"])[0],
            handler=conf.get("Handler"),
            runtime=conf.get("Runtime"),
            layers=tuple(layer["Arn"] for layer in conf.get("Layers") or ()),
            memory=conf.get("MemorySize"),
            timeout=conf.get("Timeout"),
            environment=tuple(sorted(variables.items())),
        )

    def to_aws(self) -> dict[str, Any]:
        """The parameters of ``CreateFunction``/``UpdateFunctionConfiguration`` it sets
        (``Architectures`` is a code parameter on update: see :mod:`.aws`)."""
        params: dict[str, Any] = {"Environment": {"Variables": dict(self.environment)}}
        if self.handler is not None:
            params["Handler"] = self.handler
            params["Runtime"] = self.runtime
            params["Layers"] = list(self.layers)
        if self.memory is not None:
            params["MemorySize"] = self.memory
        if self.timeout is not None:
            params["Timeout"] = self.timeout
        return params

    def changes_from(self, current: Configuration) -> tuple[str, ...]:
        """What ``UpdateFunctionConfiguration`` changes from ``current``, one phrase per
        setting (the architecture is the code's: ``UpdateFunctionCode`` sets it);
        environment values are never shown (they may be secrets), only the names.

        >>> new = Configuration("x86_64", "a.h", "python3.13", memory=256,
        ...                     environment=(("TOKEN", "s3cret"),))
        >>> new.changes_from(Configuration("x86_64", "a.h", "python3.12", memory=128))
        ('runtime python3.12 -> python3.13', 'memory 128 -> 256', 'environment: TOKEN added')
        """
        out: list[str] = []
        for field in ("handler", "runtime", "memory", "timeout"):
            want, have = getattr(self, field), getattr(current, field)
            if want is not None and want != have:
                out.append(f"{field} {have} -> {want}")
        if self.handler is not None and self.layers != current.layers:
            out.append(f"layers {list(current.layers)} -> {list(self.layers)}")
        want_env, have_env = dict(self.environment), dict(current.environment)
        if want_env != have_env:
            parts = [f"{n} added" for n in sorted(want_env.keys() - have_env.keys())]
            parts += [f"{n} removed" for n in sorted(have_env.keys() - want_env.keys())]
            parts += [
                f"{n} changed"
                for n in sorted(want_env.keys() & have_env.keys())
                if want_env[n] != have_env[n]
            ]
            out.append("environment: " + ", ".join(parts))
        return tuple(out)


@attrs.frozen
class Deployed:
    """A function's ``$LATEST`` or one of its versions, as Lambda describes it."""

    version: str
    package_type: Literal["Zip", "Image"]
    code_sha256: str
    image_uri: str | None
    """An image function's ``ImageUri`` (with its digest when deployed by digest)."""
    configuration: Configuration
    last_modified: str = ""

    @classmethod
    def from_aws(cls, conf: dict[str, Any], code: dict[str, Any] | None = None) -> Deployed:
        """From ``GetFunction``'s ``Configuration`` and ``Code`` (or a version's
        configuration alone: its ``ImageUri`` then comes from ``code`` when given)."""
        uri = (code or {}).get("ImageUri")
        resolved = (code or {}).get("ResolvedImageUri")
        if uri and image_digest(uri) is None and image_digest(resolved):
            # Deployed by tag: the digest Lambda resolved it to is what runs.
            uri = f"{uri.rsplit(':', 1)[0]}@{image_digest(resolved)}"
        return cls(
            version=str(conf.get("Version", "$LATEST")),
            package_type="Image" if conf.get("PackageType") == "Image" else "Zip",
            code_sha256=str(conf.get("CodeSha256", "")),
            image_uri=uri,
            configuration=Configuration.from_aws(conf),
            last_modified=str(conf.get("LastModified", "")),
        )

    def runs(self, code_sha256: str, image: str | None) -> bool:
        """Whether this is the given code: the same zip (``CodeSha256``), or the same
        image repository at the same digest."""
        if image is None:
            return self.package_type == "Zip" and self.code_sha256 == code_sha256
        if self.package_type != "Image" or self.image_uri is None:
            return False
        return (
            image_digest(self.image_uri) == image_digest(image)
            and self.image_uri.rpartition("@")[0] == image.rpartition("@")[0]
        )

    @property
    def code(self) -> str:
        """What runs, as the plan prints it: the image digest or the zip's ``CodeSha256``."""
        return image_digest(self.image_uri) or self.code_sha256


@attrs.frozen
class UrlState:
    """A Function URL's configuration."""

    url: str
    auth: str
    cors: dict[str, Any]


def cors_to_aws(cors: Any) -> dict[str, Any]:
    """A manifest's :class:`~sentiment_pipeline.packaging.manifest.Cors` (or None) as
    Lambda's ``Cors`` structure, with only the keys that are set.

    >>> from sentiment_pipeline.packaging.manifest import Cors
    >>> cors_to_aws(Cors(allow_origins=("https://a.example",), max_age=60))
    {'AllowOrigins': ['https://a.example'], 'MaxAge': 60}
    """
    if cors is None:
        return {}
    out: dict[str, Any] = {}
    for key, value in (
        ("AllowOrigins", list(cors.allow_origins)),
        ("AllowMethods", list(cors.allow_methods)),
        ("AllowHeaders", list(cors.allow_headers)),
        ("ExposeHeaders", list(cors.expose_headers)),
    ):
        if value:
            out[key] = value
    if cors.allow_credentials:
        out["AllowCredentials"] = True
    if cors.max_age is not None:
        out["MaxAge"] = cors.max_age
    return out


@attrs.frozen
class FunctionState:
    """A function as deploy finds it: None for what does not exist."""

    name: str
    latest: Deployed | None
    alias: str
    alias_version: Deployed | None
    url: UrlState | None = None
    public: bool = False
    """Whether the alias grants the public invoke permissions of an ``auth = "NONE"`` URL."""


@attrs.frozen
class LayerState:
    """A layer's latest version, or none."""

    name: str
    version: int | None = None
    arn: str | None = None
    """The latest version's ARN."""
    code_sha256: str | None = None

    def next_arn(self) -> str:
        """The ARN the next published version will have, as a dry run's plan shows it
        (the layer's ARN is known only once a version exists).

        >>> LayerState("common", 3, "arn:aws:lambda:us-east-1:1:layer:common:3").next_arn()
        'arn:aws:lambda:us-east-1:1:layer:common:4'
        >>> LayerState("common").next_arn()
        'common:1 (new layer)'
        """
        if self.arn is None:
            return f"{self.name}:1 (new layer)"
        return f"{self.arn.rsplit(':', 1)[0]}:{(self.version or 0) + 1}"
