"""The import check: import a handler the way Lambda's init does, inside the target's interpreter.

Never imported by the host: the verifier runs this file with
:func:`~sentiment_pipeline.packaging.sandbox.environment.isolated_command`
(``python -I -S -B importcheck.py ...``) in an interpreter of the target, so nothing of
the host is visible to the handler. It must run on every Python the catalog knows
(3.9+): standard library only, no newer syntax.

Arguments:

1. the import roots, a JSON list in Lambda's order (moved into the local root);
2. the runtime's SDK, a JSON list (empty when there is none);
3. the handler (``module.function``);
4. the file to write the result to (JSON: ``ok``, ``python``, ``machine``, ``libc``,
   ``stdlib``, ``loaded``, and ``kind``, ``message``, ``missing``, ``traceback`` on
   failure);
5. the bytecode cache tree, or ``""`` for none;
6. the directories whose sources may be cached there, ``:``-separated;
7. optionally ``wait``: read a line from stdin first and import only if it is ``go``
   (the interpreter starts while its sandbox is still being filled; end-of-file means
   the sandbox was never completed).

``loaded`` lists the shared objects the import mapped into the process (from
``/proc/self/maps``, against what the interpreter had mapped before it), each with
the module that loaded it (``by``, and that module's file, ``from``), its
``soname`` and the sonames it ``needed``; null where the maps cannot be read. An
extension module owns what is mapped while it is created; a ``ctypes`` load, what is
mapped from its audit event to the next load (the module then executing, found on
the frame stack, loaded it); anything else, the module executing when it is seen.
"""

from __future__ import annotations

import importlib
import json
import os
import site
import sys
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: the handler's imports pay for it
    from typing import Any


def _cache_bytecode(tree: str, roots: tuple[str, ...]) -> None:
    """Cache the bytecode of sources under ``roots`` in the prefix tree ``tree``, as
    checked-hash pycs only (PEP 552: valid while the source's hash matches, never by
    timestamp). The interpreter's own modules keep their pycs, read and never written
    (as with -B, which the process starts with)."""
    import _imp

    bootstrap: Any = sys.modules["_frozen_importlib_external"]
    where = bootstrap.cache_from_source
    write = bootstrap.SourceFileLoader._cache_bytecode

    def cache_from_source(
        path: str, debug_override: bool | None = None, *, optimization: Any = None
    ) -> str:
        cached: str = where(path, debug_override, optimization=optimization)
        if not path.startswith(roots):
            return cached
        return tree + path.rpartition("/")[0] + "/" + cached.rpartition("/")[2]

    def cache_bytecode(self: Any, source_path: str, bytecode_path: str, data: bytes) -> Any:
        if not source_path.startswith(roots):
            return None
        if data[4:8] == b"\0\0\0\0":
            try:
                with open(source_path, "rb") as fh:
                    digest = _imp.source_hash(bootstrap._RAW_MAGIC_NUMBER, fh.read())
            except Exception:
                return None  # no bytecode rather than a timestamp-checked one
            data = data[:4] + b"\3\0\0\0" + digest + data[16:]
        return write(self, source_path, bytecode_path, data)

    bootstrap.cache_from_source = cache_from_source
    bootstrap.SourceFileLoader._cache_bytecode = cache_bytecode
    sys.dont_write_bytecode = False


_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NEEDED, _DT_STRTAB, _DT_SONAME = 1, 5, 14


def _mapped() -> set[str] | None:
    """The files mapped executable in this process: the interpreter and every shared
    object it loaded (data files mapped with mmap are not executable)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    found = set()
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[1][2:3] == "x":
            path = fields[5]
            # memfd and deleted files are code made at run time (libffi's trampolines).
            if path[:1] == "/" and not path.startswith("/memfd:") and " (deleted)" not in path:
                found.add(path)
    return found


def _executing() -> tuple[str, str | None] | None:
    """The innermost module whose body is executing, and its file."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            names = frame.f_globals
            name = names.get("__name__")
            if isinstance(name, str) and name != "__main__":  # __main__: this program
                file = names.get("__file__")
                return name, file if isinstance(file, str) else None
        frame = frame.f_back  # type: ignore[assignment]
    return None


class _Loads:
    """Which module loaded each shared object mapped after the baseline (``handler``'s
    module, when no other module's code is executing)."""

    def __init__(self, baseline: set[str], handler: tuple[str, str | None]) -> None:
        self.seen = baseline
        self.handler = handler
        self.owner: tuple[str, str | None] | None = None
        self.creating: list[tuple[str, str | None]] = []
        self.loaded: dict[str, tuple[str, str | None]] = {}
        self.done = False

    def advance(self, owner: tuple[str, str | None] | None) -> None:
        """Credit what was mapped since the last look to the current owner; then
        ``owner`` owns what comes next."""
        now = _mapped()
        if now is not None:
            new = now - self.seen
            if new:
                by = self.owner or _executing() or self.handler
                for path in new:
                    self.loaded.setdefault(path, by)
                self.seen = now
        self.owner = owner

    def install(self) -> None:
        """Watch extension modules being created and ctypes loading libraries."""
        loader: Any = sys.modules["_frozen_importlib_external"].ExtensionFileLoader
        create = loader.create_module
        loads = self

        def create_module(self: Any, spec: Any) -> Any:
            if loads.done:
                return create(self, spec)
            owner = (spec.name, spec.origin)
            loads.advance(owner)
            loads.creating.append(owner)
            try:
                return create(self, spec)
            finally:
                loads.creating.pop()
                loads.advance(loads.creating[-1] if loads.creating else None)

        def audit(event: str, args: Any) -> None:
            # Raised before the library opens: what is mapped until the next look is its.
            if event == "ctypes.dlopen" and not loads.done:
                loads.advance(_executing())

        loader.create_module = create_module
        sys.addaudithook(audit)

    def finish(self) -> list[dict[str, Any]]:
        """Stop watching; every object loaded since the baseline, as JSON."""
        self.advance(None)
        self.done = True
        out = []
        for path in sorted(self.loaded):
            by, origin = self.loaded[path]
            soname, needed = _elf_names(path)
            out.append({"path": path, "by": by, "from": origin, "soname": soname, "needed": needed})
        return out


