"""Slimming installed distributions: what Lambda never reads leaves, RECORD follows.

``slim = true`` removes, from every installed distribution (never from the project's
own ``sources``):

- **test suites**: files under a directory named ``tests`` or ``test``, unless a
  module outside such a directory imports that package (``numpy/testing`` is public
  API and never a candidate; ``numpy/_core/tests`` is);
- **documentation**: files under ``doc`` or ``docs`` (same import rule), ``*.rst``
  and ``*.md``;
- **type stubs** (``*.pyi``) and **C, C++ and Cython sources and headers**
  (``*.c``, ``*.h``, ``*.pyx``, ``*.pxd``...): only compilers read them;
- **bytecode of another Python**: ``__pycache__/*.pyc`` whose tag is not the target's
  (``cpython-311`` files in a ``python3.12`` artifact are never read there).

Licences (``LICENSE*``, ``COPYING*``, ``NOTICE*``, ``AUTHORS*``, anything under a
``licenses`` folder) and everything in ``*.dist-info`` stay. With ``strip``, ELF
files whose machine is the host's are also run through ``strip --strip-unneeded``
(host binutils; an ELF for another machine is left as it is, and the notes say so).

Each distribution's RECORD is then rewritten: lines of removed files dropped, files
that changed re-hashed, so ``verify`` checks the slimmed artifact as exactly as the
original one. The rules are pure functions of the file names (and, for the import
rule, of the kept sources): the same wheels give the same artifact.

>>> slim_reason("numpy/_core/tests/test_umath.py", cache_tag="cpython-312")
'tests'
>>> slim_reason("numpy/testing/__init__.py", cache_tag="cpython-312") is None
True
>>> slim_reason("numpy/_core/include/numpy/ndarrayobject.h", cache_tag="cpython-312")
'sources'
>>> slim_reason("numpy-2.1.3.dist-info/LICENSE.txt", cache_tag="cpython-312") is None
True
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import platform
import posixpath
import re
import shutil
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from sentiment_pipeline.packaging.zipwriting import Member

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "DistributionSize",
    "SlimPolicy",
    "Slimmed",
    "elf_machine",
    "is_strippable_name",
    "loaded_image",
    "record_hash",
    "rewrite_record",
    "slim_distribution",
    "slim_members",
    "slim_reason",
    "slim_tree",
    "strip_elf",
    "strip_identity",
]

Reason = Literal["tests", "docs", "stubs", "sources", "bytecode"]

_SUITE_DIRS = {"tests": "tests", "test": "tests", "doc": "docs", "docs": "docs"}
_SOURCE_SUFFIXES = frozenset(
    {".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx", ".pyx", ".pxd", ".pxi"}
)
_DOC_SUFFIXES = frozenset({".rst", ".md"})
_LICENCE = re.compile(r"^(?:licen[cs]e|copying|notice|authors)", re.IGNORECASE)
_PYC = re.compile(r"^[^.]+\.(?P<tag>[^.]+)(?:\.opt-\d+)?\.pyc$")
_ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
_HOST_MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


@attrs.frozen
class DistributionSize:
    """One installed distribution of an artifact: its unzipped size, and what ``slim``
    removed from it.

    >>> DistributionSize("numpy", "2.1.3", 30_000_000, saved=9_000_000, removed=700).to_json()
    {'name': 'numpy', 'version': '2.1.3', 'unzipped': 30000000, 'saved': 9000000, 'removed': 700}
    """

    name: str
    version: str
    unzipped: int
    """Bytes of its files in the artifact (after slimming)."""
    saved: int = 0
    """Bytes slimming removed or stripped."""
    removed: int = 0
    """Files slimming removed."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``report.json``."""
        return attrs.asdict(self)


@attrs.frozen
class SlimPolicy:
    """What ``slim`` removes beyond the rules every slim build follows.

    >>> SlimPolicy().describe(), SlimPolicy(strip=True).describe()
    ('slim', 'slim+strip')
    """

    strip: bool = False
    """Also ``strip --strip-unneeded`` the ELF files the host's binutils can strip."""

    def describe(self) -> str:
        """A short label, also part of the artifact's cache key."""
        return "slim+strip" if self.strip else "slim"


