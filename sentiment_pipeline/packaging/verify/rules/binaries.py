"""Native files judged by their contents: Linux ELF for the target's architecture,
within its glibc, with every needed library bundled or in the runtime's image."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.verify.findings import ProblemCode, rebuild_hint, where

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.findings import Findings
    from sentiment_pipeline.packaging.verify.native import ElfInfo

__all__ = ["BinaryChecks"]

_ARCHITECTURES = {
    "EM_X86_64": "x86_64",
    "EM_AARCH64": "aarch64",
    "EM_386": "i386",
    "EM_ARM": "32-bit ARM",
}


class BinaryChecks:
    """Checks of native files against ``target``, with the libraries ``placed`` bundle."""

    def __init__(self, findings: Findings, target: Target, placed: Sequence[Placed]) -> None:
        self.findings = findings
        self.target = target
        self.placed = tuple(placed)
        self._basenames: set[str] | None = None

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
        """An ELF file: class and machine, GLIBC symbol versions, needed libraries."""
        t = self.target
        path = where(placed, name)
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
        for lib in info.needed:
            if lib in t.runtime_libraries or self.bundled(lib):
                continue
            self.findings.add(
                ProblemCode.UNRESOLVED_LIBRARY,
                path,
                f"{name} needs {lib}, which is neither in the artifact nor part of "
                f"the {t.runtime} runtime (its libraries: the manylinux policy's, "
                f"{t.libraries_source}).",
                fix="Bundle the missing libraries (auditwheel repair, or a layer's lib/), or "
                "use manylinux wheels.",
            )

    def bundled(self, lib: str) -> bool:
        """Whether the function or a layer holds a file named ``lib``."""
        if self._basenames is None:
            names: set[str] = set()
            for placed in self.placed:
                for e in placed.tree.entries():
                    if e.kind in ("file", "symlink") and not e.unsafe:
                        names.add(posixpath.basename(e.name))
            self._basenames = names
        return lib in self._basenames
