"""The ``sentiment-pipeline`` command.

Exit codes: 0 success (no problems found), 1 problems found, 2 unusable input (bad
arguments, unknown runtime, unreadable artifact). Errors are one line on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _failures() -> tuple[type[Exception], ...]:
    """Errors of a build that was attempted (exit 1), as opposed to bad input (exit 2)."""
    from sentiment_pipeline.local.serve import BuildFailedError
    from sentiment_pipeline.local.stack import InitError
    from sentiment_pipeline.packaging.backend import StepError
    from sentiment_pipeline.packaging.cache import CacheError
    from sentiment_pipeline.packaging.install.sdist import SdistError
    from sentiment_pipeline.packaging.lock import ResolutionError

    return (ResolutionError, StepError, CacheError, SdistError, BuildFailedError, InitError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
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
        "--architecture", choices=("x86_64", "arm64"), help="only this architecture"
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
        type=_artifact,
        help="function zip, layer zip, directory, oci:LAYOUT[:TAG] (an OCI image layout), "
        "or docker://HOST/REPO:TAG (an image pulled from a registry)",
    )
    verify.add_argument(
        "--layer",
        action="append",
        type=_artifact,
        default=[],
        metavar="LAYER",
        help="a layer zip or directory, in the function's layer order (repeatable)",
    )
    verify.add_argument(
        "--runtime", default="python3.13", help="Lambda runtime (default: python3.13)"
    )
    verify.add_argument(
        "--architecture",
        default="x86_64",
        choices=("x86_64", "arm64"),
        help="Lambda architecture (default: x86_64)",
    )
    verify.add_argument(
        "--handler", help="module.function (default: handler.lambda_handler when handler.py exists)"
    )
    verify.add_argument("--json", action="store_true", help="print a JSON report")
    verify.add_argument(
        "--no-import", action="store_true", help="static checks only: skip importing the handler"
    )
    verify.add_argument(
        "--interpreter",
        type=_interpreter,
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
    build.add_argument(
        "--manifest", type=_path, default="lambdas.toml", help="default: lambdas.toml"
    )
    build.add_argument("--backend", help="build every selected Lambda with this backend")
    build.add_argument(
        "--lambda",
        dest="lambdas",
        action="append",
        default=[],
        metavar="NAME",
        help="only this Lambda (repeatable)",
    )
    build.add_argument("--out", type=_path, default="dist", help="output directory (default: dist)")
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
    build.add_argument("--json", action="store_true", help="print the report as JSON")

    _add_serve_parser(sub, ENGINE_CHOICES)
    return parser


def _add_serve_parser(sub: Any, engines: Sequence[str]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the built pipeline Lambdas locally: moto, a Function URL, the dashboard",
        description=(
            "Build (or reuse) the ingestion, analysis and dashboard Lambdas, verify them, "
            "and run each artifact in its own isolated interpreter against a local moto "
            "server; the dashboard answers on a local Function URL. Ctrl-C or SIGTERM "
            "stops it (in a few seconds; the table is saved). Exit 0: served, then stopped; "
            "1: a build, verification or function init failed (nothing is served); 2: "
            "unusable input or environment (bad option, port in use, missing [local] extra "
            "or interpreter); 130/143: interrupted by SIGINT/SIGTERM before serving began."
        ),
    )
    serve.add_argument(
        "--manifest", type=_path, default="lambdas.toml", help="default: lambdas.toml"
    )
    serve.add_argument("--backend", help="build with this backend (default: the manifest's)")
    serve.add_argument(
        "--out", type=_path, default="dist", help="build output directory (default: dist)"
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
        type=_path,
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
        type=_interpreter,
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


# Paths are made absolute where they enter, against the working directory: what a
# command starts later (workers, engines, interpreters) runs in other directories.


def _path(text: str) -> Path:
    """A path option, absolute (``~`` expanded)."""
    return Path(text).expanduser().resolve()


def _artifact(text: str) -> str:
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
        return str(LayoutRef(_path(str(ref.path)), ref.tag))
    return str(_path(text))


def _interpreter(text: str) -> str:
    """``--interpreter``: a path or a command name looked up on PATH, made absolute.

    Never with its links resolved: a virtual environment's ``python`` is a link
    whose target would run without the environment.
    """
    found = text if os.sep in text or text.startswith("~") else shutil.which(text)
    if found is None:
        raise argparse.ArgumentTypeError(
            f"no interpreter named {text!r} on PATH; give its path (e.g. /usr/bin/python3.13)"
        )
    return str(Path(found).expanduser().absolute())


def _version() -> str:
    from sentiment_pipeline import __version__
    from sentiment_pipeline.packaging.targets import CATALOG_VERSION

    return f"sentiment-pipeline {__version__} (target catalog {CATALOG_VERSION})"


def _cmd_targets(args: argparse.Namespace) -> int:
    from sentiment_pipeline.packaging.sandbox import describe_target, sys_path
    from sentiment_pipeline.packaging.targets import all_targets, get_target

    if args.runtime:
        archs = [args.architecture] if args.architecture else ["x86_64", "arm64"]
        chosen = [get_target(args.runtime, a) for a in archs]
    else:
        chosen = [
            t for t in all_targets() if not args.architecture or t.architecture == args.architecture
        ]
    if args.json:
        print(json.dumps([describe_target(t) for t in chosen], indent=2))
        return EXIT_OK
    header = (
        "runtime",
        "arch",
        "python",
        "os",
        "glibc",
        "top wheel tag",
        "tags",
        "ext suffix",
        "deprecated",
    )
    rows = [
        (
            t.runtime,
            t.architecture,
            t.python,
            t.os_name,
            t.glibc_str,
            t.wheel_tags[0],
            str(len(t.wheel_tags)),
            t.extension_suffixes[0],
            t.deprecated or "-",
        )
        for t in chosen
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if chosen:
        t = chosen[0]
        print(
            f"\nLimits: {t.limits.zipped_upload} B zipped (direct upload), "
            f"{t.limits.unzipped} B unzipped incl. layers, {t.limits.layers} layers, "
            f"{t.limits.image} B image."
        )
        print("Import path (" + t.runtime + "): " + " -> ".join(sys_path(t)))
        print(f"Runtime libraries: {len(t.runtime_libraries)} sonames from {t.libraries_source}.")
        print("Details of every row: sentiment-pipeline targets --json")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from sentiment_pipeline.packaging.targets import get_target
    from sentiment_pipeline.packaging.verify import verify

    target = get_target(args.runtime, args.architecture)
    report = verify(
        args.artifact,
        target=target,
        layers=args.layer,
        handler=args.handler,
        dynamic=not args.no_import,
        s3_upload=args.s3_upload,
        interpreter=args.interpreter,
    )
    print(report.dumps() if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _cmd_build(args: argparse.Namespace) -> int:
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions

    manifest = Manifest.load(args.manifest)
    interactive = sys.stderr.isatty() and not args.json

    def progress(message: str) -> None:
        if interactive:
            print(f"  ... {message}", file=sys.stderr, flush=True)

    options = BuildOptions(
        backend=args.backend,
        only=args.lambdas,
        out=args.out,
        engine=args.engine,
        offline=args.offline,
        build_image=args.build_image,
        base_image=args.base_image,
        push=args.push,
        docker_archive=args.docker_archive,
        verify_dynamic=not args.no_import,
        progress=progress,
    )
    result = build(manifest, options)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "reports": [str(p) for p in result.reports],
                    "artifacts": [a.to_json() for a in result.artifacts],
                },
                indent=2,
            )
        )
    else:
        print(_build_table(result))
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _cmd_serve(args: argparse.Namespace) -> int:
    from sentiment_pipeline.local.serve import command

    return command(args)


def _build_table(result: object) -> str:
    from sentiment_pipeline.packaging.build import BuildResult

    assert isinstance(result, BuildResult)
    header = (
        "artifact",
        "kind",
        "backend",
        "zipped",
        "unzipped",
        "files",
        "native",
        "pyc",
        "verified",
        "cache",
        "time",
    )
    rows = []
    for a in result.artifacts:
        verdict = "ok" if a.ok else f"FAILED ({len(a.problems)})"
        rows.append(
            (
                a.name,
                a.kind,
                a.backend,
                f"{a.zipped / 1e6:.1f} MB",
                f"{a.unzipped / 1e6:.1f} MB",
                str(a.files),
                str(len(a.native)),
                "yes" if a.compiled else "no",
                verdict,
                "hit" if a.cache_hit else "miss",
                f"{a.seconds:.2f} s",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    for a in result.artifacts:
        for problem in a.problems:
            lines.append(f"{a.name}: [{problem['code']}] {problem['message']}")
        for note in a.notes:
            lines.append(f"{a.name}: note: {note}")
        if a.dynamic and not a.cache_hit and a.kind == "function":
            lines.append(f"{a.name}: {a.dynamic}")
    lines.append("reports: " + ", ".join(str(p) for p in result.reports))
    return "\n".join(lines)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the command unwinds, cleaning up as it goes."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread, once.

    Both end a command the same way (temp files removed, servers and workers
    stopped, the table saved). A second signal during that clean-up exits at
    once: the children started here leave on their own when this process ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if caught:
            print("sentiment-pipeline: stopping now", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        caught.append(signum)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    commands = {
        "targets": _cmd_targets,
        "verify": _cmd_verify,
        "build": _cmd_build,
        "serve": _cmd_serve,
    }
    try:
        with _signals_interrupt():
            return commands[args.command](args)
    except PipelineError as exc:
        if isinstance(exc, _failures()):
            print(f"sentiment-pipeline: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"sentiment-pipeline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader left (`| head`): no traceback, and no second error when Python
        # flushes stdout at exit (the documented way: point it at devnull).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PROBLEMS
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"sentiment-pipeline: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
