"""Unpack a rebuilt artifact beside its previous copy, linking the files that did not change.

A reload (``serve --watch``) unpacks the new artifact into a root of its own
while the old workers still run from theirs. An edit changes a handful of files
of a 26 MB artifact; inflating all of them again costs most of the unpacking. A
zip member whose size, mode and CRC-32 (from the zip's directory) match the file
at the same place in the previous root is the same file: it is hard-linked from
there (copied where a link cannot be made) instead of being inflated. The
previous root's file is read to compute its CRC (from the page cache, about ten
times faster than inflating). Everything else, and every artifact that is not a
zip, is unpacked as :func:`~sentiment_pipeline.local.runner.prepare` does.

A linked file is shared by both roots, so a file written where an earlier one
was linked is unlinked first (a later layer replacing a function's file): the
previous root is never written to.
"""

from __future__ import annotations

import shutil
import zipfile
import zlib
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.sandbox.unpacking import file_mode

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.sandbox import Placed, Unpacker
    from sentiment_pipeline.packaging.verify.sources.base import Entry

__all__ = ["Relinker"]

_CHUNK = 1 << 20


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


class Relinker:
    """Unpacks into ``unpacker``'s root, reusing unchanged files of ``previous`` (a root)."""

    def __init__(self, unpacker: Unpacker, previous: Path) -> None:
        self.unpacker = unpacker
        self.previous = previous
        self.linked: set[Path] = set()
        self.reused = 0
        self.written = 0

    def _same(self, entry: Entry, old: Path) -> bool:
        info = entry.key
        if not isinstance(info, zipfile.ZipInfo) or entry.unsafe or self.unpacker.has_links():
            return False  # a placed symlink could make two names one file: no shortcut
        try:
            status = old.lstat()
        except OSError:
            return False
        if not old.is_file() or old.is_symlink() or status.st_size != entry.size:
            return False
        if status.st_mode & 0o7777 != file_mode(entry):
            return False
        try:
            return _crc32(old) == info.CRC
        except OSError:
            return False

    def _link(self, old: Path, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.hardlink_to(old)
        except OSError:  # another file system, or links not allowed: a copy
            shutil.copy2(old, path)

    def unpack(self, placed: Placed) -> None:
        """Every member of ``placed``, linked when unchanged, else written."""
        tree = placed.tree
        base = self.unpacker.root.path
        for entry in tree.entries():
            if entry.kind != "file":
                self.unpacker.place(placed, entry)
                continue
            path = self.unpacker.path_of(placed, entry)
            if path in self.linked:  # shared with the previous root: never write through it
                path.unlink()
                self.linked.discard(path)
            old = self.previous / path.relative_to(base)
            if self._same(entry, old) and not path.exists():
                self._link(old, path)
                self.linked.add(path)
                self.reused += 1
                continue
            out = self.unpacker.create(placed, entry)
            if out is None:
                continue
            with out, tree.open(entry) as src:
                shutil.copyfileobj(src, out, _CHUNK)
            self.written += 1
