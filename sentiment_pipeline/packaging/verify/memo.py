"""What reading an artifact's members found, kept to verify other artifacts with it.

A build verifies each layer it makes alone, then every function that uses the layer
with the layer placed beside it. Reading a member (inflating, hashing it against
RECORD, sniffing and parsing it if ELF) finds the same facts every time the same bytes
are read: only the findings drawn from them depend on where the artifact is placed
and for which target. So the layer's own verification records each member's facts
(:class:`ReadMemo`), keyed by the artifact's sha256 once it passed; a function's
verification with that layer replays them through the same rules instead of reading
the layer again, and fills the import check's sandbox from one unpacked copy of the
layer (a file copy each, no inflating). The verdicts are the same; the work per
function is its own members, the placement rules and its import.
"""

from __future__ import annotations

import os
import shutil
import threading
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.verify.reading import MemberRead
    from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["KnownTree", "ReadMemo"]


class KnownTree:
    """One artifact's member facts (by name) and, made on first use, an unpacked copy."""

    def __init__(self, path: Path, reads: dict[str, MemberRead], scratch: Path) -> None:
        self.path = path
        self.reads = reads
        self._scratch = scratch
        self._unpacked: Path | None = None
        self._lock = threading.Lock()

    def matches(self, entries: list[Entry]) -> bool:
        """Whether ``entries`` (the files of the tree as opened now) are the ones recorded."""
        files = {e.name: e.size for e in entries if e.kind == "file"}
        # A member read only to sniff it (no RECORD hash, no magic) has no size recorded.
        return len(files) == len(self.reads) and all(
            name in files and (files[name] == read.size or read.digest is None)
            for name, read in self.reads.items()
        )

    def unpacked(self, placed: Placed) -> Path:
        """The members' files under one directory, unpacked from ``placed`` once."""
        with self._lock:
            if self._unpacked is None:
                dest = self._scratch
                dest.mkdir(parents=True, exist_ok=True)
                for entry in placed.tree.entries():
                    if entry.kind != "file" or entry.unsafe:
                        continue
                    target = dest / entry.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with placed.tree.open(entry) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                self._unpacked = dest
            return self._unpacked

    def copy_into(self, sandbox: SandboxSlot, placed: Placed, entry: Entry) -> None:
        """Write ``entry`` into the sandbox from the unpacked copy (a failed write ends
        the sandbox, as when streaming)."""
        source = self.unpacked(placed) / entry.name
        out: IO[bytes] | None = sandbox.create(placed, entry)
        if out is None:
            return
        try:
            with out, open(source, "rb") as src:
                size = os.fstat(src.fileno()).st_size
                sent = 0
                while sent < size:
                    done = os.sendfile(out.fileno(), src.fileno(), sent, size - sent)
                    if done == 0:
                        break
                    sent += done
        except OSError as exc:
            sandbox.fail(exc)


class ReadMemo:
    """Member facts of the artifacts a build verified, by sha256; shared by its threads.

    ``record(path)`` gives a dict for :meth:`ContentChecks.stream` to fill while the
    artifact at ``path`` is verified; ``seal(path, sha256, final)`` keeps it once the
    artifact passed and was renamed to ``final``; ``known(final)`` is then the
    :class:`KnownTree` to replay when ``final`` is verified again beside another artifact.
    """

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._pending: dict[str, dict[str, MemberRead]] = {}
        self._by_path: dict[str, KnownTree] = {}
        self._lock = threading.Lock()

    def record(self, path: str | os.PathLike[str]) -> dict[str, MemberRead]:
        """An empty dict to record the reads of the artifact at ``path`` into."""
        reads: dict[str, MemberRead] = {}
        with self._lock:
            self._pending[os.fspath(path)] = reads
        return reads

    def recording(self, path: str | os.PathLike[str]) -> dict[str, MemberRead] | None:
        """The dict :meth:`record` gave for ``path``, if any."""
        with self._lock:
            return self._pending.get(os.fspath(path))

    def seal(self, path: str | os.PathLike[str], sha256: str | None, final: Path) -> None:
        """Keep what was recorded for ``path`` (whose sha256 is ``sha256``) under
        ``final``; with ``sha256`` None (the artifact failed), drop it."""
        with self._lock:
            reads = self._pending.pop(os.fspath(path), None)
            if reads and sha256 is not None:
                scratch = self._scratch / sha256.removeprefix("sha256:")[:32]
                self._by_path[os.fspath(final)] = KnownTree(final, reads, scratch)

    def known(self, path: str | os.PathLike[str]) -> KnownTree | None:
        """The recorded facts of the artifact now at ``path``, if it was sealed there."""
        with self._lock:
            return self._by_path.get(os.fspath(path))