def _elf_names(path: str) -> tuple[str | None, list[str]]:
    """An ELF file's DT_SONAME and DT_NEEDED; (None, []) if it has none or is unreadable."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            if head[:4] != b"\x7fELF" or len(head) < 52:
                return None, []
            wide, order = head[4] == 2, ("little" if head[5] == 1 else "big")

            def num(data: bytes, at: int, size: int) -> int:
                return int.from_bytes(data[at : at + size], order)  # type: ignore[arg-type]

            word = 8 if wide else 4
            phoff = num(head, 32 if wide else 28, word)
            at = 54 if wide else 42
            phentsize, phnum = num(head, at, 2), num(head, at + 2, 2)
            fh.seek(phoff)
            table = fh.read(phentsize * phnum)
            loads, dynamic = [], None
            for i in range(phnum):
                h = i * phentsize
                kind = num(table, h, 4)
                # Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz; Elf32: no flags there.
                offset, vaddr = (
                    (num(table, h + 8, 8), num(table, h + 16, 8))
                    if wide
                    else (num(table, h + 4, 4), num(table, h + 8, 4))
                )
                filesz = num(table, h + 32, 8) if wide else num(table, h + 16, 4)
                if kind == _PT_LOAD:
                    loads.append((vaddr, offset, filesz))
                elif kind == _PT_DYNAMIC:
                    dynamic = (offset, filesz)
            if dynamic is None:
                return None, []
            fh.seek(dynamic[0])
            data = fh.read(dynamic[1])
            strtab, soname, needed = None, None, []
            for at in range(0, len(data) - 2 * word + 1, 2 * word):
                tag, value = num(data, at, word), num(data, at + word, word)
                if tag == 0:
                    break
                if tag == _DT_STRTAB:
                    strtab = value
                elif tag == _DT_SONAME:
                    soname = value
                elif tag == _DT_NEEDED:
                    needed.append(value)
            base = next(
                (
                    o + strtab - v
                    for v, o, size in loads
                    if strtab is not None and v <= strtab < v + size
                ),
                None,
            )
            if base is None:
                return None, []

            def string(offset: int) -> str:
                fh.seek(base + offset)
                return fh.read(256).split(b"\0", 1)[0].decode("utf-8", "replace")

            return (
                string(soname) if soname is not None else None,
                [string(n) for n in needed],
            )
    except Exception:  # a file the loader mapped but this reader cannot follow
        return None, []


def _libc() -> str | None:
    """The C library the interpreter runs with, ``glibc 2.36``; None where unknown (musl)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None


def _import_handler(handler: str) -> dict[str, Any]:
    """Import ``handler``'s module and find its function; what happened, as JSON."""
    result: dict[str, Any] = {
        "ok": False,
        "python": "{}.{}".format(*sys.version_info[:2]),
        "machine": os.uname()[4],
    }
    try:
        module_name, _, function = handler.rpartition(".")
        module = importlib.import_module(module_name.replace("/", "."))
        func = getattr(module, function, None)
        if func is None:
            result.update(
                kind="AttributeError",
                missing=None,
                message=f"module {module_name!r} has no attribute {function!r}",
            )
        elif not callable(func):
            result.update(
                kind="TypeError", missing=None, message=f"{module_name}.{function} is not callable"
            )
        else:
            result.update(ok=True, file=getattr(module, "__file__", None))
    except BaseException as exc:
        result.update(
            kind=type(exc).__name__,
            message=str(exc),
            missing=getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
            traceback=traceback.format_exc()[-4000:],
        )
    return result


def main(argv: list[str]) -> None:
    if argv[5:6] != [""]:
        try:
            roots = tuple(r.rstrip("/") + "/" for r in argv[6].split(":") if r)
            _cache_bytecode(argv[5].rstrip("/"), roots)
        except Exception:
            sys.dont_write_bytecode = True  # without that support, none is written
    front, sdk = json.loads(argv[1]), json.loads(argv[2])
    handler, out = argv[3], argv[4]
    if argv[7:] == ["wait"] and sys.stdin.readline().strip() != "go":
        sys.exit(0)  # started early; the sandbox was never completed
    baseline = _mapped()
    module = handler.rpartition(".")[0].replace("/", ".")
    loads = _Loads(baseline, (module, None)) if baseline is not None else None
    if loads is not None:
        loads.install()
    sys.path[:0] = front + sdk
    for entry in front:
        site.addsitedir(entry)  # the bootstrap honours .pth files in these directories
    result = _import_handler(handler)
    result.update(
        loaded=loads.finish() if loads is not None else None,
        libc=_libc(),
        stdlib=os.path.realpath(os.__file__.rpartition("/")[0]),
    )
    with open(out, "w") as fh:
        json.dump(result, fh)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the result is written; tearing the interpreter down tells nothing more


if __name__ == "__main__":
    main(sys.argv)
