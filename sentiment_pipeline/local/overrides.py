"""What a locally run function sees beyond Lambda's own variables: its environment and its AWS.

A worker's environment is built in four layers, each overriding the one before:

1. Lambda's reserved variables, as the sandbox sets them
   (:func:`~sentiment_pipeline.packaging.sandbox.environment`: the task root, the function's
   name and memory, ``AWS_REGION`` us-east-1 ...);
2. the AWS variables of the mode (:func:`aws_environment`): in Lambda the region and the
   credentials come from the function's region and role, so here they come from where the
   functions' AWS is: moto's endpoint, region and test credentials (``local``), or your own
   configuration (``passthrough``, the default: your ``AWS_REGION`` becomes the function's
   region, your credentials its role's);
3. the manifest's ``[lambdas.NAME.deploy] environment`` (over ``[defaults.deploy]``);
4. ``--env KEY=VALUE`` (:func:`parse_env`), the last word.

Layers 3 and 4 may not name Lambda's reserved variables (the manifest refuses them too):
the region and the credentials are the AWS mode's business. Nothing here prints a
variable's value: errors name the key only.

>>> parse_env(["GREETING=hello", "EMPTY="])
{'GREETING': 'hello', 'EMPTY': ''}
>>> passthrough_variables({"AWS_DEFAULT_REGION": "eu-west-1", "HOME": "/nowhere"})
{'AWS_DEFAULT_REGION': 'eu-west-1', 'AWS_REGION': 'eu-west-1'}
"""

from __future__ import annotations

import configparser
import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.manifest import ENVIRONMENT_NAME, RESERVED_ENVIRONMENT

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from sentiment_pipeline.packaging.manifest import Manifest

__all__ = [
    "AWS_MODES",
    "AwsMode",
    "OverrideError",
    "aws_environment",
    "aws_region",
    "function_environment",
    "parse_env",
    "passthrough_variables",
]

AwsMode = Literal["local", "passthrough"]
AWS_MODES: tuple[AwsMode, ...] = ("local", "passthrough")
"""``--aws`` values: a moto server started for the run, or your own AWS configuration."""

DEFAULT_REGION = "us-east-1"
"""The region when your configuration names none (the sandbox's, Lambda's oldest)."""

# Variables of yours that describe a Lambda function, not your AWS: a shell inside a
# Lambda-like environment (a container, a CI job) has them, and they would lie about the
# function run here.
_NOT_PASSED = ("AWS_LAMBDA_", "AWS_EXECUTION_ENV")
# Variables holding a path: made absolute, as the worker runs in the task root.
_PATHS = (
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CA_BUNDLE",
)


