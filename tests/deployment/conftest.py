"""A moto server on 127.0.0.1 (its Lambda backend docker-less), and generated projects
built with ``--engine none`` in temporary folders, deployed to it."""

from __future__ import annotations

import json
import textwrap
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.deployment import DeployOptions, DeployRecord, deploy
from sentiment_pipeline.local.moto import MotoServer
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sentiment_pipeline.packaging.results import BuildResult

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

HANDLER = """\
import json

import six

VERSION = {version!r}


def lambda_handler(event, context):
{body}
    return {{"statusCode": 200, "body": json.dumps({{"version": VERSION, "six": six.__version__}})}}
"""
RAISES = "    raise ValueError('version ' + VERSION + ' is broken')"


class Moto:
    """The moto server of a test module and read-only looks at its Lambda state."""

    def __init__(self, url: str) -> None:
        self.url = url
        import botocore.session  # type: ignore[import-untyped]

        session = botocore.session.Session()
        self.client: Any = session.create_client(
            "lambda",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def post(self, path: str, body: object) -> None:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def queue_invoke_results(self, *results: object) -> None:
        """What the next invocations answer (moto's docker-less ``lambda-simple`` queue)."""
        self.post(
            "/moto-api/static/lambda-simple/response",
            {"results": [json.dumps(r) for r in results], "region": REGION},
        )

    def versions(self, function: str) -> list[str]:
        answer = self.client.list_versions_by_function(FunctionName=function)
        return [v["Version"] for v in answer["Versions"]]

    def alias_version(self, function: str, alias: str = "live") -> str:
        return str(self.client.get_alias(FunctionName=function, Name=alias)["FunctionVersion"])

    def latest(self, function: str) -> dict[str, Any]:
        return dict(self.client.get_function(FunctionName=function)["Configuration"])

    def layer_versions(self, layer: str) -> list[int]:
        answer = self.client.list_layer_versions(LayerName=layer)
        return sorted(v["Version"] for v in answer["LayerVersions"])

    def snapshot(self, prefix: str) -> dict[str, Any]:
        """Everything deploy could have written under ``prefix``: functions (each
        version's code and settings), aliases, URLs, policies, layers."""
        state: dict[str, Any] = {}
        for function in self.client.list_functions()["Functions"]:
            name = function["FunctionName"]
            if not name.startswith(prefix):
                continue
            versions = self.client.list_versions_by_function(FunctionName=name)["Versions"]
            aliases = self.client.list_aliases(FunctionName=name)["Aliases"]
            state[name] = {
                "versions": [(v["Version"], v["CodeSha256"], v["LastModified"]) for v in versions],
                "aliases": [(a["Name"], a["FunctionVersion"]) for a in aliases],
            }
        state["layers"] = sorted(
            layer["LayerName"]
            for layer in self.client.list_layers()["Layers"]
            if layer["LayerName"].startswith(prefix)
        )
        return state


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    """moto's server in its own process on 127.0.0.1, with its docker-less Lambda backend
    and the execution role deploy creates functions with."""
    server = MotoServer().start()
    try:
        moto = Moto(server.url)
        # Before any Lambda call: the docker-less backend keeps its own functions.
        moto.post("/moto-api/config", {"lambda": {"use_docker": False}})
        import botocore.session

        iam = botocore.session.Session().create_client(
            "iam", region_name=REGION, endpoint_url=server.url, **_keys()
        )
        iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")
        yield moto
    finally:
        server.stop()


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test credentials for the deploy's botocore; never the user's AWS files or region."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-config"))


class Project:
    """A generated project: ``app/main.py`` (its handler), a layer with a real wheel
    (six) and ``shared/`` sources, deployed under a name prefix of its own."""

    def __init__(
        self,
        root: Path,
        *,
        backend: str = "layer",
        function_url: str = "",
        deploy_table: str = "",
        role: bool = True,
    ) -> None:
        self.root = root
        self.prefix = f"t{uuid.uuid4().hex[:8]}-"
        self.function = f"{self.prefix}api"
        self.layer = f"{self.prefix}common"
        (root / "app").mkdir(parents=True)
        (root / "shared").mkdir()
        (root / "shared" / "greeting.py").write_text("WORDS = 'hello'\n")
        self.write_handler("1")
        layers = 'layers = ["common"]' if backend == "layer" else ""
        common = (
            '[layers.common]\nrequirements = ["six==1.17.0"]\nsources = ["shared"]\n'
            if backend == "layer"
            else ""
        )
        requirements = 'requirements = ["six==1.17.0"]' if backend != "layer" else ""
        self.manifest = root / "lambdas.toml"
        self.manifest.write_text(
            textwrap.dedent(f"""\
            [defaults]
            runtime = "python3.13"
            architecture = "x86_64"
            backend = "{backend}"

            [defaults.deploy]
            name-prefix = "{self.prefix}"
            {f'role = "{ROLE}"' if role else ""}

            {common}
            [lambdas.api]
            handler = "app.main.lambda_handler"
            sources = ["app"]
            {requirements}
            {layers}
            {function_url}
            """)
            + deploy_table
        )

    def write_handler(self, version: str, body: str = "") -> None:
        (self.root / "app" / "main.py").write_text(HANDLER.format(version=version, body=body))

    def build(self, **options: Any) -> BuildResult:
        result = build(
            Manifest.load(self.manifest),
            BuildOptions(engine="none", out=self.root / "dist", **options),
        )
        assert result.ok, [a.problems for a in result.artifacts]
        return result

    def options(self, moto: Moto, **options: Any) -> DeployOptions:
        return DeployOptions(
            out=self.root / "dist", region=REGION, endpoint_url=moto.url, **options
        )

    def deploy(self, moto: Moto, **options: Any) -> DeployRecord:
        return deploy(self.manifest, self.options(moto, **options))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")
