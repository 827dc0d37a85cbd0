"""The verifier: every static check and the dynamic import, into one report.

Every member is read once (by two threads when the artifact allows it): hashed against
RECORD, sniffed, parsed if native, and written into the import check's sandbox, whose
interpreter was started first and imports as soon as the sandbox is complete, while
the ELF files are parsed beside it.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tempfile
import threading
from typing import IO, TYPE_CHECKING, Any

from packaging.tags import parse_tag

from sentiment_pipeline.errors import one_line
from sentiment_pipeline.packaging.verify.distributions import (
    Distribution,
    RecordRow,
    find_distributions,
    record_digest,
)
from sentiment_pipeline.packaging.verify.findings import Problem, ProblemCode
from sentiment_pipeline.packaging.verify.handler import HandlerChecks
from sentiment_pipeline.packaging.verify.modules import ImportRoot, Layout, Placed, is_layer_tree
from sentiment_pipeline.packaging.verify.native import (
    ElfInfo,
    parse_elf,
    parse_extension_name,
    sniff,
)
from sentiment_pipeline.packaging.verify.report import Report
from sentiment_pipeline.packaging.verify.sources import READ_ERRORS, Entry, Tree, open_tree

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.dynamic import LiveImport, Sandbox

__all__ = ["verify"]

_CHUNK = 1 << 20
_SPOOL = 8 << 20  # larger ELF files go to a temporary file: memory stays flat


def _rebuild_hint(target: Target) -> str:
    return (
        f"Reinstall the dependencies for the target, e.g. `uv pip install --python-platform "
        f"{target.machine}-manylinux_{target.glibc[0]}_{target.glibc[1]} --python-version "
        f"{target.python} --only-binary :all: --target DIR -r requirements.txt`"
    )


# A bytecode cache file: __pycache__/NAME.TAG[.opt-N].pyc (PEP 3147, PEP 488).
_CACHED_BYTECODE = re.compile(r"(?:^|/)__pycache__/[^/.]+\.([^/.]+)(?:\.opt-\d+)?\.pyc$")


def _expand(compressed: tuple[str, ...]) -> set[str]:
    """Expand compressed tag sets (``cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64``)."""
    out: set[str] = set()
    for tag in compressed:
        try:
            out.update(str(t) for t in parse_tag(tag))
        except ValueError:
            continue  # a malformed tag matches nothing
    return out


def _write_or_fail(out: IO[bytes], data: bytes, sandbox: Sandbox | None) -> IO[bytes] | None:
    """Write to the sandbox; a write error (no room) ends the sandbox, not the checks."""
    try:
        out.write(data)
    except OSError as exc:
        _close_or_fail(out, sandbox)
        if sandbox is not None:
            sandbox.fail(exc)
        return None
    return out


def _close_or_fail(out: IO[bytes], sandbox: Sandbox | None) -> None:
    try:
        out.close()
    except OSError as exc:
        if sandbox is not None:
            sandbox.fail(exc)


# Threads that read members: inflating, hashing and writing release the GIL.
_THREADS = min(2, os.cpu_count() or 1)
_KNOWN_HASHES = frozenset({"sha256", "sha384", "sha512", "sha1", "md5"})


class _Read:
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


def _read_member(
    placed: Placed,
    entry: Entry,
    algorithm: str | None,
    sandbox: Sandbox | None,
    tree: Tree | None = None,
) -> _Read:
    """Read one member (through ``tree``, a reader of ``placed.tree``): hash it, sniff
    it, parse it if ELF (unless it is left in the sandbox for later), and write it to
    the sandbox. Touches no shared state but the sandbox's files, so two threads may
    run it at once, each with its own reader."""
    tree = tree or placed.tree
    read = _Read()
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


def _read_members(
    placed: Placed, jobs: list[tuple[Entry, str | None]], sandbox: Sandbox | None
) -> list[_Read]:
    """:func:`_read_member` for every job, by ``_THREADS`` threads, largest first; the
    results in the jobs' order. The first error stops both threads early."""
    reads: list[_Read | None] = [None] * len(jobs)
    order = iter(sorted(range(len(jobs)), key=lambda i: -jobs[i][0].size))
    failed = threading.Event()

    def work(tree: Tree) -> None:
        for index in order:  # next() on a shared iterator: each index goes to one thread
            if failed.is_set():
                return
            entry, algorithm = jobs[index]
            read = reads[index] = _read_member(placed, entry, algorithm, sandbox, tree)
            if read.error is not None:
                failed.set()

    second = placed.tree.reader() if _THREADS > 1 else None
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
                skipped = _Read()
                skipped.error = first.error
                reads[index] = skipped
    return [r for r in reads if r is not None]


