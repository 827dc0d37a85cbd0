"""Shared first-party code in a layer (issue 13): a monorepo-like project whose shared package
lives in a layer's ``sources``, used by two Lambdas of different targets, built as a user does
(the CLI in a subprocess, from another directory, relative paths, ``--engine none``)."""

from __future__ import annotations

import json
import shutil
import textwrap
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.packaging.assemble import first_party_members
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import ArtifactPlan, plan_functions
from tests.support.cli import run_cli

if TYPE_CHECKING:
    from pathlib import Path

SHARED_INIT = """\
import pydantic_core
import six

from shared.text import shout


def dumps(value):
    return pydantic_core.to_json({"value": shout(value), "six": six.__version__}).decode()
"""

HANDLER = """\
from shared import dumps


def lambda_handler(event, context):
    return {"statusCode": 200, "body": dumps("{name}")}
"""


def make_monorepo(root: Path, backend: str = "layer") -> Path:
    """``libs/shared`` (a package, with tests that must not ship) in layer ``shared``;
    ``services/api`` on python3.11 x86_64 and ``services/data`` on python3.12 arm64."""
    shared = root / "libs" / "shared"
    (shared / "tests").mkdir(parents=True)
    (shared / "__init__.py").write_text(SHARED_INIT)
    (shared / "text.py").write_text("def shout(value):\n    return value.upper()\n")
    (shared / "tests" / "test_text.py").write_text("def test_shout():\n    assert True\n")
    for name in ("api", "data"):
        (root / "services" / name).mkdir(parents=True)
        (root / "services" / name / f"{name}.py").write_text(HANDLER.replace("{name}", name))
    manifest = root / "lambdas.toml"
    manifest.write_text(
        textwrap.dedent(f"""\
        [defaults]
        backend = "{backend}"

        [layers.shared]
        sources = ["libs/shared"]
        requirements = ["six==1.17.0", "pydantic-core==2.41.5"]
        exclude = ["**/tests/**"]

        [lambdas.api]
        handler = "api.lambda_handler"
        sources = ["services/api/api.py"]
        runtime = "python3.11"
        layers = ["shared"]

        [lambdas.data]
        handler = "data.lambda_handler"
        sources = ["services/data/data.py"]
        runtime = "python3.12"
        architecture = "arm64"
        layers = ["shared"]
        """)
    )
    return manifest


def names(path: Path) -> list[str]:
    """The zip's files but bytecode (compiled when an interpreter of the target is here)."""
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if "__pycache__/" not in n]


def test_layer_sources_go_under_python_with_their_exclude_matched_before_the_prefix(
    tmp_path: Path,
) -> None:
    manifest = make_monorepo(tmp_path)
    # an exclusion written as the sources lay out (no python/ prefix) applies in the layer
    manifest.write_text(manifest.read_text().replace('"**/tests/**"', '"shared/tests/**"'))
    api, _ = plan_functions(Manifest.load(manifest))
    layer = sorted(
        m.name for m in first_party_members(ArtifactPlan(api.layers[0]), prefix="python/")
    )
    assert layer == ["python/shared/__init__.py", "python/shared/text.py"]
    carried = sorted(m.name for m in first_party_members(ArtifactPlan(api)))
    assert carried == ["api.py", "shared/__init__.py", "shared/text.py"]


def build(tmp_path: Path, backend: str) -> dict[str, Any]:
    make_monorepo(tmp_path / "project", backend)
    built = run_cli(
        tmp_path,
        "build",
        "--manifest",
        "project/lambdas.toml",
        "--out",
        "dist",
        "--engine",
        "none",
        "--json",
    )
    assert built.returncode == 0, built.stdout + built.stderr
    document: dict[str, Any] = json.loads(built.stdout)
    return document


