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

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["LambdaSpec", "LayerSpec", "Manifest", "ManifestError", "SlimTable"]

_HANDLER = re.compile(r"^[A-Za-z_][\w/]*(\.[A-Za-z_]\w*)*\.[A-Za-z_]\w*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
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


Flag = Annotated[bool, Strict()]


class SlimTable(_Strict):
    """``slim = { strip = true }``: slimming with its options."""

    strip: Flag = False
    """Also ``strip --strip-unneeded`` shared objects (host binutils, host machine only)."""


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

    runtime: str | None = "python3.13"
    architecture: Architecture | None = "x86_64"
    backend: str | None = "zip-in-docker"
    exclude: tuple[str, ...] | None = ()
    slim: Flag | SlimTable | None = False
    s3_upload: Flag | None = Field(default=False, alias="s3-upload")


class _Requirements(_Strict):
    requirements: tuple[Requirement, ...] = ()
    requirements_file: str | None = Field(default=None, alias="requirements-file")


class LayerSpec(_Requirements, _Overrides):
    """``[layers.NAME]``: a Lambda layer of dependencies."""


class LambdaSpec(_Requirements, _Overrides):
    """``[lambdas.NAME]``: one function."""

    handler: str
    sources: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()

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

    def __init__(self, path: Path, document: _Document) -> None:
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
            line = re.search(r"line (\d+)", str(exc))
            raise ManifestError([f"{path}:{line[1] if line else 1}: invalid TOML: {exc}"]) from exc
        locate = _Locator(text)
        try:
            document = _Document.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                keys = [str(part) for part in error["loc"]]
                message = _explain(error)
                problems.append(f"{path}:{locate(keys)}: {'.'.join(keys)}: {message}")
            raise ManifestError(problems) from None
        manifest = cls(path, document)
        problems = manifest._cross_check(locate, check_paths=check_paths)
        if problems:
            raise ManifestError(problems)
        return manifest

    def _cross_check(self, locate: _Locator, *, check_paths: bool) -> list[str]:
        problems: list[str] = []
        names = {
            **{f"layers.{n}": n for n in self.layers},
            **{f"lambdas.{n}": n for n in self.lambdas},
        }
        for key, name in names.items():
            if not _NAME.match(name):
                where = f"{self.path}:{locate(key.split('.'))}"
                problems.append(f"{where}: {key}: names may hold letters, digits, '-' and '_' only")
        for name, spec in self.lambdas.items():
            for layer in spec.layers:
                if layer not in self.layers:
                    defined = ", ".join(sorted(self.layers)) or "none"
                    where = f"{self.path}:{locate(['lambdas', name, 'layers'])}"
                    problems.append(
                        f"{where}: lambdas.{name}.layers: undefined layer {layer!r} "
                        f"(defined: {defined}); add a [layers.{layer}] table"
                    )
        if check_paths:
            specs: list[tuple[str, str, LambdaSpec | LayerSpec]] = [
                *(("lambdas", n, spec) for n, spec in self.lambdas.items()),
                *(("layers", n, spec) for n, spec in self.layers.items()),
            ]
            for section, name, item in specs:
                paths = [("sources", rel) for rel in getattr(item, "sources", ())]
                if item.requirements_file:
                    paths.append(("requirements-file", item.requirements_file))
                for field, rel in paths:
                    if not (self.root / rel).exists():
                        where = f"{self.path}:{locate([section, name, field])}"
                        problems.append(
                            f"{where}: {section}.{name}.{field}: {rel!r} does not exist "
                            f"(paths are relative to {self.root})"
                        )
        return problems

    def requirements_of(self, spec: LayerSpec | LambdaSpec) -> tuple[str, ...]:
        """Inline requirements plus those of ``requirements-file`` (comments dropped)."""
        out = list(spec.requirements)
        if spec.requirements_file:
            path = self.root / spec.requirements_file
            for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
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
                out.append(text)
        return tuple(out)

    def runtimes(self, only: Sequence[str] = ()) -> tuple[str, ...]:
        """The runtimes the Lambdas (those named in ``only``, else all) and their layers
        use, each once, in the file's order."""
        chosen = [spec for name, spec in self.lambdas.items() if not only or name in only]
        specs: list[LambdaSpec | LayerSpec] = [*chosen]
        specs += [self.layers[n] for spec in chosen for n in spec.layers if n in self.layers]
        return tuple(dict.fromkeys(self.setting(spec, "runtime") for spec in specs))

    def setting(self, spec: _Overrides, field: str) -> Any:
        """A per-Lambda setting, falling back to ``[defaults]``."""
        value = getattr(spec, field)
        return getattr(self.defaults, field) if value is None else value


def _valid_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = _Document
    if loc and loc[0] == "defaults":
        model = Defaults
    elif loc and loc[0] in ("layers", "lambdas") and len(loc) > 2:
        model = LayerSpec if loc[0] == "layers" else LambdaSpec
    keys = sorted(f.alias or n for n, f in model.model_fields.items())
    return ", ".join(keys)


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key; expected one of: {_valid_keys(tuple(error['loc']))}"
    if kind == "missing":
        return "required key is missing"
    if kind == "bool_type":
        return f"expected true or false, got {error['input']!r}"
    if kind == "literal_error":
        return f"expected one of {error['ctx']['expected']}, got {error['input']!r}"
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
        """The line of ``keys``, else of the deepest table that contains it, else 1."""
        best, depth = 1, 0
        table: list[str] = []
        for number, line in enumerate(self.lines, start=1):
            header = self._HEADER.match(line)
            if header:
                table = self._norm(header[1])
                if table == keys[: len(table)] and len(table) > depth:
                    best, depth = number, len(table)
                    if table == keys:
                        return number
                continue
            key = self._KEY.match(line)
            if key and (table + self._norm(key[1])) == keys[: len(table) + 1 + key[1].count(".")]:
                return number
        return best
