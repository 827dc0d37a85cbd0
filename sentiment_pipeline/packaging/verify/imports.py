"""Static import analysis: does the handler exist, and do its imports resolve?

Sources are parsed with :mod:`ast`, never executed. Imports that a module guards
(``try: ... except ImportError``, ``if TYPE_CHECKING:``) are optional by design
and not required to resolve.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "ImportRef",
    "defines",
    "module_level_imports",
    "parse_handler",
]

_GUARD_EXCEPTIONS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@attrs.frozen
class ImportRef:
    """An absolute module name imported at module level, and where."""

    module: str
    line: int
    from_import: tuple[str, ...] = ()
    """For ``from module import a, b``: the imported names."""


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


def _guarded(node: ast.Try | ast.TryStar) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for name in names:
            if isinstance(name, ast.Name) and name.id in _GUARD_EXCEPTIONS:
                return True
            if isinstance(name, ast.Attribute) and name.attr in _GUARD_EXCEPTIONS:
                return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported (not inside def/class bodies)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_statements(node.body)
            yield from _module_statements(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            if not _guarded(node):
                yield from _module_statements(node.body)
            yield from _module_statements(node.orelse)
            yield from _module_statements(node.finalbody)
        elif isinstance(node, ast.With | ast.For | ast.While):
            yield from _module_statements(node.body)


def module_level_imports(module: ast.Module, package: str) -> list[ImportRef]:
    """Absolute names of the modules that importing ``module`` imports.

    ``package`` is the package the module belongs to (for relative imports).
    """
    out: list[ImportRef] = []
    for node in _module_statements(module.body):
        if isinstance(node, ast.Import):
            out.extend(ImportRef(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            if node.level == 0:
                if node.module:
                    out.append(ImportRef(node.module, node.lineno, names))
                continue
            parts = package.split(".") if package else []
            if node.level - 1 > len(parts):
                continue  # beyond the top-level package: an ImportError at run time
            base = parts[: len(parts) - (node.level - 1)]
            if node.module:
                base = [*base, *node.module.split(".")]
            if base:
                out.append(ImportRef(".".join(base), node.lineno, names))
    return out


Definition = Literal["function", "async", "other", "absent", "unknown"]


def defines(module: ast.Module, name: str) -> tuple[Definition, list[str]]:
    """Whether a module binds ``name`` at module level, and what it binds overall."""
    bound: dict[str, Definition] = {}
    star = False
    for node in _module_statements(module.body):
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
