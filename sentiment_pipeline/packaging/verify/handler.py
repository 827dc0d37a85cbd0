"""Static checks of the handler: does its module and function exist, and do the
required imports of the handler (and of the first-party modules it imports) resolve
in the function, its layers, the target's standard library and SDK?

Required: those that run every time the module is imported (see
:mod:`~sentiment_pipeline.packaging.verify.imports`). Optional ones (under ``if`` or
``try``, in loops or functions) are not checked, nor followed: the module chooses at
run time whether they run, and the import check shows whether it works without them.
Code without ``.dist-info`` (vendored trees) is walked like the function's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.verify.findings import ProblemCode
from sentiment_pipeline.packaging.verify.imports import (
    defines,
    imports_of,
    parse_handler,
    parse_source,
)

if TYPE_CHECKING:
    import ast
    from collections.abc import Callable

    from sentiment_pipeline.packaging.sandbox import ImportRoot
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.modules import Layout
    from sentiment_pipeline.packaging.verify.rules.records import Owners
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["HandlerChecks"]

_MAX_SOURCE = 8 << 20
_MAX_FIRST_PARTY_MODULES = 2000


class HandlerChecks:
    """Reports through ``add`` (code, path, message) and ``notes`` like the rest of verify."""

    def __init__(
        self,
        target: Target,
        layout: Layout,
        owned: dict[int, Owners],
        add: Callable[[ProblemCode, str, str], None],
        notes: list[str],
    ) -> None:
        self.target = target
        self.layout = layout
        self.owned = owned
        self.add = add
        self.notes = notes

    def check_handler(self, handler: str) -> bool:
        """Check ``handler`` (``module.function``) and the imports of its module; whether
        it was found, so that importing it is worth trying."""
        t = self.target
        parsed = parse_handler(handler)
        if parsed is None:
            self.add(
                ProblemCode.HANDLER_MISSING,
                handler,
                f"{handler!r} is not a Lambda handler string; expected "
                "'module.function' (e.g. 'handler.lambda_handler').",
            )
            return False
        module, function = parsed
        found = self.layout.find_module(module)
        if found is None:
            hint = ""
            leaf = module.replace(".", "/") + ".py"
            fn = self.layout.function
            if fn is not None:
                nested = [e.name for e in fn.tree.entries() if e.name.endswith("/" + leaf)]
                if nested:
                    hint = (
                        f" Found {nested[0]}: the zip has an extra top-level folder; zip "
                        "the folder's contents, not the folder."
                    )
            self.add(
                ProblemCode.HANDLER_MISSING,
                module.replace(".", "/") + ".py",
                f"handler module {module!r} is in neither the function nor its layers "
                f"(expected {leaf} at the root of the zip).{hint} Fix the handler "
                "setting or the artifact layout.",
            )
            return False
        root, entry = found
        if not entry.name.endswith(".py"):
            self.notes.append(
                f"handler module {module} is compiled ({entry.name}); its "
                "function and imports were not checked statically"
            )
            return True
        tree = self.parse_source(root, entry)
        if tree is None:
            self.add(
                ProblemCode.HANDLER_MISSING,
                entry.name,
                f"{entry.name} cannot be parsed as Python {t.python} source (see "
                "notes), so the runtime cannot import the handler. Fix the syntax.",
            )
            return False
        kind, names = defines(tree, function)
        if kind == "absent":
            listed = ", ".join(names[:15]) or "no public names"
            self.add(
                ProblemCode.HANDLER_MISSING,
                entry.name,
                f"{entry.name} has no top-level {function!r} (it defines: {listed}); "
                f"Lambda fails with 'Handler {function!r} missing on module {module!r}'. "
                "Fix the handler setting or the function's name.",
            )
        elif kind == "async":
            self.add(
                ProblemCode.HANDLER_MISSING,
                entry.name,
                f"{entry.name}: {function!r} is 'async def'; the Python runtime calls the "
                "handler synchronously and would return an un-awaited coroutine. Make "
                "it a plain function that runs the event loop (asyncio.run).",
            )
        self.check_imports(root, entry, module, tree)
        return kind in ("function", "other", "unknown")

    def parse_source(self, root: ImportRoot, entry: Entry) -> ast.Module | None:
        data = root.placed.tree.read(entry, _MAX_SOURCE)
        try:
            return parse_source(data, entry.name, self.target.python_version)
        except (SyntaxError, ValueError) as exc:
            self.notes.append(f"{entry.name}: {type(exc).__name__}: {exc}")
            return None

    def check_imports(self, root: ImportRoot, entry: Entry, module: str, tree: ast.Module) -> None:
        """Resolve the required imports of the handler and of first-party modules it pulls in."""
        t = self.target
        queue: list[tuple[ImportRoot, Entry, str, ast.Module]] = [(root, entry, module, tree)]
        visited = {module}
        while queue and len(visited) < _MAX_FIRST_PARTY_MODULES:
            root, entry, name, parsed = queue.pop()
            package = name if entry.name.endswith("/__init__.py") else name.rpartition(".")[0]
            for ref in imports_of(parsed, package):
                if not ref.required:
                    continue
                top = ref.module.split(".")[0]
                if top in t.stdlib_modules or top in t.sdk_modules or top == "__future__":
                    continue
                if not self.layout.provides(top):
                    self.add(
                        ProblemCode.UNRESOLVED_IMPORT,
                        f"{entry.name}:{ref.line}",
                        f"{entry.name} line {ref.line} imports {ref.module!r}, which is in "
                        f"none of the function, its layers, the python{t.python} standard "
                        f"library or the runtime's SDK ({', '.join(sorted(t.sdk_modules))})"
                        f". Add the distribution that provides {top!r} to the function's "
                        "requirements or a layer.",
                    )
                    continue
                candidates = [ref.module] + [f"{ref.module}.{n}" for n in ref.from_import]
                for dotted in candidates:
                    if dotted in visited:
                        continue
                    found = self.layout.find_module(dotted)
                    if found is None:
                        if dotted == ref.module and not self.layout.has_package_dir(dotted):
                            self.add(
                                ProblemCode.UNRESOLVED_IMPORT,
                                f"{entry.name}:{ref.line}",
                                f"{entry.name} line {ref.line} imports {dotted!r}, but "
                                f"{top!r} has no such module in the function or its "
                                "layers. Add the missing module, or fix the import.",
                            )
                        continue
                    visited.add(dotted)
                    sub_root, sub_entry = found
                    if not self.first_party(sub_root, sub_entry):
                        continue
                    sub_tree = self.parse_source(sub_root, sub_entry)
                    if sub_tree is not None:
                        queue.append((sub_root, sub_entry, dotted, sub_tree))

    def first_party(self, root: ImportRoot, entry: Entry) -> bool:
        """The function's own sources: .py files no installed distribution claims."""
        return (
            root.placed.role == "function"
            and entry.name.endswith(".py")
            and entry.name not in self.owned.get(root.placed.order, {})
        )
