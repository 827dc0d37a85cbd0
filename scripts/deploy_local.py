"""Deploy this repository's Lambdas to a moto server on 127.0.0.1, twice.

Builds ``lambdas.toml``'s three Lambdas (``--engine none``, into ``dist/``), starts a
moto server (its docker-less Lambda backend, an execution role in its IAM), deploys
them, deploys again (nothing may be uploaded: the script fails otherwise), prints
both deploys and the record, and stops the server. moto does not run the code: its
docker-less Lambda answers an invocation with the event it was given, so the smoke
tests pass by construction here (``--smoke local`` is what runs the artifacts).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

from sentiment_pipeline.deployment import DeployOptions, deploy
from sentiment_pipeline.deployment.record import render
from sentiment_pipeline.local.moto import MotoServer
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/deploy-local"


def _post(url: str, body: object) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main(argv: list[str]) -> int:
    """``deploy_local.py [OUT]``: build into OUT (default ``dist/``) and deploy from there."""
    # The repository's manifest has no execution role (that is an account's): this run
    # adds moto's, in memory.
    text = (ROOT / "lambdas.toml").read_text() + f'\n[defaults.deploy]\nrole = "{ROLE}"\n'
    manifest = Manifest.parse(text, path=ROOT / "lambdas.toml")
    out = Path(argv[0]).resolve() if argv else ROOT / "dist"
    result = build(manifest, BuildOptions(engine="none", out=out))
    if not result.ok:
        print("the build failed: run `sentiment-pipeline build --engine none`", file=sys.stderr)
        return 1
    server = MotoServer().start()
    with tempfile.TemporaryDirectory() as no_config:
        # Test credentials for moto; the user's AWS files and region are never read.
        os.environ.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_CONFIG_FILE=str(Path(no_config) / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(no_config) / "none"),
        )
        os.environ.pop("AWS_PROFILE", None)
        try:
            _post(f"{server.url}/moto-api/config", {"lambda": {"use_docker": False}})
            import botocore.session  # type: ignore[import-untyped]

            iam = botocore.session.Session().create_client(
                "iam", region_name=REGION, endpoint_url=server.url
            )
            iam.create_role(RoleName="deploy-local", AssumeRolePolicyDocument="{}")
            options = DeployOptions(out=out, region=REGION, endpoint_url=server.url)
            print(f"moto on {server.url}\n\n$ sentiment-pipeline deploy")
            first = deploy(manifest, options)
            print(render(first))
            print("\n$ sentiment-pipeline deploy   # again: nothing changed")
            second = deploy(manifest, options)
            print(render(second))
            print(f"\n$ cat {second.path}")
            print(json.dumps(second.to_json(), indent=2))
        finally:
            server.stop()
    uploaded = [f.name for f in second.functions if f.changes] + [
        layer.name for layer in second.layers if layer.published
    ]
    if not (first.ok and second.ok) or uploaded:
        print(f"the second deploy changed {uploaded or 'nothing'}; ok={second.ok}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
