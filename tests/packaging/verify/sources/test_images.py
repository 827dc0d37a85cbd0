"""An image's /var/task, from OCI layouts made by an independent tool (umoci) and a registry.

Every blob is checked against its digest: tampered images are unusable input, never judged.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ArtifactError, ProblemCode, Target, get_target
from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging.oci.mediatypes import DOCKER_MANIFEST
from sentiment_pipeline.packaging.oci.reference import ImageRef
from sentiment_pipeline.packaging.oci.registry import RegistryClient
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.check import verify_with
from sentiment_pipeline.packaging.verify.declared import ArchitectureConflictError
from tests.support.cli import run_cli
from tests.support.images import make_image, oci_layout
from tests.support.registry_server import start_registry

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CORE_SO = "pydantic_core/_pydantic_core.cpython-{}-x86_64-linux-gnu.so"


def umoci(*args: str | Path) -> None:
    subprocess.run(["umoci", *map(str, args)], check=True, capture_output=True)


def image_of(tree: Path, layout: Path) -> str:
    """An image whose /var/task holds ``tree`` (umoci: init, new, insert)."""
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:fn")
    umoci("insert", "--rootless", "--image", f"{layout}:fn", tree, "/var/task")
    return f"oci:{layout}:fn"


def test_a_good_image_verifies_and_imports(
    pydantic_tree: Callable[[str, str], Path], tmp_path: Path, py313: Target
) -> None:
    ref = image_of(pydantic_tree("3.13", "manylinux2014_x86_64"), tmp_path / "img")
    report = verify(ref, target=py313)
    assert report.ok, report.render()
    assert report.checked.hashed_files > 100
    assert report.checked.handler == "handler.lambda_handler"


def test_the_incident_inside_an_image(
    pydantic_tree: Callable[[str, str], Path], tmp_path: Path, py313: Target
) -> None:
    ref = image_of(pydantic_tree("3.12", "manylinux2014_x86_64"), tmp_path / "img")
    report = verify(ref, py313, VerifyOptions(dynamic=False))
    assert (ProblemCode.ABI_MISMATCH, CORE_SO.format("312")) in {
        (p.code, p.path) for p in report.problems
    }


def test_a_whiteout_in_a_later_layer_removes_the_file(
    pydantic_tree: Callable[[str, str], Path], tmp_path: Path, py313: Target
) -> None:
    layout = tmp_path / "img"
    ref = image_of(pydantic_tree("3.13", "manylinux2014_x86_64"), layout)
    umoci(
        "insert",
        "--rootless",
        "--image",
        f"{layout}:fn",
        "--whiteout",
        "/var/task/" + CORE_SO.format("313"),
    )
    report = verify(ref, py313, VerifyOptions(dynamic=False))
    assert report.codes() == {"missing-file"}


def test_an_index_where_a_manifest_belongs_is_refused(tmp_path: Path, py313: Target) -> None:
    layout = tmp_path / "img"
    (tmp_path / "fn").mkdir()
    image_of(tmp_path / "fn", layout)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["mediaType"] = "application/vnd.oci.image.index.v1+json"
    (layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(ArtifactError, match="index was found where a single-platform manifest"):
        verify(f"oci:{layout}:fn", target=py313)


def test_not_a_layout_and_unknown_tags_are_unusable_input(tmp_path: Path, py313: Target) -> None:
    with pytest.raises(ArtifactError, match="not an OCI image layout"):
        verify(f"oci:{tmp_path}", target=py313)
    (tmp_path / "fn").mkdir()
    image_of(tmp_path / "fn", tmp_path / "img")
    with pytest.raises(ArtifactError, match="the layout holds: fn"):
        verify(f"oci:{tmp_path / 'img'}:nope", target=py313)


# --- an image whose bytes do not match its own digests is unusable input ---

HANDLER = "def lambda_handler(event, context):\n    return {'statusCode': 200}\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache root of the test's own, so a cache hit is this test's doing."""
    root = tmp_path / "cache"
    monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", str(root))
    return root


