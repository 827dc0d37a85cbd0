"""`serve --watch`: a saved change rebuilds only its Lambda and swaps it in; a broken one
keeps the previous code answering.

The end-to-end tests run ``python -m sentiment_pipeline serve --watch`` in a generated
project's folder and edit its files as an editor saves them; they poll the Function
URLs with a generous timeout (no timing threshold: ``benchmarks/bench_reload.py``
measures the reload). The first tests check what is watched, as library calls.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.local.watch import (
    changed_entries,
    changed_files,
    snapshot,
    watched_files,
)
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import plan_functions
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.localserve import (
    Serve,
    free_port,
    make_functions_project,
    request,
    wait_for_answer,
    write_handler,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# --- what is watched ---

LAYERED = """\
[layers.shared]
sources = ["shared"]
requirements-file = "layer-requirements.txt"

[lambdas.one]
handler = "one.main.handler"
sources = ["one"]
exclude = ["one/fixtures/**"]
requirements-file = "requirements.txt"
layers = ["shared"]

[lambdas.two]
handler = "two.main.handler"
sources = ["two"]
"""


def _layered(root: Path) -> Manifest:
    for folder in ("one", "one/fixtures", "one/__pycache__", "two", "shared"):
        (root / folder).mkdir(parents=True)
    for name in ("one/main.py", "one/fixtures/big.json", "two/main.py", "shared/util.py"):
        (root / name).write_text("x = 1\n")
    (root / "one/__pycache__/main.cpython-313.pyc").write_bytes(b"bytecode")
    (root / "requirements.txt").write_text("six\n")
    (root / "layer-requirements.txt").write_text("")
    (root / "lambdas.toml").write_text(LAYERED)
    return Manifest.load(root / "lambdas.toml")


def _watched(manifest: Manifest, name: str) -> list[str]:
    (plan,) = plan_functions(manifest, only=[name])
    return sorted(str(p.relative_to(manifest.root)) for p in watched_files(manifest, plan))


def test_a_lambda_watches_what_it_is_built_from_and_nothing_it_does_not_ship(
    tmp_path: Path,
) -> None:
    manifest = _layered(tmp_path)
    assert _watched(manifest, "one") == [
        "layer-requirements.txt",
        "one/main.py",
        "requirements.txt",
        "shared/util.py",
    ]
    assert _watched(manifest, "two") == ["two/main.py"]


def test_a_new_file_and_a_removed_file_are_changes(tmp_path: Path) -> None:
    manifest = _layered(tmp_path)
    (plan,) = plan_functions(manifest, only=["one"])
    before = snapshot(watched_files(manifest, plan))
    (tmp_path / "one" / "extra.py").write_text("")
    (tmp_path / "shared" / "util.py").unlink()
    (tmp_path / "one" / "fixtures" / "big.json").write_text("excluded: not a change")
    after = snapshot(watched_files(manifest, plan))
    changed = sorted(str(p.relative_to(tmp_path)) for p in changed_files(before, after))
    assert changed == ["one/extra.py", "shared/util.py"]


def test_a_manifest_edit_touches_the_lambdas_whose_entry_or_layer_changed(
    tmp_path: Path,
) -> None:
    old = _layered(tmp_path)
    path = tmp_path / "lambdas.toml"
    path.write_text(LAYERED.replace('sources = ["two"]', 'sources = ["two"]\ntimeout = 3'))
    with pytest.raises(Exception, match="timeout"):  # not a key of [lambdas.NAME]
        Manifest.load(path)
    path.write_text(LAYERED + '\n[lambdas.two.deploy]\nenvironment = { A = "1" }\n')
    assert changed_entries(old, Manifest.load(path), ["one", "two"]) == ["two"]
    path.write_text(LAYERED.replace('sources = ["shared"]', 'sources = ["shared", "two"]'))
    assert changed_entries(old, Manifest.load(path), ["one", "two"]) == ["one"]
    path.write_text('[defaults]\nruntime = "python3.12"\n' + LAYERED)
    assert changed_entries(old, Manifest.load(path), ["one", "two"]) == ["one", "two"]


# --- serve --watch, end to end ---


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """``serve --watch`` of the three-Lambda project (api: python3.13, admin: python3.12)."""
    for runtime in ("python3.13", "python3.12"):
        if find_interpreter(get_target(runtime, "x86_64")) is None:
            pytest.skip(f"no {runtime} x86_64 interpreter here (e.g. `uv python install`)")
    root = tmp_path_factory.mktemp("watch") / "project"
    make_functions_project(root, api_runtime="python3.13", admin_runtime="python3.12")
    serve = Serve(
        root, "--watch", "--port", str(free_port(2)), "--state-dir", "state", "--env", "STAGE=local"
    )
    try:
        serve.wait_for("serving; Ctrl-C")
        yield serve
    finally:
        serve.stop()


def _version(expected: str) -> Any:
    return lambda body: body.get("version") == expected


def _reloads(serve: Serve) -> list[str]:
    return re.findall(r"^reloaded .*$", serve.output(), re.M)


def test_watch_says_what_it_watches(watched: Serve) -> None:
    # __init__.py and main.py of each of the three Lambdas, and the manifest
    assert re.search(r"^watching 7 files \(lambdas.toml and ", watched.output(), re.M)


def test_an_edited_handler_answers_after_a_reload_of_its_lambda_only(watched: Serve) -> None:
    urls = watched.urls()
    before = len(_reloads(watched))
    write_handler(watched.project, "api", "2")
    wait_for_answer(urls["api"], _version("2"))
    watched.wait_for("reloaded api in ")
    line = r"^reloaded api in \d+\.\d\d s \(api/main.py; build \S+ s, workers \S+ s\)$"
    assert re.search(line, watched.output(), re.M)
    assert len(_reloads(watched)) == before + 1  # admin and jobs were not reloaded
    assert request(urls["admin"])[2]["version"] == "1"


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ("def handler(event, context:\n", "[handler-missing] admin/main.py cannot be parsed"),
        (
            "import not_installed_anywhere\n\ndef handler(event, context):\n    return {}\n",
            "[unresolved-import] admin/main.py line 1 imports 'not_installed_anywhere'",
        ),
    ],
    ids=["syntax-error", "missing-module"],
)
def test_a_broken_edit_keeps_the_old_code_answering_and_says_why(
    watched: Serve, broken: str, problem: str
) -> None:
    url = watched.urls()["admin"]
    version = request(url)[2]["version"]
    failures = watched.output().count("reload of admin failed")
    (watched.project / "admin" / "main.py").write_text(broken)
    watched.wait_for("reload of admin failed", timeout=120, count=failures + 1)
    output = watched.output()
    assert "the previous code keeps serving" in output and problem in output
    assert request(url)[2]["version"] == version  # still the old workers
    fixed = f"{version}-fixed"
    write_handler(watched.project, "admin", fixed)  # a good edit reloads again
    wait_for_answer(url, _version(fixed))


def test_a_request_in_flight_during_a_swap_finishes_on_the_old_code(watched: Serve) -> None:
    url = watched.urls()["api"]
    wait_for_answer(url, lambda body: True)
    old = request(url)[2]["version"]
    answers: list[Any] = []
    slow = threading.Thread(
        target=lambda: answers.append(request(url, "/slow?seconds=4", timeout=120))
    )
    slow.start()
    new = f"{old}-next"
    write_handler(watched.project, "api", new)
    wait_for_answer(url, _version(new))  # swapped while /slow still runs
    assert slow.is_alive()
    slow.join(timeout=120)
    status, _, body = answers[0]
    assert (status, body["version"], body["event"]["rawPath"]) == (200, old, "/slow")


def test_a_manifest_edit_reloads_the_lambda_whose_entry_changed(watched: Serve) -> None:
    url = watched.urls()["api"]
    manifest = watched.project / "lambdas.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace('GREETING = "hello"', 'GREETING = "bonjour"'))
    wait_for_answer(url, lambda body: body["greeting"] == "bonjour")
    assert re.search(r"^reloaded api in .* \(lambdas.toml; ", watched.output(), re.M)


def test_a_new_pool_whose_init_fails_is_not_swapped_in(watched: Serve) -> None:
    # Verified (the build's import check has the deploy environment, not serve's --env),
    # then the new workers' init fails with --env's STAGE: the old ones keep serving.
    url = watched.urls()["api"]
    manifest = watched.project / "lambdas.toml"
    good = manifest.read_text()
    greeting = request(url)[2]["greeting"]
    manifest.write_text(re.sub(r'GREETING = "\w+"', 'GREETING = "fail-init"', good))
    watched.wait_for("api: Runtime.ImportModuleError: Unable to import module 'api.main': GREETING")
    assert "reload of api failed" in watched.output()
    assert request(url)[2]["greeting"] == greeting  # the old workers, old environment
    manifest.write_text(good)


def test_an_invalid_manifest_keeps_everything_serving(watched: Serve) -> None:
    manifest = watched.project / "lambdas.toml"
    good = manifest.read_text()
    manifest.write_text(good.replace("[lambdas.jobs]", "[lambdas.jobs]\ntimeot = 3"))
    watched.wait_for("lambdas.toml changed but cannot be used")
    assert "timeot" in watched.output()
    assert request(watched.urls()["admin"])[0] == 200
    manifest.write_text(good)