class _Checker:
    def __init__(self, target: Target, layout: Layout, *, s3_upload: bool) -> None:
        self.target = target
        self.layout = layout
        self.s3_upload = s3_upload
        self.problems: dict[tuple[ProblemCode, str], Problem] = {}
        self.notes: list[str] = []
        self.native: list[str] = []
        self.stats: dict[str, int] = {
            "files": 0,
            "bytes_unzipped": 0,
            "hashed_files": 0,
            "native_files": 0,
            "distributions": 0,
        }
        self.dists: dict[int, list[Distribution]] = {}
        self.foreign_bytecode: dict[str, list[int]] = {}
        """Per cache tag other than the target's: [files, bytes]."""
        self.owned: dict[int, dict[str, tuple[Distribution, RecordRow]]] = {}
        # ELF files written to the sandbox, parsed from there after the import started.
        self._pending: dict[Path, tuple[Placed, Entry]] = {}
        self._opened: dict[Path, tuple[Placed, Entry, IO[bytes] | OSError]] = {}

    # -- helpers -----------------------------------------------------------------------
    def add(self, code: ProblemCode, path: str, message: str, fix: str = "") -> None:
        """Record a problem; ``fix``, advice other problems share, ends its message."""
        path, fix = one_line(path), one_line(fix)
        text = one_line(f"{message} {fix}" if fix else message)
        self.problems.setdefault((code, path), Problem(code, path, text, fix))

    @staticmethod
    def where(placed: Placed, name: str) -> str:
        if placed.role == "function":
            return name
        return f"{placed.tree.path.name}:{name}"

    # -- listing-level checks ----------------------------------------------------------
    def check_listing(self, placed: Placed) -> None:
        t = self.target
        for entry in placed.tree.entries():
            if entry.unsafe:
                self.add(
                    ProblemCode.UNSAFE_PATH,
                    self.where(placed, entry.name),
                    f"{entry.name} {entry.unsafe}.",
                    fix="Rebuild the artifact from a clean directory; never deploy an "
                    "archive with such entries.",
                )
                continue
            if entry.kind != "file":
                continue
            self.stats["files"] += 1
            self.stats["bytes_unzipped"] += entry.size
            cached = _CACHED_BYTECODE.search(entry.name)
            if cached is not None and cached.group(1) != t.cache_tag:
                counts = self.foreign_bytecode.setdefault(cached.group(1), [0, 0])
                counts[0] += 1
                counts[1] += entry.size
            ext = parse_extension_name(entry.name)
            if ext is None:
                continue
            where = self.where(placed, entry.name)
            if ext.os == "windows":
                self.add(
                    ProblemCode.NOT_LINUX,
                    where,
                    f"{entry.name} is a Windows extension module; Lambda runs Linux.",
                    fix=_rebuild_hint(t),
                )
            elif ext.os == "darwin":
                self.add(
                    ProblemCode.NOT_LINUX,
                    where,
                    f"{entry.name} is a macOS extension module; Lambda runs Linux.",
                    fix=_rebuild_hint(t),
                )
            elif ext.machine is not None and ext.machine != t.machine:
                self.add(
                    ProblemCode.ARCH_MISMATCH,
                    where,
                    f"{entry.name} is built for {ext.machine}; {t.runtime} on "
                    f"{t.architecture} needs {t.machine} extensions.",
                    fix=_rebuild_hint(t),
                )
            elif ext.python != t.python_version or ext.flags or ext.os != "linux-gnu":
                built = f"CPython {ext.python[0]}.{ext.python[1]}"
                if ext.flags:
                    built += f" with ABI flags {ext.flags!r}"
                    if "t" in ext.flags:
                        built += " (free-threaded)"
                if ext.os != "linux-gnu":
                    built += f" on {ext.os}"
                self.add(
                    ProblemCode.ABI_MISMATCH,
                    where,
                    f"{entry.name} is built for {built}; {t.runtime} needs "
                    f"{t.extension_suffixes[0].strip('.')} or abi3 extensions, and the "
                    "import fails with 'No module named ...'.",
                    fix=_rebuild_hint(t),
                )

    def note_foreign_bytecode(self) -> None:
        """Bytecode compiled by another Python (the build host's, often) is never read on
        the target: dead weight, not a failure. Say how much there is."""
        if not self.foreign_bytecode:
            return
        t = self.target
        files = sum(n for n, _ in self.foreign_bytecode.values())
        size = sum(b for _, b in self.foreign_bytecode.values())
        tags = ", ".join(f"{tag}: {n}" for tag, (n, _) in sorted(self.foreign_bytecode.items()))
        amount = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"
        self.notes.append(
            f"{files} .pyc file(s) ({amount} unzipped) hold bytecode for another Python "
            f"({tags}); {t.runtime} reads only {t.cache_tag} bytecode, so they are dead "
            "weight: drop them (delete the __pycache__ directories, or exclude "
            "**/__pycache__/** when packaging)."
        )

    def check_size(self) -> None:
        t = self.target
        layers = [p for p in self.layout.placed if p.role == "layer"]
        if len(layers) > t.limits.layers:
            self.add(
                ProblemCode.SIZE_LIMIT,
                "layers",
                f"{len(layers)} layers given; Lambda allows at most {t.limits.layers} per "
                "function. Merge layers, or move dependencies into the function.",
            )
        total = self.stats["bytes_unzipped"]
        if any(p.tree.kind == "image" for p in self.layout.placed):
            if total > t.limits.image:
                self.add(
                    ProblemCode.SIZE_LIMIT,
                    "image",
                    f"/var/task holds {total} bytes, over Lambda's {t.limits.image} byte "
                    "(10 GB) image limit. Drop unused dependencies, data and models.",
                )
        elif total > t.limits.unzipped:
            what = "function and layers unpack" if layers else "artifact unpacks"
            self.add(
                ProblemCode.SIZE_LIMIT,
                "unzipped",
                f"the {what} to {total} bytes ({total / 2**20:.1f} MiB); Lambda's "
                f"limit is {t.limits.unzipped} bytes (250 MiB) including all layers. Drop "
                "unused dependencies, strip tests and data, or use a container image "
                "(10 GB).",
            )
        for placed in self.layout.placed:
            size = placed.tree.archive_size
            if size is not None and size > t.limits.zipped_upload and not self.s3_upload:
                self.add(
                    ProblemCode.SIZE_LIMIT,
                    placed.tree.label,
                    f"the zip is {size} bytes ({size / 2**20:.1f} MiB), over the "
                    f"{t.limits.zipped_upload} byte (50 MiB) limit of a direct upload. "
                    "Upload it through S3 (then pass --s3-upload), or move dependencies "
                    "into a layer.",
                )

    # -- distributions -----------------------------------------------------------------
    def collect_distributions(self, placed: Placed) -> None:
        t = self.target
        dists = find_distributions(placed.tree, placed.tree.entries())
        roots = self.roots_of(placed)
        owned: dict[str, tuple[Distribution, RecordRow]] = {}
        visible: list[Distribution] = []
        for dist in dists:
            self.stats["distributions"] += 1
            for row in dist.records:
                owned[row.path] = (dist, row)
            if dist.base in roots:
                visible.append(dist)
            elif placed.role == "layer" and dist.base.startswith("python/lib/python"):
                self.add(
                    ProblemCode.ABI_MISMATCH,
                    self.where(placed, dist.dist_info),
                    f"{dist.display_name} {dist.version} is installed under "
                    f"{dist.base}/, which {t.runtime} never puts on sys.path (it reads "
                    f"{t.layer_site_packages}/ and python/). Rebuild the layer for "
                    f"{t.runtime}.",
                )
            if dist.tags and not any(tag in t.wheel_tag_set for tag in _expand(dist.tags)):
                self.add(
                    ProblemCode.WHEEL_TAG_INCOMPATIBLE,
                    self.where(placed, dist.dist_info),
                    f"{dist.display_name} {dist.version} was installed from a wheel tagged "
                    f"{', '.join(dist.tags)}, which {t.runtime} on {t.architecture} does "
                    f"not accept (it takes {t.cp}, abi3 or py3 wheels for "
                    f"{t.platform_tags[0]} or older).",
                    fix=_rebuild_hint(t),
                )
        self.dists[placed.order] = visible
        self.owned[placed.order] = owned

    def roots_of(self, placed: Placed) -> dict[str, ImportRoot]:
        return {r.prefix: r for r in self.layout.roots if r.placed is placed}

    def check_shadowing(self) -> None:
        seen: dict[str, tuple[Placed, Distribution]] = {}
        # Lambda's path order: function first, then layers (the last-listed first).
        order = [p for p in self.layout.placed if p.role == "function"]
        order += [p for p in reversed(self.layout.placed) if p.role == "layer"]
        for placed in order:
            for dist in self.dists.get(placed.order, []):
                if dist.name not in seen:
                    seen[dist.name] = (placed, dist)
                    continue
                winner_placed, winner = seen[dist.name]
                if winner.version == dist.version:
                    continue
                self.add(
                    ProblemCode.SHADOWED_DISTRIBUTION,
                    self.where(placed, dist.dist_info),
                    f"{dist.display_name} {dist.version} in {placed.label} "
                    f"({placed.tree.path.name}) is shadowed by {winner.display_name} "
                    f"{winner.version} in {winner_placed.label} "
                    f"({winner_placed.tree.path.name}): Lambda imports the "
                    f"{winner.version} copy, and code built against {dist.version} may "
                    "break. Pin one version everywhere, or drop it from the "
                    f"{winner_placed.label} so the other copy is used.",
                )

    # -- contents ----------------------------------------------------------------------
    def check_missing(self, placed: Placed) -> None:
        files = {e.name for e in placed.tree.entries() if e.kind in ("file", "symlink")}
        for path, (dist, row) in self.owned[placed.order].items():
            if path in files or row.digest is None:
                continue  # unhashed rows: RECORD itself, bytecode compiled at install time
            self.add(
                ProblemCode.MISSING_FILE,
                self.where(placed, path),
                f"{path} is listed in {dist.record_path} of {dist.display_name} "
                f"{dist.version} but is not in the artifact; importing it fails at run "
                "time (the preprod 502: 'No module named ...').",
                fix=f"Reinstall {dist.display_name} for the target and check that nothing "
                "strips files (exclude patterns, size trimming).",
            )

    def stream_contents(
        self,
        placed: Placed,
        native_files: dict[str, ElfInfo],
        sandbox: Sandbox | None = None,
    ) -> None:
        """Read every member once: RECORD hashes, file magic, ELF facts; with a
        ``sandbox``, each member is also written there (for the import check).

        Members are read by two threads when the tree allows it (inflating, hashing and
        writing release the GIL: two cores instead of one); what they find is accounted
        for here in the artifact's order, so the report does not depend on timing.
        """
        owned = self.owned[placed.order]
        entries = [e for e in placed.tree.entries() if not e.unsafe]
        if not self.parallel(placed, entries, sandbox):
            for entry in entries:
                if entry.kind == "file":
                    claim = owned.get(entry.name)
                    row, dist = (claim[1], claim[0]) if claim else (None, None)
                    if sandbox is not None and sandbox.path_of(placed, entry) in self._pending:
                        self.parse_pending(native_files)  # a later layer overwrites it
                    read = _read_member(placed, entry, self.algorithm(entry, row), sandbox)
                    self.account(placed, entry, row, dist, read, native_files, sandbox)
                elif sandbox is not None:
                    if entry.kind == "symlink":
                        self.parse_pending(native_files)  # paths may alias from now on
                    sandbox.place(placed, entry)
            return
        jobs: list[tuple[Entry, RecordRow | None, Distribution | None, str | None]] = []
        for entry in entries:
            if entry.kind == "file":
                claim = owned.get(entry.name)
                row, dist = (claim[1], claim[0]) if claim else (None, None)
                jobs.append((entry, row, dist, self.algorithm(entry, row)))
        if sandbox is not None:
            if any(sandbox.path_of(placed, job[0]) in self._pending for job in jobs):
                self.parse_pending(native_files)  # a later layer overwrites some of them
            for entry in entries:
                if entry.kind == "dir":
                    sandbox.place(placed, entry)
        reads = _read_members(placed, [(job[0], job[3]) for job in jobs], sandbox)
        for (entry, row, dist, _algorithm), read in zip(jobs, reads, strict=True):
            self.account(placed, entry, row, dist, read, native_files, sandbox)

    def algorithm(self, entry: Entry, row: RecordRow | None) -> str | None:
        """The RECORD hash to check ``entry`` with, if any (noting unknown ones once)."""
        if row is None or not row.algorithm or not row.digest:
            return None
        if row.algorithm not in _KNOWN_HASHES:
            try:
                hashlib.new(row.algorithm)
            except ValueError:
                self.notes.append(f"{entry.name}: unknown RECORD hash {row.algorithm!r}")
                return None
        return row.algorithm

    @staticmethod
    def parallel(placed: Placed, entries: list[Entry], sandbox: Sandbox | None) -> bool:
        """Whether the members can be read in any order (by two threads, when the tree
        gives a second reader): with a sandbox, only when no symlink could make two
        different names one file."""
        if _THREADS < 2:
            return False
        files = [e.name for e in entries if e.kind == "file"]
        if len(files) < 2:
            return False
        if sandbox is None:
            return True
        symlinks = any(e.kind == "symlink" for e in entries)
        return not symlinks and not sandbox.has_links() and len(set(files)) == len(files)

    def account(
        self,
        placed: Placed,
        entry: Entry,
        row: RecordRow | None,
        dist: Distribution | None,
        read: _Read,
        native_files: dict[str, ElfInfo],
        sandbox: Sandbox | None,
    ) -> None:
        """What one member's contents say, into the report."""
        if read.error is not None:
            raise read.error
        where = self.where(placed, entry.name)
        size, kind = read.size, read.kind
        if read.digest is not None and row is not None and dist is not None:
            self.stats["hashed_files"] += 1
            digest = read.digest
            if digest != row.digest or (row.size is not None and row.size != size):
                self.add(
                    ProblemCode.RECORD_MISMATCH,
                    where,
                    f"{entry.name} differs from {dist.record_path} ("
                    + (
                        f"size {size}, RECORD says {row.size}; "
                        if row.size not in (None, size)
                        else ""
                    )
                    + f"{row.algorithm} {digest}, RECORD says {row.digest}): the file was "
                    "modified or corrupted after install.",
                    fix=f"Reinstall {dist.display_name} {dist.version} for the target.",
                )
        if kind in ("mach-o", "pe"):
            self.stats["native_files"] += 1
            self.native.append(where)
            system = "macOS (Mach-O)" if kind == "mach-o" else "Windows (PE)"
            self.add(
                ProblemCode.NOT_LINUX,
                where,
                f"{entry.name} is a {system} binary; Lambda runs Linux and cannot load it.",
                fix=_rebuild_hint(self.target),
            )
        elif kind == "elf":
            self.stats["native_files"] += 1
            self.native.append(where)
            if read.elf is not None:
                self.elf_parsed(placed, entry, read.elf, native_files)
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

    def parse_pending(self, native_files: dict[str, ElfInfo]) -> None:
        """Parse the ELF files left for later (opened or not)."""
        self.open_pending()
        for placed, entry, fh in self._opened.values():
            if isinstance(fh, OSError):
                info: ElfInfo | str = f"cannot be read back ({fh})"
            else:
                with fh:
                    info = parse_elf(fh)
            self.elf_parsed(placed, entry, info, native_files)
        self._opened.clear()

    def close_pending(self) -> None:
        for _placed, _entry, fh in self._opened.values():
            if not isinstance(fh, OSError):
                fh.close()
        self._opened.clear()
        self._pending.clear()

    def elf_parsed(
        self, placed: Placed, entry: Entry, info: ElfInfo | str, native_files: dict[str, ElfInfo]
    ) -> None:
        where = self.where(placed, entry.name)
        if isinstance(info, str):
            self.notes.append(f"{where}: unreadable ELF ({info})")
        else:
            native_files[where] = info
            self.check_elf(placed, entry, info)

    def check_elf(self, placed: Placed, entry: Entry, info: ElfInfo) -> None:
        t = self.target
        where = self.where(placed, entry.name)
        if info.elfclass != 64 or info.machine != t.elf_machine:
            arch = {
                "EM_X86_64": "x86_64",
                "EM_AARCH64": "aarch64",
                "EM_386": "i386",
                "EM_ARM": "32-bit ARM",
            }.get(info.machine, info.machine)
            self.add(
                ProblemCode.ARCH_MISMATCH,
                where,
                f"{entry.name} is a {info.elfclass}-bit ELF for {arch}; {t.runtime} on "
                f"{t.architecture} needs 64-bit {t.machine}.",
                fix=_rebuild_hint(t),
            )
            return  # symbol versions and libraries of a foreign binary are moot
        too_new = [v for v in info.glibc_versions if v[:2] > t.glibc]
        if too_new:
            needed = ".".join(str(p) for p in max(too_new))
            self.add(
                ProblemCode.GLIBC_TOO_NEW,
                where,
                f"{entry.name} needs GLIBC_{needed}; {t.runtime} ({t.os_name}) has glibc "
                f"{t.glibc_str}, so loading it fails with 'version `GLIBC_{needed}' not "
                f"found'. Use a wheel for {t.platform_tags[0]} or older.",
                fix=_rebuild_hint(t),
            )
        for lib in info.needed:
            if lib in t.runtime_libraries or self.bundled(lib):
                continue
            self.add(
                ProblemCode.UNRESOLVED_LIBRARY,
                where,
                f"{entry.name} needs {lib}, which is neither in the artifact nor part of "
                f"the {t.runtime} runtime (its libraries: the manylinux policy's, "
                f"{t.libraries_source}).",
                fix="Bundle the missing libraries (auditwheel repair, or a layer's lib/), or "
                "use manylinux wheels.",
            )

    def bundled(self, lib: str) -> bool:
        if not hasattr(self, "_basenames"):
            names: set[str] = set()
            for placed in self.layout.placed:
                for e in placed.tree.entries():
                    if e.kind in ("file", "symlink") and not e.unsafe:
                        names.add(posixpath.basename(e.name))
            self._basenames = names
        return lib in self._basenames


