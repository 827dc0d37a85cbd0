"""What the members' contents say: one pass over every artifact, in Lambda's unpacking
order, into the findings (RECORD hashes, binary formats, ELF facts) and, when the
import check runs, into its sandbox.

ELF files written to the sandbox are parsed from there afterwards, while the import
runs: they are opened before it may start, so the imported code cannot swap them.
"""

from __future__ import annotations

import hashlib
from typing import IO, TYPE_CHECKING

from sentiment_pipeline.packaging.verify.findings import where
from sentiment_pipeline.packaging.verify.native import parse_elf
from sentiment_pipeline.packaging.verify.reading import (
    read_member,
    read_members,
    reads_in_any_order,
)
from sentiment_pipeline.packaging.verify.rules.records import check_record

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.verify.distributions import Distribution, RecordRow
    from sentiment_pipeline.packaging.verify.findings import Findings
    from sentiment_pipeline.packaging.verify.memo import KnownTree
    from sentiment_pipeline.packaging.verify.native import ElfInfo
    from sentiment_pipeline.packaging.verify.reading import MemberRead
    from sentiment_pipeline.packaging.verify.rules.binaries import BinaryChecks
    from sentiment_pipeline.packaging.verify.rules.records import Owners
    from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["ContentChecks"]

_KNOWN_HASHES = frozenset({"sha256", "sha384", "sha512", "sha1", "md5"})


