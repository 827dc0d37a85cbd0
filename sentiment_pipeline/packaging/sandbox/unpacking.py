"""Unpacking artifacts into a local root the way Lambda unpacks them.

The function goes to ``var/task``, layers into ``opt`` in the order they are listed
(a later layer's file replaces an earlier one's); entries the verifier reports as
unsafe (absolute, ``..``, links leaving the root) are skipped; every file is
world-readable (``0644``, ``0755`` when executable), as Lambda makes them; symlinks
stay symlinks.

Filled all at once (:func:`unpack`) or entry by entry (:class:`Unpacker`, for a
caller that streams the members anyway and writes each as it reads it).
"""

from __future__ import annotations

import os
import shutil
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.sandbox.environment import LocalRoot, Placed
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["Unpacker", "file_mode", "unpack"]

_COPY_BUFFER = 1 << 20


def file_mode(entry: Entry) -> int:
    """The mode Lambda gives a file: world-readable, executable if it was."""
    return 0o755 if entry.executable else 0o644


class Unpacker:
    """Writes members of artifacts into ``root``, Lambda's way; raises :class:`OSError`.

    Starts from an empty root: the only symlinks there are those it placed.
    """

    def __init__(self, root: LocalRoot) -> None:
        self.root = root
        self._made: set[Path] = set()
        self._links: set[Path] = set()

    def path_of(self, placed: Placed, entry: Entry) -> Path:
        """Where ``entry`` of ``placed`` lands under the root."""
        return self.root.mount(placed) / entry.name

    def has_links(self) -> bool:
        """Whether a symlink was placed (then two names may be one file)."""
        return bool(self._links)

    def _parent(self, path: Path) -> None:
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)

    def place(self, placed: Placed, entry: Entry) -> None:
        """A directory or a symlink (files go through :meth:`create`)."""
        if entry.unsafe:
            return
        path = self.path_of(placed, entry)
        if entry.kind == "dir":
            path.mkdir(parents=True, exist_ok=True)
            self._made.add(path)
        elif entry.kind == "symlink" and entry.link is not None:
            self._parent(path)
            if path.is_symlink() or path.exists():
                path.unlink()  # a later layer's link replaces an earlier layer's file
            path.symlink_to(entry.link)
            self._links.add(path)

    def create(self, placed: Placed, entry: Entry) -> IO[bytes] | None:
        """An unbuffered file to write ``entry``'s contents to (the caller closes it);
        None for an unsafe entry."""
        if entry.unsafe:
            return None
        path = self.path_of(placed, entry)
        self._parent(path)
        if path in self._links:  # a later layer's file replaces an earlier layer's link
            path.unlink()
            self._links.discard(path)
        fh = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by the caller
        try:
            os.fchmod(fh.fileno(), file_mode(entry))
        except OSError:
            fh.close()
            raise
        return fh

    def unpack(self, placed: Placed) -> None:
        """Every member of ``placed``."""
        tree = placed.tree
        for entry in tree.entries():
            if entry.kind != "file":
                self.place(placed, entry)
                continue
            out = self.create(placed, entry)
            if out is None:
                continue
            with out, tree.open(entry) as src:
                shutil.copyfileobj(src, out, _COPY_BUFFER)


def unpack(root: LocalRoot, placed: Sequence[Placed]) -> None:
    """The function and its layers into the empty ``root``, layers in the order given."""
    unpacker = Unpacker(root)
    for artifact in sorted(placed, key=lambda p: p.order):
        unpacker.unpack(artifact)
