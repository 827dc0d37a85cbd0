"""Lambda's execution environment as the sandbox derives it from a target, and the rule
that nothing else spells it out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sentiment_pipeline.packaging.sandbox import (
    LD_LIBRARY_PATH,
    FunctionIdentity,
    LocalRoot,
    Placed,
    artifact_filled,
    describe_target,
    environment,
    import_roots,
    is_layer_tree,
    isolated_command,
    lambda_path,
    sys_path,
)
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.sources import Entry, open_tree

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("python", ["3.9", "3.10"])
def test_before_python311_the_runtime_dir_comes_before_the_runtimes_site_packages(
    python: str,
) -> None:
    digits = python.replace(".", "")
    assert sys_path(get_target(f"python{python}")) == (
        "/var/task",
        f"/opt/python/lib/python{python}/site-packages",
        "/opt/python",
        "/var/runtime",
        f"/var/lang/lib/python{digits}.zip",
        f"/var/lang/lib/python{python}",
        f"/var/lang/lib/python{python}/lib-dynload",
        f"/var/lang/lib/python{python}/site-packages",
    )


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14"])
def test_from_python311_the_runtimes_site_packages_comes_before_the_runtime_dir(
    python: str,
) -> None:
    digits = python.replace(".", "")
    assert sys_path(get_target(f"python{python}", "arm64")) == (
        "/var/task",
        f"/opt/python/lib/python{python}/site-packages",
        "/opt/python",
        f"/var/lang/lib/python{python}/site-packages",
        "/var/runtime",
        f"/var/lang/lib/python{digits}.zip",
        f"/var/lang/lib/python{python}",
        f"/var/lang/lib/python{python}/lib-dynload",
    )


def test_import_roots_put_every_layers_site_packages_before_any_layers_python_dir(
    tmp_path: Path,
) -> None:
    tree = open_tree(tmp_path)
    function, first, second = (
        Placed(tree, "function", 0),
        Placed(tree, "layer", 1),
        Placed(tree, "layer", 2),
    )
    roots = import_roots(get_target("python3.12"), [first, function, second])
    # Within a directory the last-listed layer counts first: it was unpacked last.
    assert [(r.placed.order, r.sys_path) for r in roots] == [
        (0, "/var/task"),
        (2, "/opt/python/lib/python3.12/site-packages"),
        (1, "/opt/python/lib/python3.12/site-packages"),
        (2, "/opt/python"),
        (1, "/opt/python"),
    ]
    assert [r.relative("python/lib/python3.12/site-packages/six.py") for r in roots[1:]] == [
        "six.py",
        "six.py",
        "lib/python3.12/site-packages/six.py",
        "lib/python3.12/site-packages/six.py",
    ]


def test_ld_library_path_is_the_base_images() -> None:
    assert ":".join(LD_LIBRARY_PATH) == (
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
        "/var/task:/var/task/lib:/opt/lib"
    )


def test_artifacts_fill_the_task_root_and_opt_the_runtime_the_rest() -> None:
    filled = [d for d in LD_LIBRARY_PATH if artifact_filled(d)]
    assert filled == ["/var/task", "/var/task/lib", "/opt/lib"]
    assert not artifact_filled("/optional") and not artifact_filled("/var/taskforce")


def test_the_environment_moves_lambdas_paths_into_the_local_root(tmp_path: Path) -> None:
    root = LocalRoot(tmp_path / "sb")
    env = environment(
        get_target("python3.11"), root, FunctionIdentity("dashboard", "app.main.handler", 256)
    )
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path / "sb/var/task")
    assert env["LAMBDA_RUNTIME_DIR"] == str(tmp_path / "sb/var/runtime")
    # Only what an artifact fills exists here: the runtime's own directories are left out.
    assert env["LD_LIBRARY_PATH"].split(":") == [
        str(tmp_path / "sb/var/task"),
        str(tmp_path / "sb/var/task/lib"),
        str(tmp_path / "sb/opt/lib"),
    ]
    assert env["HOME"] == str(tmp_path / "sb")
    assert {k: env[k] for k in env if k.startswith(("AWS_", "_"))} == {
        "_HANDLER": "app.main.handler",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "dashboard",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/dashboard",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_the_local_import_paths_are_the_front_of_lambdas_sys_path(tmp_path: Path) -> None:
    root = LocalRoot(tmp_path)
    assert root.import_paths(get_target("python3.13")) == [
        str(tmp_path / "var/task"),
        str(tmp_path / "opt/python/lib/python3.13/site-packages"),
        str(tmp_path / "opt/python"),
    ]
    assert root.task_root == tmp_path / "var/task"


def test_placement_function_in_the_task_root_layers_in_opt(tmp_path: Path) -> None:
    tree = open_tree(tmp_path)
    assert Placed(tree, "function", 0).lambda_path("app/main.py") == "/var/task/app/main.py"
    assert Placed(tree, "layer", 3).lambda_path("lib/libz.so.1") == "/opt/lib/libz.so.1"
    assert Placed(tree, "layer", 3).label == "layer 3"
    assert lambda_path("function") == "/var/task"


def test_a_layer_tree_holds_only_what_lambda_reads_from_opt() -> None:
    def entries(*names: str) -> list[Entry]:
        return [Entry(name, "file", 1, 1) for name in names]

    assert is_layer_tree(entries("python/six.py", "lib/libz.so.1", "bin/tool"))
    assert not is_layer_tree(entries("lib/libz.so.1"))  # no python/: a function's lib/
    assert not is_layer_tree(entries("python/six.py", "handler.py"))


def test_the_interpreter_starts_isolated_without_writing_bytecode(tmp_path: Path) -> None:
    program = tmp_path / "program.py"
    assert isolated_command("python3.13", program, "a") == [
        "python3.13", "-I", "-S", "-B", str(program), "a"
    ]  # fmt: skip


def test_a_targets_json_carries_lambdas_import_path() -> None:
    target = get_target("python3.10", "arm64")
    described = describe_target(target)
    assert described["sys_path"] == list(sys_path(target))
    assert {k: v for k, v in described.items() if k != "sys_path"} == target.to_json()


# --- one owner ---------------------------------------------------------------------------

_FACTS = ("var/task", "/opt/python", "/var/lang", "/var/runtime")
_OWNER = REPOSITORY / "sentiment_pipeline" / "packaging" / "sandbox"


def _documentation(tree: ast.Module) -> set[int]:
    """ids of the string constants that document (docstrings, attribute docstrings)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def spellings(path: Path, root: Path = REPOSITORY) -> list[str]:
    """Where the code of ``path`` spells one of Lambda's sandbox paths (``file:line``)."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    documentation = _documentation(tree)
    return [
        f"{path.relative_to(root)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in documentation
        and any(fact in node.value for fact in _FACTS)
    ]


def _sources() -> list[Path]:
    found = {
        path.resolve()
        for top in ("sentiment_pipeline", "backends")
        for path in (REPOSITORY / top).rglob("*.py")
    }
    return sorted(p for p in found if not p.is_relative_to(_OWNER))


def test_only_the_sandbox_spells_lambdas_paths() -> None:
    sources = _sources()
    assert any(p.name == "check.py" for p in sources)  # the scan sees the verifier
    found = [where for path in sources for where in spellings(path)]
    assert found == [], (
        "Lambda's paths belong to sentiment_pipeline.packaging.sandbox; ask it "
        f"(TASK_ROOT, lambda_path, sys_path, LocalRoot) instead of spelling them: {found}"
    )


def test_the_spelling_scan_sees_code_and_skips_documentation(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        '"""Unpacked to /var/task."""\n'
        "ROOT = '/opt/python'\n"
        "def f(name):\n"
        '    """Under /opt/python."""\n'
        "    return f'/var/task/{name}'  # /var/task\n"
    )
    assert [w.rpartition(":")[2] for w in spellings(module, tmp_path)] == ["2", "5"]
