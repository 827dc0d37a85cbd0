"""Extension modules judged by their file names: built for Linux, for the target's
architecture, and for its Python version and ABI (``.cpython-313-x86_64-linux-gnu.so``)?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.verify.findings import ProblemCode, rebuild_hint, where
from sentiment_pipeline.packaging.verify.native import parse_extension_name

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.findings import Findings

__all__ = ["check_extension_names"]


def check_extension_names(findings: Findings, target: Target, placed: Placed) -> None:
    """Every extension module of ``placed`` whose name says it cannot load on ``target``."""
    t = target
    for entry in placed.tree.entries():
        if entry.unsafe or entry.kind != "file":
            continue
        ext = parse_extension_name(entry.name)
        if ext is None:
            continue
        path = where(placed, entry.name)
        if ext.os == "windows":
            findings.add(
                ProblemCode.NOT_LINUX,
                path,
                f"{entry.name} is a Windows extension module; Lambda runs Linux.",
                fix=rebuild_hint(t),
            )
        elif ext.os == "darwin":
            findings.add(
                ProblemCode.NOT_LINUX,
                path,
                f"{entry.name} is a macOS extension module; Lambda runs Linux.",
                fix=rebuild_hint(t),
            )
        elif ext.machine is not None and ext.machine != t.machine:
            findings.add(
                ProblemCode.ARCH_MISMATCH,
                path,
                f"{entry.name} is built for {ext.machine}; {t.runtime} on "
                f"{t.architecture} needs {t.machine} extensions.",
                fix=rebuild_hint(t),
            )
        elif ext.python != t.python_version or ext.flags or ext.os != "linux-gnu":
            built = f"CPython {ext.python[0]}.{ext.python[1]}"
            if ext.flags:
                built += f" with ABI flags {ext.flags!r}"
                if "t" in ext.flags:
                    built += " (free-threaded)"
            if ext.os != "linux-gnu":
                built += f" on {ext.os}"
            findings.add(
                ProblemCode.ABI_MISMATCH,
                path,
                f"{entry.name} is built for {built}; {t.runtime} needs "
                f"{t.extension_suffixes[0].strip('.')} or abi3 extensions, and the "
                "import fails with 'No module named ...'.",
                fix=rebuild_hint(t),
            )
