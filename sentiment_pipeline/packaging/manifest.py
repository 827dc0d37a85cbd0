"""``lambdas.toml``: one file that describes every Lambda of a project.

>>> m = Manifest.parse('''
... [defaults]
... runtime = "python3.13"
... [lambdas.api]
... handler = "handler.lambda_handler"
... ''', path=Path("lambdas.toml"), check_paths=False)
>>> m.lambdas["api"].handler
'handler.lambda_handler'

Every error names the file, the line and the key, and says what would be valid:
``lambdas.toml:14: lambdas.dashboard.handler: expected "module.function", got 'dashboard'``.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import attrs
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "ENVIRONMENT_NAME",
    "RESERVED_ENVIRONMENT",
    "Cors",
    "DeploySettings",
    "DeployTable",
    "FunctionUrl",
    "FunctionUrlTable",
    "LambdaSpec",
    "LayerSpec",
    "Manifest",
    "ManifestError",
    "SlimTable",
]

_HANDLER = re.compile(r"^[A-Za-z_][\w/]*(\.[A-Za-z_]\w*)*\.[A-Za-z_]\w*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
"""What Lambda accepts as an environment variable's name."""
RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""Environment variables Lambda reserves (a function may not set them): the deploy
table's ``environment`` and ``invoke --env`` refuse them."""
MAX_LAYERS = 5  # mirrors the target catalog; checked again against it per target


