"""The command line's grammar: every command, option and help text, and how values enter.

Paths are made absolute where they enter, against the working directory: what a command
starts later (workers, engines, interpreters) runs in other directories.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "architecture",
    "artifact",
    "build_parser",
    "interpreter",
    "path",
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from sentiment_pipeline.packaging.options import ENGINE_CHOICES
    from sentiment_pipeline.packaging.sandbox import TASK_ROOT

    parser = _Parser(
        prog="sentiment-pipeline",
        description="Build and verify AWS Lambda artifacts that cannot ship broken.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    targets = sub.add_parser(
        "targets",
        help="print the target catalog (Lambda Python runtimes)",
        description="Print the target catalog: every Lambda Python runtime (python3.9 ... "
        "python3.14) on x86_64 and arm64, with the facts the verifier and the builds check "
        "against: OS, glibc, the top wheel tag and how many tags the runtime accepts, the "
        "extension-module suffix, the deprecation date, Lambda's size limits and import path. "
        "--json prints more of each row: every extension suffix, the platform tags in order "
        "of preference, the full sys.path, the runtime's SDK (boto3, botocore), the limits "
        "and the build image.",
    )
    targets.add_argument(
        "--json", action="store_true", help="print JSON (more fields) instead of a table"
    )
    targets.add_argument("--runtime", help="only this runtime (e.g. python3.13)")
    targets.add_argument(
        "--architecture",
        type=architecture,
        help="only this architecture: x86_64 or arm64 (aarch64 and amd64 are accepted)",
    )

    verify = sub.add_parser(
        "verify",
        help="prove a function zip, layer zip, directory or container image will import on "
        "its target runtime",
        description="Check an artifact (and its layers) against a Lambda runtime. ARTIFACT is "
        "a function zip, a layer zip, a directory, an OCI image layout (oci:LAYOUT[:TAG]) or "
        "an image in a registry (docker://HOST/REPO:TAG, pulled blob by blob); for an image, "
        f"its {TASK_ROOT} is checked. Exit 0: no problems found (the last line says what was "
        "and was not checked); 1: problems found; 2: unusable input.",
    )
    verify.add_argument(
        "artifact",
        type=artifact,
        help="function zip, layer zip, directory, oci:LAYOUT[:TAG] (an OCI image layout), "
        "or docker://HOST/REPO:TAG (an image pulled from a registry)",
    )
    verify.add_argument(
        "--layer",
        action="append",
        type=artifact,
        default=[],
        metavar="LAYER",
        help="a layer zip or directory, in the function's layer order (repeatable)",
    )
    verify.add_argument(
        "--runtime", default="python3.13", help="Lambda runtime (default: python3.13)"
    )
    verify.add_argument(
        "--architecture",
        type=architecture,
        help="Lambda architecture: x86_64 or arm64 (aarch64 and amd64 are accepted); default: "
        "an image's own (its config's architecture), else x86_64. An image built for "
        "another architecture than the one given is an error",
    )
    verify.add_argument(
        "--handler",
        help="module.function (default: an image's Cmd, else handler.lambda_handler when "
        "handler.py exists)",
    )
    verify.add_argument("--json", action="store_true", help="print a JSON report")
    verify.add_argument(
        "--no-import", action="store_true", help="static checks only: skip importing the handler"
    )
    verify.add_argument(
        "--interpreter",
        type=interpreter,
        metavar="PYTHON",
        help="the interpreter for the dynamic check (default: found on this machine)",
    )
    verify.add_argument(
        "--s3-upload",
        action="store_true",
        help="the zip is deployed through S3: allow more than 50 MiB zipped",
    )
    build = sub.add_parser(
        "build",
        help="build the Lambdas of a manifest with their backends, verified before they land",
        description="Build every Lambda of lambdas.toml (or those named with --lambda). Each "
        "artifact is verified for its target; a failed verification leaves no artifact at the "
        "final path. Exit 0: all built; 1: a build or verification failed; 2: bad input.",
    )
    _add_selection(
        build,
        backend="build every selected Lambda with this backend",
        out="output directory (default: dist)",
    )
    build.add_argument(
        "--engine",
        default="auto",
        choices=ENGINE_CHOICES,
        help="auto (default): the first container engine found, else a local cross-install; "
        "docker, podman, buildah; or none (local cross-install)",
    )
    build.add_argument("--build-image", help="override the build image of every artifact")
    build.add_argument("--base-image", help="override the base image (container-image backend)")
    build.add_argument(
        "--push",
        metavar="REGISTRY/PREFIX",
        help="push verified images as REGISTRY/PREFIX/<lambda>:latest (container-image backend)",
    )
    build.add_argument(
        "--docker-archive",
        action="store_true",
        help="also write dist/container-image/<lambda>.tar for `docker load`",
    )
    build.add_argument(
        "--offline",
        action="store_true",
        help="use the lock file (lambdas.lock, or <manifest>.lock next to another manifest) "
        "and the wheel cache only; never the network",
    )
    build.add_argument(
        "--no-import",
        action="store_true",
        help="verify statically only (skip importing the handlers)",
    )
    build.add_argument(
        "--slim",
        action="store_true",
        help="slim every artifact's installed dependencies (as slim = true in lambdas.toml): "
        "tests, *.pyi, C/Cython sources, docs and foreign bytecode out, RECORD rewritten",
    )
    build.add_argument(
        "--strip",
        action="store_true",
        help="--slim, and strip --strip-unneeded the shared objects this host's strip can "
        "(as slim = { strip = true })",
    )
    build.add_argument(
        "--s3-upload",
        action="store_true",
        help="zips are deployed through S3 (as s3-upload = true): write zips over 50 MiB "
        "(the 250 MiB unzipped limit still holds); the report says how to deploy them",
    )
    build.add_argument(
        "--full-check",
        action="store_true",
        help="check every input by content even when none looks changed (the stamp in "
        "<out>/.stamps/ is ignored, and rewritten)",
    )
    build.add_argument("--json", action="store_true", help="print the report as JSON")

    _add_serve_parser(sub, ENGINE_CHOICES)
    _add_invoke_parser(sub, ENGINE_CHOICES)
    _add_deploy_parser(sub)
    return parser


def _add_deploy_parser(sub: Any) -> None:
    from sentiment_pipeline.deployment.options import SMOKE_CHOICES

    deploy = sub.add_parser(
        "deploy",
        help="deploy the verified artifacts of the last build; only what changed is uploaded",
        description="Deploy the Lambdas of lambdas.toml (or those named with --lambda) from "
        "the last build's dist/<backend>/report.json: only verified artifacts, still as built; "
        "layers, code and settings uploaded only when they differ from Lambda's; each new "
        "version invoked with its smoke event before its alias moves to it; the Function URL "
        "on the alias. Writes dist/deploy.json. Exit 0: deployed (or nothing to do); 1: a "
        "smoke test or an AWS call failed (the alias stays where it was); 2: unusable input "
        "(an artifact missing, unverified or changed since its build: nothing was uploaded).",
    )
    _add_selection(
        deploy,
        backend="deploy what this backend built (default: each Lambda's)",
        out="the build's output directory (default: dist)",
    )
    deploy.add_argument(
        "--alias", help="the alias that takes traffic (default: the manifest's, live)"
    )
    deploy.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    deploy.add_argument(
        "--endpoint-url", metavar="URL", help="another Lambda endpoint (e.g. a moto server)"
    )
    deploy.add_argument(
        "--smoke",
        default="aws",
        choices=SMOKE_CHOICES,
        help="aws (default): invoke the new version; local: run the artifact with the local "
        "runner; none: no smoke test (traffic moves untested)",
    )
    deploy.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be uploaded, updated, created or left alone; change nothing",
    )
    deploy.add_argument("--json", action="store_true", help="print the record as JSON")


def _add_selection(parser: argparse.ArgumentParser, *, backend: str, out: str) -> None:
    """``--manifest``, ``--backend``, ``--lambda NAME``... and ``--out``: which Lambdas of
    which manifest, and where their artifacts are (``build`` and ``deploy``)."""
    parser.add_argument(
        "--manifest", type=path, default="lambdas.toml", help="default: lambdas.toml"
    )
    parser.add_argument("--backend", help=backend)
    parser.add_argument(
        "--lambda",
        dest="lambdas",
        action="append",
        default=[],
        metavar="NAME",
        help="only this Lambda (repeatable)",
    )
    parser.add_argument("--out", type=path, default="dist", help=out)


def _add_serve_parser(sub: Any, engines: Sequence[str]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run a manifest's built Lambdas locally, each Function URL on its own port "
        "(this repository's pipeline: with moto and its dashboard)",
        description=(
            "Build (or reuse) and verify a manifest's Lambdas and run each artifact in its own "
            "isolated interpreters. This repository's manifest (ingestion, analysis and "
            "dashboard) runs as the pipeline's stack against a local moto "
            "server; the dashboard answers on a local Function URL. Ctrl-C or SIGTERM "
            "stops it (in a few seconds; the table is saved). Exit 0: served, then stopped; "
            "1: a build, verification or function init failed (nothing is served); 2: "
            "unusable input or environment (bad option, port in use, missing [local] extra "
            "or interpreter); 130/143: interrupted by SIGINT/SIGTERM before serving began."
        ),
    )
    serve.add_argument(
        "--manifest", type=path, default="lambdas.toml", help="default: lambdas.toml"
    )
    serve.add_argument("--backend", help="build with this backend (default: the manifest's)")
    serve.add_argument(
        "--out", type=path, default="dist", help="build output directory (default: dist)"
    )
    serve.add_argument(
        "--engine",
        default="none",
        choices=engines,
        help="container engine of the build (default: none)",
    )
    serve.add_argument("--base-image", help="base image (container-image backend)")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000 (0: any free)")
    serve.add_argument("--api-key", help="the dashboard's key (default: kept in --state-dir)")
    serve.add_argument(
        "--sample-data",
        action="store_true",
        help="serve the bundled sample articles as NewsAPI (default when NEWSAPI_KEY is unset)",
    )
    serve.add_argument(
        "--state-dir",
        type=path,
        default=".sentiment-pipeline",
        help="where the table and the key persist (default: .sentiment-pipeline)",
    )
    serve.add_argument(
        "--ingest-every",
        type=float,
        default=60.0,
        help="seconds between scheduled ingestions (0: only POST /_local/ingest)",
    )
    serve.add_argument(
        "--cors-origins",
        help="the dashboard's CORS_ALLOWED_ORIGINS (comma-separated origins, or *)",
    )
    serve.add_argument(
        "--interpreter",
        type=interpreter,
        help="the target Python (default: found on this machine)",
    )
    serve.add_argument("--offline", action="store_true", help="build from lock and cache only")
    serve.add_argument(
        "--verbose",
        action="store_true",
        help="print every log line of the functions (default: warnings and errors)",
    )
    serve.add_argument(
        "--once",
        action="store_true",
        help="ingest, wait for the analysis, print the summary and stop (no serving)",
    )
    _add_serve_any_arguments(serve)


def _add_serve_any_arguments(serve: argparse.ArgumentParser) -> None:
    """``serve`` for any manifest: which Lambdas, and hot reload."""
    serve.epilog = (
        "Any other manifest (or --lambda): every Lambda is built, verified and warmed; each one "
        "with a Function URL (function-url = true, or a [lambdas.NAME.deploy] function-url "
        "table) answers HTTP on a port of its own, --port for the first in manifest order, the "
        "next port for the next (Lambda gives each Function URL a host of its own, so paths "
        "reach the handler unchanged); the others are listed (sentiment-pipeline invoke NAME "
        "runs them). --once there: start, warm, print the URLs and stop. The pipeline-only "
        "options (--api-key, --sample-data, --ingest-every, --cors-origins) do not apply."
    )
    serve.add_argument(
        "--lambda",
        dest="lambdas",
        action="append",
        default=[],
        metavar="NAME",
        help="serve only this Lambda, by itself (repeatable; the pipeline's stack is not started)",
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="rebuild, verify and reload a Lambda when its sources, requirements or manifest "
        "entry change (a failed rebuild keeps the previous code serving); not for the "
        "pipeline's stack",
    )
    serve.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a variable for every function, over the manifest's deploy environment (repeatable)",
    )
    serve.add_argument(
        "--aws",
        choices=("local", "passthrough"),
        help="passthrough (default): the functions use your AWS configuration (AWS_PROFILE, "
        "AWS_REGION, credentials, ~/.aws); local: a moto server on 127.0.0.1 for as long as "
        "serve runs. Not for the pipeline's stack (it always runs its own moto)",
    )


def _add_invoke_parser(sub: Any, engines: Sequence[str]) -> None:
    invoke = sub.add_parser(
        "invoke",
        help="build (or reuse) and verify one Lambda, then run its artifact once locally",
        description=(
            "Build (or reuse: the build is incremental) and verify the Lambda NAME, then run "
            "its built artifact with its layers once, in an isolated interpreter of its "
            "runtime's Python with Lambda's paths and variables, the manifest's deploy "
            "environment, timeout and memory, and --env on top. The result is printed on "
            "stdout as JSON, the function's log on stderr. Exit 0: the function returned; 1: "
            "a function error (Lambda's error body printed), or the build or verification "
            "failed; 2: unusable input (unknown Lambda, bad event, bad --env, no interpreter)."
        ),
    )
    invoke.add_argument("name", metavar="NAME", help="the Lambda, as named in the manifest")
    invoke.add_argument(
        "--event",
        metavar="FILE|-|TEMPLATE",
        help="a JSON file, - for JSON on stdin, or a template: "
        "function-url:METHOD:/path[?query] (payload 2.0; see --body), sns:FILE (FILE's "
        "content is the SNS message), sqs:FILE (FILE's content is the SQS body), schedule "
        "(an EventBridge scheduled event). Default: {}",
    )
    invoke.add_argument(
        "--body",
        metavar="TEXT",
        help="the request body of a function-url event (application/json when it is JSON)",
    )
    invoke.add_argument(
        "--manifest", type=path, default="lambdas.toml", help="default: lambdas.toml"
    )
    invoke.add_argument("--backend", help="build with this backend (default: the manifest's)")
    invoke.add_argument(
        "--out", type=path, default="dist", help="build output directory (default: dist)"
    )
    invoke.add_argument(
        "--engine",
        default="auto",
        choices=engines,
        help="container engine of the build (default: auto, as build's: the artifacts "
        "`build` made are reused)",
    )
    invoke.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a variable for the function, over the manifest's deploy environment (repeatable)",
    )
    invoke.add_argument(
        "--aws",
        choices=("local", "passthrough"),
        default="passthrough",
        help="passthrough (default): the function uses your AWS configuration (AWS_PROFILE, "
        "AWS_REGION, credentials, ~/.aws); local: a moto server on 127.0.0.1, started for "
        "this invocation and stopped after it",
    )
    invoke.add_argument(
        "--interpreter",
        type=interpreter,
        metavar="PYTHON",
        help="the target Python (default: found on this machine)",
    )
    invoke.add_argument("--offline", action="store_true", help="build from lock and cache only")
    invoke.add_argument(
        "--json",
        action="store_true",
        help="print an envelope instead of the bare result: requestId, ok, result or error, "
        "errorType, timedOut, durations, memory, timeout, the artifact and the log lines",
    )


def path(text: str) -> Path:
    """A path option, absolute (``~`` expanded)."""
    return Path(text).expanduser().resolve()


def artifact(text: str) -> str:
    """An artifact: a path made absolute, ``oci:LAYOUT[:TAG]`` with its layout made
    absolute, or ``docker://...`` as it is."""
    from sentiment_pipeline.packaging.oci.reference import (
        LAYOUT_SCHEME,
        REGISTRY_SCHEME,
        LayoutRef,
    )

    if text.startswith(REGISTRY_SCHEME):
        return text
    if text.startswith(LAYOUT_SCHEME):
        ref = LayoutRef.parse(text)
        return str(LayoutRef(path(str(ref.path)), ref.tag))
    return str(path(text))


def architecture(text: str) -> str:
    """``--architecture``: Lambda's name of it (``aarch64`` is ``arm64``, ``amd64`` is
    ``x86_64``); anything else is refused naming the architectures Lambda runs."""
    from sentiment_pipeline.errors import UnknownTargetError
    from sentiment_pipeline.packaging.targets import architecture_name

    try:
        return architecture_name(text)
    except UnknownTargetError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from exc


def interpreter(text: str) -> str:
    """``--interpreter``: a path or a command name looked up on PATH, made absolute
    (links kept) by :func:`~sentiment_pipeline.packaging.options.interpreter_path`."""
    from sentiment_pipeline.packaging.options import OptionsError, interpreter_path

    try:
        return interpreter_path(text)
    except OptionsError as exc:
        raise argparse.ArgumentTypeError(exc.problem) from exc


def _version() -> str:
    from sentiment_pipeline import __version__
    from sentiment_pipeline.packaging.targets import CATALOG_VERSION

    return f"sentiment-pipeline {__version__} (target catalog {CATALOG_VERSION})"