class ContentChecks:
    """Streams artifacts' members once each; :meth:`close` always."""

    def __init__(self, findings: Findings, binaries: BinaryChecks) -> None:
        self.findings = findings
        self.binaries = binaries
        # ELF files written to the sandbox, parsed from there after the import started.
        self._pending: dict[Path, tuple[Placed, Entry]] = {}
        self._opened: dict[Path, tuple[Placed, Entry, IO[bytes] | OSError]] = {}

    def stream(
        self,
        placed: Placed,
        owners: Owners,
        sandbox: SandboxSlot | None = None,
        *,
        known: KnownTree | None = None,
        record: dict[str, MemberRead] | None = None,
    ) -> None:
        """Read every member once: RECORD hashes, file magic, ELF facts; with a
        ``sandbox``, each member is also written there (for the import check).

        With ``known`` (the facts an earlier verification of the same artifact
        recorded, see :mod:`.memo`), nothing is read: the facts go through the same
        rules, and the sandbox is filled from the artifact's unpacked copy. Without a
        sandbox, ``record`` receives each member's facts.

        Members are read by two threads when the tree allows it (inflating, hashing and
        writing release the GIL: two cores instead of one); what they find is accounted
        for here in the artifact's order, so the report does not depend on timing.
        """
        entries = [e for e in placed.tree.entries() if not e.unsafe]
        if known is not None and known.matches(entries):
            self._replay(placed, owners, entries, known, sandbox)
            return
        if sandbox is not None:
            record = None  # ELF files are parsed later, from the sandbox: facts incomplete
        if not reads_in_any_order(entries, sandbox):
            for entry in entries:
                if entry.kind == "file":
                    claim = owners.get(entry.name)
                    row, dist = (claim[1], claim[0]) if claim else (None, None)
                    if sandbox is not None and sandbox.path_of(placed, entry) in self._pending:
                        self.parse_pending()  # a later layer overwrites it
                    read = read_member(placed, entry, self.algorithm(entry, row), sandbox)
                    self.account(placed, entry, row, dist, read, sandbox)
                    if record is not None:
                        record[entry.name] = read
                elif sandbox is not None:
                    if entry.kind == "symlink":
                        self.parse_pending()  # paths may alias from now on
                    sandbox.place(placed, entry)
            return
        jobs: list[tuple[Entry, RecordRow | None, Distribution | None, str | None]] = []
        for entry in entries:
            if entry.kind == "file":
                claim = owners.get(entry.name)
                row, dist = (claim[1], claim[0]) if claim else (None, None)
                jobs.append((entry, row, dist, self.algorithm(entry, row)))
        if sandbox is not None:
            if any(sandbox.path_of(placed, job[0]) in self._pending for job in jobs):
                self.parse_pending()  # a later layer overwrites some of them
            for entry in entries:
                if entry.kind == "dir":
                    sandbox.place(placed, entry)
        reads = read_members(placed, [(job[0], job[3]) for job in jobs], sandbox)
        for (entry, row, dist, _algorithm), read in zip(jobs, reads, strict=True):
            self.account(placed, entry, row, dist, read, sandbox)
            if record is not None:
                record[entry.name] = read

    def _replay(
        self,
        placed: Placed,
        owners: Owners,
        entries: list[Entry],
        known: KnownTree,
        sandbox: SandboxSlot | None,
    ) -> None:
        """:meth:`stream` from recorded facts, in the artifact's order."""
        for entry in entries:
            if entry.kind == "file":
                claim = owners.get(entry.name)
                row, dist = (claim[1], claim[0]) if claim else (None, None)
                self.algorithm(entry, row)  # its notes, as when reading
                if sandbox is not None:
                    if sandbox.path_of(placed, entry) in self._pending:
                        self.parse_pending()  # a later layer overwrites it
                    known.copy_into(sandbox, placed, entry)
                self.account(placed, entry, row, dist, known.reads[entry.name], None)
            elif sandbox is not None:
                if entry.kind == "symlink":
                    self.parse_pending()  # paths may alias from now on
                sandbox.place(placed, entry)

    def algorithm(self, entry: Entry, row: RecordRow | None) -> str | None:
        """The RECORD hash to check ``entry`` with, if any (noting unknown ones once)."""
        if row is None or not row.algorithm or not row.digest:
            return None
        if row.algorithm not in _KNOWN_HASHES:
            try:
                hashlib.new(row.algorithm)
            except ValueError:
                self.findings.notes.append(f"{entry.name}: unknown RECORD hash {row.algorithm!r}")
                return None
        return row.algorithm

    def account(
        self,
        placed: Placed,
        entry: Entry,
        row: RecordRow | None,
        dist: Distribution | None,
        read: MemberRead,
        sandbox: SandboxSlot | None,
    ) -> None:
        """What one member's contents say, into the findings."""
        if read.error is not None:
            raise read.error
        findings = self.findings
        if read.digest is not None and row is not None and dist is not None:
            check_record(
                findings, placed, entry.name, dist, row, digest=read.digest, size=read.size
            )
        if read.kind in ("mach-o", "pe", "elf"):
            findings.counts.native_files += 1
            findings.native.append(where(placed, entry.name))
        if read.kind in ("mach-o", "pe"):
            self.binaries.check_foreign(placed, entry.name, read.kind)
        elif read.kind == "elf":
            if read.elf is not None:
                self.elf_parsed(placed, entry, read.elf)
            else:  # in the sandbox: parsed from there later, while the import runs
                assert sandbox is not None
                self._pending[sandbox.path_of(placed, entry)] = (placed, entry)

    def open_pending(self) -> None:
        """Open the sandbox's ELF files still to be parsed, before the import may run:
        what the imported code does to the sandbox afterwards cannot swap them."""
        for path, (placed, entry) in list(self._pending.items()):
            try:
                self._opened[path] = (placed, entry, open(path, "rb"))  # noqa: SIM115
            except OSError as exc:
                self._opened[path] = (placed, entry, exc)
        self._pending.clear()

    def parse_pending(self) -> None:
        """Parse the ELF files left for later (opened or not)."""
        self.open_pending()
        for placed, entry, fh in self._opened.values():
            if isinstance(fh, OSError):
                info: ElfInfo | str = f"cannot be read back ({fh})"
            else:
                with fh:
                    info = parse_elf(fh)
            self.elf_parsed(placed, entry, info)
        self._opened.clear()

    def close(self) -> None:
        for _placed, _entry, fh in self._opened.values():
            if not isinstance(fh, OSError):
                fh.close()
        self._opened.clear()
        self._pending.clear()

    def elf_parsed(self, placed: Placed, entry: Entry, info: ElfInfo | str) -> None:
        if isinstance(info, str):
            self.findings.notes.append(f"{where(placed, entry.name)}: unreadable ELF ({info})")
        else:
            self.binaries.check_elf(placed, entry.name, info)
