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

Both are kept in a store (the cache root's ``verified/``, by the artifact's sha256 and
the verifier's version), so a later build that reuses the layer unchanged (its
identity checked) verifies a changed function without reading the layer either.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sentiment_pipeline._version import __version__

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.verify.reading import MemberRead
    from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["KnownTree", "ReadMemo"]


def _dump(read: MemberRead) -> list[Any]:
    from sentiment_pipeline.packaging.verify.native import ElfInfo

    elf: Any = read.elf
    if isinstance(elf, ElfInfo):
        elf = {
            "elfclass": elf.elfclass,
            "machine": elf.machine,
            "needed": list(elf.needed),
            "rpath": list(elf.rpath),
            "glibc_versions": [list(v) for v in elf.glibc_versions],
            "runpath": list(elf.runpath),
            "soname": elf.soname,
            "init_functions": None if elf.init_functions is None else sorted(elf.init_functions),
        }
    return [read.kind, read.size, read.digest, elf]


def _load(data: list[Any]) -> MemberRead:
    from sentiment_pipeline.packaging.verify.native import ElfInfo
    from sentiment_pipeline.packaging.verify.reading import MemberRead

    kind, size, digest, elf = data
    read = MemberRead()
    read.kind, read.size, read.digest = str(kind), int(size), digest
    if isinstance(elf, dict):
        init = elf["init_functions"]
        read.elf = ElfInfo(
            elfclass=int(elf["elfclass"]),
            machine=str(elf["machine"]),
            needed=tuple(elf["needed"]),
            rpath=tuple(elf["rpath"]),
            glibc_versions=tuple(tuple(int(n) for n in v) for v in elf["glibc_versions"]),
            runpath=tuple(elf["runpath"]),
            soname=elf["soname"],
            init_functions=None if init is None else frozenset(init),
        )
    else:
        read.elf = elf
    return read


class KnownTree:
    """One artifact's member facts (by name) and, made on first use, an unpacked copy."""

    def __init__(self, path: Path, reads: dict[str, MemberRead], folder: Path) -> None:
        self.path = path
        self.reads = reads
        self._folder = folder
        self._unpacked: str | None = None
        self._lock = threading.Lock()

    def matches(self, entries: list[Entry]) -> bool:
        """Whether ``entries`` (the files of the tree as opened now) are the ones recorded."""
        files = {e.name: e.size for e in entries if e.kind == "file"}
        # A member read only to sniff it (no RECORD hash, no magic) has no size recorded.
        return len(files) == len(self.reads) and all(
            name in files and (files[name] == read.size or read.digest is None)
            for name, read in self.reads.items()
        )

    def unpacked(self, placed: Placed) -> str:
        """The directory holding the members' files, unpacked from ``placed`` once (into
        a temporary directory renamed into place: a directory there is complete)."""
        if self._unpacked is not None:
            return self._unpacked
        tree = self._folder / "tree"
        with self._lock:
            if self._unpacked is not None:
                return self._unpacked
            if not tree.is_dir():
                staging = self._folder / f".tree.{os.getpid()}.{threading.get_ident()}"
                shutil.rmtree(staging, ignore_errors=True)
                for entry in placed.tree.entries():
                    if entry.kind != "file" or entry.unsafe:
                        continue
                    target = staging / entry.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with placed.tree.open(entry) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                staging.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(staging, tree)
                except OSError:  # another build put it there first
                    shutil.rmtree(staging, ignore_errors=True)
            self._unpacked = os.fspath(tree)
            return self._unpacked

    def copy_into(self, sandbox: SandboxSlot, placed: Placed, entry: Entry) -> None:
        """Write ``entry`` into the sandbox from the unpacked copy (a failed write ends
        the sandbox, as when streaming)."""
        out: IO[bytes] | None = sandbox.create(placed, entry)
        if out is None:
            return
        try:
            with out:
                src = os.open(f"{self.unpacked(placed)}/{entry.name}", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    size = os.fstat(src).st_size
                    sent = 0
                    while sent < size:
                        done = os.sendfile(out.fileno(), src, sent, size - sent)
                        if done == 0:
                            break
                        sent += done
                finally:
                    os.close(src)
        except OSError as exc:
            sandbox.fail(exc)


class ReadMemo:
    """Member facts of verified artifacts, by sha256, in ``store``; shared by threads.

    ``record(path)`` gives a dict for :meth:`ContentChecks.stream` to fill while the
    artifact at ``path`` is verified; ``seal(path, sha256, final)`` keeps it once the
    artifact passed and was renamed to ``final``; ``reuse(final, sha256)`` points at
    what an earlier build kept for an artifact it left in place. ``known(final)`` is then
    the :class:`KnownTree` to replay when ``final`` is verified beside another artifact.
    """

    def __init__(self, store: Path) -> None:
        self._store = store
        self._pending: dict[str, dict[str, MemberRead]] = {}
        self._by_path: dict[str, KnownTree] = {}
        self._stored: dict[str, str] = {}
        self._lock = threading.Lock()

    def _folder(self, sha256: str) -> Path:
        digest = sha256.removeprefix("sha256:")
        return self._store / digest[:2] / digest

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
        ``final``, and in the store; with ``sha256`` None (the artifact failed), drop it."""
        with self._lock:
            reads = self._pending.pop(os.fspath(path), None)
        if not reads or sha256 is None:
            return
        folder = self._folder(sha256)
        with self._lock:
            self._by_path[os.fspath(final)] = KnownTree(final, reads, folder)
        facts = {"verifier": __version__, "reads": {n: _dump(r) for n, r in reads.items()}}
        try:  # best effort: a store that cannot be written is only slower next time
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".facts.{os.getpid()}.{threading.get_ident()}"
            tmp.write_text(json.dumps(facts), "utf-8")
            os.replace(tmp, folder / "facts.json")
        except OSError:
            pass

    def reuse(self, final: Path, sha256: str | None) -> None:
        """Remember that the artifact at ``final`` has ``sha256`` (its build's report says
        so and its identity was checked): :meth:`known` then looks for its facts in the
        store, when a verification first needs them (an unchanged rebuild never does)."""
        if sha256 is not None:
            with self._lock:
                self._stored[os.fspath(final)] = sha256

    def _from_store(self, final: Path, sha256: str) -> KnownTree | None:
        folder = self._folder(sha256)
        try:
            facts = json.loads((folder / "facts.json").read_text("utf-8"))
            if facts.get("verifier") != __version__:
                return None
            reads = {str(n): _load(r) for n, r in facts["reads"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return KnownTree(final, reads, folder)

    def known(self, path: str | os.PathLike[str]) -> KnownTree | None:
        """The recorded facts of the artifact now at ``path``, if it was sealed there or
        reused there with facts in the store."""
        key = os.fspath(path)
        with self._lock:
            found = self._by_path.get(key)
            sha256 = self._stored.pop(key, None) if found is None else None
        if sha256 is not None:
            found = self._from_store(Path(key), sha256)
            if found is not None:
                with self._lock:
                    found = self._by_path.setdefault(key, found)
        return found
