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
4. the file to write the result to (JSON: ``ok``, ``python``, ``machine``, and
   ``kind``, ``message``, ``missing``, ``traceback`` on failure);
5. the bytecode cache tree, or ``""`` for none;
6. the directories whose sources may be cached there, ``:``-separated;
7. optionally ``wait``: read a line from stdin first and import only if it is ``go``
   (the interpreter starts while its sandbox is still being filled; end-of-file means
   the sandbox was never completed).
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
    sys.path[:0] = front + sdk
    for entry in front:
        site.addsitedir(entry)  # the bootstrap honours .pth files in these directories
    result = _import_handler(handler)
    with open(out, "w") as fh:
        json.dump(result, fh)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the result is written; tearing the interpreter down tells nothing more


if __name__ == "__main__":
    main(sys.argv)