def slim_reason(path: str, *, cache_tag: str, suites: bool = True) -> Reason | None:
    """Why ``path`` (relative to the site directory) of a distribution is never needed
    on Lambda, or None to keep it. ``suites``: apply the ``tests``/``docs`` folder rule
    (whether such a folder is imported is checked by :func:`slim_distribution`)."""
    *folders, leaf = path.split("/")
    if folders and folders[0].endswith(".dist-info"):
        return None
    if _LICENCE.match(leaf) or any(f.lower() in ("licenses", "licences") for f in folders):
        return None
    for folder in folders if suites else ():
        if folder in _SUITE_DIRS:
            return "tests" if _SUITE_DIRS[folder] == "tests" else "docs"
    suffix = leaf[leaf.rfind(".") :].lower() if "." in leaf else ""
    if suffix == ".pyi":
        return "stubs"
    if suffix in _SOURCE_SUFFIXES:
        return "sources"
    if suffix in _DOC_SUFFIXES:
        return "docs"
    if folders and folders[-1] == "__pycache__":
        cached = _PYC.match(leaf)
        if cached is not None and cached["tag"] != cache_tag:
            return "bytecode"
    return None


def _suite_root(path: str) -> str | None:
    """The first ``tests``/``docs`` folder on ``path`` (``pandas/tests``), or None."""
    folders = path.split("/")[:-1]
    for i, folder in enumerate(folders):
        if folder in _SUITE_DIRS:
            return "/".join(folders[: i + 1])
    return None


def _imported(root: str, kept_sources: Mapping[str, str]) -> bool:
    """Whether a kept module imports the package at ``root`` (``pandas/tests``): by its
    dotted name, or relatively from a module of its parent package."""
    parent, _, name = root.rpartition("/")
    dotted = root.replace("/", ".")
    # import pkg.tests / from pkg.tests import x / from pkg import tests
    forms = [rf"^\s*(?:from|import)\s+{re.escape(dotted)}\b"]
    if parent:
        package = re.escape(parent.replace("/", "."))
        forms.append(rf"^\s*from\s+{package}\s+import\s+[^\n]*\b{re.escape(name)}\b")
    absolute = re.compile("|".join(forms), re.MULTILINE)
    relative = re.compile(
        rf"^\s*from\s+\.(?:{re.escape(name)}\b|\s+import\s+[^\n]*\b{re.escape(name)}\b)",
        re.MULTILINE,
    )
    for path, text in kept_sources.items():
        if name in text and absolute.search(text):
            return True
        if path.rpartition("/")[0] == parent and name in text and relative.search(text):
            return True
    return False


@attrs.frozen
class Slimmed:
    """What slimming did to one distribution."""

    removed: dict[str, Reason]
    """Removed files (relative to the site directory) and why."""
    kept_suites: tuple[str, ...]
    """``tests``/``docs`` folders kept because a kept module imports them."""


def slim_distribution(
    files: Mapping[str, int], read_text: Callable[[str], str], *, cache_tag: str
) -> Slimmed:
    """Which of one distribution's ``files`` (path -> size, relative to the site
    directory) to remove; ``read_text`` reads a kept ``.py`` file, for the import rule.

    >>> files = {"pkg/__init__.py": 10, "pkg/tests/test_a.py": 5, "pkg/_x.pyi": 3}
    >>> sources = {"pkg/__init__.py": "import os\\n"}
    >>> sorted(slim_distribution(files, sources.__getitem__, cache_tag="cpython-313").removed)
    ['pkg/_x.pyi', 'pkg/tests/test_a.py']
    """
    removed: dict[str, Reason] = {}
    for path in sorted(files):
        reason = slim_reason(path, cache_tag=cache_tag)
        if reason is not None:
            removed[path] = reason
    suites = sorted({root for p in removed if (root := _suite_root(p)) is not None})
    kept_suites: list[str] = []
    if suites:
        needles = {root.rpartition("/")[2] for root in suites}
        kept_sources = {
            path: text
            for path in sorted(files)
            if path.endswith(".py") and path not in removed
            for text in [read_text(path)]
            if any(n in text for n in needles)
        }
        for root in suites:
            if _imported(root, kept_sources):
                kept_suites.append(root)
                for path in [p for p in removed if _suite_root(p) == root]:
                    # Still removed when another rule applies (a .pyi in an imported tests/).
                    again = slim_reason(path, cache_tag=cache_tag, suites=False)
                    if again is None:
                        del removed[path]
                    else:
                        removed[path] = again
    return Slimmed(removed, tuple(kept_suites))


