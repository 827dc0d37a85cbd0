"""Read an artifact (a zip or a directory) as a listing plus streamed contents.

The verifier never extracts an artifact and never executes anything from it:
it lists entries from the zip's central directory (or a directory walk), then
streams each member once. Paths are checked for traversal here, and zip bombs
are refused before a single byte is inflated.
"""

from __future__ import annotations

import abc
import os
import posixpath
import stat
import zipfile
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import attrs

from sentiment_pipeline.errors import ArtifactError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "BOMB_MIN_SIZE",
    "BOMB_RATIO",
    "MAX_TOTAL_UNCOMPRESSED",
    "READ_ERRORS",
    "DirTree",
    "Entry",
    "Tree",
    "ZipTree",
    "open_tree",
]

Kind = Literal["file", "dir", "symlink", "other"]

# A member that inflates to more than BOMB_MIN_SIZE at over BOMB_RATIO:1 is refused
# unread: honest code and data compress 3-20:1, and below that size inflating is harmless.
BOMB_RATIO = 250
BOMB_MIN_SIZE = 16 * 1024 * 1024
# Four times Lambda's unzipped limit: anything beyond is refused unread.
MAX_TOTAL_UNCOMPRESSED = 4 * 250 * 1024 * 1024
# What reading a damaged zip member can raise: a bad CRC, a truncated or invalid
# deflate stream, an unsupported method, a lying header.
READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
# Symlink targets are tiny; never read more than this for one.
_MAX_LINK = 4096


@attrs.frozen
class Entry:
    """One member of an artifact."""

    name: str
    """Normalised POSIX path inside the artifact (no leading ``./``, no trailing ``/``)."""
    kind: Kind
    size: int
    compressed: int
    executable: bool = False
    link: str | None = None
    unsafe: str | None = None
    """Why the path is unsafe (traversal, absolute, link leaving the root, bomb), if it is."""
    key: object = attrs.field(default=None, eq=False, repr=False)


def check_name(raw: str) -> tuple[str, str | None]:
    """Normalise a member name; return it and the reason it is unsafe, if it is."""
    if "\x00" in raw:
        return raw.replace("\x00", "\\0"), "contains a NUL byte"
    if "\\" in raw:
        return raw, "contains a backslash (a Windows path); Lambda would create a file of that name"
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        return raw, "is an absolute path"
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        return raw, "contains '..' and would be written outside the artifact root"
    if not parts and not raw.endswith("/"):
        return raw, "has an empty name"
    return "/".join(parts), None


def check_link(name: str, target: str) -> str | None:
    """Why a symlink at ``name`` pointing to ``target`` is unsafe, if it is."""
    if target.startswith("/"):
        return f"is a symlink to the absolute path {target!r}, outside the artifact"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"is a symlink to {target!r}, which leaves the artifact root"
    return None


class Tree(abc.ABC):
    """An artifact's members: listed cheaply, then streamed one by one."""

    path: Path
    label: str
    kind: str = "files"
    """"files" for zips and directories; "image" for a container image's /var/task."""
    archive_size: int | None = None
    """Size of the archive file (None for directories)."""

    @abc.abstractmethod
    def entries(self) -> list[Entry]:
        """Every member, in the order that streams best."""

    @abc.abstractmethod
    def open(self, entry: Entry) -> IO[bytes]:
        """A binary stream of one member's contents."""

    def read(self, entry: Entry, limit: int) -> bytes:
        """Read a whole (small) member, at most ``limit`` bytes."""
        with self.open(entry) as fh:
            try:
                return fh.read(limit)
            except READ_ERRORS as exc:
                raise self.corrupt(entry, exc) from exc

    def corrupt(self, entry: Entry, exc: BaseException) -> ArtifactError:
        """The error for a member that cannot be read."""
        return ArtifactError(self.label, f"member {entry.name} is corrupt ({exc})")

    def close(self) -> None:  # noqa: B027 - directories hold nothing to release
        """Release the archive."""

    def reader(self) -> Tree | None:
        """A second reader of the same members (same :meth:`entries`) for another thread,
        to be closed by the caller; None when this tree reads from one thread only."""
        return None

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def open_tree(path: str | os.PathLike[str]) -> Tree:
    """Open a zip, a directory, ``oci:LAYOUT[:TAG]`` or ``docker://HOST/REPO:TAG`` (an
    image's ``/var/task``); :class:`ArtifactError` for anything else."""
    text = os.fspath(path)
    if not text.startswith("oci:") and (Path(text) / "oci-layout").is_file():
        text = f"oci:{text}"  # an image layout directory, as the container-image backend writes
    if text.startswith("docker://"):
        from sentiment_pipeline.packaging.verify.oci_source import RegistryTree

        return RegistryTree(text)
    if text.startswith("oci:"):
        from sentiment_pipeline.packaging.verify.oci_source import OciTree, parse_oci_ref

        layout, tag = parse_oci_ref(text)
        if not (layout / "index.json").is_file():
            raise ArtifactError(text, "not an OCI image layout (no index.json)")
        return OciTree(layout, tag)
    p = Path(path)
    if p.is_dir():
        return DirTree(p)
    if not p.exists():
        raise ArtifactError(str(p), "no such file or directory")
    if not p.is_file():
        raise ArtifactError(str(p), "is neither a zip file nor a directory")
    return ZipTree(p)