class ManifestError(PipelineError, ValueError):
    """A manifest that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


Architecture = Literal["x86_64", "arm64"]
Requirement = Annotated[str, Field(min_length=1)]
NonEmpty = Annotated[str, Field(min_length=1)]


Flag = Annotated[bool, Strict()]


class SlimTable(_Strict):
    """``slim = { strip = true }``: slimming with its options."""

    strip: Flag = False
    """Also ``strip --strip-unneeded`` shared objects (host binutils, host machine only)."""


class CorsTable(_Strict):
    """``cors = { allow-origins = [...], ... }`` of a Function URL (Lambda's ``Cors``)."""

    allow_origins: tuple[NonEmpty, ...] = Field(default=(), alias="allow-origins")
    allow_methods: tuple[NonEmpty, ...] = Field(default=(), alias="allow-methods")
    allow_headers: tuple[NonEmpty, ...] = Field(default=(), alias="allow-headers")
    expose_headers: tuple[NonEmpty, ...] = Field(default=(), alias="expose-headers")
    allow_credentials: Flag = Field(default=False, alias="allow-credentials")
    max_age: Annotated[int, Strict(), Field(ge=0, le=86400)] | None = Field(
        default=None, alias="max-age"
    )


class FunctionUrlTable(_Strict):
    """``function-url = { auth = "NONE", cors = {...} }``."""

    auth: Literal["NONE", "AWS_IAM"] = "NONE"
    cors: CorsTable | None = None


def _function_url_shape(value: object) -> object:
    """``function-url``: true/false or a table, with one error naming what is valid."""
    if value is None or isinstance(value, (bool, FunctionUrlTable)):
        return value
    if not isinstance(value, dict):
        raise ValueError(
            f'expected true, false or {{ auth = "NONE", cors = {{...}} }}, got {value!r}'
        )
    return FunctionUrlTable.model_validate(value)


class DeployTable(_Strict):
    """``[defaults.deploy]`` / ``[lambdas.NAME.deploy]``: how a Lambda is deployed.

    Unset keys of a Lambda's table fall back to ``[defaults.deploy]``;
    ``environment`` tables are merged (the Lambda's keys win).
    """

    function_name: NonEmpty | None = Field(default=None, alias="function-name")
    """The deployed function's name (default: ``name-prefix`` + the Lambda's name)."""
    name_prefix: str | None = Field(default=None, alias="name-prefix")
    role: str | None = None
    """The execution role's ARN: needed only to create the function."""
    memory: Annotated[int, Strict(), Field(ge=128, le=10240)] | None = None
    """MiB (128-10240)."""
    timeout: Annotated[int, Strict(), Field(ge=1, le=900)] | None = None
    """Seconds (1-900)."""
    environment: dict[str, str] | None = None
    function_url: Flag | FunctionUrlTable | None = Field(default=None, alias="function-url")
    smoke_event: NonEmpty | None = Field(default=None, alias="smoke-event")
    """A JSON file (relative to the manifest's folder): the event the new version is
    invoked with before traffic moves to it."""
    alias: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")] | None = None
    """The alias that takes traffic (default ``live``)."""

    @field_validator("alias")
    @classmethod
    def _alias_not_a_version(cls, value: str | None) -> str | None:
        if value is not None and value.isdigit():
            raise ValueError(f"{value!r} is a version number; an alias needs a letter")
        return value

    @field_validator("role")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(
                f"expected an IAM role ARN (arn:aws:iam::123456789012:role/NAME), got {value!r}"
            )
        return value

    @field_validator("function_url", mode="before")
    @classmethod
    def _url_shape(cls, value: object) -> object:
        return _function_url_shape(value)

    @field_validator("environment")
    @classmethod
    def _environment_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not ENVIRONMENT_NAME.match(key):
                raise ValueError(
                    f"{key!r} is not a valid environment variable name (letters, digits, "
                    "'_'; not starting with a digit)"
                )
            if key in RESERVED_ENVIRONMENT:
                raise ValueError(f"{key!r} is reserved by Lambda; choose another name")
        return value


@attrs.frozen
class Cors:
    """A Function URL's CORS settings, resolved."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None


@attrs.frozen
class FunctionUrl:
    """A Function URL, resolved: its auth type and CORS."""

    auth: Literal["NONE", "AWS_IAM"] = "NONE"
    cors: Cors | None = None


@attrs.frozen
class DeploySettings:
    """A Lambda's deploy settings, with ``[defaults.deploy]`` applied."""

    function_name: str
    role: str | None
    memory: int | None
    timeout: int | None
    environment: dict[str, str]
    function_url: FunctionUrl | None
    smoke_event: Path | None
    """Absolute."""
    alias: str


class _Overrides(_Strict):
    runtime: str | None = None
    architecture: Architecture | None = None
    backend: str | None = None
    exclude: tuple[str, ...] | None = None
    """Globs of the project's own ``sources`` never shipped; installed dependencies are
    never matched (``slim`` trims those)."""
    build_image: str | None = Field(default=None, alias="build-image")
    base_image: str | None = Field(default=None, alias="base-image")
    slim: Flag | SlimTable | None = None
    """Remove what Lambda never reads from installed distributions (tests, stubs, C
    sources, docs, foreign bytecode), RECORD rewritten to match."""
    s3_upload: Flag | None = Field(default=None, alias="s3-upload")
    """The zip is deployed through S3: over 50 MiB zipped is allowed (250 MiB unzipped)."""

    @field_validator("slim", mode="before")
    @classmethod
    def _slim_shape(cls, value: object) -> object:
        if value is None or isinstance(value, (bool, SlimTable)):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"expected true, false or {{ strip = true }}, got {value!r}")
        valid = ", ".join(SlimTable.model_fields)
        unknown = sorted(set(value) - set(SlimTable.model_fields))
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} in the slim table; expected: {valid}")
        if not all(isinstance(v, bool) for v in value.values()):
            raise ValueError("expected booleans in the slim table (e.g. { strip = true })")
        return SlimTable(**value)

    @field_validator("runtime")
    @classmethod
    def _known_runtime(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from sentiment_pipeline.packaging.targets import retired_runtime, runtimes

        if value not in runtimes():
            raise ValueError(
                retired_runtime(value)
                or f"unknown runtime {value!r}; expected one of {', '.join(runtimes())}"
            )
        return value

    @field_validator("architecture", mode="before")
    @classmethod
    def _architecture_alias(cls, value: object) -> object:
        # aarch64 and amd64 name the same machines as arm64 and x86_64.
        from sentiment_pipeline.packaging.targets import ARCHITECTURE_ALIASES

        return ARCHITECTURE_ALIASES.get(value, value) if isinstance(value, str) else value


class Defaults(_Overrides):
    """``[defaults]``: what every Lambda and layer uses unless it says otherwise."""

    deploy: DeployTable = DeployTable()

    runtime: str | None = "python3.13"
    architecture: Architecture | None = "x86_64"
    backend: str | None = "zip-in-docker"
    exclude: tuple[str, ...] | None = ()
    slim: Flag | SlimTable | None = False
    s3_upload: Flag | None = Field(default=False, alias="s3-upload")


class _Requirements(_Strict):
    requirements: tuple[Requirement, ...] = ()
    requirements_file: str | None = Field(default=None, alias="requirements-file")
    project: str | None = None
    """A ``pyproject.toml`` whose dependencies are installed (see :mod:`.project`)."""
    extras: tuple[Requirement, ...] = ()
    """The project's optional-dependencies to install too."""
    groups: tuple[Requirement, ...] = ()
    """The project's dependency groups (PEP 735) to install too."""


class LayerSpec(_Requirements, _Overrides):
    """``[layers.NAME]``: a Lambda layer of dependencies and first-party code.

    ``sources`` (folders or files, relative to the manifest's folder) go under
    ``python/``, so they import from ``/opt/python`` on Lambda. Without ``runtime``
    or ``architecture`` of its own, a layer is built for the target of each Lambda
    that lists it (once per target).
    """

    sources: tuple[NonEmpty, ...] = ()


class LambdaSpec(_Requirements, _Overrides):
    """``[lambdas.NAME]``: one function."""

    handler: str
    sources: tuple[NonEmpty, ...] = ()
    layers: tuple[NonEmpty, ...] = ()
    function_url: Flag | FunctionUrlTable | None = Field(default=None, alias="function-url")
    """Shorthand for ``deploy.function-url``: the Lambda answers HTTP (a Function URL)."""
    deploy: DeployTable = DeployTable()

    @field_validator("function_url", mode="before")
    @classmethod
    def _url_shape(cls, value: object) -> object:
        return _function_url_shape(value)

    @field_validator("handler")
    @classmethod
    def _handler_shape(cls, value: str) -> str:
        if not _HANDLER.match(value):
            raise ValueError(
                f'expected "module.function" (e.g. "handler.lambda_handler"), got {value!r}'
            )
        return value

    @field_validator("layers")
    @classmethod
    def _layer_count(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_LAYERS:
            raise ValueError(f"{len(value)} layers listed; Lambda allows at most {MAX_LAYERS}")
        return value


class _Document(_Strict):
    defaults: Defaults = Defaults()
    layers: dict[str, LayerSpec] = {}
    lambdas: dict[str, LambdaSpec]


class Manifest:
    """A validated manifest, with the directory its paths are relative to.

    Read one with :meth:`load` (a file) or :meth:`parse` (text); both raise
    :class:`ManifestError` listing every problem, each with its file, line and key.

    >>> m = Manifest.parse('[lambdas.api]\\nhandler = "app.handler"\\n',
    ...                    path=Path("/project/lambdas.toml"), check_paths=False)
    >>> m.root, list(m.lambdas), m.setting(m.lambdas["api"], "runtime")
    (PosixPath('/project'), ['api'], 'python3.13')
    """

    def __init__(self, path: Path, document: _Document, text: str = "") -> None:
        # Absolute once, here: every path key is relative to the manifest's folder,
        # whatever the working directory of what runs later.
        self.path = Path(path).resolve()
        """The manifest file, absolute."""
        self.root = self.path.parent
        """Its folder: what ``sources`` and ``requirements-file`` are relative to."""
        self.defaults = document.defaults
        """``[defaults]``."""
        self.layers = dict(document.layers)
        """``[layers.NAME]`` by name, in the file's order."""
        self.lambdas = dict(document.lambdas)
        """``[lambdas.NAME]`` by name, in the file's order."""
        self._locate = _Locator(text)
        self._projects: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], tuple[str, ...]]
        self._projects = {}

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        """Read and validate a manifest file; :class:`ManifestError` if it is unusable."""
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except FileNotFoundError:
            raise ManifestError(
                [f"{p}: no such manifest; create it or pass --manifest PATH"]
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError([f"{p}: cannot be read ({exc})"]) from exc
        return cls.parse(text, path=p)

    @classmethod
    def parse(cls, text: str, *, path: Path, check_paths: bool = True) -> Manifest:
        """Validate manifest ``text`` as if read from ``path`` (its folder is the root).

        ``check_paths``: also check that every ``sources`` and ``requirements-file``
        exists. Raises :class:`ManifestError` with every problem found.
        """
        path = Path(path).resolve()
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ManifestError([_toml_problem(path, text, exc)]) from exc
        locate = _Locator(text)
        try:
            document = _Document.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                keys = [str(part) for part in error["loc"] if not isinstance(part, int)]
                message = _explain(error)
                problems.append(f"{path}:{locate(keys)}: {_dotted(error['loc'])}: {message}")
            raise ManifestError(problems) from None
        manifest = cls(path, document, text)
        problems = manifest._cross_check(locate, check_paths=check_paths)
        if problems:
            raise ManifestError(problems)
        return manifest

    def _cross_check(self, locate: _Locator, *, check_paths: bool) -> list[str]:
        problems: list[str] = []

        def report(keys: list[str], message: str) -> None:
            problems.append(f"{self.path}:{locate(keys)}: {'.'.join(keys)}: {message}")

        names = {
            **{f"layers.{n}": n for n in self.layers},
            **{f"lambdas.{n}": n for n in self.lambdas},
        }
        for key, name in names.items():
            if not _NAME.match(name):
                report(key.split("."), "names may hold letters, digits, '-' and '_' only")
        for name, spec in self.lambdas.items():
            seen: set[str] = set()
            for layer in spec.layers:
                if layer in seen:
                    report(
                        ["lambdas", name, "layers"],
                        f"layer {layer!r} listed twice; Lambda takes each layer once",
                    )
                seen.add(layer)
                if layer not in self.layers:
                    defined = ", ".join(sorted(self.layers)) or "none"
                    report(
                        ["lambdas", name, "layers"],
                        f"undefined layer {layer!r} (defined: {defined}); add a "
                        f"[layers.{layer}] table",
                    )
                    continue
                self._check_layer_target(name, layer, locate, report)
        self._check_layer_build_images(report)
        for name, spec in self.lambdas.items():
            if spec.function_url is not None and spec.deploy.function_url is not None:
                report(
                    ["lambdas", name, "function-url"],
                    "also set in the deploy table; keep one (lambdas.NAME.function-url)",
                )
        for name, layer_spec in self.layers.items():
            for field, why in (
                ("backend", "the backend of each Lambda that lists it builds it"),
                ("base-image", "only a container image has a base; a layer's files join it"),
            ):
                if getattr(layer_spec, field.replace("-", "_")) is not None:
                    report(
                        ["layers", name, field],
                        f"not a layer setting ({why}); set it on the Lambdas or in [defaults]",
                    )
        self._check_source_names(locate, report)
        specs: list[tuple[str, str, LambdaSpec | LayerSpec]] = [
            *(("lambdas", n, spec) for n, spec in self.lambdas.items()),
            *(("layers", n, spec) for n, spec in self.layers.items()),
        ]
        for section, name, item in specs:
            for field in ("extras", "groups"):
                if getattr(item, field) and item.project is None:
                    report(
                        [section, name, field],
                        'needs project = "path/to/pyproject.toml" (they name parts of that '
                        "project)",
                    )
        if check_paths:
            for section, name, item in specs:
                paths = [("sources", rel) for rel in item.sources]
                if item.requirements_file:
                    paths.append(("requirements-file", item.requirements_file))
                for field, rel in paths:
                    if not (self.root / rel).exists():
                        report(
                            [section, name, field],
                            f"{rel!r} does not exist (paths are relative to {self.root})",
                        )
                    elif field == "requirements-file" and not (self.root / rel).is_file():
                        report(
                            [section, name, field],
                            f"{rel!r} is not a file; name a requirements file (one per line)",
                        )
                self._path_dependency_problems(section, name, item, report)
                if item.project is None:
                    continue
                from sentiment_pipeline.packaging.project import ProjectError, check_project

                try:
                    check_project(self.root / item.project, item.extras, item.groups)
                except ProjectError as exc:
                    report([section, name, exc.key], str(exc))
        return problems

    def _path_dependency_problems(
        self,
        section: str,
        name: str,
        item: LambdaSpec | LayerSpec,
        report: Callable[[list[str], str], None],
    ) -> None:
        """Path dependencies (``NAME @ file:PATH``) that do not exist."""
        from sentiment_pipeline.packaging.pathdeps import PathDependencyError, rebase

        for requirement in item.requirements:
            try:
                rebase(requirement, base=self.root, root=self.root)
            except PathDependencyError as exc:
                report([section, name, "requirements"], str(exc))

    def _check_layer_target(
        self,
        function: str,
        layer: str,
        locate: _Locator,
        report: Callable[[list[str], str], None],
    ) -> None:
        """A layer that sets its own runtime or architecture serves Lambdas of that target
        only; one without them is built for each Lambda's target."""
        spec, lam = self.layers[layer], self.lambdas[function]
        for field in ("runtime", "architecture"):
            own = getattr(spec, field)
            wanted = self.setting(lam, field)
            if own is not None and own != wanted:
                line = locate(["layers", layer, field])
                report(
                    ["lambdas", function, "layers"],
                    f"layer {layer!r} sets {field} = {own!r} (line {line}) but lambdas.{function} "
                    f"runs on {wanted!r}; remove the layer's {field} to build it for the target "
                    "of each Lambda that lists it, or give both the same",
                )

    def layer_targets(self, layer: str) -> tuple[tuple[str, str], ...]:
        """Every (runtime, architecture) the layer is built for: one per target of the
        Lambdas that list it (the layer's own runtime or architecture, when it sets
        them, wins), in the file's order.

        >>> m = Manifest.parse('[layers.l]\\n[lambdas.a]\\nhandler = "h.f"\\nlayers = ["l"]\\n'
        ...     '[lambdas.b]\\nhandler = "h.f"\\nlayers = ["l"]\\narchitecture = "arm64"\\n',
        ...     path=Path("lambdas.toml"), check_paths=False)
        >>> m.layer_targets("l")
        (('python3.13', 'x86_64'), ('python3.13', 'arm64'))
        """
        spec = self.layers[layer]
        targets = [
            (
                spec.runtime or self.setting(lam, "runtime"),
                spec.architecture or self.setting(lam, "architecture"),
            )
            for lam in self.lambdas.values()
            if layer in lam.layers
        ]
        return tuple(dict.fromkeys(targets))

    def _check_layer_build_images(self, report: Callable[[list[str], str], None]) -> None:
        for name, spec in self.layers.items():
            targets = self.layer_targets(name)
            if spec.build_image is not None and len(targets) > 1:
                listed = ", ".join(f"{r}/{a}" for r, a in targets)
                report(
                    ["layers", name, "build-image"],
                    f"one build image for a layer built for several targets ({listed}); "
                    "remove it (each target's own image is used), or give the layer a runtime "
                    "and architecture",
                )

    def _check_source_names(
        self, locate: _Locator, report: Callable[[list[str], str], None]
    ) -> None:
        """Two sources that land on one name (a folder keeps its name, a file lands at the
        root) in one Lambda's code: its own sources and its layers' (which a
        self-contained artifact carries beside them, and which Lambda's path would hide
        behind the function's)."""
        for section, specs in (("layers", self.layers), ("lambdas", self.lambdas)):
            for name, spec in specs.items():
                firsts: dict[str, str] = {}
                for rel in spec.sources:
                    top = Path(rel).name
                    if top in firsts:
                        report(
                            [section, name, "sources"],
                            f"{firsts[top]!r} and {rel!r} both land on {top!r}; keep one, or "
                            "rename one of them",
                        )
                    firsts.setdefault(top, rel)
        for name, lam in self.lambdas.items():
            owners: dict[str, str] = {Path(rel).name: f"lambdas.{name}" for rel in lam.sources}
            for layer in dict.fromkeys(lam.layers):
                if layer not in self.layers:
                    continue
                for rel in self.layers[layer].sources:
                    top = Path(rel).name
                    owner = owners.get(top)
                    if owner is not None and owner != f"layers.{layer}":
                        line = locate(["layers", layer, "sources"])
                        report(
                            [*owner.split("."), "sources"],
                            f"{top!r} is also in layers.{layer}.sources (line {line}), which "
                            f"lambdas.{name} lists; one of them would hide the other on "
                            "Lambda; keep it in one place",
                        )
                    owners.setdefault(top, f"layers.{layer}")

    def where(self, section: str, name: str, field: str) -> str:
        """``FILE:LINE: KEY``: where the setting ``field`` of ``[section.name]`` comes from
        (its own key, else ``[defaults]``'s, else the table's line), for an error about a
        value found unusable after loading (a backend that is not installed).

        >>> m = Manifest.parse('[defaults]\\nbackend = "zipp"\\n[lambdas.a]\\nhandler = "h.f"\\n',
        ...                    path=Path("/p/lambdas.toml"), check_paths=False)
        >>> m.where("lambdas", "a", "backend")
        '/p/lambdas.toml:2: defaults.backend'
        """
        spec = (self.lambdas if section == "lambdas" else self.layers)[name]
        attribute = field.replace("-", "_")
        if getattr(spec, attribute, None) is not None:
            keys = [section, name, field]
        elif attribute in self.defaults.model_fields_set:
            keys = ["defaults", field]
        else:
            keys = [section, name]
        return f"{self.path}:{self._locate(keys)}: {'.'.join(keys)}"

    def requirements_of(self, spec: LayerSpec | LambdaSpec) -> tuple[str, ...]:
        """Inline requirements, those of ``requirements-file`` (comments dropped) and those
        of ``project`` (with its ``extras`` and ``groups``; locked by its ``uv.lock``).

        Path dependencies are spelled ``NAME @ file:PATH`` relative to the manifest's
        folder, whichever file wrote them (:mod:`.pathdeps`).
        """
        from sentiment_pipeline.packaging.pathdeps import PathDependencyError, rebase

        where = self._where(spec)
        out = []
        for requirement in spec.requirements:
            try:
                out.append(rebase(requirement, base=self.root, root=self.root))
            except PathDependencyError as exc:
                raise ManifestError([f"{where('requirements')}: {exc}"]) from exc
        if spec.requirements_file:
            path = self.root / spec.requirements_file
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError([f"{path}: cannot be read ({exc})"]) from exc
            for number, line in enumerate(text.splitlines(), start=1):
                text = line.split(" #", 1)[0].strip()
                if not text or text.startswith("#"):
                    continue
                if text.startswith("-"):
                    raise ManifestError(
                        [
                            f"{path}:{number}: options such as {text.split()[0]!r} are not "
                            "supported in requirements files; list the requirements themselves"
                        ]
                    )
                try:
                    out.append(rebase(text, base=path.parent, root=self.root))
                except PathDependencyError as exc:
                    raise ManifestError([f"{path}:{number}: {exc}"]) from exc
        if spec.project is not None:
            out += self._project_requirements(spec, where)
        return tuple(dict.fromkeys(out))

    def _where(self, spec: LayerSpec | LambdaSpec) -> Callable[[str], str]:
        """``file:line: section.name.key`` of one of ``spec``'s keys, for its errors."""
        section, name = next(
            (
                (s, n)
                for s, table in (("lambdas", self.lambdas), ("layers", self.layers))
                for n, item in table.items()
                if item is spec
            ),
            ("lambdas", "?"),
        )

        def where(key: str) -> str:
            return f"{self.path}:{self._locate([section, name, key])}: {section}.{name}.{key}"

        return where

    def _project_requirements(
        self, spec: LayerSpec | LambdaSpec, where: Callable[[str], str]
    ) -> list[str]:
        from sentiment_pipeline.packaging.project import ProjectError, project_requirements

        assert spec.project is not None
        choice = (spec.project, spec.extras, spec.groups, self.setting(spec, "runtime"))
        if choice not in self._projects:
            try:
                self._projects[choice] = project_requirements(
                    self.root / spec.project,
                    self.root,
                    spec.extras,
                    spec.groups,
                    python=str(self.setting(spec, "runtime")).removeprefix("python"),
                )
            except ProjectError as exc:
                raise ManifestError([f"{where(exc.key)}: {exc}"]) from exc
        return list(self._projects[choice])

    def runtimes(self, only: Sequence[str] = ()) -> tuple[str, ...]:
        """The runtimes the Lambdas (those named in ``only``, else all) and their layers
        use, each once, in the file's order."""
        chosen = [spec for name, spec in self.lambdas.items() if not only or name in only]
        out = [self.setting(spec, "runtime") for spec in chosen]
        for spec in chosen:
            out += [
                self.layers[n].runtime or self.setting(spec, "runtime")
                for n in spec.layers
                if n in self.layers
            ]
        return tuple(dict.fromkeys(out))

    def setting(self, spec: _Overrides, field: str) -> Any:
        """A per-Lambda setting, falling back to ``[defaults]``."""
        value = getattr(spec, field)
        return getattr(self.defaults, field) if value is None else value

    def deploy_settings(self, name: str) -> DeploySettings:
        """Lambda ``name``'s deploy settings: its ``deploy`` table over
        ``[defaults.deploy]`` (``environment`` merged, the Lambda's keys winning).

        >>> m = Manifest.parse(
        ...     '[defaults.deploy]\\nname-prefix = "prod-"\\nenvironment = { A = "1" }\\n'
        ...     '[lambdas.api]\\nhandler = "h.f"\\nfunction-url = true\\n'
        ...     '[lambdas.api.deploy]\\nenvironment = { B = "2" }\\n',
        ...     path=Path("/p/lambdas.toml"), check_paths=False)
        >>> s = m.deploy_settings("api")
        >>> s.function_name, s.environment, s.function_url, s.alias
        ('prod-api', {'A': '1', 'B': '2'}, FunctionUrl(auth='NONE', cors=None), 'live')
        """
        spec = self.lambdas[name]
        own, base = spec.deploy, self.defaults.deploy

        def pick(field: str) -> Any:
            value = getattr(own, field)
            return getattr(base, field) if value is None else value

        url = spec.function_url if spec.function_url is not None else pick("function_url")
        function_url: FunctionUrl | None = None
        if url is True:
            function_url = FunctionUrl()
        elif isinstance(url, FunctionUrlTable):
            cors = None
            if url.cors is not None:
                cors = Cors(
                    allow_origins=url.cors.allow_origins,
                    allow_methods=url.cors.allow_methods,
                    allow_headers=url.cors.allow_headers,
                    expose_headers=url.cors.expose_headers,
                    allow_credentials=url.cors.allow_credentials,
                    max_age=url.cors.max_age,
                )
            function_url = FunctionUrl(auth=url.auth, cors=cors)
        smoke = pick("smoke_event")
        return DeploySettings(
            function_name=own.function_name or f"{pick('name_prefix') or ''}{name}",
            role=pick("role"),
            memory=pick("memory"),
            timeout=pick("timeout"),
            environment={**(base.environment or {}), **(own.environment or {})},
            function_url=function_url,
            smoke_event=(self.root / smoke) if smoke else None,
            alias=pick("alias") or "live",
        )


def _valid_keys(loc: tuple[Any, ...]) -> str:
    """The keys valid where the unknown key at ``loc`` was found."""
    model: type[BaseModel] = _Document
    tables: dict[str, type[BaseModel]] = {
        "defaults": Defaults,
        "deploy": DeployTable,
        "function-url": FunctionUrlTable,
        "FunctionUrlTable": FunctionUrlTable,
        "cors": CorsTable,
    }
    parts = [str(p) for p in loc[:-1] if not isinstance(p, int)]
    for index, part in enumerate(parts):
        if index == 1 and parts[0] in ("layers", "lambdas"):
            model = LayerSpec if parts[0] == "layers" else LambdaSpec
        elif part in tables:
            model = tables[part]
    keys = sorted(f.alias or n for n, f in model.model_fields.items())
    if model is LayerSpec:  # accepted only to say where they belong
        keys = [k for k in keys if k not in ("backend", "base-image")]
    return ", ".join(keys)


def _dotted(loc: Sequence[int | str]) -> str:
    """``('lambdas', 'api', 'sources', 1)`` -> ``lambdas.api.sources[1]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _toml_problem(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """``FILE:LINE: KEY: problem`` for TOML that does not parse (a key or table set twice
    names the key)."""
    found = re.search(r"line (\d+)", str(exc))
    line = int(found[1]) if found else 1
    twice = re.match(r"Cannot declare \((.*)\) twice", str(exc))
    if twice:
        key = ".".join(part.strip().strip("'\"") for part in twice[1].split(","))
        return f"{path}:{line}: {key}: declared twice; keep one [{key}] table"
    if str(exc).startswith("Cannot overwrite a value"):
        again = _Locator(text).key_at(line)
        if again:
            first = _Locator(text)(again.split("."))
            return f"{path}:{line}: {again}: set twice (first on line {first}); keep one"
    return f"{path}:{line}: invalid TOML: {exc}"


def _explain(error: Any) -> str:
    kind = error["type"]
    given = error.get("input")
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        return f"unknown key; expected one of: {_valid_keys(loc)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "bool_type":
        return f"expected true or false, got {error['input']!r}"
    if kind == "literal_error":
        return f"expected one of {error['ctx']['expected']}, got {given!r}"
    if kind in ("tuple_type", "list_type"):
        example = json.dumps([given]) if isinstance(given, str) else '["..."]'
        return f"expected a list, e.g. {loc[-1]} = {example}; got {given!r}"
    if kind == "string_type":
        return f"expected a string, got {given!r}"
    if kind == "string_too_short":
        return "empty string; remove it or give a value"
    if kind in ("dict_type", "model_type"):
        table = ".".join(str(part) for part in loc)
        if len(loc) == 1 and loc[0] in ("lambdas", "layers"):
            table = f"{loc[0]}.NAME"
        if isinstance(given, list):
            return f"expected a table [{table}], got an array of tables or a list"
        return f"expected a table [{table}], got {given!r}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


class _Locator:
    """Find the line of a dotted key in TOML text (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    @staticmethod
    def _norm(dotted: str) -> list[str]:
        return [part.strip().strip("\"'") for part in dotted.split(".")]

    def __call__(self, keys: list[str]) -> int:
        """The line of ``keys``, else of the deepest table that contains it, else of the
        first table inside it (``[lambda.api]`` for an unknown ``lambda``), else 1."""
        best, depth = 1, 0
        inside = 0
        table: list[str] = []
        for number, line in enumerate(self.lines, start=1):
            header = self._HEADER.match(line)
            if header:
                table = self._norm(header[1].strip("[]"))
                if table == keys[: len(table)] and len(table) > depth:
                    best, depth = number, len(table)
                    if table == keys:
                        return number
                elif not inside and table[: len(keys)] == keys:
                    inside = number
                continue
            key = self._KEY.match(line)
            if key and (table + self._norm(key[1])) == keys[: len(table) + 1 + key[1].count(".")]:
                return number
        return inside if inside and depth == 0 else best

    def key_at(self, number: int) -> str | None:
        """The dotted key set on line ``number`` (with its table), if one is."""
        table: list[str] = []
        for at, line in enumerate(self.lines[:number], start=1):
            header = self._HEADER.match(line)
            if header:
                table = self._norm(header[1].strip("[]"))
            elif at == number:
                key = self._KEY.match(line)
                return ".".join(table + self._norm(key[1])) if key else None
        return None
