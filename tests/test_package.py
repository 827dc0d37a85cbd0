"""The facade: the library's API from ``sentiment_pipeline``, typed, documented, and lazy.

Importing the package (or a runtime module) loads no packaging code; the names
resolve on first use to the real objects of the modules that define them.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Literal, assert_type

import pytest

import sentiment_pipeline

if TYPE_CHECKING:
    from pathlib import Path

# What `import sentiment_pipeline` must not load: the build side and its dependencies.
BUILD_SIDE = (
    "sentiment_pipeline.packaging",
    "sentiment_pipeline.local",
    "sentiment_pipeline.deployment",
    "sentiment_pipeline.cli",
)
BUILD_DEPENDENCIES = ("pydantic", "elftools", "packaging", "installer", "stevedore", "attrs")

PUBLIC = sorted(sentiment_pipeline.__all__)
# Every public class and callable (the rest are constants: CATALOG_VERSION).
DOCUMENTED = [
    name
    for name in PUBLIC
    if inspect.isclass(getattr(sentiment_pipeline, name))
    or callable(getattr(sentiment_pipeline, name))
]


def imported_modules(code: str) -> set[str]:
    """Every module that running ``code`` imports: what ``python -X importtime`` reports,
    and what ``sys.modules`` holds at the end (importtime does not see modules loaded
    through ``importlib.import_module``, as the facade loads them)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    )
    # "import time: self [us] | cumulative | imported package" lines, one per module.
    timed = {
        line.rpartition("|")[2].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    }
    return timed | set(json.loads(out.stdout.splitlines()[-1]))


def loaded_of(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted({m for m in modules for n in names if m == n or m.startswith(f"{n}.")})


@pytest.mark.parametrize(
    "code",
    [
        "import sentiment_pipeline",
        "import sentiment_pipeline.errors",
        "from sentiment_pipeline import __version__",
        "import sentiment_pipeline.dashboard.app",  # a runtime module, as a handler imports it
    ],
)
def test_importing_the_package_loads_no_packaging_code(code: str) -> None:
    modules = imported_modules(code)
    assert "sentiment_pipeline" in modules
    assert loaded_of(modules, BUILD_SIDE) == []
    assert loaded_of(modules, BUILD_DEPENDENCIES) == []


def test_a_name_loads_its_module_on_first_use() -> None:
    modules = imported_modules("import sentiment_pipeline as sp; sp.get_target")
    assert "sentiment_pipeline.packaging.targets" in modules
    assert loaded_of(modules, ("sentiment_pipeline.packaging.build",)) == []


def test_all_is_sorted_and_dir_lists_every_name() -> None:
    assert sentiment_pipeline.__all__ == sorted(
        sentiment_pipeline.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )
    assert set(sentiment_pipeline.__all__) <= set(dir(sentiment_pipeline))


@pytest.mark.parametrize("name", PUBLIC)
def test_each_name_is_the_object_of_the_module_that_defines_it(name: str) -> None:
    value = getattr(sentiment_pipeline, name)
    home = sentiment_pipeline._WHERE[name]
    assert value is getattr(importlib.import_module(f"sentiment_pipeline.{home}"), name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__.startswith(f"sentiment_pipeline.{home}")


def test_type_checkers_see_the_real_types(tmp_path: Path) -> None:
    # mypy --strict (nox -s typecheck) checks these assert_type calls: were the facade's
    # names Any (no TYPE_CHECKING imports), each would be an error there.
    from sentiment_pipeline import (
        BuildOptions,
        Checked,
        DynamicResult,
        Target,
        VerifyOptions,
        get_target,
        verify,
    )
    from sentiment_pipeline.packaging.verify.report import Report

    target = assert_type(get_target("python3.13"), Target)
    options = assert_type(BuildOptions(out=tmp_path), BuildOptions)
    engine = Literal["auto", "docker", "podman", "buildah", "none"]
    assert_type(options.engine, engine)
    checks = assert_type(VerifyOptions(dynamic=False), VerifyOptions)
    assert_type(checks.engine, engine)  # one type of engine for build and verify
    (tmp_path / "handler.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    report = assert_type(verify(tmp_path, target, checks), Report)
    assert_type(report.checked, Checked)
    assert_type(report.checked.dynamic, DynamicResult)
    assert report.ok and isinstance(target, Target) and report.checked.files == 1


def test_verify_is_the_function_and_unknown_names_are_attribute_errors() -> None:
    from sentiment_pipeline.packaging.verify.check import verify

    assert sentiment_pipeline.verify is verify
    with pytest.raises(AttributeError, match="has no attribute 'verfiy'"):
        sentiment_pipeline.verfiy  # noqa: B018


def test_the_errors_users_catch_share_one_base_and_a_builtin() -> None:
    errors = [
        getattr(sentiment_pipeline, n)
        for n in PUBLIC
        if n.endswith("Error") and n != "PipelineError"
    ]
    assert len(errors) >= 9
    for error in errors:
        assert issubclass(error, sentiment_pipeline.PipelineError), error
        builtins = [b for b in error.__mro__ if b.__module__ == "builtins"]
        assert builtins[0] is not Exception, f"{error.__name__} inherits no fitting built-in"


def documented(name: str) -> tuple[object, str]:
    value = getattr(sentiment_pipeline, name)
    return value, inspect.getdoc(value) or ""


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_public_class_and_callable_has_a_complete_docstring(name: str) -> None:
    value, doc = documented(name)
    # Its own docstring: an inherited one (Exception's) documents nothing of ours.
    assert value.__doc__, f"{name} has no docstring"
    summary = doc.split("\n\n")[0]
    assert summary.endswith("."), f"{name}: the summary should be a sentence: {summary!r}"
    is_error = inspect.isclass(value) and issubclass(value, BaseException)
    if not is_error:
        assert ">>>" in doc, f"{name}: the docstring has no example"
    if inspect.isfunction(value) or hasattr(value, "__wrapped__"):
        parameters = inspect.signature(value).parameters  # type: ignore[arg-type]
        missing = {p for p in parameters if f"``{p}``" not in doc}
        assert missing == set(), f"{name}: the docstring does not mention {sorted(missing)}"


@pytest.mark.parametrize("name", ["sentiment_pipeline", *DOCUMENTED])
def test_the_examples_in_the_docstrings_run(name: str) -> None:
    value = (
        sentiment_pipeline if name == "sentiment_pipeline" else getattr(sentiment_pipeline, name)
    )
    module = inspect.getmodule(value)
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(value, name, module=module, globs=vars(module).copy() if module else {})
    examples = sum(len(t.examples) for t in tests)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert examples > 0 or name.endswith("Error")
    assert result.failed == 0


def test_a_build_that_reuses_its_artifacts_loads_no_image_reader_or_http() -> None:
    """A no-op rebuild reads the last report's findings; the verifier's readers (images,
    registries: http, ssl) load only when something is verified."""
    code = (
        "import sys\n"
        "import sentiment_pipeline.packaging.build, sentiment_pipeline.packaging.results\n"
        "import sentiment_pipeline.packaging.verify.sources\n"
        "heavy = ('http.client', 'ssl', 'sentiment_pipeline.packaging.verify.check',\n"
        "         'sentiment_pipeline.packaging.oci.registry')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
