"""Reading an artifact's members: each once, hashed, sniffed, parsed if ELF, and written
into the import check's sandbox as it streams by.

Two threads read when the artifact allows it (inflating, hashing and writing release
the GIL); what they find is handed back in the artifact's order.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from typing import IO, TYPE_CHECKING

from sentiment_pipeline.packaging.verify.distributions import record_digest
from sentiment_pipeline.packaging.verify.native import ElfInfo, parse_elf, sniff
from sentiment_pipeline.packaging.verify.sources import READ_ERRORS

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
    from sentiment_pipeline.packaging.verify.sources import Entry, Tree

__all__ = ["THREADS", "MemberRead", "read_member", "read_members", "reads_in_any_order"]

_CHUNK = 1 << 20
_SPOOL = 8 << 20  # larger ELF files go to a temporary file: memory stays flat

THREADS = min(2, os.cpu_count() or 1)
"""Threads that read members (1: one after the other)."""


def _write_or_fail(out: IO[bytes], data: bytes, sandbox: SandboxSlot | None) -> IO[bytes] | None:
    """Write to the sandbox; a write error (no room) ends the sandbox, not the checks."""
    try:
        out.write(data)
    except OSError as exc:
        _close_or_fail(out, sandbox)
        if sandbox is not None:
            sandbox.fail(exc)
        return None
    return out


def _close_or_fail(out: IO[bytes], sandbox: SandboxSlot | None) -> None:
    try:
        out.close()
    except OSError as exc:
        if sandbox is not None:
            sandbox.fail(exc)


class MemberRead:
    """What reading one member found (filled by a reader thread, accounted in order)."""

    __slots__ = ("digest", "elf", "error", "kind", "size")

    def __init__(self) -> None:
        self.kind: str = ""
        self.size = 0
        self.digest: str | None = None
        """The RECORD spelling of the member's hash, when RECORD lists one."""
        self.elf: ElfInfo | str | None = None
        """Parsed here, or None: left in the sandbox, to parse while the import runs."""
        self.error: Exception | None = None


def read_member(
    placed: Placed,
    entry: Entry,
    algorithm: str | None,
    sandbox: SandboxSlot | None,
    tree: Tree | None = None,
) -> MemberRead:
    """Read one member (through ``tree``, a reader of ``placed.tree``): hash it, sniff
    it, parse it if ELF (unless it is left in the sandbox for later), and write it to
    the sandbox. Touches no shared state but the sandbox's files, so two threads may
    run it at once, each with its own reader."""
    tree = tree or placed.tree
    read = MemberRead()
    hasher = hashlib.new(algorithm) if algorithm is not None else None
    spool: IO[bytes] | None = None
    out = sandbox.create(placed, entry) if sandbox is not None else None
    try:
        with tree.open(entry) as fh:
            try:
                head = fh.read(_CHUNK)
                read.kind = kind = sniff(head, entry.name)
                if hasher is None and not kind and out is None:
                    return read
                size = len(head)
                if kind == "elf" and out is None:
                    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115
                    spool.write(head)
                chunk = head
                while chunk:
                    if hasher is not None:
                        hasher.update(chunk)
                    if out is not None:
                        out = _write_or_fail(out, chunk, sandbox)
                    chunk = fh.read(_CHUNK)
                    size += len(chunk)
                    if spool is not None:
                        spool.write(chunk)
                read.size = size
            except READ_ERRORS as exc:
                raise tree.corrupt(entry, exc) from exc
            finally:
                if out is not None:
                    _close_or_fail(out, sandbox)
        if hasher is not None:
            read.digest = record_digest(hasher.name, hasher.digest())
        if kind == "elf":
            if spool is not None:
                spool.seek(0)
                read.elf = parse_elf(spool)
            elif sandbox is None or sandbox.failed is not None:
                # The sandbox failed while this file was written: read it again.
                with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as again:
                    with tree.open(entry) as fh:
                        try:
                            while chunk := fh.read(_CHUNK):
                                again.write(chunk)
                        except READ_ERRORS as exc:
                            raise tree.corrupt(entry, exc) from exc
                    again.seek(0)
                    read.elf = parse_elf(again)
    except Exception as exc:  # accounted for (raised) in the artifact's order
        read.error = exc
    finally:
        if spool is not None:
            spool.close()
    return read


def read_members(
    placed: Placed, jobs: list[tuple[Entry, str | None]], sandbox: SandboxSlot | None
) -> list[MemberRead]:
    """:func:`read_member` for every job, by ``THREADS`` threads, largest first; the
    results in the jobs' order. The first error stops both threads early."""
    reads: list[MemberRead | None] = [None] * len(jobs)
    order = iter(sorted(range(len(jobs)), key=lambda i: -jobs[i][0].size))
    failed = threading.Event()

    def work(tree: Tree) -> None:
        for index in order:  # next() on a shared iterator: each index goes to one thread
            if failed.is_set():
                return
            entry, algorithm = jobs[index]
            read = reads[index] = read_member(placed, entry, algorithm, sandbox, tree)
            if read.error is not None:
                failed.set()

    second = placed.tree.reader() if THREADS > 1 else None
    helper = None
    if second is not None:
        helper = threading.Thread(target=work, args=(second,), name="verify-reader", daemon=True)
        helper.start()
    try:
        work(placed.tree)
    except BaseException:
        failed.set()  # interrupted: the helper stops after its current member
        raise
    finally:
        if helper is not None:
            helper.join()
        if second is not None and second is not placed.tree:
            second.close()
    if failed.is_set():
        # Report the first error in the artifact's order, as one thread would have.
        first = next(r for r in reads if r is not None and r.error is not None)
        for index, read in enumerate(reads):
            if read is None:
                skipped = MemberRead()
                skipped.error = first.error
                reads[index] = skipped
    return [r for r in reads if r is not None]


def reads_in_any_order(entries: list[Entry], sandbox: SandboxSlot | None) -> bool:
    """Whether the members can be read in any order (by two threads, when the tree
    gives a second reader): with a sandbox, only when no symlink could make two
    different names one file."""
    if THREADS < 2:
        return False
    files = [e.name for e in entries if e.kind == "file"]
    if len(files) < 2:
        return False
    if sandbox is None:
        return True
    symlinks = any(e.kind == "symlink" for e in entries)
    return not symlinks and not sandbox.has_links() and len(set(files)) == len(files)