class OverrideError(PipelineError, ValueError):
    """A ``--env`` pair (or another override) that cannot be used; the message says the fix."""


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (``--env``) as a mapping; a later pair for a key wins.

    The value may be empty or hold ``=``. Raises :class:`OverrideError` for a pair
    without ``=``, a name Lambda would refuse, or a variable Lambda reserves; the
    message names the key (never the value: it may be a secret) and the fix.

    >>> parse_env(["URL=http://x/?a=b"])
    {'URL': 'http://x/?a=b'}
    >>> parse_env(["AWS_REGION=eu-west-1"])
    Traceback (most recent call last):
    ...
    sentiment_pipeline.local.overrides.OverrideError: --env AWS_REGION: ...
    """
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise OverrideError(
                f"--env {pair!r}: expected KEY=VALUE (e.g. --env {pair or 'NAME'}=value)"
            )
        if key in RESERVED_ENVIRONMENT:
            raise OverrideError(
                f"--env {key}: reserved by Lambda, which sets it itself; the region and "
                "credentials come from --aws (passthrough: your shell's AWS_REGION, "
                "AWS_PROFILE...; local: moto's)"
            )
        if not ENVIRONMENT_NAME.match(key):
            raise OverrideError(
                f"--env {key!r}: not a valid variable name (letters, digits and '_', "
                "starting with a letter)"
            )
        out[key] = value
    return out


def function_environment(
    manifest: Manifest, name: str, overrides: Mapping[str, str]
) -> dict[str, str]:
    """Lambda ``name``'s own variables: its deploy ``environment``, then ``overrides`` on top.

    >>> from sentiment_pipeline.packaging.manifest import Manifest
    >>> m = Manifest.parse('[lambdas.api]\\nhandler = "h.f"\\n[lambdas.api.deploy]\\n'
    ...                    'environment = { A = "1", B = "2" }\\n',
    ...                    path=Path("lambdas.toml"), check_paths=False)
    >>> function_environment(m, "api", {"B": "3"})
    {'A': '1', 'B': '3'}
    """
    if name not in manifest.lambdas:
        raise OverrideError(
            f"no Lambda named {name!r} in {manifest.path}; defined: {', '.join(manifest.lambdas)}"
        )
    return {**manifest.deploy_settings(name).environment, **overrides}


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ["HOME"]) if environ.get("HOME") else Path.home()


def _profile_region(environ: Mapping[str, str], config: str | None) -> str | None:
    """The region of the selected profile in the AWS config file, as the SDK would read it."""
    if config is None:
        return None
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    parser = configparser.RawConfigParser()
    try:
        parser.read(config, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None  # the SDK in the worker reports a broken file itself
    for section in (f"profile {profile}", profile) if profile != "default" else ("default",):
        if parser.has_option(section, "region"):
            return parser.get(section, "region").strip() or None
    return None


def passthrough_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Your AWS configuration, as a worker needs it to find what your shell's SDK finds.

    Every ``AWS_*`` variable of ``environ`` (default: this process's), untouched except
    paths made absolute; not those describing a Lambda function (``AWS_LAMBDA_*``,
    ``AWS_EXECUTION_ENV``). The worker's ``HOME`` is its sandbox, so your
    ``~/.aws/config`` and ``~/.aws/credentials`` are named explicitly
    (``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE``) when they exist and no
    variable names others. The region, as Lambda sets it, is in both ``AWS_REGION`` and
    ``AWS_DEFAULT_REGION``: ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the selected
    profile's ``region``; none of them: the sandbox's default stays.
    """
    environ = os.environ if environ is None else environ
    out = {
        key: value
        for key, value in environ.items()
        if key.startswith("AWS_") and not key.startswith(_NOT_PASSED)
    }
    for key in _PATHS:
        if out.get(key):
            out[key] = str(Path(out[key]).expanduser().resolve())
    aws = _home(environ) / ".aws"
    for key, default in (
        ("AWS_CONFIG_FILE", aws / "config"),
        ("AWS_SHARED_CREDENTIALS_FILE", aws / "credentials"),
    ):
        if key not in out and default.is_file():
            out[key] = str(default)
    region = (
        out.get("AWS_REGION")
        or out.get("AWS_DEFAULT_REGION")
        or _profile_region(environ, out.get("AWS_CONFIG_FILE"))
    )
    if region:
        out["AWS_REGION"] = out["AWS_DEFAULT_REGION"] = region
    return out


def aws_region(mode: AwsMode, environ: Mapping[str, str] | None = None) -> str:
    """The region the functions run in under ``mode`` (the region of the events made for them)."""
    if mode == "local":
        from sentiment_pipeline.local.motoclients import REGION

        return REGION
    return passthrough_variables(environ).get("AWS_REGION", DEFAULT_REGION)


@contextlib.contextmanager
def aws_environment(
    mode: AwsMode, *, environ: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """The variables that point a function's AWS SDK at its AWS, for as long as the block runs.

    ``local`` starts a moto server on 127.0.0.1 (its own process) and yields its endpoint
    (``AWS_ENDPOINT_URL``), test credentials, its region, and config and credentials
    files that do not exist (your own are never read); the server stops when the block
    ends. ``passthrough`` yields :func:`passthrough_variables` of ``environ``.
    Raises :class:`~sentiment_pipeline.local.moto.MotoServerError` (with the command that
    installs it) when moto's server cannot run here.

    >>> with aws_environment("passthrough", environ={"AWS_PROFILE": "dev"}) as env:
    ...     env["AWS_PROFILE"]
    'dev'
    """
    if mode == "passthrough":
        yield passthrough_variables(environ)
        return
    if mode != "local":
        raise OverrideError(f"--aws {mode!r}: choose one of {', '.join(AWS_MODES)}")
    from sentiment_pipeline.local.moto import MotoServer
    from sentiment_pipeline.local.motoclients import MotoClients

    server = MotoServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="sp-aws-") as scratch:
            clients = MotoClients(Path(scratch) / "no-aws-config")
            clients.endpoint = server.url
            yield clients.environment()
    finally:
        server.stop()
