"""The shared objects the import check loaded, judged against the artifact and the runtime.

The import check records every shared object the handler's import mapped, with the
module that loaded it (``sandbox/importcheck.py``). Each is fine when it came from the
artifact or its layers (the sandbox), from the interpreter itself (its standard
library's extensions and the libraries they pull in: Lambda's runtime brings its own),
or when the runtime's image has its soname. Anything else was found on the machine
that ran the import and is missing on Lambda: an ``unresolved-library`` problem, even
when it was opened with ``ctypes`` and no ELF file names it.

>>> lib = LoadedLibrary("/usr/lib/libpq.so.5.15", "psycopg.pq._pq_ctypes", "libpq.so.5",
...                     "unresolved")
>>> lib.to_json()["origin"]
'unresolved'
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sentiment_pipeline.packaging.targets import Target

__all__ = ["LoadedLibrary", "Origin", "classify", "library_problems", "named_libraries"]

Origin = Literal["artifact", "interpreter", "runtime", "unresolved"]

_FIX = (
    "Bundle what it loads: a wheel that vendors the library (e.g. psycopg[binary] for "
    "libpq), or the library in a layer's lib/ (on Lambda's LD_LIBRARY_PATH)."
)

# How many of the libraries a missing one brings along a problem names.
_NAMED = 5

# Sonames in a message: "libpq.so.5", "libQt5Gui.so.5", "libfoo.so".
_SONAME = re.compile(r"[\w.+-]+\.so(?:\.\d+)*")


@attrs.frozen
class LoadedLibrary:
    """One shared object the import loaded, the module that loaded it, and where it
    came from."""

    path: str
    """Where it was loaded from (as the process that imported saw it)."""
    by: str
    """The module that loaded it (an extension module being created, or the module
    whose code opened it with ``ctypes``)."""
    soname: str
    """Its DT_SONAME, or its file name when it has none."""
    origin: Origin
    """``artifact`` (the function or a layer), ``interpreter`` (the interpreter's own),
    ``runtime`` (a soname the runtime's image has) or ``unresolved``."""
    needed: tuple[str, ...] = attrs.field(default=(), repr=False)
    """The sonames it needs (its DT_NEEDED)."""

    def to_json(self) -> dict[str, Any]:
        """``{"path", "by", "soname", "origin"}``, as in ``verify --json``."""
        return {"path": self.path, "by": self.by, "soname": self.soname, "origin": self.origin}


def _under(path: str, dirs: Iterable[str]) -> bool:
    return any(path.startswith(d.rstrip("/") + "/") for d in dirs if d)


def classify(
    target: Target, records: Any, roots: Sequence[str], stdlib: str | None
) -> tuple[LoadedLibrary, ...]:
    """Judge the import check's ``loaded`` records: ``roots`` hold the artifact and its
    layers (the sandbox, the SDK), ``stdlib`` is the interpreter's standard library.
    Records that are not a list of objects (an older or a crashed run) give none."""
    if not isinstance(records, list):
        return ()
    # The process saw resolved paths; a root under a symlinked directory is resolved too.
    inside = {*roots, *(os.path.realpath(r) for r in roots)}
    own = [stdlib] if stdlib else []
    out = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            continue
        path: str = record["path"]
        soname = record.get("soname") or path.rpartition("/")[2]
        source = record.get("from") or ""
        origin: Origin
        if _under(path, inside):
            origin = "artifact"
        elif _under(path, own) or _under(source, own) or soname.startswith("libpython"):
            origin = "interpreter"
        elif soname in target.runtime_libraries:
            origin = "runtime"
        else:
            origin = "unresolved"
        needed = record.get("needed")
        out.append(
            LoadedLibrary(
                path=path,
                by=str(record.get("by") or "?"),
                soname=str(soname),
                origin=origin,
                needed=tuple(str(n) for n in needed) if isinstance(needed, list) else (),
            )
        )
    return tuple(out)


def named_libraries(messages: Iterable[str]) -> set[str]:
    """The sonames ``messages`` name (those of the static ``unresolved-library`` problems)."""
    return {m for message in messages for m in _SONAME.findall(message)}


def library_problems(
    target: Target, loaded: Sequence[LoadedLibrary], reported: set[str], place: str
) -> list[tuple[str, str, str]]:
    """``(module, message, fix)`` for each module that loaded unresolved libraries from
    ``place`` ("this machine"), leaving out the sonames in ``reported`` (a static check
    named them already) and libraries needed by another missing one (bundling that one
    brings them: they are named with it)."""
    missing = [lib for lib in loaded if lib.origin == "unresolved"]
    causes = {lib.soname for lib in missing} | reported
    # Which missing (or reported) library that was loaded needs each soname.
    needed_by: dict[str, set[str]] = {}
    for lib in loaded:
        if lib.soname in causes:
            for name in lib.needed:
                if name != lib.soname:
                    needed_by.setdefault(name, set()).add(lib.soname)
    by_module: dict[str, list[LoadedLibrary]] = {}
    for lib in missing:
        if lib.soname not in reported:
            by_module.setdefault(lib.by, []).append(lib)
    problems = []
    for module, libs in by_module.items():
        names = {lib.soname for lib in libs}
        first = [lib for lib in libs if not needed_by.get(lib.soname)]
        if not first:
            if any(needed_by[lib.soname] - names for lib in libs):
                continue  # all brought by a library named elsewhere
            first = libs  # they need each other: name them all
        rest = sorted(names - {lib.soname for lib in first})
        where = ", ".join(f"{lib.soname} ({lib.path})" for lib in first)
        lacks = f"no {first[0].soname}" if len(first) == 1 else "none of them"
        message = (
            f"{module} loaded {where} from {place}; Lambda's {target.runtime} runtime "
            f"({target.os_name}) has {lacks}, so the import fails there"
        )
        if rest:
            who = "it needs" if len(first) == 1 else "they need"
            more = f" and {len(rest) - _NAMED} more" if len(rest) > _NAMED else ""
            message += f" (nor {', '.join(rest[:_NAMED])}{more}, which {who})"
        problems.append((module, message + ".", _FIX))
    return problems
