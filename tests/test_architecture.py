"""The layout is the architecture: read from the source's imports, every module, every level.

- The runtime (the pipeline's modules and this repository's handlers) imports nothing of the
  build side: ``packaging/`` (builder, verifier, catalog), ``local/`` (the dev stack), the
  backends and the CLI. Only those import one another; the facade ``__init__`` names them
  lazily (its imports run only for type checkers).
- The build side never imports the dev stack: ``local/`` builds on ``packaging/``, not back.
- The deploy (``deployment/``) builds on the build's report and the local runner; neither
  the build side nor the dev stack imports it, and only its ``aws`` module calls AWS.
- No import cycle anywhere in the package.
- This repository's ``lambdas.toml`` excludes exactly the build side, by prefix.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sentiment_pipeline"

BUILD_SIDE = (
    "sentiment_pipeline.packaging",
    "sentiment_pipeline.local",
    "sentiment_pipeline.deployment",
    "sentiment_pipeline.backends",
    "sentiment_pipeline.cli",
    "sentiment_pipeline.__main__",
)
FACADE = "sentiment_pipeline"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    found |= {_module_name(p): p for p in (ROOT / "handlers").glob("*.py")}
    return found


MODULES = _modules()


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _imports(name: str, path: Path) -> set[str]:
    """Modules of ours that ``name`` imports, anywhere in the file (functions included)."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import sub` imports the module pkg.sub when there is one.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # an attribute: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if not _under(m, BUILD_SIDE) and m != FACADE)
)
def test_the_runtime_imports_nothing_of_the_build_side(module: str) -> None:
    leaked = sorted(t for t in GRAPH[module] if _under(t, BUILD_SIDE))
    assert leaked == [], f"{module} (runtime side) imports {leaked}"


def test_only_the_facade_names_the_build_side_and_only_for_type_checkers() -> None:
    tree = ast.parse(MODULES[FACADE].read_text("utf-8"))
    top_level_imports = [
        node
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name)
        not in ("__future__", "importlib", "typing")
    ]
    assert top_level_imports == []  # the rest sit under `if TYPE_CHECKING:` or in __getattr__


def test_the_build_side_never_imports_the_dev_stack() -> None:
    for module, targets in GRAPH.items():
        if _under(module, ("sentiment_pipeline.packaging", "sentiment_pipeline.backends")):
            wrong = sorted(t for t in targets if _under(t, ("sentiment_pipeline.local",)))
            assert wrong == [], f"{module} imports the dev stack: {wrong}"


DEPLOYMENT = "sentiment_pipeline.deployment"
# What the deploy may use of the dev stack: the runner (--smoke local) and the Function
# URL's payload 2.0 event (the default smoke event).
DEPLOYMENT_USES_OF_LOCAL = (
    "sentiment_pipeline.local.runner",
    "sentiment_pipeline.local.functionurl",
)


def test_nothing_but_the_cli_and_the_facade_imports_the_deploy() -> None:
    for module, targets in GRAPH.items():
        if _under(module, (DEPLOYMENT, "sentiment_pipeline.cli")) or module == FACADE:
            continue
        wrong = sorted(t for t in targets if _under(t, (DEPLOYMENT,)))
        assert wrong == [], f"{module} imports the deploy: {wrong}"


def test_the_deploy_uses_only_the_runner_and_the_url_event_of_the_dev_stack() -> None:
    for module, targets in GRAPH.items():
        if _under(module, (DEPLOYMENT,)):
            local = {t for t in targets if _under(t, ("sentiment_pipeline.local",))}
            assert local <= set(DEPLOYMENT_USES_OF_LOCAL), f"{module} imports {sorted(local)}"


def test_only_the_deploys_aws_module_imports_botocore() -> None:
    importers = set()
    for module, path in MODULES.items():
        if not _under(module, (DEPLOYMENT,)):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] in ("boto3", "botocore") for n in names):
                importers.add(module)
    assert importers == {f"{DEPLOYMENT}.aws"}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    # Package __init__ modules that only re-export their own modules are the one
    # allowed shape of "A imports B imports A": their children never import them.
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lambdas_toml_excludes_exactly_the_build_side() -> None:
    manifest = tomllib.loads((ROOT / "lambdas.toml").read_text())
    expected = []
    for module in BUILD_SIDE:
        path = module.replace(".", "/")
        expected.append(f"{path}/**" if (ROOT / path).is_dir() else f"{path}.py")
    assert sorted(manifest["defaults"]["exclude"]) == sorted(expected)
