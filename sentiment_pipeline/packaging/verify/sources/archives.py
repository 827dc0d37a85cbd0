"""Zip archives and directories as artifact sources.

A zip is listed from its central directory and streamed in file order; zip
bombs (a high ratio, overlapping members, a lying total) are refused before a
single byte is inflated. A directory is walked without following symlinks.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sentiment_pipeline.errors import ArtifactError
from sentiment_pipeline.packaging.verify.sources.base import (
    READ_ERRORS,
    Entry,
    Kind,
    Tree,
    check_link,
    check_name,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["BOMB_MIN_SIZE", "BOMB_RATIO", "MAX_TOTAL_UNCOMPRESSED", "DirTree", "ZipTree"]

# A member that inflates to more than BOMB_MIN_SIZE at over BOMB_RATIO:1 is refused
# unread: honest code and data compress 3-20:1, and below that size inflating is harmless.
BOMB_RATIO = 250
BOMB_MIN_SIZE = 16 * 1024 * 1024
# Four times Lambda's unzipped limit: anything beyond is refused unread.
MAX_TOTAL_UNCOMPRESSED = 4 * 250 * 1024 * 1024
# Symlink targets are tiny; never read more than this for one.
_MAX_LINK = 4096


class ZipTree(Tree):
    """A zip archive, read from its central directory and streamed in file order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        try:
            self.archive_size = path.stat().st_size
            self._zip = zipfile.ZipFile(path)
        except OSError as exc:
            raise ArtifactError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
        except READ_ERRORS as exc:
            raise ArtifactError(str(path), f"not a readable zip archive ({exc})") from exc
        self._entries = self._list()

    def _list(self) -> list[Entry]:
        infos = sorted(self._zip.infolist(), key=lambda i: i.header_offset)
        total = sum(i.file_size for i in infos)
        refuse_all = total > MAX_TOTAL_UNCOMPRESSED
        out: list[Entry] = []
        end_of_previous = 0
        for info in infos:
            name, unsafe = check_name(info.filename)
            mode = info.external_attr >> 16
            kind: Kind
            fmt = stat.S_IFMT(mode)  # 0 when the writer stored permission bits only
            if info.filename.endswith("/") or fmt == stat.S_IFDIR:
                kind = "dir"
            elif fmt == stat.S_IFLNK:
                kind = "symlink"
            elif fmt in (0, stat.S_IFREG):
                kind = "file"
            else:
                kind = "other"
                unsafe = unsafe or "is a device or special file, not a regular file"
            if unsafe is None and info.header_offset < end_of_previous:
                unsafe = "overlaps another member (an overlapping-entries zip bomb)"
            # 30 bytes of local header; its extra field is unknown here, so this
            # underestimates the end and never flags an honest archive.
            end_of_previous = max(
                end_of_previous,
                info.header_offset + 30 + len(info.orig_filename) + info.compress_size,
            )
            ratio = info.file_size / max(info.compress_size, 1)
            if unsafe is None and info.file_size > BOMB_MIN_SIZE and ratio > BOMB_RATIO:
                unsafe = (
                    f"claims {info.file_size} bytes from {info.compress_size} compressed "
                    f"(ratio {ratio:.0f}:1, a zip bomb)"
                )
            if unsafe is None and refuse_all:
                unsafe = (
                    f"is part of an archive that claims {total} bytes uncompressed, over the "
                    f"{MAX_TOTAL_UNCOMPRESSED} byte safety cap (a zip bomb)"
                )
            link = None
            if kind == "symlink" and unsafe is None:
                try:
                    link = self._zip.read(info)[:_MAX_LINK].decode("utf-8", "replace")
                except READ_ERRORS as exc:
                    raise ArtifactError(self.label, f"member {name} is corrupt ({exc})") from exc
                unsafe = check_link(name, link)
            out.append(
                Entry(
                    name=name,
                    kind=kind,
                    size=info.file_size,
                    compressed=info.compress_size,
                    executable=bool(mode & 0o111),
                    link=link,
                    unsafe=unsafe,
                    key=info,
                )
            )
        return out

    def entries(self) -> list[Entry]:
        return self._entries

    def open(self, entry: Entry) -> IO[bytes]:
        assert isinstance(entry.key, zipfile.ZipInfo)
        try:
            return self._zip.open(entry.key)
        except READ_ERRORS as exc:
            raise self.corrupt(entry, exc) from exc

    def close(self) -> None:
        self._zip.close()

    def reader(self) -> ZipTree | None:
        # A ZipFile of its own: two threads reading through one handle take turns on
        # its lock and seek position, and gain nothing. Refused if the path now names
        # another file than the one this tree read.
        try:
            other = zipfile.ZipFile(self.path)
        except (OSError, *READ_ERRORS):
            return None
        try:
            mine, theirs = os.fstat(self._zip.fp.fileno()), os.fstat(other.fp.fileno())  # type: ignore[union-attr]
        except (OSError, AttributeError, ValueError):
            other.close()
            return None
        if (mine.st_dev, mine.st_ino, mine.st_size) != (
            theirs.st_dev,
            theirs.st_ino,
            theirs.st_size,
        ):
            other.close()
            return None
        clone = object.__new__(ZipTree)
        clone.path, clone.label, clone.archive_size = self.path, self.label, self.archive_size
        clone._zip, clone._entries = other, self._entries
        return clone


class DirTree(Tree):
    """A directory, walked without following symlinks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        try:
            self._entries = list(self._walk())
        except OSError as exc:
            raise ArtifactError(str(path), f"cannot be read ({exc.strerror or exc})") from exc

    def _walk(self) -> Iterator[Entry]:
        root = self.path
        stack = [root]
        while stack:
            current = stack.pop()
            with os.scandir(current) as it:
                children = sorted(it, key=lambda e: e.name)
            for child in children:
                rel = Path(child.path).relative_to(root).as_posix()
                st = child.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    link = str(Path(child.path).readlink())
                    yield Entry(
                        rel,
                        "symlink",
                        0,
                        0,
                        link=link,
                        unsafe=check_link(rel, link),
                        key=child.path,
                    )
                elif stat.S_ISDIR(st.st_mode):
                    yield Entry(rel, "dir", 0, 0, key=child.path)
                    stack.append(Path(child.path))
                elif stat.S_ISREG(st.st_mode):
                    yield Entry(
                        rel,
                        "file",
                        st.st_size,
                        st.st_size,
                        executable=bool(st.st_mode & 0o111),
                        key=child.path,
                    )
                else:
                    yield Entry(rel, "other", 0, 0, unsafe="is not a regular file", key=child.path)

    def entries(self) -> list[Entry]:
        return self._entries

    def reader(self) -> DirTree:
        return self  # every member is a file of its own: any thread may open it

    def open(self, entry: Entry) -> IO[bytes]:
        assert isinstance(entry.key, str)
        try:
            return open(entry.key, "rb")
        except OSError as exc:
            raise ArtifactError(entry.key, f"cannot be read ({exc.strerror or exc})") from exc
