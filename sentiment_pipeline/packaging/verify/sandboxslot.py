"""Where the import check unpacks the function and its layers: a slot in scratch space.

The sandbox is Lambda's layout (:class:`~sentiment_pipeline.packaging.sandbox.LocalRoot`,
filled by :class:`~sentiment_pipeline.packaging.sandbox.Unpacker`) under a numbered slot
``<scratch>/sp-verify-<uid>/<n>``, held with an exclusive lock while in use: the same
paths build after build, so the bytecode the target interpreter caches for them (keyed
by path, checked by hash; see ``sandbox/importcheck.py``) is found again. A slot is
emptied when taken and when closed. If none can be had, a throw-away directory without
a bytecode cache.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sentiment_pipeline.packaging.sandbox import LocalRoot, Unpacker, unpack

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["SandboxSlot"]

# Concurrent verifications on one machine each take a slot; past this many, a
# throw-away directory (no bytecode cache) is used.
_SLOTS = 32


def _scratch(placed: Sequence[Placed]) -> str | None:
    """Memory-backed scratch space when it has room: unpacking hundreds of small files
    costs about a millisecond each on a disk, next to nothing in memory."""
    shm = "/dev/shm"
    try:
        needed = 2 * sum(e.size for p in placed for e in p.tree.entries())
        stats = os.statvfs(shm)
        if os.access(shm, os.W_OK) and stats.f_bavail * stats.f_frsize > needed:
            return shm
    except OSError:
        pass
    return None


def _bytecode_dir() -> Path | None:
    """Where the target interpreters keep bytecode of sandboxed sources (cache root)."""
    from sentiment_pipeline.packaging.cache import default_cache_root

    path = default_cache_root() / "bytecode"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


class SandboxSlot:
    """Lambda's layout in scratch space, filled entry by entry or all at once.

    A write error ends the filling, not the caller's work: it is kept in
    :attr:`failed` and later writes are skipped.
    """

    def __init__(self, placed: Sequence[Placed]) -> None:
        base = Path(_scratch(placed) or tempfile.gettempdir())
        self._lock: int | None = None
        slot = self._take_slot(base)
        self.root = slot or Path(tempfile.mkdtemp(prefix="sp-verify-", dir=base))
        self.local = LocalRoot(self.root)
        self.bytecode = _bytecode_dir() if slot is not None else None
        self.failed: str | None = None
        """Why filling the sandbox stopped (a write error), if it did."""
        self._unpacker = Unpacker(self.local)
        try:
            self.local.create()
        except OSError:
            self.close()
            raise

    def _take_slot(self, base: Path) -> Path | None:
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no slots
            return None
        uid = os.getuid()
        home = base / f"sp-verify-{uid}"
        try:
            home.mkdir(mode=0o700, exist_ok=True)
            st = os.lstat(home)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
                return None  # not ours alone: never share a path with another user
            if st.st_mode & 0o077:
                home.chmod(0o700)
            for number in range(_SLOTS):
                fd = os.open(home / f"{number}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                slot = home / str(number)
                try:
                    if slot.is_symlink() or slot.is_file():
                        slot.unlink()
                    elif slot.exists():
                        shutil.rmtree(slot)  # left over by a process that was killed
                    slot.mkdir(mode=0o700)
                except OSError:
                    os.close(fd)
                    return None
                self._lock = fd
                return slot
        except OSError:
            return None
        return None

    def has_links(self) -> bool:
        """Whether a symlink was placed (then two names may be one file)."""
        return self._unpacker.has_links()

    def fail(self, exc: OSError) -> None:
        if self.failed is None:
            self.failed = f"cannot unpack here ({exc})"

    def place(self, placed: Placed, entry: Entry) -> None:
        """A directory or a symlink (files go through :meth:`create`)."""
        if self.failed is not None:
            return
        try:
            self._unpacker.place(placed, entry)
        except OSError as exc:
            self.fail(exc)

    def path_of(self, placed: Placed, entry: Entry) -> Path:
        return self._unpacker.path_of(placed, entry)

    def create(self, placed: Placed, entry: Entry) -> IO[bytes] | None:
        """A file to write ``entry``'s contents to; None once the sandbox has failed."""
        if self.failed is not None:
            return None
        try:
            return self._unpacker.create(placed, entry)
        except OSError as exc:
            self.fail(exc)
            return None

    def unpack(self, placed: Sequence[Placed]) -> None:
        """Every artifact at once, into the empty sandbox; raises :class:`OSError`."""
        unpack(self.local, placed)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)  # releases the slot
            self._lock = None