def record_hash(data: bytes) -> str:
    """RECORD's spelling of ``data``'s hash: ``sha256=`` and urlsafe base64, unpadded."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def rewrite_record(
    text: str, removed: Iterable[str], changed: Mapping[str, bytes], *, base: str = ""
) -> str:
    """RECORD ``text`` without the rows of ``removed`` files and with ``changed`` files
    (path -> new bytes) re-hashed. Paths are relative to the site directory; ``base``
    is the prefix RECORD's own paths lack (``python/`` for a layer's members)."""
    gone = {p.removeprefix(base) for p in removed}
    new = {p.removeprefix(base): data for p, data in changed.items()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text)):
        if not row or row[0] in gone:
            continue
        if row[0] in new:
            data = new[row[0]]
            row = [row[0], record_hash(data), str(len(data))]
        writer.writerow(row)
    return out.getvalue()


def elf_machine(data: bytes) -> str | None:
    """``x86_64`` or ``aarch64`` for a 64-bit little-endian ELF file, else None."""
    if len(data) < 20 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    return _ELF_MACHINES.get(int.from_bytes(data[18:20], "little"))


def strip_elf(data: bytes) -> bytes | None:
    """``data`` through the host's ``strip --strip-unneeded``; None when it is not an
    ELF file for the host's machine, there is no ``strip``, or strip fails (the file is
    then shipped as it is)."""
    machine = elf_machine(data)
    tool = shutil.which("strip")
    if machine is None or tool is None or machine != _HOST_MACHINE.get(platform.machine()):
        return None
    with tempfile.TemporaryDirectory(prefix="sp-strip-") as tmp:
        path = Path(tmp, "object")
        path.write_bytes(data)
        done = subprocess.run(
            [tool, "--strip-unneeded", str(path)], capture_output=True, check=False
        )
        if done.returncode != 0:
            return None
        stripped = path.read_bytes()
    if len(stripped) >= len(data) or loaded_image(stripped) != loaded_image(data):
        # objcopy re-lays out files that patchelf grew (auditwheel's grafted libraries),
        # and the result does not load: keep only strips that leave what the loader maps.
        return None
    return stripped


_PT_LOAD, _PT_DYNAMIC = 1, 2


def loaded_image(data: bytes) -> list[tuple[int, int, int, int, bytes]] | None:
    """What the loader maps from a 64-bit little-endian ELF file: each ``PT_LOAD`` and
    ``PT_DYNAMIC`` segment's type, flags, address, size in memory and the sha256 of its
    bytes, the ELF and program headers blanked (they hold file offsets, which strip may
    change); None when the header cannot be read."""
    try:
        phoff = int.from_bytes(data[0x20:0x28], "little")
        phentsize = int.from_bytes(data[0x36:0x38], "little")
        phnum = int.from_bytes(data[0x38:0x3A], "little")
        blank = bytearray(data)
        blank[:0x40] = bytes(0x40)
        blank[phoff : phoff + phentsize * phnum] = bytes(phentsize * phnum)
        image = []
        for i in range(phnum):
            start = phoff + i * phentsize
            kind, flags, offset, vaddr, _, filesz, memsz = struct.unpack_from(
                "<IIQQQQQ", data, start
            )
            if kind in (_PT_LOAD, _PT_DYNAMIC):
                if offset + filesz > len(data):
                    return None
                content = hashlib.sha256(blank[offset : offset + filesz]).digest()
                image.append((kind, flags, vaddr, memsz, content))
    except struct.error:
        return None
    return image


def strip_identity() -> str:
    """The host machine and its ``strip`` version: part of the cache key of a stripped
    artifact (another binutils may write other bytes)."""
    tool = shutil.which("strip")
    if tool is None:
        return f"{platform.machine()}:no strip"
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return f"{platform.machine()}:{done.stdout.splitlines()[0] if done.stdout else tool}"


def is_strippable_name(path: str) -> bool:
    """Names that may be ELF shared objects: ``*.so`` and ``*.so.N``."""
    leaf = path.rpartition("/")[2]
    return leaf.endswith(".so") or ".so." in leaf


def _unstripped(name: str, count: int) -> str:
    return (
        f"{name}: {count} ELF file(s) for another machine not stripped (this host's strip "
        f"handles {platform.machine()} files only)"
    )


def _dist_name(dist_info: str) -> tuple[str, str]:
    name, _, version = dist_info.removesuffix(".dist-info").rpartition("-")
    return (name or version), (version if name else "")


def _record_rows(text: str) -> list[tuple[str, int | None]]:
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if row and row[0]:
            size = int(row[2]) if len(row) > 2 and row[2].strip().isdigit() else None
            rows.append((row[0], size))
    return rows


def _size(member: Member) -> int:
    if member.data is not None:
        return len(member.data)
    if member.info is not None:
        return member.info.file_size
    assert member.file is not None
    return member.file.stat().st_size


def _read(member: Member, opened: dict[Path, zipfile.ZipFile]) -> bytes:
    if member.data is not None:
        return member.data
    if member.file is not None:
        return member.file.read_bytes()
    assert member.source is not None and member.info is not None
    if member.source not in opened:
        opened[member.source] = zipfile.ZipFile(member.source)
    return opened[member.source].read(member.info)


def slim_members(
    members: list[Member], *, prefix: str, cache_tag: str, policy: SlimPolicy | None
) -> tuple[list[Member], DistributionSize | None, list[str]]:
    """One wheel's members (as :func:`~.install.crossinstall.wheel_members` gives them):
    slimmed by ``policy`` (None: as they are), its size, and notes (ELF files not
    stripped). RECORD is rewritten as a new member when anything changed."""
    record = next(
        (
            m
            for m in members
            if m.name.startswith(prefix)
            and m.name.endswith(".dist-info/RECORD")
            and m.name.removeprefix(prefix).count("/") == 1
        ),
        None,
    )
    if record is None:
        return members, None, []
    dist_info = record.name.removeprefix(prefix).partition("/")[0]
    name, version = _dist_name(dist_info)
    before = sum(_size(m) for m in members)
    if policy is None:
        return members, DistributionSize(name, version, before), []
    opened: dict[Path, zipfile.ZipFile] = {}
    try:
        by_path = {m.name.removeprefix(prefix): m for m in members if m is not record}
        slimmed = slim_distribution(
            {p: _size(m) for p, m in by_path.items()},
            lambda p: _read(by_path[p], opened).decode("utf-8", "replace"),
            cache_tag=cache_tag,
        )
        kept = [m for p, m in by_path.items() if p not in slimmed.removed]
        changed: dict[str, bytes] = {}
        foreign = 0
        if policy.strip:
            for i, member in enumerate(kept):
                path = member.name.removeprefix(prefix)
                if not is_strippable_name(path):
                    continue
                data = _read(member, opened)
                stripped = strip_elf(data)
                if stripped is not None:
                    changed[path] = stripped
                    kept[i] = Member(member.name, executable=member.executable, data=stripped)
                elif elf_machine(data) not in (None, _HOST_MACHINE.get(platform.machine())):
                    foreign += 1
        notes = [_unstripped(name, foreign)] if foreign else []
        if slimmed.removed or changed:
            text = _read(record, opened).decode("utf-8")
            new = rewrite_record(text, slimmed.removed, changed)
            kept.append(Member(record.name, data=new.encode("utf-8")))
        else:
            kept.append(record)
    finally:
        for zf in opened.values():
            zf.close()
    after = sum(_size(m) for m in kept)
    return kept, DistributionSize(name, version, after, before - after, len(slimmed.removed)), notes


def _bytecode_of(site: Path, removed: Iterable[str], files: Mapping[str, int]) -> list[str]:
    """The ``__pycache__`` files compiled from removed sources that RECORD does not list
    (the engine compiles after pip wrote RECORD): without their source they are never
    read."""
    found = []
    for path in removed:
        folder, _, leaf = path.rpartition("/")
        if not leaf.endswith(".py"):
            continue
        cache = site / folder / "__pycache__"
        for pyc in sorted(cache.glob(f"{leaf.removesuffix('.py')}.*.pyc")):
            name = pyc.relative_to(site).as_posix()
            if name not in files and pyc.name.split(".")[0] == leaf.removesuffix(".py"):
                found.append(name)
    return found


def _prune_empty(site: Path, removed: Iterable[str]) -> None:
    """Remove the folders that removing files left empty (deepest first)."""
    folders = {posixpath.dirname(p) for p in removed}
    parents = {"/".join(f.split("/")[:i]) for f in folders for i in range(1, f.count("/") + 2)}
    for folder in sorted(parents - {""}, key=lambda f: -f.count("/")):
        try:
            (site / folder).rmdir()
        except OSError:
            continue  # not empty: something stays there


def slim_tree(
    site: Path, *, cache_tag: str, policy: SlimPolicy | None
) -> tuple[list[DistributionSize], list[str]]:
    """The distributions installed in ``site`` (a directory, as pip left it), slimmed
    in place by ``policy`` (None: measured only), with their RECORDs rewritten."""
    sizes: list[DistributionSize] = []
    notes: list[str] = []
    for record_file in sorted(site.glob("*.dist-info/RECORD")):
        dist_info = record_file.parent.name
        name, version = _dist_name(dist_info)
        text = record_file.read_text("utf-8")
        files: dict[str, int] = {}
        for path, _ in _record_rows(text):
            normal = posixpath.normpath(path)
            if normal.startswith(("..", "/")) or normal.endswith("/RECORD"):
                continue
            if (site / normal).is_file() and not (site / normal).is_symlink():
                files[Path(normal).as_posix()] = (site / normal).stat().st_size
        before = sum(files.values()) + record_file.stat().st_size
        if policy is None:
            sizes.append(DistributionSize(name, version, before))
            continue
        slimmed = slim_distribution(
            files,
            lambda p: (site / p).read_text("utf-8", "replace"),
            cache_tag=cache_tag,
        )
        removed = [*slimmed.removed, *_bytecode_of(site, slimmed.removed, files)]
        for path in removed:
            (site / path).unlink()
        _prune_empty(site, removed)
        changed: dict[str, bytes] = {}
        foreign = 0
        if policy.strip:
            for path in sorted(set(files) - set(slimmed.removed)):
                if is_strippable_name(path):
                    data = (site / path).read_bytes()
                    stripped = strip_elf(data)
                    if stripped is not None:
                        (site / path).write_bytes(stripped)
                        changed[path] = stripped
                    elif elf_machine(data) not in (None, _HOST_MACHINE.get(platform.machine())):
                        foreign += 1
        if foreign:
            notes.append(_unstripped(name, foreign))
        if slimmed.removed or changed:
            record_file.write_text(rewrite_record(text, removed, changed), "utf-8")
        after = sum((site / p).stat().st_size for p in files if p not in slimmed.removed)
        after += record_file.stat().st_size
        sizes.append(DistributionSize(name, version, after, before - after, len(removed)))
    return sizes, notes