def small_image(tmp_path: Path) -> tuple[str, Path]:
    """A umoci image whose /var/task holds a handler; returns (reference, layout)."""
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text(HANDLER)
    layout = tmp_path / "img"
    return image_of(tmp_path / "fn", layout), layout


def blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


def image_blobs(layout: Path) -> tuple[str, str, str]:
    """(manifest, config, last layer) digests of the layout's one image."""
    [entry] = json.loads((layout / "index.json").read_text())["manifests"]
    manifest = json.loads(blob(layout, entry["digest"]).read_bytes())
    return entry["digest"], manifest["config"]["digest"], manifest["layers"][-1]["digest"]


def tamper(path: Path, at: float = 0.5) -> None:
    """Change one byte in place: same size, other bytes."""
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_layer_tampered_in_place_after_a_verification_is_reported_not_judged_from_the_cache(
    tmp_path: Path, py313: Target, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, layout = small_image(tmp_path)
    first = verify(ref, py313, VerifyOptions(dynamic=False))
    assert first.ok, first.render()
    _, _, layer = image_blobs(layout)
    cached = cache / "verified-task-parts" / layer.replace(":", "-") / "part.tar"
    assert cached.is_file()  # the next verification would find this layer's part cached

    tamper(blob(layout, layer))
    with pytest.raises(ArtifactError) as err:
        verify(ref, py313, VerifyOptions(dynamic=False))
    message = str(err.value)
    assert message.startswith(f"{ref}: blob {layer} does not match its digest")
    assert f"expected {layer}" in message
    assert "read sha256:" in message
    assert "build or pull the image again" in message

    assert main(["verify", ref, "--no-import"]) == 2  # unusable input, not a verdict
    out, err_text = capsys.readouterr()
    assert f"blob {layer} does not match its digest" in err_text
    assert "deployable" not in out


def test_a_layer_tampered_before_any_verification_is_reported_and_never_cached(
    tmp_path: Path, py313: Target, cache: Path
) -> None:
    ref, layout = small_image(tmp_path)
    _, _, layer = image_blobs(layout)
    tamper(blob(layout, layer), at=0.9)
    with pytest.raises(ArtifactError, match=f"blob {layer} does not match its digest"):
        verify(ref, py313, VerifyOptions(dynamic=False))
    assert not (cache / "verified-task-parts" / layer.replace(":", "-")).exists()


@pytest.mark.parametrize("which", ["manifest", "config"])
def test_a_tampered_manifest_or_config_is_reported(
    which: str, tmp_path: Path, py313: Target, cache: Path
) -> None:
    ref, layout = small_image(tmp_path)
    assert verify(ref, py313, VerifyOptions(dynamic=False)).ok
    manifest, config, _ = image_blobs(layout)
    digest = manifest if which == "manifest" else config
    path = blob(layout, digest)
    path.write_bytes(path.read_bytes().replace(b'"', b"'", 1))  # still the same size
    with pytest.raises(ArtifactError, match=f"blob {digest} does not match its digest"):
        verify(ref, py313, VerifyOptions(dynamic=False))


def test_a_tampered_registry_blob_is_reported_after_a_verification(
    tmp_path: Path, py313: Target, cache: Path
) -> None:
    server = start_registry(tmp_path / "registry")
    try:
        image = make_image(
            tmp_path, content=HANDLER.encode(), name="handler.py", cmd="handler.lambda_handler"
        )
        ref = ImageRef.parse(f"{server.host}/fn/api:v1")
        RegistryClient(server.host).push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
        assert verify(f"docker://{ref}", py313, VerifyOptions(dynamic=False)).ok

        tamper(server.blob_file(image.layer_digest))
        with pytest.raises(ArtifactError) as err:
            verify(f"docker://{ref}", py313, VerifyOptions(dynamic=False))
    finally:
        server.stop()
    message = str(err.value)
    assert f"digest mismatch pulling blob {image.layer_digest}" in message
    assert f"expected {image.layer_digest}, got sha256:" in message
    assert "push the image again" in message


# --- an image describes itself: its config's architecture, its Cmd's handler ---

SERVICE = "import pydantic\n\n\ndef main(event, context):\n    return {'statusCode': 200}\n"
ARM64 = {"architecture": "arm64", "variant": "v8", "os": "linux"}


def arm64_image(
    pydantic_tree: Callable[[str, str], Path],
    copy_tree: Callable[[Path], Path],
    layout: Path,
    cmd: object = ("service.main",),
) -> str:
    """An arm64 image (config and content: pydantic-core for aarch64) whose Cmd names
    ``service.main``; no handler.py at its root."""
    tree = copy_tree(pydantic_tree("3.13", "manylinux2014_aarch64"))
    (tree / "handler.py").unlink()
    (tree / "service.py").write_text(SERVICE)
    container = {"Cmd": list(cmd)} if isinstance(cmd, tuple) else {"Cmd": cmd}
    return oci_layout(tree, layout, config={**ARM64, "config": container})


def test_an_arm64_image_is_verified_as_arm64_with_its_cmd_as_the_handler(
    pydantic_tree: Callable[[str, str], Path], copy_tree: Callable[[Path], Path], tmp_path: Path
) -> None:
    ref = arm64_image(pydantic_tree, copy_tree, tmp_path / "img")
    report = verify(ref, "python3.13", VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    assert (report.target.runtime, report.target.architecture) == ("python3.13", "arm64")
    assert report.checked.handler == "service.main"
    assert report.checked.origin == {"architecture": "image", "handler": "image"}
    assert report.checked.native_files > 0  # the aarch64 extension was judged, as arm64
    first, *rest = report.render().splitlines()
    assert "for python3.13 arm64 (architecture from the image's config)" in first
    assert "  handler: service.main (from the image's Cmd)" in rest


def test_a_given_architecture_that_differs_from_the_images_is_an_error_naming_both(
    pydantic_tree: Callable[[str, str], Path],
    copy_tree: Callable[[Path], Path],
    tmp_path: Path,
    py313: Target,
) -> None:
    ref = arm64_image(pydantic_tree, copy_tree, tmp_path / "img")
    with pytest.raises(ArchitectureConflictError) as err:
        verify(ref, py313, VerifyOptions(dynamic=False))
    assert (err.value.declared, err.value.given) == ("arm64", "x86_64")
    assert str(err.value) == (
        f"{ref}: the image is built for arm64 (its config's architecture), but x86_64 was "
        "given as the target's architecture (--architecture): verify it for arm64 (drop "
        "--architecture, or pass --architecture arm64), or build the image for x86_64"
    )
    # the same target as arm64 is no conflict
    assert verify(ref, get_target("python3.13", "aarch64"), VerifyOptions(dynamic=False)).ok


def test_a_build_verifying_its_own_image_reports_the_mismatch_as_a_problem(
    pydantic_tree: Callable[[str, str], Path],
    copy_tree: Callable[[Path], Path],
    tmp_path: Path,
    py313: Target,
) -> None:
    ref = arm64_image(pydantic_tree, copy_tree, tmp_path / "img")
    options = VerifyOptions(dynamic=False)
    report = verify_with(ref, py313, options, container=lambda: None, conflicts="report")
    assert report.target is py313  # the build's target is kept
    mismatch = [p for p in report.problems if p.path == "image config"]
    assert [p.code for p in mismatch] == [ProblemCode.ARCH_MISMATCH]
    assert "built for arm64" in mismatch[0].message and "x86_64 was given" in mismatch[0].message
    assert "arch-mismatch" in report.codes()


def test_a_given_handler_wins_over_cmd_and_the_difference_is_noted(
    pydantic_tree: Callable[[str, str], Path], copy_tree: Callable[[Path], Path], tmp_path: Path
) -> None:
    ref = arm64_image(pydantic_tree, copy_tree, tmp_path / "img")
    report = verify(ref, "python3.13", VerifyOptions(handler="service.other", dynamic=False))
    assert report.checked.handler == "service.other"
    assert report.checked.origin["handler"] == "given"
    assert report.codes() == {"handler-missing"}  # service.py has no `other`
    assert any("the image's Cmd names service.main" in n for n in report.checked.notes)


def test_a_cmd_that_is_no_handler_is_noted_and_handler_py_is_the_default(
    tmp_path: Path,
) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text(HANDLER)
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["python3", "-m", "x"]}}
    ref = oci_layout(tmp_path / "fn", tmp_path / "img", config=config)
    report = verify(ref, "python3.13", VerifyOptions(dynamic=False))
    assert report.ok
    assert report.target.architecture == "x86_64"
    assert report.checked.handler == "handler.lambda_handler"
    assert report.checked.origin == {"architecture": "image", "handler": "default"}
    assert any(
        "Cmd ['python3', '-m', 'x'] is not a Lambda handler" in n for n in report.checked.notes
    )


