"""The container-image backend against real, independent tools.

docker-registry on 127.0.0.1 holds the Lambda-like base image (pushed by buildah);
skopeo and umoci inspect what we build and push; buildah runs the pushed image.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.cache import default_cache_root
from sentiment_pipeline.packaging.install.engines import Buildah
from sentiment_pipeline.packaging.lock import LocalPins
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.oci.registry import ImageRef, RegistryClient
from sentiment_pipeline.packaging.options import BuildOptions
from tests.support.projects import make_project

TESTS = Path(__file__).resolve().parents[1]


def build_image_cli(manifest: Path, out: Path, base_image: str) -> int:
    """``sentiment-pipeline build`` with the container-image backend, as a user types it."""
    return main(
        [
            "build",
            "--manifest",
            str(manifest),
            "--out",
            str(out),
            "--engine",
            "none",
            "--backend",
            "container-image",
            "--base-image",
            base_image,
        ]
    )


def run(*args: str) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pushed(
    project_lock: str, base_image: str, base_registry: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    root = tmp_path_factory.mktemp("image-project")
    manifest = make_project(root / "p", lock=project_lock)
    out = root / "dist"
    first = build(
        Manifest.load(manifest),
        BuildOptions(
            backend="container-image",
            out=out,
            engine="none",
            base_image=base_image,
            push=f"{base_registry}/sp",
            docker_archive=True,
        ),
    )
    (artifact,) = first.artifacts
    assert artifact.ok, artifact.problems
    pushed_note = next(n for n in artifact.notes if n.startswith("pushed "))
    digest = re.search(r"@(sha256:[0-9a-f]{64})", pushed_note)
    assert digest is not None
    again = build(
        Manifest.load(manifest),
        BuildOptions(
            backend="container-image",
            out=out,
            engine="none",
            base_image=base_image,
            push=f"{base_registry}/sp",
        ),
    )
    return {
        "layout": str(out / "container-image" / "api"),
        "tarball": str(out / "container-image" / "api.tar"),
        "ref": f"{base_registry}/sp/api:latest",
        "digest": digest.group(1),
        "first": pushed_note,
        "second": next(n for n in again.artifacts[0].notes if n.startswith("pushed ")),
        "identity": str(artifact.sha256),
        "identity_again": str(again.artifacts[0].sha256),
    }


def test_the_pushed_manifest_is_a_manifest_whose_digest_is_ours(pushed: dict[str, str]) -> None:
    raw = run("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{pushed['ref']}")
    document = json.loads(raw)
    assert "manifests" not in document and document["schemaVersion"] == 2
    info = json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{pushed['ref']}"))
    assert info["Digest"] == pushed["digest"]


def test_the_config_has_our_cmd_and_the_base_entrypoint(pushed: dict[str, str]) -> None:
    config = json.loads(
        run("skopeo", "inspect", "--config", "--tls-verify=false", f"docker://{pushed['ref']}")
    )
    assert config["config"]["Cmd"] == ["app.main.lambda_handler"]
    assert config["config"]["Entrypoint"] == ["/lambda-entrypoint.sh"]
    assert config["architecture"] == "amd64"


def test_a_rebuild_with_nothing_changed_uploads_no_blob(pushed: dict[str, str]) -> None:
    assert "uploaded 0" not in pushed["first"]
    assert "uploaded 0, mounted 0" in pushed["second"]
    assert pushed["identity"] == pushed["identity_again"]  # same layout manifest digest


def test_umoci_unpacks_our_layout_with_normalised_files(
    pushed: dict[str, str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--rootless", "--image", f"{pushed['layout']}:latest", str(bundle))
    task = bundle / "rootfs" / "var" / "task"
    files = [p for p in task.rglob("*") if p.is_file()]
    assert (task / "app" / "main.py").is_file() and (task / "six.py").is_file()
    for path in files:
        mode = path.stat().st_mode & 0o777
        assert mode in (0o644, 0o755), (path, oct(mode))
        assert int(path.stat().st_mtime) == 0  # SOURCE_DATE_EPOCH unset: epoch 0


def test_skopeo_reads_the_docker_tarball(pushed: dict[str, str]) -> None:
    info = json.loads(run("skopeo", "inspect", f"docker-archive:{pushed['tarball']}"))
    assert info["Architecture"] == "amd64"


def test_the_pushed_image_runs_the_handler_with_a_sample_event(pushed: dict[str, str]) -> None:
    buildah = ["buildah", "--storage-driver", "vfs"]
    container = run(
        *buildah, "from", "--tls-verify=false", "--pull-always", f"docker://{pushed['ref']}"
    ).strip()
    try:
        event = (TESTS / "events" / "function_url_get.json").read_text()
        code = (
            "import json, sys; sys.path.insert(0, '/var/task'); import app.main; "
            f"print(json.dumps(app.main.lambda_handler(json.loads({event!r}), None)))"
        )
        out = run(*buildah, "run", "--isolation", "chroot", container, "--", "python3", "-c", code)
    finally:
        subprocess.run([*buildah, "rm", container], check=False, capture_output=True)
    response = json.loads(out)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["escaped"] == "&lt;b&gt;"


def test_a_base_image_of_the_other_architecture_fails_the_build(
    project_lock: str, base_registry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gzip
    import hashlib
    import io
    import tarfile

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("var/task/")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    plain = layer.getvalue()
    blob = gzip.compress(plain, mtime=0)
    config = json.dumps(
        {
            "architecture": "arm64",
            "os": "linux",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(plain).hexdigest()],
            },
        }
    ).encode()

    def digest(data: bytes) -> str:
        return "sha256:" + hashlib.sha256(data).hexdigest()

    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest(blob),
                    "size": len(blob),
                }
            ],
        }
    ).encode()
    ref = ImageRef.parse(f"{base_registry}/lambda/python:arm64-only")
    RegistryClient(ref.host).push_image(
        ref,
        manifest,
        "application/vnd.oci.image.manifest.v1+json",
        {digest(config): config, digest(blob): blob},
    )
    project = make_project(tmp_path / "p", lock=project_lock)
    code = build_image_cli(project, tmp_path / "dist", str(ref))
    assert code == 1
    err = capsys.readouterr().err
    assert "container-image:image" in err and "arm64" in err and "x86_64" in err
    assert not (tmp_path / "dist" / "container-image" / "api").exists()


def test_an_unreachable_base_registry_fails_the_build(
    project_lock: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "p", lock=project_lock)
    code = build_image_cli(project, tmp_path / "dist", "127.0.0.1:9/lambda/python:3.13")
    assert code == 1
    assert "unreachable" in capsys.readouterr().err


def test_executable_files_keep_their_mode_in_the_image(
    project_lock: str, base_image: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p", lock=project_lock)
    script = tmp_path / "p" / "app" / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    build(
        Manifest.load(project),
        BuildOptions(
            backend="container-image", out=tmp_path / "dist", engine="none", base_image=base_image
        ),
    )
    bundle = tmp_path / "bundle"
    run(
        "umoci",
        "unpack",
        "--rootless",
        "--image",
        f"{tmp_path / 'dist' / 'container-image' / 'api'}:latest",
        str(bundle),
    )
    task = bundle / "rootfs" / "var" / "task" / "app"
    assert (task / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (task / "main.py").stat().st_mode & 0o777 == 0o644


def test_verify_reads_a_pushed_image_from_the_registry(
    pushed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "verify",
                f"docker://{pushed['ref']}",
                "--handler",
                "app.main.lambda_handler",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["checked"]["hashed_files"] > 5
    assert main(["verify", "docker://127.0.0.1:9/sp/api:latest"]) == 2
    assert "unreachable" in capsys.readouterr().err


def test_this_repositorys_lambdas_build_and_push_as_images(
    base_image: str, base_registry: str, tmp_path: Path
) -> None:
    import shutil

    repo = TESTS.parent
    project = tmp_path / "repo"
    project.mkdir()
    for name in ("lambdas.toml", "lambdas.lock"):
        shutil.copy(repo / name, project / name)
    for name in ("handlers", "sentiment_pipeline"):
        shutil.copytree(repo / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    result = build(
        Manifest.load(project / "lambdas.toml"),
        BuildOptions(
            backend="container-image",
            out=tmp_path / "dist",
            engine="none",
            base_image=base_image,
            push=f"{base_registry}/repo",
        ),
    )
    assert result.ok, [(a.name, a.problems) for a in result.artifacts]
    assert [a.name for a in result.artifacts] == ["ingestion", "analysis", "dashboard"]
    for artifact in result.artifacts:
        config = json.loads(
            run(
                "skopeo",
                "inspect",
                "--config",
                "--tls-verify=false",
                f"docker://{base_registry}/repo/{artifact.name}:latest",
            )
        )
        assert config["config"]["Cmd"] == [f"handlers.{artifact.name}.lambda_handler"]
        assert "imported handlers." in artifact.dynamic or "skipped" in artifact.dynamic
    # --base-image (what $SENTIMENT_PIPELINE_BASE_IMAGE sets in nox) is a local choice:
    # its digest is pinned in the cache, the committed lock is unchanged.
    assert (project / "lambdas.lock").read_text() == (repo / "lambdas.lock").read_text()
    pins = LocalPins(project / "lambdas.lock", default_cache_root())
    assert {image for image, _ in pins.bases.values()} == {base_image}


def test_an_index_base_resolves_to_the_platforms_manifest(
    project_lock: str, base_image: str, base_registry: str, tmp_path: Path
) -> None:
    base = ImageRef.parse(base_image)
    client = RegistryClient(base.host)
    fetched = client.get_manifest(base)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": fetched.media_type,
                    "digest": fetched.digest,
                    "size": len(fetched.data),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    client.put_manifest(base.repository, "multi", index, "application/vnd.oci.image.index.v1+json")
    project = make_project(tmp_path / "p", lock=project_lock)
    result = build(
        Manifest.load(project),
        BuildOptions(
            backend="container-image",
            out=tmp_path / "dist",
            engine="none",
            base_image=f"{base.host}/{base.repository}:multi",
        ),
    )
    (artifact,) = result.artifacts
    assert artifact.ok
    assert any(n.endswith(f"@{fetched.digest}") for n in artifact.notes)  # the platform's one


def test_with_an_engine_the_image_is_built_with_bytecode_and_imported_inside_itself(
    project_lock: str, base_image: str, lambda_image: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p", lock=project_lock)

    def stored() -> set[str]:
        listing = run(*Buildah().command("images", "--format", "{{.Name}}:{{.Tag}}"))
        return set(listing.split())

    before = stored()
    result = build(
        Manifest.load(project),
        BuildOptions(
            backend="container-image",
            out=tmp_path / "dist",
            engine="buildah",
            build_image=lambda_image,
            base_image=base_image,
        ),
    )
    (artifact,) = result.artifacts
    assert artifact.ok, artifact.problems
    assert artifact.compiled
    # The verified layout was imported inside itself: no image of it stays in storage.
    assert not [name for name in stored() - before if str(tmp_path) in name]
    assert artifact.dynamic.startswith(
        "dynamic check: imported app.main.lambda_handler with python3 in oci:"
    )


def test_docker_archive_keeps_the_no_op_cache_and_everything_is_world_readable(
    project_lock: str, base_image: str, tmp_path: Path
) -> None:
    import stat
    import sys

    make_project(tmp_path / "p", lock=project_lock)
    command = [
        *(sys.executable, "-m", "sentiment_pipeline", "build", "--manifest", "p/lambdas.toml"),
        *("--out", "d", "--engine", "none", "--backend", "container-image"),
        *("--base-image", base_image, "--docker-archive"),
    ]

    def build_here() -> dict[str, object]:
        proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        report = json.loads((tmp_path / "d" / "container-image" / "report.json").read_text())
        (entry,) = report["artifacts"]
        return dict(entry)

    assert not build_here()["cache_hit"]
    layout = tmp_path / "d" / "container-image" / "api"
    tarball = layout.with_name("api.tar")
    modes = {
        path.relative_to(tmp_path).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in [layout, *layout.rglob("*"), tarball]
    }
    assert modes[layout.relative_to(tmp_path).as_posix()] == 0o755
    assert {mode for name, mode in modes.items() if (tmp_path / name).is_dir()} == {0o755}
    assert {mode for name, mode in modes.items() if (tmp_path / name).is_file()} == {0o644}
    before = tarball.stat().st_mtime_ns
    assert build_here()["cache_hit"]  # --docker-archive: nothing rebuilt, the tarball kept
    assert tarball.stat().st_mtime_ns == before
    tarball.unlink()
    assert not build_here()["cache_hit"]  # no tarball of this image: built again
    assert tarball.is_file()
    # --base-image is a local override: the committed lock is as it was.
    assert (tmp_path / "p" / "lambdas.lock").read_text() == project_lock
