"""Where each artifact lands in a Lambda sandbox, and what it makes importable.

A function artifact is unpacked to ``/var/task``; layers are unpacked into
``/opt`` in the order they are listed. The import roots follow the runtime's
bootstrap: ``/var/task``, ``/opt/python/lib/python3.X/site-packages``, ``/opt/python``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.sources import Entry, Tree

__all__ = ["ImportRoot", "Layout", "Placed", "is_layer_tree", "module_name_of"]

Role = Literal["function", "layer"]

_LAYER_TOP = frozenset({"python", "lib", "bin", "extensions", "etc", "share", "include"})


def is_layer_tree(entries: Iterable[Entry]) -> bool:
    """True when a tree looks like a layer: everything under ``python/``, ``lib/``, ``bin/``..."""
    tops = {e.name.split("/", 1)[0] for e in entries if e.name}
    return "python" in tops and tops <= _LAYER_TOP


def module_name_of(rel: str, target: Target) -> str | None:
    """The top-level module a path directly inside an import root provides, if any."""
    head, sep, _ = rel.partition("/")
    if sep:  # a directory: a regular or namespace package
        return head if head.isidentifier() else None
    for suffix in (".py", ".pyc", *target.extension_suffixes):
        if head.endswith(suffix):
            stem = head[: -len(suffix)]
            return stem if stem.isidentifier() else None
    return None


@attrs.frozen
class Placed:
    """One artifact and where Lambda puts it."""

    tree: Tree = attrs.field(eq=False)
    role: Role
    order: int
    """0 for the function, 1.. for layers in the order given."""

    @property
    def mount(self) -> str:
        return "/var/task" if self.role == "function" else "/opt"

    @property
    def label(self) -> str:
        return "function" if self.role == "function" else f"layer {self.order}"

    def sandbox_path(self, name: str) -> str:
        return f"{self.mount}/{name}"


@attrs.frozen
class ImportRoot:
    """A ``sys.path`` entry that one artifact populates."""

    placed: Placed
    prefix: str
    """The path inside the artifact ('' for the function root)."""

    @property
    def sys_path(self) -> str:
        return self.placed.mount + (f"/{self.prefix}" if self.prefix else "")

    def relative(self, name: str) -> str | None:
        """``name`` relative to this root, or None if it is not under it."""
        if not self.prefix:
            return name
        if name.startswith(self.prefix + "/"):
            return name[len(self.prefix) + 1 :]
        return None


class Layout:
    """The function and its layers, as the runtime sees them."""

    def __init__(self, target: Target, placed: Sequence[Placed]) -> None:
        self.target = target
        self.placed = tuple(placed)
        roots: list[ImportRoot] = []
        for p in self.placed:
            if p.role == "function":
                roots.append(ImportRoot(p, ""))
        # Layers: site-packages before python/, and within each, the last-listed layer
        # wins for the same file (it was unpacked last), but the path order is by directory.
        layers = [p for p in self.placed if p.role == "layer"]
        roots.extend(ImportRoot(p, target.layer_site_packages) for p in reversed(layers))
        roots.extend(ImportRoot(p, "python") for p in reversed(layers))
        self.roots = tuple(roots)
        self._modules: dict[str, list[tuple[ImportRoot, Entry]]] = {}
        self._files: list[dict[str, Entry]] = []
        self._dirs: list[set[str]] = []
        for root in self.roots:
            files: dict[str, Entry] = {}
            dirs: set[str] = set()
            seen: set[str] = set()
            for entry in root.placed.tree.entries():
                rel = root.relative(entry.name)
                if rel is None or entry.unsafe:
                    continue
                if root.prefix == "python" and rel.startswith("lib/"):
                    continue  # that is the site-packages root, indexed on its own
                if entry.kind == "file":
                    files[rel] = entry
                parent = rel.rpartition("/")[0]
                while parent and parent not in dirs:
                    dirs.add(parent)
                    parent = parent.rpartition("/")[0]
                if entry.kind == "dir":
                    dirs.add(rel)
                name = module_name_of(rel, target)
                if name is not None and name not in seen:
                    seen.add(name)
                    self._modules.setdefault(name, []).append((root, entry))
            self._files.append(files)
            self._dirs.append(dirs)

    @property
    def function(self) -> Placed | None:
        return next((p for p in self.placed if p.role == "function"), None)

    def provides(self, top_level: str) -> bool:
        """Whether function or layers make ``top_level`` importable."""
        return top_level in self._modules

    def providers(self, top_level: str) -> list[tuple[ImportRoot, Entry]]:
        return self._modules.get(top_level, [])

    def find_module(self, dotted: str) -> tuple[ImportRoot, Entry] | None:
        """The source, bytecode or extension file that ``import dotted`` would load.

        Searches the roots in ``sys.path`` order; for a package, its ``__init__``.
        """
        rel_base = "/".join(dotted.split("."))
        candidates = [f"{rel_base}.py", f"{rel_base}/__init__.py", f"{rel_base}.pyc"]
        candidates += [f"{rel_base}{s}" for s in self.target.extension_suffixes]
        for root, files in zip(self.roots, self._files, strict=True):
            for candidate in candidates:
                if candidate in files:
                    return root, files[candidate]
        return None

    def has_package_dir(self, dotted: str) -> bool:
        """Whether ``dotted`` exists as a directory (a namespace package) in some root."""
        rel = "/".join(dotted.split("."))
        return any(rel in dirs for dirs in self._dirs)
