"""What every artifact source is: a :class:`Tree` of :class:`Entry` values, and the path checks.

A source lists its members cheaply, then streams each once; it never extracts
anything. Every name is normalised and checked here (traversal, absolute paths,
links leaving the root), whatever the source.
"""

from __future__ import annotations

import abc
import posixpath
import zipfile
import zlib
from typing import IO, TYPE_CHECKING, Literal

import attrs

from sentiment_pipeline.errors import ArtifactError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["READ_ERRORS", "Entry", "Kind", "Tree", "check_link", "check_name"]

Kind = Literal["file", "dir", "symlink", "other"]

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
