"""Which imports a module needs every time it is imported, and which it only may run."""

from __future__ import annotations

import ast
import sys
import textwrap

import pytest

from sentiment_pipeline.packaging.verify.imports import defines, imports_of, parse_source


def classified(source: str, package: str = "") -> dict[str, bool]:
    """Imported module -> required, for ``source``."""
    tree = ast.parse(textwrap.dedent(source))
    return {ref.module: ref.required for ref in imports_of(tree, package)}


@pytest.mark.parametrize(
    ("source", "optional"),
    [
        ("if FAST:\n    import ujson\n", "ujson"),
        ("if FAST:\n    pass\nelse:\n    import ujson\n", "ujson"),
        ("if A:\n    pass\nelif B:\n    import ujson\n", "ujson"),
        ("try:\n    import ujson\nexcept ImportError:\n    pass\n", "ujson"),
        # Any exception swallows a failed import, not only ImportError.
        ("try:\n    import ujson\nexcept (OSError, RuntimeError):\n    pass\n", "ujson"),
        ("try:\n    import ujson\nexcept Exception:\n    pass\n", "ujson"),
        ("try:\n    pass\nexcept ImportError:\n    import ujson\n", "ujson"),
        (
            "try:\n    import json\nexcept ImportError:\n    pass\nelse:\n    import ujson\n",
            "ujson",
        ),
        ("try:\n    import ujson\nexcept* ImportError:\n    pass\n", "ujson"),
        ("with suppress(ImportError):\n    import ujson\n", "ujson"),
        ("with contextlib.suppress(ImportError), lock:\n    import ujson\n", "ujson"),
        ("for name in NAMES:\n    import ujson\n", "ujson"),
        ("for name in NAMES:\n    pass\nelse:\n    import ujson\n", "ujson"),
        ("while WAIT:\n    import ujson\n", "ujson"),
        ("match MODE:\n    case 'fast':\n        import ujson\n", "ujson"),
        ("def load():\n    import ujson\n", "ujson"),
        ("async def load():\n    import ujson\n", "ujson"),
        ("class Codec:\n    def load(self):\n        from ujson import loads\n", "ujson"),
        ("def outer():\n    class Inner:\n        import ujson\n", "ujson"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ujson\n", "ujson"),
    ],
    ids=lambda v: v.replace("\n", " ")[:60] if isinstance(v, str) else v,
)
def test_a_guarded_import_is_optional(source: str, optional: str) -> None:
    found = classified(source)
    if "TYPE_CHECKING:" in source:
        assert optional not in found  # never runs: not even optional
    else:
        assert found[optional] is False


@pytest.mark.parametrize(
    "source",
    [
        "import ujson\n",
        "from ujson import loads\n",
        "import os, ujson\n",
        "class Codec:\n    import ujson\n",  # a class body runs at import
        "class Codec:\n    class Inner:\n        from ujson import loads\n",
        "with lock:\n    import ujson\n",
        "try:\n    pass\nfinally:\n    import ujson\n",  # finally always runs
        "if TYPE_CHECKING:\n    pass\nelse:\n    import ujson\n",  # its else always runs
    ],
    ids=lambda v: v.replace("\n", " ")[:60],
)
def test_an_unconditional_import_is_required(source: str) -> None:
    assert classified(source)["ujson"] is True


def test_requests_compat_pattern_needs_only_the_unguarded_imports() -> None:
    found = classified(
        """
        import sys
        try:
            import simplejson as json
            has_simplejson = True
        except ImportError:
            import json
            has_simplejson = False

        if has_simplejson:
            from simplejson import JSONDecodeError
        else:
            from json import JSONDecodeError

        from collections.abc import Mapping
        from .packages import urllib3
        """,
        package="requests",
    )
    assert found == {
        "sys": True,
        "simplejson": False,
        "json": False,
        "collections.abc": True,
        "requests.packages": True,
    }


def test_relative_imports_in_functions_resolve_against_the_package() -> None:
    source = "def lazy():\n    from .models import Item\n    from .. import config\n"
    tree = ast.parse(source)
    refs = [(r.module, r.from_import, r.required) for r in imports_of(tree, "app.routes")]
    assert refs == [("app.routes.models", ("Item",), False), ("app", ("config",), False)]


def test_a_handler_defined_under_a_condition_or_a_try_is_defined() -> None:
    source = (
        "try:\n    from fast import lambda_handler\nexcept ImportError:\n    pass\n"
        "if DEBUG:\n    def debug_handler(e, c):\n        return 1\n"
    )
    tree = ast.parse(source)
    assert defines(tree, "lambda_handler")[0] == "other"
    assert defines(tree, "debug_handler")[0] == "function"


def test_a_method_is_no_module_level_handler() -> None:
    tree = ast.parse("class App:\n    def lambda_handler(self, e, c):\n        return 1\n")
    kind, names = defines(tree, "lambda_handler")
    assert kind == "absent" and names == ["App"]


def test_a_name_bound_only_under_type_checking_is_absent() -> None:
    tree = ast.parse("if TYPE_CHECKING:\n    from app import lambda_handler\n")
    assert defines(tree, "lambda_handler")[0] == "absent"


def test_sources_parse_on_many_threads_at_once() -> None:
    """Builds verify artifacts concurrently: parsing must not trip CPython's shared AST
    recursion counter (python/cpython#106905), which a finalizer running mid-parse and a
    thread switch expose."""
    from concurrent.futures import ThreadPoolExecutor

    source = "def f(x):\n    return [i for i in range(x) if (i, (i, [i]))]\n" * 100

    class Finalized:
        other: object = None

        def __del__(self) -> None:
            sum(range(50))  # Python code in a finalizer: a point where threads switch

    def parse_with_garbage(_: int) -> int:
        for _round in range(40):
            for _pair in range(50):
                a, b = Finalized(), Finalized()
                a.other, b.other = b, a  # a cycle: collected (and finalized) by the GC
            parse_source(source, "m.py")
        return 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            assert sum(pool.map(parse_with_garbage, range(6))) == 6
    finally:
        sys.setswitchinterval(interval)
