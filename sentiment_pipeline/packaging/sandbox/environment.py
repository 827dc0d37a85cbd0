"""Lambda's execution environment, derived from a target: the one place that knows it.

Where artifacts go: a function is unpacked to ``/var/task`` (``LAMBDA_TASK_ROOT``, also
the working directory); its layers are unpacked into ``/opt`` in the order they are
listed, later ones overwriting earlier files. What that makes importable, in
``sys.path`` order (the runtime's bootstrap: "precedence: LAMBDA_TASK_ROOT ->
/opt/python/lib/pythonN.N/site-packages -> /opt/python"): the task root, the layers'
``python/lib/python3.X/site-packages``, the layers' ``python/``, then the runtime's own
directories. Which shared libraries load: ``LD_LIBRARY_PATH``. What the process sees:
the reserved environment variables.

On this machine the same tree sits under a directory, a :class:`LocalRoot`
(``root/var/task``, ``root/opt``): the dynamic import check and the local runner move
Lambda's paths there, and start the target interpreter the way Lambda does
(:func:`isolated_command`).

>>> from sentiment_pipeline.packaging.targets import get_target
>>> sys_path(get_target("python3.13"))[:3]
('/var/task', '/opt/python/lib/python3.13/site-packages', '/opt/python')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from sentiment_pipeline.packaging.sandbox.paths import (
    LAYER_PYTHON,
    LAYERS_ROOT,
    LD_LIBRARY_PATH,
    RUNTIME_BIN,
    RUNTIME_DIR,
    RUNTIME_PREFIX,
    TASK_ROOT,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.sources import Entry, Tree

__all__ = [
    "IMPORT_CHECK",
    "LAYERS_ROOT",
    "LAYER_PYTHON",
    "LD_LIBRARY_PATH",
    "RUNTIME_BIN",
    "RUNTIME_DIR",
    "TASK_ROOT",
    "FunctionIdentity",
    "ImportRoot",
    "LocalRoot",
    "Placed",
    "Role",
    "artifact_filled",
    "describe_target",
    "environment",
    "import_roots",
    "is_layer_tree",
    "isolated_command",
    "lambda_path",
    "layer_site_packages",
    "mount",
    "runtime_paths",
    "sys_path",
]

Role = Literal["function", "layer"]

# What a layer holds at its top (Lambda puts bin/ on PATH and lib/ on LD_LIBRARY_PATH).
_LAYER_TOP = frozenset({LAYER_PYTHON, "lib", "bin", "extensions", "etc", "share", "include"})
# What an artifact fills: everything else is the runtime's and does not exist locally.
_FILLED = (TASK_ROOT, LAYERS_ROOT)


def artifact_filled(path: str) -> bool:
    """Whether Lambda's absolute ``path`` is where artifacts go (``/var/task``, ``/opt``
    and below): what is there comes from the function and its layers, everything
    else is the runtime's.

    >>> artifact_filled("/opt/lib"), artifact_filled("/lib64")
    (True, False)
    """
    return any(path == top or path.startswith(top + "/") for top in _FILLED)


def mount(role: Role) -> str:
    """Where Lambda unpacks a function (``/var/task``) or a layer (``/opt``)."""
    return TASK_ROOT if role == "function" else LAYERS_ROOT


def lambda_path(role: Role, name: str = "") -> str:
    """The path in Lambda of ``name`` inside a function or layer artifact.

    >>> lambda_path("layer", "python")
    '/opt/python'
    """
    return mount(role) + (f"/{name}" if name else "")


def layer_site_packages(target: Target) -> str:
    """The site-packages directory inside a layer that ``target`` imports from."""
    return f"{LAYER_PYTHON}/lib/python{target.python}/site-packages"


def _layer_prefixes(target: Target) -> tuple[str, ...]:
    """The import roots inside a layer, in ``sys.path`` order."""
    return (layer_site_packages(target), LAYER_PYTHON)


def runtime_paths(target: Target) -> tuple[str, ...]:
    """The runtime's own ``sys.path`` entries, after the artifacts' (AWS's "Lambda
    runtimes" pages and the public base images show where the runtime keeps them).

    From python3.11 the runtime's site-packages (with its boto3) comes before
    ``/var/runtime``; before it, ``/var/runtime`` comes first.
    """
    lib = f"{RUNTIME_PREFIX}/lib/python{target.python}"
    stdlib = (f"{RUNTIME_PREFIX}/lib/python{target.cp[2:]}.zip", lib, f"{lib}/lib-dynload")
    if target.python_version >= (3, 11):
        return (f"{lib}/site-packages", RUNTIME_DIR, *stdlib)
    return (RUNTIME_DIR, *stdlib, f"{lib}/site-packages")


def sys_path(target: Target) -> tuple[str, ...]:
    """Lambda's import path on ``target``, as the runtime's bootstrap sets it."""
    layers = tuple(lambda_path("layer", prefix) for prefix in _layer_prefixes(target))
    return (TASK_ROOT, *layers, *runtime_paths(target))


def describe_target(target: Target) -> dict[str, Any]:
    """The target as JSON (``targets --json``, a report's ``target``): its catalog row and
    Lambda's import path on it."""
    return {**target.to_json(), "sys_path": list(sys_path(target))}


def is_layer_tree(entries: Iterable[Entry]) -> bool:
    """True when a tree looks like a layer: everything under ``python/``, ``lib/``, ``bin/``..."""
    tops = {e.name.split("/", 1)[0] for e in entries if e.name}
    return LAYER_PYTHON in tops and tops <= _LAYER_TOP


@attrs.frozen
class Placed:
    """One artifact and where Lambda puts it."""

    tree: Tree = attrs.field(eq=False)
    role: Role
    order: int
    """0 for the function, 1.. for layers in the order given."""

    @property
    def mount(self) -> str:
        return mount(self.role)

    @property
    def label(self) -> str:
        return "function" if self.role == "function" else f"layer {self.order}"

    def lambda_path(self, name: str) -> str:
        """Where the artifact's member ``name`` is in Lambda."""
        return lambda_path(self.role, name)


@attrs.frozen
class ImportRoot:
    """A ``sys.path`` entry that one artifact populates."""

    placed: Placed
    prefix: str
    """The path inside the artifact ('' for the function root)."""

    @property
    def sys_path(self) -> str:
        return self.placed.lambda_path(self.prefix)

    def relative(self, name: str) -> str | None:
        """``name`` relative to this root, or None if it is not under it."""
        if not self.prefix:
            return name
        if name.startswith(self.prefix + "/"):
            return name[len(self.prefix) + 1 :]
        return None


def import_roots(target: Target, placed: Sequence[Placed]) -> tuple[ImportRoot, ...]:
    """Where the function and layers make modules importable, in ``sys.path`` order.

    Layers share ``/opt``: site-packages comes before ``python/`` whatever the layer,
    and within each directory the last-listed layer counts first (it was unpacked last,
    so its copy of a file is the one that is there).
    """
    roots = [ImportRoot(p, "") for p in placed if p.role == "function"]
    layers = sorted((p for p in placed if p.role == "layer"), key=lambda p: -p.order)
    for prefix in _layer_prefixes(target):
        roots.extend(ImportRoot(p, prefix) for p in layers)
    return tuple(roots)


@attrs.frozen
class FunctionIdentity:
    """What Lambda's reserved variables say about the function being run."""

    name: str
    handler: str
    memory: int = 128
    """In MB (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``)."""
    region: str = "us-east-1"


@attrs.frozen
class LocalRoot:
    """Lambda's file system, the part artifacts fill, under a directory of this machine.

    >>> from pathlib import Path
    >>> LocalRoot(Path("/tmp/sb")).local("/opt/python")
    PosixPath('/tmp/sb/opt/python')
    """

    path: Path

    def local(self, lambda_path: str) -> Path:
        """Where Lambda's absolute ``lambda_path`` is under this root."""
        return self.path / lambda_path.lstrip("/")

    @property
    def task_root(self) -> Path:
        return self.local(TASK_ROOT)

    def mount(self, placed: Placed) -> Path:
        """Where ``placed`` is unpacked under this root."""
        return self.local(placed.mount)

    def create(self) -> None:
        """Make the mount points (``var/task``, ``opt``) of an empty root."""
        self.task_root.mkdir(parents=True)
        self.local(LAYERS_ROOT).mkdir()

    def filled(self, paths: Iterable[str]) -> list[str]:
        """``paths`` that an artifact fills, moved under this root, in their order; the
        runtime's own directories do not exist here and are left out."""
        return [str(self.local(p)) for p in paths if artifact_filled(p)]

    def import_paths(self, target: Target) -> list[str]:
        """The front of Lambda's ``sys.path`` (task root, layer roots), moved here."""
        return self.filled(sys_path(target))


def environment(target: Target, root: LocalRoot, function: FunctionIdentity) -> dict[str, str]:
    """Lambda's reserved variables for ``function`` on ``target``, its paths moved into
    ``root``: what a handler sees in ``os.environ`` when it runs on this machine.

    ``HOME`` is the root (the host's home stays out of reach); ``PATH`` is this
    machine's, to find what a handler starts.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LAMBDA_TASK_ROOT": str(root.task_root),
        "LAMBDA_RUNTIME_DIR": str(root.local(RUNTIME_DIR)),
        "LD_LIBRARY_PATH": ":".join(root.filled(LD_LIBRARY_PATH)),
        "_HANDLER": function.handler,
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{target.runtime}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(root.path),
    }


IMPORT_CHECK = Path(__file__).with_name("importcheck.py")
"""The import-check program, run with :func:`isolated_command` in the target interpreter."""


def isolated_command(python: str, program: Path, *args: str) -> list[str]:
    """Run ``program`` (a file) with ``python`` as Lambda runs its bootstrap: no user or
    host site-packages (``-I -S``: only the import roots the program puts on
    ``sys.path``), no bytecode written (``-B``: ``/var/task`` is read-only)."""
    return [python, "-I", "-S", "-B", str(program), *args]