@pytest.mark.network
def test_a_shared_layer_is_built_per_target_and_each_function_verifies_with_its_own(
    tmp_path: Path,
) -> None:
    document = build(tmp_path, "layer")
    by_name = {a["name"]: a for a in document["artifacts"]}
    assert list(by_name) == [
        "shared (python3.11/x86_64)",
        "shared (python3.12/arm64)",
        "api",
        "data",
    ]
    assert all(a["ok"] for a in by_name.values())
    dist = tmp_path / "dist" / "layer"
    x86 = dist / "layers" / "shared-python3.11-x86_64.zip"
    arm = dist / "layers" / "shared-python3.12-arm64.zip"
    for layer, tag in ((x86, "cpython-311-x86_64"), (arm, "cpython-312-aarch64")):
        inside = names(layer)
        assert "python/shared/__init__.py" in inside and "python/shared/text.py" in inside
        assert not any("/tests/" in n for n in inside)  # the layer's exclude
        assert f"python/pydantic_core/_pydantic_core.{tag}-linux-gnu.so" in inside
    # each function: its own code only, verified with the layer of its target
    assert names(dist / "api.zip") == ["api.py"] and names(dist / "data.zip") == ["data.py"]
    assert by_name["api"]["layers"] == [str(x86)]
    assert by_name["data"]["layers"] == [str(arm)]
    assert (by_name["api"]["runtime"], by_name["data"]["architecture"]) == ("python3.11", "arm64")
    # python3.11 x86_64 is on this machine: the handler was imported, shared from /opt/python
    if shutil.which("python3.11"):
        assert by_name["api"]["dynamic"].startswith("dynamic check: imported api.lambda_handler")

    # a user's own check of what was built: the x86_64 function with its layer passes
    checked = run_cli(
        tmp_path,
        "verify",
        "dist/layer/api.zip",
        "--layer",
        "dist/layer/layers/shared-python3.11-x86_64.zip",
        "--runtime",
        "python3.11",
        "--handler",
        "api.lambda_handler",
        "--json",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # a change in the shared package rebuilds both layers, and re-verifies both functions
    shared = tmp_path / "project" / "libs" / "shared" / "text.py"
    shared.write_text("def shout(value):\n    return value.upper() + '!'\n")
    again = run_cli(
        tmp_path,
        "build",
        "--manifest",
        "project/lambdas.toml",
        "--out",
        "dist",
        "--engine",
        "none",
        "--json",
    )
    assert again.returncode == 0, again.stdout + again.stderr
    hits = {a["name"]: a["cache_hit"] for a in json.loads(again.stdout)["artifacts"]}
    assert not any(hits.values()), hits
    # and nothing changed: nothing is rebuilt
    same = run_cli(
        tmp_path,
        "build",
        "--manifest",
        "project/lambdas.toml",
        "--out",
        "dist",
        "--engine",
        "none",
        "--json",
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert all(a["cache_hit"] for a in json.loads(same.stdout)["artifacts"])


@pytest.mark.network
def test_a_self_contained_function_carries_its_layers_sources(tmp_path: Path) -> None:
    document = build(tmp_path, "zip-in-docker")
    by_name = {a["name"]: a for a in document["artifacts"]}
    assert list(by_name) == ["api", "data"] and all(a["ok"] for a in by_name.values())
    for name, tag in (("api", "cpython-311-x86_64"), ("data", "cpython-312-aarch64")):
        inside = names(tmp_path / "dist" / "zip-in-docker" / f"{name}.zip")
        assert {f"{name}.py", "shared/__init__.py", "shared/text.py", "six.py"} <= set(inside)
        assert f"pydantic_core/_pydantic_core.{tag}-linux-gnu.so" in inside
        assert not any("/tests/" in n for n in inside)
    if shutil.which("python3.11"):
        assert by_name["api"]["dynamic"].startswith("dynamic check: imported api.lambda_handler")


def test_with_an_engine_the_layer_sources_are_installed_beside_its_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine path lays the sources out under python/ before the build image's
    interpreter installs the wheels into the same folder (and compiles them all)."""
    from sentiment_pipeline.packaging.assemble import assemble_zip
    from sentiment_pipeline.packaging.backend import BuildContext
    from sentiment_pipeline.packaging.cache import WheelCache
    from sentiment_pipeline.packaging.install import containersteps

    seen: dict[str, Any] = {}

    def install(engine: object, image: str, wheels: object, site: Path, **kw: object) -> None:
        seen["site"] = site
        seen["files"] = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.py"))
        seen["compile_prefix"] = kw["compile_prefix"]

    monkeypatch.setattr(containersteps, "install_in_container", install)
    api, _ = plan_functions(Manifest.load(make_monorepo(tmp_path / "project")))

    class Engine:
        name = "fake"

    ctx = BuildContext(engine=Engine(), cache=WheelCache(), offline=True, work=tmp_path / "w")  # type: ignore[arg-type]
    dest = tmp_path / "layer.zip"
    result = assemble_zip("layer", ArtifactPlan(api.layers[0]), [], dest, ctx, prefix="python/")
    assert seen["site"].name == "python"
    assert seen["files"] == ["shared/__init__.py", "shared/text.py"]
    assert seen["compile_prefix"] == "/opt/python"
    assert sorted(names(dest)) == ["python/shared/__init__.py", "python/shared/text.py"]
    assert result.files == 2


def test_the_readme_example_of_a_shared_layer_plans_as_it_says() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme[readme.index("#### Shared code in layers") :]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None
    manifest = Manifest.parse(example[1], path=Path("/p/lambdas.toml"), check_paths=False)
    api, data = plan_functions(manifest)
    assert [(a.layers[0].label, a.layers[0].stem) for a in (api, data)] == [
        ("shared (python3.13/x86_64)", "shared-python3.13-x86_64"),
        ("shared (python3.12/arm64)", "shared-python3.12-arm64"),
    ]
    assert "`layers/shared-python3.12-arm64.zip`" in section


def test_a_layer_pinned_to_another_target_is_a_manifest_error_with_its_line(
    tmp_path: Path,
) -> None:
    manifest = make_monorepo(tmp_path / "project")
    text = manifest.read_text().replace(
        'exclude = ["**/tests/**"]\n', 'exclude = ["**/tests/**"]\nruntime = "python3.12"\n'
    )
    manifest.write_text(text)
    failed = run_cli(tmp_path, "build", "--manifest", "project/lambdas.toml", "--engine", "none")
    assert failed.returncode == 2, failed.stdout + failed.stderr
    line = text.splitlines().index('layers = ["shared"]') + 1  # the api's, the first
    assert f"{manifest}:{line}: lambdas.api.layers: layer 'shared' sets runtime = " in failed.stderr
    assert "(line 8) but lambdas.api runs on 'python3.11'" in failed.stderr
    assert "Traceback" not in failed.stderr and not (tmp_path / "dist").exists()


@pytest.mark.parametrize(
    ("where", "key"),
    [("defaults", "defaults.backend"), ("lambda", "lambdas.data.backend")],
)
def test_a_backend_the_manifest_names_but_is_not_installed_is_reported_at_its_line(
    where: str, key: str, tmp_path: Path
) -> None:
    manifest = make_monorepo(tmp_path / "project")
    text = manifest.read_text()
    if where == "defaults":
        text = text.replace('backend = "layer"', 'backend = "lyaer"')
    else:
        text = text.replace(
            'architecture = "arm64"\n', 'architecture = "arm64"\nbackend = "zipp"\n'
        )
    manifest.write_text(text)
    failed = run_cli(tmp_path, "build", "--manifest", "project/lambdas.toml", "--engine", "none")
    assert failed.returncode == 2, failed.stdout + failed.stderr
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("backend = "))
    if where == "lambda":
        line = max(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("backend = "))
    assert f"{manifest}:{line}: {key}: No packaging backend " in failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.network
def test_a_container_image_carries_its_layers_sources_in_var_task(
    base_image: str, tmp_path: Path
) -> None:
    """The image backend installs as zip-in-docker does: the layer's sources land in
    /var/task beside the function's, and the image verifies."""
    from sentiment_pipeline.packaging.build import build as build_all
    from sentiment_pipeline.packaging.options import BuildOptions

    manifest = make_monorepo(tmp_path / "project", backend="container-image")
    # one Lambda on the base image's target (python3.13 x86_64)
    text = manifest.read_text()
    text = text[: text.index("[lambdas.api]")] + (
        '[lambdas.api]\nhandler = "api.lambda_handler"\nsources = ["services/api/api.py"]\n'
        'runtime = "python3.13"\nlayers = ["shared"]\n'
    )
    manifest.write_text(text)
    result = build_all(
        Manifest.load(manifest),
        BuildOptions(out=tmp_path / "dist", engine="none", base_image=base_image),
    )
    (image,) = result.artifacts
    assert image.ok, image.problems
    from sentiment_pipeline.packaging.verify.sources import open_tree

    with open_tree(image.path) as tree:  # the image's /var/task
        files = {entry.name for entry in tree.entries()}
    assert {"api.py", "shared/__init__.py", "shared/text.py"} <= files
    assert not any("/tests/" in n for n in files)
