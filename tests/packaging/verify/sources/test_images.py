"""An image's /var/task, from OCI layouts made by an independent tool (umoci) and a registry.

Every blob is checked against its digest: tampered images are unusable input, never judged.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ArtifactError, ProblemCode, Target
from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging.oci.mediatypes import DOCKER_MANIFEST
from sentiment_pipeline.packaging.oci.reference import ImageRef
from sentiment_pipeline.packaging.oci.registry import RegistryClient
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from tests.support.images import make_image
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
        image = make_image(tmp_path, content=HANDLER.encode(), name="handler.py")
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
