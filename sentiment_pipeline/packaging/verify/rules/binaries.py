"""Native files judged by their contents: Linux ELF for the target's architecture,
within its glibc (each file), and every library an import loads found where Lambda's
loader looks (walked from each extension module, through the libraries it bundles)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.sandbox import import_roots
from sentiment_pipeline.packaging.verify.findings import ProblemCode, rebuild_hint, where
from sentiment_pipeline.packaging.verify.loader import LambdaFiles, Loader

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.findings import Findings
    from sentiment_pipeline.packaging.verify.loader import Member
    from sentiment_pipeline.packaging.verify.native import ElfInfo

__all__ = ["BinaryChecks"]

_ARCHITECTURES = {
    "EM_X86_64": "x86_64",
    "EM_AARCH64": "aarch64",
    "EM_386": "i386",
    "EM_ARM": "32-bit ARM",
}
# Libraries of a desktop: a package that needs them has a headless build.
_DESKTOP = ("libGL", "libEGL", "libX", "libxcb", "libICE", "libSM", "libgtk", "libgdk")

_FIX = (
    "Bundle the missing library under lib/ (a layer's lib/ or the function's lib/, both on "
    "Lambda's LD_LIBRARY_PATH), or use a wheel that does not need it."
)


class BinaryChecks:
    """Checks of native files against ``target``, with the libraries ``placed`` bundle:
    :meth:`check_elf` for each ELF file, then :meth:`check_libraries` once."""

    def __init__(self, findings: Findings, target: Target, placed: Sequence[Placed]) -> None:
        self.findings = findings
        self.target = target
        self.placed = tuple(placed)
        self._elf: dict[tuple[int, str], ElfInfo] = {}

    def check_foreign(self, placed: Placed, name: str, kind: str) -> None:
        """A Mach-O (``kind`` "mach-o") or PE ("pe") file: never loads on Lambda."""
        system = "macOS (Mach-O)" if kind == "mach-o" else "Windows (PE)"
        self.findings.add(
            ProblemCode.NOT_LINUX,
            where(placed, name),
            f"{name} is a {system} binary; Lambda runs Linux and cannot load it.",
            fix=rebuild_hint(self.target),
        )

    def check_elf(self, placed: Placed, name: str, info: ElfInfo) -> None:
        """An ELF file: class and machine, GLIBC symbol versions; its libraries are
        walked once all files are in (:meth:`check_libraries`)."""
        t = self.target
        path = where(placed, name)
        self._elf[(placed.order, name)] = info
        if info.elfclass != 64 or info.machine != t.elf_machine:
            arch = _ARCHITECTURES.get(info.machine, info.machine)
            self.findings.add(
                ProblemCode.ARCH_MISMATCH,
                path,
                f"{name} is a {info.elfclass}-bit ELF for {arch}; {t.runtime} on "
                f"{t.architecture} needs 64-bit {t.machine}.",
                fix=rebuild_hint(t),
            )
            return  # symbol versions and libraries of a foreign binary are moot
        too_new = [v for v in info.glibc_versions if v[:2] > t.glibc]
        if too_new:
            needed = ".".join(str(p) for p in max(too_new))
            self.findings.add(
                ProblemCode.GLIBC_TOO_NEW,
                path,
                f"{name} needs GLIBC_{needed}; {t.runtime} ({t.os_name}) has glibc "
                f"{t.glibc_str}, so loading it fails with 'version `GLIBC_{needed}' not "
                f"found'. Use a wheel for {t.platform_tags[0]} or older.",
                fix=rebuild_hint(t),
            )

    def check_libraries(self) -> None:
        """Walk DT_NEEDED from each extension module, as Lambda's loader would resolve it,
        once every ELF file was checked: a library the loader finds nowhere is
        ``unresolved-library`` on the extension (with the chain that needs it); one
        that only files no extension loads need (plugins, programs) is a note."""
        files = LambdaFiles(self.placed, self._elf)
        loader = Loader(self.target, files)
        roots = self._extension_modules(files, loader)
        reached: set[tuple[int, str]] = set()
        for root in roots:
            reached |= self._walk(root, loader)
        unloaded = [m for m in files.members() if m.key not in reached and loader.loads(m)]
        self._note_unloaded(unloaded, loader)

    def _extension_modules(self, files: LambdaFiles, loader: Loader) -> list[Member]:
        """The ELF files Python can import as extension modules: under an import root,
        a module name the target's suffixes make, exporting its ``PyInit_``."""
        roots = import_roots(self.target, self.placed)
        found: list[Member] = []
        for member in files.members():
            info = member.info
            if info is None or not loader.loads(member):
                continue
            for root in roots:
                if root.placed is not member.placed:
                    continue
                relative = root.relative(member.name)
                if relative is not None and self._module_name(relative, info) is not None:
                    found.append(member)
                    break
        return found

    def _module_name(self, relative: str, info: ElfInfo) -> str | None:
        *packages, base = relative.split("/")
        if not all(p.isidentifier() for p in packages):
            return None
        for suffix in self.target.extension_suffixes:
            if base.endswith(suffix):
                stem = base[: -len(suffix)]
                if stem.isidentifier() and (
                    info.init_functions is None or stem in info.init_functions
                ):
                    return ".".join([*packages, stem])
        return None

    def _walk(self, root: Member, loader: Loader) -> set[tuple[int, str]]:
        """Breadth first, as ``ld.so`` maps dependencies: the first missing library is
        the one the import fails on. Returns the files it reached."""
        seen = {root.key}
        missing: dict[str, tuple[Member, ...]] = {}
        queue: deque[tuple[Member, ...]] = deque([(root,)])
        while queue:
            chain = queue.popleft()
            info = chain[-1].info
            assert info is not None
            for lib in info.needed:
                found = loader.search(lib, chain)
                if found is None:
                    missing.setdefault(lib, chain)
                    continue
                member = found.member
                if member is not None and member.info is not None and member.key not in seen:
                    seen.add(member.key)
                    queue.append((*chain, member))
        failures: list[tuple[str, tuple[Member, ...]]] = []
        for lib, chain in missing.items():
            elsewhere = loader.files.named(lib)
            if elsewhere:
                self.findings.notes.append(
                    f"{_chain(chain, lib)}: the loader's search does not reach "
                    f"{where(elsewhere[0].placed, elsewhere[0].name)}; it loads only if "
                    f"a library named {lib} was loaded before (by another import or ctypes)."
                )
            else:
                failures.append((lib, chain))
        if failures:
            self._unresolved(root, failures)
        return seen

    def _unresolved(self, root: Member, failures: list[tuple[str, tuple[Member, ...]]]) -> None:
        t = self.target
        lib, chain = failures[0]
        message = (
            f"Importing {where(root.placed, root.name)} needs {lib} "
            f"({_chain(chain, lib)}), which neither the artifact"
            f"{' and its layers' if len(self.placed) > 1 else ''} nor the {t.runtime} "
            f"runtime ({t.os_name}) provides; the import fails with '{lib}: cannot open "
            "shared object file'."
        )
        if lib in t.wheel_policy_libraries:
            message += (
                f" The manylinux policy lets wheels assume {lib}, but Lambda's image does "
                "not have it."
            )
        if lib.startswith(_DESKTOP):
            message += (
                " A headless build (opencv-python-headless for opencv-python) needs no "
                "display libraries."
            )
        if len(failures) > 1:
            message += " Also missing: " + "; ".join(_chain(c, n) for n, c in failures[1:]) + "."
        self.findings.add(
            ProblemCode.UNRESOLVED_LIBRARY, where(root.placed, root.name), message, fix=_FIX
        )

    def _note_unloaded(self, members: Sequence[Member], loader: Loader) -> None:
        """ELF files no extension module loads (plugins, programs, what only they need):
        the libraries they miss are one note, never a failure."""
        lacking: list[tuple[Member, list[str]]] = []
        for member in members:
            assert member.info is not None
            missing = [
                lib
                for lib in member.info.needed
                if loader.search(lib, (member,)) is None and not loader.files.named(lib)
            ]
            if missing:
                lacking.append((member, missing))
        if not lacking:
            return
        shown = [f"{where(m.placed, m.name)} ({', '.join(libs)})" for m, libs in lacking[:3]]
        if len(lacking) > 3:
            rest = sorted({lib for _m, libs in lacking[3:] for lib in libs})
            shown.append(f"{len(lacking) - 3} more ({', '.join(rest)})")
        self.findings.notes.append(
            f"{len(lacking)} file(s) that no extension module loads at import (plugins, "
            f"programs, libraries only they use) need libraries {self.target.runtime} lacks; "
            "they fail only if something loads them later: " + "; ".join(shown) + "."
        )


def _chain(chain: Sequence[Member], lib: str) -> str:
    """``cv2/cv2.abi3.so -> opencv_python.libs/libQt5Gui.so.5 -> libGL.so.1``."""
    return " -> ".join([*(where(m.placed, m.name) for m in chain), lib])
