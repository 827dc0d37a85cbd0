"""Static import analysis: does the handler exist, and do its imports resolve?

Sources are parsed with :mod:`ast`, never executed. Only an import that runs every
time its module is imported is *required*: at module level, in a class body, a
``with`` block or a ``finally`` clause. One under ``if``/``elif``/``else``, in any part
of a ``try`` but its ``finally``, in a loop, a ``match`` case or a function is
*optional*: the module decides at run time whether it runs (``if has_simplejson:``,
``try: ... except Exception:``), so its absence is no failure. ``if TYPE_CHECKING:``
bodies never run (and their ``else`` always does).
"""

from __future__ import annotations

import ast
import threading
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "ImportRef",
    "defines",
    "imports_of",
    "parse_handler",
    "parse_source",
]

# CPython 3.11 and 3.12 keep the AST constructor's recursion depth per interpreter, not
# per thread: two threads parsing at once (builds verify artifacts concurrently) can fail
# with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
_PARSE_LOCK = threading.Lock()


def parse_source(
    source: bytes | str, filename: str, feature_version: tuple[int, int] | None = None
) -> ast.Module:
    """:func:`ast.parse`, one thread at a time (see ``_PARSE_LOCK``).

    >>> parse_source("import json", "m.py").body[0].names[0].name
    'json'
    """
    with _PARSE_LOCK:
        return ast.parse(source, filename=filename, feature_version=feature_version)


@attrs.frozen
class ImportRef:
    """An absolute module name a module imports, where, and whether importing the
    module always runs it."""

    module: str
    line: int
    from_import: tuple[str, ...] = ()
    """For ``from module import a, b``: the imported names."""
    required: bool = True
    """Whether it runs every time the module is imported (see the module's docstring);
    false: guarded by a condition, a ``try``, a loop, or inside a function."""


def parse_handler(handler: str) -> tuple[str, str] | None:
    """Split a Lambda handler string the way the Python runtime does.

    >>> parse_handler("handlers/dashboard.lambda_handler")
    ('handlers.dashboard', 'lambda_handler')
    """
    module, sep, function = handler.rpartition(".")
    module = module.replace("/", ".")
    if not sep or not module or not function.isidentifier():
        return None
    if not all(part.isidentifier() for part in module.split(".")):
        return None
    return module, function


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_suppress(expr: ast.expr) -> bool:
    """``suppress(...)`` or ``contextlib.suppress(...)``."""
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    return (isinstance(func, ast.Name) and func.id == "suppress") or (
        isinstance(func, ast.Attribute) and func.attr == "suppress"
    )


def _statements(
    body: list[ast.stmt], required: bool, *, scopes: bool
) -> Iterator[tuple[ast.stmt, bool]]:
    """Each statement of ``body`` and those nested in it, with whether it runs every
    time ``body`` does; with ``scopes``, also the bodies of classes and functions (else
    only the statements that bind in the module's namespace)."""
    for node in body:
        yield node, required
        if isinstance(node, ast.If):
            if _is_type_checking(node.test):  # false at run time
                yield from _statements(node.orelse, required, scopes=scopes)
            else:
                yield from _statements(node.body, False, scopes=scopes)
                yield from _statements(node.orelse, False, scopes=scopes)
        elif isinstance(node, ast.Try | ast.TryStar):
            # Any handler may swallow a failed import (not only ImportError's); the
            # handlers and ``else`` run only on one outcome. ``finally`` always runs.
            yield from _statements(node.body, False, scopes=scopes)
            for handler in node.handlers:
                yield from _statements(handler.body, False, scopes=scopes)
            yield from _statements(node.orelse, False, scopes=scopes)
            yield from _statements(node.finalbody, required, scopes=scopes)
        elif isinstance(node, ast.With | ast.AsyncWith):
            # ``with suppress(ImportError):`` swallows a failed import like a ``try``.
            guarded = any(_is_suppress(item.context_expr) for item in node.items)
            yield from _statements(node.body, required and not guarded, scopes=scopes)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
            yield from _statements(node.body, False, scopes=scopes)
            yield from _statements(node.orelse, False, scopes=scopes)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                yield from _statements(case.body, False, scopes=scopes)
        elif scopes and isinstance(node, ast.ClassDef):  # a class body runs at import
            yield from _statements(node.body, required, scopes=scopes)
        elif scopes and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _statements(node.body, False, scopes=scopes)


def imports_of(module: ast.Module, package: str) -> list[ImportRef]:
    """Absolute names of the modules that ``module`` imports, anywhere in it, each
    marked required or optional.

    ``package`` is the package the module belongs to (for relative imports).

    >>> source = "import json\\nif has_simplejson:\\n    from simplejson import loads\\n"
    >>> [(r.module, r.required) for r in imports_of(ast.parse(source), "")]
    [('json', True), ('simplejson', False)]
    """
    out: list[ImportRef] = []
    for node, required in _statements(module.body, True, scopes=True):
        if isinstance(node, ast.Import):
            out.extend(ImportRef(alias.name, node.lineno, (), required) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            if node.level == 0:
                if node.module:
                    out.append(ImportRef(node.module, node.lineno, names, required))
                continue
            parts = package.split(".") if package else []
            if node.level - 1 > len(parts):
                continue  # beyond the top-level package: an ImportError at run time
            base = parts[: len(parts) - (node.level - 1)]
            if node.module:
                base = [*base, *node.module.split(".")]
            if base:
                out.append(ImportRef(".".join(base), node.lineno, names, required))
    return out


Definition = Literal["function", "async", "other", "absent", "unknown"]


def defines(module: ast.Module, name: str) -> tuple[Definition, list[str]]:
    """Whether a module binds ``name`` at module level (possibly under a condition),
    and what it binds overall."""
    bound: dict[str, Definition] = {}
    star = False
    for node, _required in _statements(module.body, True, scopes=False):
        if isinstance(node, ast.FunctionDef):
            bound[node.name] = "function"
        elif isinstance(node, ast.AsyncFunctionDef):
            bound[node.name] = "async"
        elif isinstance(node, ast.ClassDef):
            bound[node.name] = "other"
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        bound[sub.id] = "other"
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            bound[node.target.id] = "other"
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                else:
                    bound[(alias.asname or alias.name).split(".")[0]] = "other"
    names = sorted(n for n in bound if not n.startswith("_"))
    if name in bound:
        return bound[name], names
    return ("unknown" if star else "absent"), names
