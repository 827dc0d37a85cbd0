"""Which modules the function and its layers make importable, and from where.

The placement of each artifact and the order of the import roots come from
:mod:`sentiment_pipeline.packaging.sandbox`; this module indexes what each root holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.sandbox import LAYER_PYTHON, import_roots

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.sandbox import ImportRoot, Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["Layout", "module_name_of"]


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


class Layout:
    """The function and its layers, as the runtime sees them."""

    def __init__(self, target: Target, placed: Sequence[Placed]) -> None:
        self.target = target
        self.placed = tuple(placed)
        self.roots = import_roots(target, self.placed)
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
                if root.prefix == LAYER_PYTHON and rel.startswith("lib/"):
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
