"""A local function's own variables and its AWS: --env, the deploy environment, moto or yours."""

from __future__ import annotations

import doctest
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sentiment_pipeline.local import overrides
from sentiment_pipeline.local.overrides import (
    OverrideError,
    aws_environment,
    aws_region,
    function_environment,
    parse_env,
    passthrough_variables,
)
from sentiment_pipeline.packaging.manifest import RESERVED_ENVIRONMENT, Manifest


def test_the_module_examples_run() -> None:
    result = doctest.testmod(overrides, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- --env ---


def test_parse_env_keeps_equals_signs_and_empty_values_and_the_last_pair_wins() -> None:
    pairs = ["URL=http://h/?a=b", "EMPTY=", "N=1", "N=2"]
    assert parse_env(pairs) == {"URL": "http://h/?a=b", "EMPTY": "", "N": "2"}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("GREETING", "--env 'GREETING': expected KEY=VALUE (e.g. --env GREETING=value)"),
        ("", "--env '': expected KEY=VALUE (e.g. --env NAME=value)"),
        ("=x", "--env '': not a valid variable name"),
        ("9LIVES=s3cr3t", "--env '9LIVES': not a valid variable name"),
        ("MY-VAR=s3cr3t", "--env 'MY-VAR': not a valid variable name"),
    ],
)
def test_a_bad_pair_is_refused_naming_the_key_never_the_value(pair: str, message: str) -> None:
    with pytest.raises(OverrideError) as raised:
        parse_env(["OK=1", pair])
    assert str(raised.value).startswith(message)
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize("name", sorted(RESERVED_ENVIRONMENT))
def test_every_variable_lambda_reserves_is_refused(name: str) -> None:
    with pytest.raises(OverrideError, match=f"^--env {name}: reserved by Lambda"):
        parse_env([f"{name}=x"])


# --- the deploy environment ---

MANIFEST = """\
[defaults.deploy]
environment = { LEVEL = "info", SHARED = "defaults" }

[lambdas.api]
handler = "h.f"

[lambdas.api.deploy]
environment = { SHARED = "api", TABLE = "items" }

[lambdas.worker]
handler = "h.f"
"""


def manifest() -> Manifest:
    return Manifest.parse(MANIFEST, path=Path("lambdas.toml"), check_paths=False)


def test_function_environment_is_the_deploy_environment_then_the_overrides() -> None:
    assert function_environment(manifest(), "api", {"TABLE": "other", "NEW": "1"}) == {
        "LEVEL": "info",
        "SHARED": "api",
        "TABLE": "other",
        "NEW": "1",
    }
    assert function_environment(manifest(), "worker", {}) == {
        "LEVEL": "info",
        "SHARED": "defaults",
    }


def test_function_environment_of_an_unknown_lambda_lists_the_names() -> None:
    with pytest.raises(OverrideError, match=r"no Lambda named 'apj' in .*; defined: api, worker"):
        function_environment(manifest(), "apj", {})


# --- passthrough ---


def test_passthrough_passes_your_aws_variables_and_nothing_else() -> None:
    environ = {
        "HOME": "/nonexistent-home",
        "AWS_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
        "AWS_LAMBDA_FUNCTION_NAME": "the-shells-own",  # describes a function, not your AWS
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "PATH": "/usr/bin",
        "NEWSAPI_KEY": "not-aws",
    }
    assert passthrough_variables(environ) == {
        "AWS_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
    }


def test_passthrough_names_your_aws_files_found_from_home(tmp_path: Path) -> None:
    # The worker's HOME is its sandbox: your ~/.aws must be named to be found.
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = eu-north-1\n")
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    assert passthrough_variables({"HOME": str(tmp_path)}) == {
        "AWS_CONFIG_FILE": str(tmp_path / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / ".aws" / "credentials"),
        "AWS_REGION": "eu-north-1",
        "AWS_DEFAULT_REGION": "eu-north-1",
    }
    assert passthrough_variables({"HOME": str(tmp_path / "nobody")}) == {}


def test_passthrough_makes_relative_paths_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    got = passthrough_variables(
        {"HOME": "/nonexistent-home", "AWS_CONFIG_FILE": "conf/aws", "AWS_CA_BUNDLE": "ca.pem"}
    )
    assert got == {
        "AWS_CONFIG_FILE": str(tmp_path / "conf" / "aws"),
        "AWS_CA_BUNDLE": str(tmp_path / "ca.pem"),
    }


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ({"AWS_PROFILE": "dev"}, "ap-southeast-2"),
        ({"AWS_DEFAULT_PROFILE": "dev"}, "ap-southeast-2"),
        ({}, "sa-east-1"),
        ({"AWS_PROFILE": "other"}, None),  # no such profile: the sandbox's default stays
    ],
)
def test_the_function_region_is_yours(
    tmp_path: Path, environ: dict[str, str], region: str | None
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = sa-east-1\n\n[profile dev]\nregion = ap-southeast-2\n")
    got = passthrough_variables({**environ, "HOME": "/x", "AWS_CONFIG_FILE": str(config)})
    assert (got.get("AWS_REGION"), got.get("AWS_DEFAULT_REGION")) == (region, region)
    assert aws_region("passthrough", {**environ, "AWS_CONFIG_FILE": str(config)}) == (
        region or "us-east-1"
    )


def test_aws_environment_passthrough_yields_your_variables() -> None:
    environ = {"HOME": "/nonexistent-home", "AWS_PROFILE": "dev"}
    with aws_environment("passthrough", environ=environ) as env:
        assert env == {"AWS_PROFILE": "dev"}


# --- local: a moto server for the block ---


def test_aws_environment_local_runs_moto_on_loopback_for_the_block(tmp_path: Path) -> None:
    import boto3  # type: ignore[import-untyped]

    with aws_environment("local") as env:
        endpoint = env["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:")
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == aws_region("local")
        # Your files are never read: the ones named do not exist.
        assert not Path(env["AWS_CONFIG_FILE"]).exists()
        assert not Path(env["AWS_SHARED_CREDENTIALS_FILE"]).exists()
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        s3.create_bucket(Bucket="overrides-test")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["overrides-test"]
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)


def test_an_unknown_aws_mode_is_refused() -> None:
    refused = pytest.raises(OverrideError, match="--aws 'cloud': choose one of local, passthrough")
    with refused, aws_environment("cloud"):  # type: ignore[arg-type]
        pass
