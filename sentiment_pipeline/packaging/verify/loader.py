"""The dynamic loader on Lambda: where ``ld.so`` finds a DT_NEEDED library, over the
files the function and its layers put in Lambda's file system.

For a library needed by a file, the loader tries, in order (glibc's ``ld.so(8)``):
the DT_RPATH of the file and of each file that loaded it (only those without a
DT_RUNPATH; ``$ORIGIN`` is the directory of the file that carries it), then
``LD_LIBRARY_PATH`` as Lambda's images set it, then the file's own DT_RUNPATH, then
the system's directories. Outside ``/var/task`` and ``/opt`` everything is the
runtime's, known by soname only (:attr:`Target.runtime_libraries`). A candidate of
the wrong ELF class or machine is skipped, as ``ld.so`` does.

The model reads no file: it works on the ELF facts the content checks parsed once.

>>> from sentiment_pipeline.packaging.targets import get_target
>>> files = LambdaFiles([], {})
>>> Loader(get_target("python3.13"), files).search("libc.so.6", ()).system
True
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.packaging.sandbox import LD_LIBRARY_PATH, TASK_ROOT, artifact_filled

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.native import ElfInfo

__all__ = ["Found", "LambdaFiles", "Loader", "Member"]

_MAX_LINKS = 40  # the kernel's limit on symlinks followed in one path


@attrs.frozen
class Member:
    """One file an artifact puts in Lambda's file system."""

    placed: Placed
    name: str
    """The member's name in its artifact."""
    info: ElfInfo | None = attrs.field(eq=False)
    """Its ELF facts; None when it is not an ELF file the checks could parse."""

    @property
    def path(self) -> str:
        """Where it is in Lambda (``/opt/lib/libfoo.so.1``)."""
        return self.placed.lambda_path(self.name)

    @property
    def key(self) -> tuple[int, str]:
        return (self.placed.order, self.name)


@attrs.frozen
class Found:
    """Where the loader found a library: a member of an artifact, or the runtime's own."""

    member: Member | None
    directory: str

    @property
    def system(self) -> bool:
        """Found among the runtime's libraries, outside every artifact."""
        return self.member is None


class LambdaFiles:
    """What the function (``/var/task``) and its layers (``/opt``, in order, later ones
    overwriting) put in Lambda's file system: files and symlinks by Lambda path.

    ``elf`` holds the parsed ELF facts by (artifact order, member name).
    """

    def __init__(self, placed: Sequence[Placed], elf: Mapping[tuple[int, str], ElfInfo]) -> None:
        self._files: dict[str, Member] = {}
        self._links: dict[str, str] = {}
        self._by_name: dict[str, list[Member]] = {}
        for p in sorted(placed, key=lambda p: p.order):
            for entry in p.tree.entries():
                if entry.unsafe or entry.kind not in ("file", "symlink"):
                    continue
                path = p.lambda_path(entry.name)
                if entry.kind == "symlink" and entry.link is not None:
                    self._files.pop(path, None)
                    self._links[path] = entry.link
                elif entry.kind == "file":
                    self._links.pop(path, None)
                    self._files[path] = Member(p, entry.name, elf.get((p.order, entry.name)))
        for member in self._files.values():
            self._by_name.setdefault(posixpath.basename(member.name), []).append(member)
            soname = member.info.soname if member.info is not None else None
            if soname and soname != posixpath.basename(member.name):
                self._by_name.setdefault(soname, []).append(member)
        for path in self._links:
            target = self.lookup(path)
            if target is not None:
                self._by_name.setdefault(posixpath.basename(path), []).append(target)

    def members(self) -> Iterable[Member]:
        """Every file, in artifact order (a file a later layer overwrote is gone)."""
        return sorted(self._files.values(), key=lambda m: m.key)

    def lookup(self, path: str) -> Member | None:
        """The file at Lambda's absolute ``path``, following symlinks (also in its
        directories); None if there is none."""
        path = posixpath.normpath(path)
        for _ in range(_MAX_LINKS):
            member = self._files.get(path)
            if member is not None:
                return member
            link = self._links.get(path)
            if link is None:
                path = self._through_linked_directory(path) or ""
                if not path:
                    return None
                continue
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
        return None

    def _through_linked_directory(self, path: str) -> str | None:
        """``path`` with its innermost symlinked directory replaced by its target."""
        head = posixpath.dirname(path)
        while head not in ("/", ""):
            link = self._links.get(head)
            if link is not None:
                real = posixpath.join(posixpath.dirname(head), link)
                return posixpath.normpath(real + path[len(head) :])
            head = posixpath.dirname(head)
        return None

    def named(self, soname: str) -> list[Member]:
        """Files anywhere in the artifacts named ``soname`` (by file name or DT_SONAME)."""
        return self._by_name.get(soname, [])


def _expand(entry: str, origin: str) -> str:
    """An RPATH/RUNPATH entry with ``$ORIGIN`` (and ``$LIB``) filled in."""
    for token in ("${ORIGIN}", "$ORIGIN"):
        entry = entry.replace(token, origin)
    for token in ("${LIB}", "$LIB"):
        entry = entry.replace(token, "lib64")
    if not entry.startswith("/"):
        # A relative entry is relative to the working directory: the task root.
        entry = posixpath.join(TASK_ROOT, entry)
    return posixpath.normpath(entry)


class Loader:
    """``ld.so``'s search for a needed library, over :class:`LambdaFiles` on ``target``."""

    def __init__(self, target: Target, files: LambdaFiles) -> None:
        self.target = target
        self.files = files
        self._system_dirs = frozenset(d for d in LD_LIBRARY_PATH if not artifact_filled(d))

    def loads(self, member: Member) -> bool:
        """Whether ``ld.so`` on the target would accept ``member`` (an ELF file of the
        target's class and machine)."""
        info = member.info
        return info is not None and info.elfclass == 64 and info.machine == self.target.elf_machine

    def search(self, soname: str, chain: Sequence[Member]) -> Found | None:
        """Where the last of ``chain`` (each loaded by the one before it, the first an
        extension module) finds ``soname``; None if the loader finds it nowhere."""
        if "/" in soname:  # a path, not a name: no search
            member = self.files.lookup(_expand(soname, TASK_ROOT))
            return Found(member, posixpath.dirname(soname)) if member is not None else None
        requester = chain[-1] if chain else None
        directories: list[str] = []
        if requester is None or requester.info is None or not requester.info.runpath:
            for loader in reversed(chain):
                if loader.info is not None:
                    origin = posixpath.dirname(loader.path)
                    directories += [_expand(e, origin) for e in loader.info.search_rpath]
        directories += LD_LIBRARY_PATH
        if requester is not None and requester.info is not None:
            origin = posixpath.dirname(requester.path)
            directories += [_expand(e, origin) for e in requester.info.runpath]
        for directory in directories:
            found = self._look_in(directory, soname)
            if found is not None:
                return found
        if soname in self.target.runtime_libraries:  # ld.so.cache, /lib64, /usr/lib64
            return Found(None, "")
        return None

    def _look_in(self, directory: str, soname: str) -> Found | None:
        if not artifact_filled(directory):
            if directory in self._system_dirs and soname in self.target.runtime_libraries:
                return Found(None, directory)
            return None
        member = self.files.lookup(f"{directory}/{soname}")
        if member is None or (member.info is not None and not self.loads(member)):
            return None  # absent, or an ELF file ld.so skips (wrong class or machine)
        return Found(member, directory)
