"""The ``sentiment-pipeline`` command.

Exit codes: 0 success (deployable), 1 problems found, 2 unusable input (bad
arguments, unknown runtime, unreadable artifact). Errors are one line on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from .errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _failures() -> tuple[type[Exception], ...]:
    """Errors of a build that was attempted (exit 1), as opposed to bad input (exit 2)."""
    from .backend import StepError
    from .cache import CacheError
    from .local.serve import BuildFailedError
    from .lock import ResolutionError

    return (ResolutionError, StepError, CacheError, BuildFailedError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sentiment-pipeline",
        description="Build and verify AWS Lambda artifacts that cannot ship broken.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    targets = sub.add_parser("targets", help="print the target catalog (Lambda Python runtimes)")
    targets.add_argument("--json", action="store_true", help="print JSON instead of a table")
    targets.add_argument("--runtime", help="only this runtime (e.g. python3.13)")
    targets.add_argument(
        "--architecture", choices=("x86_64", "arm64"), help="only this architecture"
    )

    verify = sub.add_parser(
        "verify",
        help="prove a function zip, layer zip or directory will import on its target runtime",
        description="Check an artifact (and its layers) against a Lambda runtime. Exit 0: "
        "deployable; 1: problems found; 2: unusable input.",
    )
    verify.add_argument("artifact", help="function zip, layer zip, or directory")
    verify.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="LAYER",
        help="a layer zip or directory, in the function's layer order (repeatable)",
    )
    verify.add_argument(
        "--runtime", default="python3.13", help="Lambda runtime (default: python3.13)"
    )
    verify.add_argument("--architecture", default="x86_64", help="x86_64 (default) or arm64")
    verify.add_argument(
        "--handler", help="module.function (default: handler.lambda_handler when handler.py exists)"
    )
    verify.add_argument("--json", action="store_true", help="print a JSON report")
    verify.add_argument(
        "--no-import", action="store_true", help="static checks only: skip importing the handler"
    )
    verify.add_argument(
        "--interpreter",
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
    build.add_argument("--manifest", default="lambdas.toml", help="default: lambdas.toml")
    build.add_argument("--backend", help="build every selected Lambda with this backend")
    build.add_argument(
        "--lambda",
        dest="lambdas",
        action="append",
        default=[],
        metavar="NAME",
        help="only this Lambda (repeatable)",
    )
    build.add_argument("--out", default="dist", help="output directory (default: dist)")
    build.add_argument(
        "--engine",
        default="auto",
        help="auto (default), docker, podman, buildah, or none (local cross-install)",
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
        help="use lambdas.lock and the wheel cache only; never the network",
    )
    build.add_argument(
        "--no-import",
        action="store_true",
        help="verify statically only (skip importing the handlers)",
    )
    build.add_argument("--json", action="store_true", help="print the report as JSON")

    from .local.serve import add_parser as add_serve_parser

    add_serve_parser(sub)
    return parser


def _version() -> str:
    from . import __version__
    from .targets import CATALOG_VERSION

    return f"sentiment-pipeline {__version__} (target catalog {CATALOG_VERSION})"


def _cmd_targets(args: argparse.Namespace) -> int:
    from .targets import all_targets, get_target

    if args.runtime:
        archs = [args.architecture] if args.architecture else ["x86_64", "arm64"]
        chosen = [get_target(args.runtime, a) for a in archs]
    else:
        chosen = [
            t for t in all_targets() if not args.architecture or t.architecture == args.architecture
        ]
    if args.json:
        print(json.dumps([t.to_json() for t in chosen], indent=2))
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
        print("Import path (" + t.runtime + "): " + " -> ".join(t.sys_path))
        print(f"Runtime libraries: {len(t.runtime_libraries)} sonames from {t.libraries_source}.")
        print("Details of every row: sentiment-pipeline targets --json")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from .targets import get_target
    from .verify import verify

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
    from pathlib import Path

    from .build import build
    from .manifest import Manifest

    manifest = Manifest.load(args.manifest)
    interactive = sys.stderr.isatty() and not args.json

    def progress(message: str) -> None:
        if interactive:
            print(f"  ... {message}", file=sys.stderr, flush=True)

    result = build(
        manifest,
        backend=args.backend,
        only=args.lambdas,
        out=Path(args.out),
        engine=args.engine,
        offline=args.offline,
        build_image=args.build_image,
        base_image=args.base_image,
        push=args.push,
        docker_archive=args.docker_archive,
        verify_dynamic=not args.no_import,
        progress=progress,
    )
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
    from .local.serve import command

    return command(args)


def _build_table(result: object) -> str:
    from .build import BuildResult

    assert isinstance(result, BuildResult)
    header = (
        "artifact",
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
                f"{a.kind[:1]}:{a.name}",
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
        return commands[args.command](args)
    except PipelineError as exc:
        if isinstance(exc, _failures()):
            print(f"sentiment-pipeline: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"sentiment-pipeline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sentiment-pipeline: interrupted", file=sys.stderr)
        return 130