def test_an_image_config_without_architecture_defaults_to_x86_64(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text(HANDLER)
    ref = oci_layout(tmp_path / "fn", tmp_path / "img", config={"os": "linux"})
    report = verify(ref, "python3.12", VerifyOptions(dynamic=False))
    assert report.target.architecture == "x86_64"
    assert report.checked.origin["architecture"] == "default"


def test_an_image_for_a_platform_lambda_cannot_run_is_unusable_input(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text(HANDLER)
    config = {"architecture": "arm", "variant": "v7", "os": "linux"}
    ref = oci_layout(tmp_path / "fn", tmp_path / "img", config=config)
    with pytest.raises(ArtifactError, match=r"the image is built for linux/arm/v7; Lambda runs"):
        verify(ref, "python3.13", VerifyOptions(dynamic=False))


def test_a_registry_image_describes_itself_too(tmp_path: Path, cache: Path) -> None:
    server = start_registry(tmp_path / "registry")
    try:
        image = make_image(
            tmp_path,
            content=HANDLER.encode(),
            name="app.py",
            cmd="app.lambda_handler",
            architecture="arm64",
        )
        ref = ImageRef.parse(f"{server.host}/fn/api:arm")
        RegistryClient(server.host).push_image(ref, image.manifest, DOCKER_MANIFEST, image.blobs)
        report = verify(f"docker://{ref}", "python3.12", VerifyOptions(dynamic=False))
    finally:
        server.stop()
    assert report.ok, report.render()
    assert report.target.architecture == "arm64"
    assert report.checked.handler == "app.lambda_handler"


def test_the_cli_verifies_an_arm64_layout_as_arm64_and_refuses_a_conflicting_architecture(
    pydantic_tree: Callable[[str, str], Path], copy_tree: Callable[[Path], Path], tmp_path: Path
) -> None:
    arm64_image(pydantic_tree, copy_tree, tmp_path / "work" / "img")
    elsewhere = tmp_path / "work" / "sub"
    elsewhere.mkdir()
    ok = run_cli(elsewhere, "verify", "oci:../img:fn", "--no-import")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "python3.13 arm64 (architecture from the image's config)" in ok.stdout
    assert "handler: service.main (from the image's Cmd)" in ok.stdout
    document = json.loads(
        run_cli(elsewhere, "verify", "oci:../img:fn", "--no-import", "--json").stdout
    )
    assert document["target"]["architecture"] == "arm64"
    assert document["checked"]["origin"] == {"architecture": "image", "handler": "image"}
    alias = run_cli(
        elsewhere, "verify", "oci:../img:fn", "--no-import", "--architecture", "aarch64"
    )
    assert alias.returncode == 0, alias.stderr

    conflict = run_cli(elsewhere, "verify", "oci:../img:fn", "--architecture", "x86_64")
    assert conflict.returncode == 2
    assert conflict.stdout == ""
    [line] = conflict.stderr.splitlines()
    assert line.startswith("sentiment-pipeline: error: oci:")
    assert "the image is built for arm64" in line and "x86_64 was given" in line
    assert "Traceback" not in conflict.stderr