def _not_checked(role: str, handler: str | None, dynamic: dict[str, Any]) -> list[str]:
    """What an "OK" does not cover, for the verdict: the handler, or its import."""
    if role == "layer":
        return ["handler not checked: a layer has none (verify its function with --layer)"]
    if handler is None:
        return ["handler not checked: no handler.py at the root and no --handler"]
    if not dynamic.get("ran"):
        reason = str(dynamic.get("summary", "")).removeprefix("dynamic check skipped: ")
        return [f"import not checked: {reason}"]
    return []


def verify(
    artifact: str | os.PathLike[str],
    *,
    target: Target,
    layers: Sequence[str | os.PathLike[str]] = (),
    handler: str | None = None,
    dynamic: bool = True,
    s3_upload: bool = False,
    interpreter: str | None = None,
    offline: bool = False,
    engine: Engine | None = None,
    image: str | None = None,
    prefer_image: bool = False,
) -> Report:
    """Check that ``artifact`` (plus ``layers``) will import and run on ``target``.

    Static checks always run; the dynamic import runs when ``dynamic`` is true and
    an interpreter of the target's Python version and architecture is available.
    ``offline`` keeps it from fetching the runtime's SDK when it is not cached. With
    ``engine`` and ``image``, the import runs inside that image when this machine has no
    interpreter of the target (a python3.13 artifact proven on a python3.11 host).
    Raises :class:`~sentiment_pipeline.errors.ArtifactError` for unusable input.

    >>> from sentiment_pipeline import get_target
    >>> report = verify("dist/dashboard.zip", target=get_target("python3.13"))  # doctest: +SKIP
    >>> report.ok, report.codes()  # doctest: +SKIP
    (False, {'missing-file'})
    """
    from sentiment_pipeline.packaging.verify.dynamic import DynamicResult, run_dynamic, start_import

    trees: list[Tree] = []
    try:
        main = open_tree(artifact)
        trees.append(main)
        for layer in layers:
            trees.append(open_tree(layer))
        main_entries = main.entries()
        role = "layer" if handler is None and is_layer_tree(main_entries) else "function"
        placed = [Placed(main, role, 0 if role == "function" else 1)]  # type: ignore[arg-type]
        base = 1 if role == "function" else 2
        placed += [Placed(tree, "layer", base + i) for i, tree in enumerate(trees[1:])]
        layout = Layout(target, placed)
        checker = _Checker(target, layout, s3_upload=s3_upload)
        for p in placed:
            checker.check_listing(p)
        checker.check_size()
        checker.note_foreign_bytecode()
        for p in placed:
            checker.collect_distributions(p)
        checker.check_shadowing()
        for p in placed:
            checker.check_missing(p)
        if handler is None and role == "function" and layout.find_module("handler") is not None:
            handler = "handler.lambda_handler"
        handler_info: dict[str, Any] = {}
        if handler is not None:
            handler_info = HandlerChecks(
                target, layout, checker.owned, checker.add, checker.notes
            ).check_handler(handler)
        unsafe = any(p.code == ProblemCode.UNSAFE_PATH for p in checker.problems.values())
        skip = None
        if not dynamic:
            skip = "--no-import"
        elif not handler_info.get("found"):
            skip = "no importable handler"
        elif unsafe:
            skip = "unsafe paths"
        # The import check starts now and waits while the static checks stream every
        # member once, writing each into its sandbox; then it imports while the ELF
        # files are parsed (two cores busy instead of one after the other).
        live: LiveImport | None = None
        if skip is None and handler is not None and not (prefer_image and engine and image):
            live = start_import(target, placed, handler, interpreter=interpreter, offline=offline)
        try:
            native: dict[str, ElfInfo] = {}
            for p in placed:
                checker.stream_contents(p, native, live.sandbox if live is not None else None)
            checker.open_pending()
            if live is not None:
                live.go()
            checker.parse_pending(native)
            if skip or handler is None:
                dyn = DynamicResult(False, f"dynamic check skipped: {skip}").to_json()
            else:
                if live is not None:
                    result = live.finish()
                else:
                    result = run_dynamic(
                        target,
                        placed,
                        handler,
                        interpreter=interpreter,
                        offline=offline,
                        engine=engine,
                        image=image,
                        prefer_image=prefer_image,
                    )
                dyn = result.to_json()
                if result.problem is not None:
                    checker.add(ProblemCode.IMPORT_FAILED, handler, result.problem)
        finally:
            checker.close_pending()
            if live is not None:
                live.close()
        checked: dict[str, Any] = {
            "artifact": str(artifact),
            "kind": role,
            "layers": [str(layer) for layer in layers],
            **checker.stats,
            "handler": handler,
            "dynamic": dyn,
            "not_checked": _not_checked(role, handler, dyn),
            "native": checker.native,
            "notes": checker.notes,
        }
        problems = tuple(sorted(checker.problems.values(), key=lambda p: (p.code.value, p.path)))
        return Report(target=target, problems=problems, checked=checked)
    finally:
        for tree in trees:
            tree.close()
