"""Native code in an artifact: extension-module names, file magic, and ELF facts.

ELF is read with pyelftools (class, machine, DT_NEEDED, RPATH/RUNPATH and the
GNU version-needs table, which is where ``GLIBC_2.28`` requirements live).
"""

from __future__ import annotations

import re
from typing import IO

import attrs

__all__ = [
    "ElfInfo",
    "ExtensionName",
    "Magic",
    "parse_elf",
    "parse_extension_name",
    "sniff",
]

# e.g. _pydantic_core.cpython-313-x86_64-linux-gnu.so, _x.cpython-313t-aarch64-linux-gnu.so,
#      _x.cpython-312-darwin.so, _x.cp313-win_amd64.pyd
_CPYTHON_SO = re.compile(
    r"\.cpython-(?P<major>\d)(?P<minor>\d+)(?P<flags>[a-z]*)-(?P<platform>[A-Za-z0-9_-]+)\.so$"
)
_PYD = re.compile(r"\.(?:cp\d+-[a-z0-9_]+\.)?pyd$")
_NATIVE_NAME = re.compile(r"(\.so(\.[0-9]+)*|\.dylib|\.pyd|\.dll|\.bundle)$")

Magic = str  # "elf", "mach-o", "pe" or ""


@attrs.frozen
class ExtensionName:
    """What an extension module's file name says about its build."""

    python: tuple[int, int]
    flags: str
    machine: str | None
    os: str  # "linux-gnu", "linux-musl", "darwin", "windows"


def parse_extension_name(name: str) -> ExtensionName | None:
    """Parse a version-tagged extension module name; None for untagged names."""
    base = name.rsplit("/", 1)[-1]
    m = _CPYTHON_SO.search(base)
    if m:
        platform = m["platform"]
        if platform == "darwin":
            machine, os_name = None, "darwin"
        else:
            machine, _, os_name = platform.partition("-")
        return ExtensionName(
            python=(int(m["major"]), int(m["minor"])), flags=m["flags"], machine=machine, os=os_name
        )
    if _PYD.search(base):
        return ExtensionName(python=(0, 0), flags="", machine=None, os="windows")
    return None


def looks_native(name: str) -> bool:
    """Names that suggest a shared library (used where magic alone is ambiguous)."""
    return bool(_NATIVE_NAME.search(name)) or ".so." in name.rsplit("/", 1)[-1]


def sniff(head: bytes, name: str) -> Magic:
    """Classify a file by its first bytes: ELF, Mach-O, PE, or nothing native."""
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    ):
        return "mach-o"
    # A fat Mach-O shares its magic with Java class files: trust it only for library names.
    if head[:4] in (b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca") and looks_native(name):
        return "mach-o"
    if head.startswith(b"MZ") and (looks_native(name) or name.lower().endswith(".exe")):
        return "pe"
    return ""


@attrs.frozen
class ElfInfo:
    """What the dynamic loader needs to know about one ELF file."""

    elfclass: int
    machine: str
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    """DT_RPATH entries (the loader ignores them when the file has a DT_RUNPATH)."""
    glibc_versions: tuple[tuple[int, ...], ...]
    """Every ``GLIBC_x.y[.z]`` version the file needs, from its version-needs table."""
    runpath: tuple[str, ...] = ()
    """DT_RUNPATH entries."""
    soname: str | None = None
    """DT_SONAME: the name the loader knows the file by once it is loaded."""
    init_functions: frozenset[str] | None = None
    """Module names ``NAME`` of the ``PyInit_NAME`` symbols the file names (an
    extension module exports the one of its own name); None if it has no dynamic
    string table to tell."""

    @property
    def search_rpath(self) -> tuple[str, ...]:
        """The DT_RPATH entries the loader uses: none when there is a DT_RUNPATH."""
        return () if self.runpath else self.rpath


_GLIBC = re.compile(r"^GLIBC_(\d+(?:\.\d+)+)$")


_PYINIT = b"PyInit_"


def _init_functions(strings: bytes) -> frozenset[str]:
    """The ``NAME`` of every ``PyInit_NAME`` in a dynamic string table: one scan of
    the bytes, not a parse of the symbol table (a bundled Qt has tens of thousands)."""
    names: set[str] = set()
    start = strings.find(_PYINIT)
    while start >= 0:
        end = strings.find(b"\0", start)
        if end < 0:
            end = len(strings)
        if start == 0 or strings[start - 1] == 0:  # a whole symbol name, not a tail
            names.add(strings[start + len(_PYINIT) : end].decode("utf-8", "replace"))
        start = strings.find(_PYINIT, end)
    return frozenset(names)


def parse_elf(stream: IO[bytes]) -> ElfInfo | str:
    """Read an ELF file's header and dynamic data; a reason string if it is malformed."""
    # Imported on first use: artifacts without native code never need pyelftools, and
    # the verifier parses ELF files while the import check runs, off the critical path.
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    try:
        elf = ELFFile(stream)
        needed: list[str] = []
        rpath: list[str] = []
        runpath: list[str] = []
        soname: str | None = None
        inits: frozenset[str] | None = None
        versions: set[tuple[int, ...]] = set()
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    if tag.entry.d_tag == "DT_NEEDED":
                        needed.append(str(tag.needed))  # type: ignore[attr-defined]
                    elif tag.entry.d_tag == "DT_RPATH":
                        rpath.extend(str(tag.rpath).split(":"))  # type: ignore[attr-defined]
                    elif tag.entry.d_tag == "DT_RUNPATH":
                        runpath.extend(str(tag.runpath).split(":"))  # type: ignore[attr-defined]
                    elif tag.entry.d_tag == "DT_SONAME":
                        soname = str(tag.soname)  # type: ignore[attr-defined]
                link = section["sh_link"]
                if 0 < link < elf.num_sections():
                    strings = elf.get_section(link)
                    if strings["sh_type"] == "SHT_STRTAB":
                        inits = _init_functions(strings.data())
            elif isinstance(section, GNUVerNeedSection):
                for _verneed, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        m = _GLIBC.match(str(aux.name))
                        if m:
                            versions.add(tuple(int(p) for p in m[1].split(".")))
        return ElfInfo(
            elfclass=int(elf.elfclass),
            machine=str(elf["e_machine"]),
            needed=tuple(needed),
            rpath=tuple(p for p in rpath if p),
            glibc_versions=tuple(sorted(versions)),
            runpath=tuple(p for p in runpath if p),
            soname=soname,
            init_functions=inits,
        )
    except Exception as exc:
        # A malformed file makes pyelftools (and its construct layer) raise many
        # types; every one of them means "the loader would reject this file".
        return f"{type(exc).__name__}: {exc}"
