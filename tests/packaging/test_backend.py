"""Backends load through stevedore; a third party needs only an entry point."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
from stevedore import ExtensionManager

from sentiment_pipeline.packaging.backend import BackendError, installed_backends, load_backend
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from tests.support.projects import make_project

if TYPE_CHECKING:
    from pathlib import Path

PLUGIN = '''\
"""A third-party backend: zip-in-docker's artifacts with a README added."""
from sentiment_pipeline.packaging.zipwriting import Member
from sentiment_pipeline.packaging.assemble import assemble_zip
from sentiment_pipeline.packaging.backend import Backend
from sentiment_pipeline.packaging.plan import ArtifactPlan


class Annotated(Backend):
    name = "annotated-zip"

    def artifacts(self, functions):
        return [ArtifactPlan(f) for f in functions]

    def assemble(self, artifact, wheels, dest, ctx):
        return assemble_zip(self.name, artifact, wheels, dest, ctx, prefix="")


class NotABackend:
    name = "impostor"
'''


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test distribution on sys.path that registers two entry points."""
    site = tmp_path / "site"
    (site / "thirdparty_backend-1.0.dist-info").mkdir(parents=True)
    (site / "thirdparty_backend.py").write_text(PLUGIN)
    (site / "thirdparty_backend-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdparty-backend\nVersion: 1.0\n"
    )
    (site / "thirdparty_backend-1.0.dist-info" / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [sentiment_pipeline.backends]
        annotated-zip = thirdparty_backend:Annotated
        impostor = thirdparty_backend:NotABackend
        misnamed = thirdparty_backend:Annotated
        """)
    )
    monkeypatch.syspath_prepend(str(site))
    # stevedore remembers each namespace's entry points for the life of the process; a
    # real install is seen by the next process, this one needs the memo dropped.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    return site


def test_unknown_backend_lists_the_installed_ones() -> None:
    with pytest.raises(
        BackendError, match=r"No packaging backend 'zipp'\. Installed: .*layer.*zip-in-docker"
    ):
        load_backend("zipp")


def test_a_third_party_backend_needs_only_an_entry_point(
    third_party: Path, project_lock: str, tmp_path: Path
) -> None:
    assert "annotated-zip" in installed_backends()
    backend = load_backend("annotated-zip")
    assert backend.name == "annotated-zip"
    manifest = make_project(tmp_path / "p", lock=project_lock)
    result = build(
        Manifest.load(manifest),
        BuildOptions(backend="annotated-zip", out=tmp_path / "dist", engine="none"),
    )
    assert result.ok and (tmp_path / "dist" / "annotated-zip" / "api.zip").exists()


def test_a_plugin_that_is_not_a_backend_fails_loudly(third_party: Path) -> None:
    with pytest.raises(
        BackendError, match=r"does not subclass sentiment_pipeline\.packaging\.backend\.Backend"
    ):
        load_backend("impostor")
    with pytest.raises(BackendError, match=r"the entry point name and Backend\.name must agree"):
        load_backend("misnamed")
