"""What each command does with its parsed arguments, and the tables it prints."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import TYPE_CHECKING

from sentiment_pipeline.cli.arguments import EXIT_OK, EXIT_PROBLEMS

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Sequence

    from sentiment_pipeline.packaging.results import ArtifactResult, BuildResult

__all__ = ["COMMANDS", "build_table", "table", "warn"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def warn(warning: str | None) -> None:
    """A one-line warning on stderr (nothing for None): it works, but should change."""
    if warning:
        print(f"sentiment-pipeline: warning: {warning}", file=sys.stderr)


def cmd_targets(args: argparse.Namespace) -> int:
    from sentiment_pipeline.packaging.sandbox import describe_target, sys_path
    from sentiment_pipeline.packaging.targets import all_targets, get_target

    if args.runtime:
        archs = [args.architecture] if args.architecture else ["x86_64", "arm64"]
        chosen = [get_target(args.runtime, a) for a in archs]
        warn(chosen[0].deprecation_warning())
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
            f"{t.deprecated} (passed)" if t.deprecation_warning() else t.deprecated or "-",
        )
        for t in chosen
    ]
    print("\n".join(table(header, rows)))
    if chosen:
        t = chosen[0]
        print(
            f"\nLimits: {t.limits.zipped_upload} B zipped (direct upload), "
            f"{t.limits.unzipped} B unzipped incl. layers, {t.limits.layers} layers, "
            f"{t.limits.image} B image."
        )
        print("Import path (" + t.runtime + "): " + " -> ".join(sys_path(t)))
        print(f"Runtime libraries: {len(t.runtime_libraries)} sonames, {t.libraries_source}.")
        lacking = sorted(t.wheel_policy_libraries - t.runtime_libraries)
        print(
            f"Wheel policy: {len(t.wheel_policy_libraries)} sonames manylinux wheels may "
            f"assume ({t.wheel_policy_source}); {t.runtime} lacks "
            + (", ".join(lacking) if lacking else "none of them")
            + "."
        )
        print("Details of every row: sentiment-pipeline targets --json")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from sentiment_pipeline.packaging.options import VerifyOptions
    from sentiment_pipeline.packaging.targets import get_target
    from sentiment_pipeline.packaging.verify import verify

    # Checked before anything is read (a retired runtime is refused); without
    # --architecture an image's own architecture is used, else x86_64.
    given = get_target(args.runtime, args.architecture or "x86_64")
    options = VerifyOptions(
        layers=args.layer,
        handler=args.handler,
        dynamic=not args.no_import,
        s3_upload=args.s3_upload,
        interpreter=args.interpreter,
    )
    report = verify(args.artifact, given if args.architecture else args.runtime, options)
    for warning in report.checked.warnings:
        warn(warning)
    print(report.dumps() if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    started_ns = time.time_ns()
    from sentiment_pipeline.packaging import uptodate

    # The request, as a stamp names it: every option but how the result is printed.
    request = {
        k: str(v) if hasattr(v, "__fspath__") else v
        for k, v in vars(args).items()
        if k not in ("json", "full_check")
    }
    key = uptodate.request_key(request)
    if args.push is None and not args.full_check:
        stamp = uptodate.current(args.out, key)
        if stamp is not None:
            for line in stamp.warnings:
                print(line, file=sys.stderr)
            return _print_build(stamp.result(time.perf_counter() - started), json_out=args.json)

    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions
    from sentiment_pipeline.packaging.targets import get_target

    manifest = Manifest.load(args.manifest)
    warnings = []
    for runtime in manifest.runtimes(args.lambdas):
        warning = get_target(runtime).deprecation_warning()
        warn(warning)
        if warning:
            warnings.append(f"sentiment-pipeline: warning: {warning}")
    progress = _progress(json_out=args.json)
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
        slim=args.slim,
        strip=args.strip,
        s3_upload=args.s3_upload,
        progress=progress,
    )
    result = build(manifest, options)
    if args.push is None:
        uptodate.write_stamp(
            args.out, key, manifest, result, started_ns=started_ns, warnings=warnings
        )
    return _print_build(result, json_out=args.json)


def _progress(*, json_out: bool) -> Callable[[str], None]:
    """One ``  ... step`` line per step on stderr, when a person watches it (a terminal,
    and no ``--json``)."""
    interactive = sys.stderr.isatty() and not json_out

    def progress(message: str) -> None:
        if interactive:
            print(f"  ... {message}", file=sys.stderr, flush=True)

    return progress


def _print_build(result: BuildResult, *, json_out: bool) -> int:
    if json_out:
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
        print(build_table(result))
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def cmd_serve(args: argparse.Namespace) -> int:
    from sentiment_pipeline.local.serve import command

    return command(args)


def cmd_invoke(args: argparse.Namespace) -> int:
    """``invoke``: the event first (bad input exits before any build), then build and run."""
    from sentiment_pipeline.local.events import load_event
    from sentiment_pipeline.local.invoke import InvokeOptions, VerificationFailedError, invoke
    from sentiment_pipeline.local.overrides import aws_region, parse_env
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions
    from sentiment_pipeline.packaging.plan import plan_functions
    from sentiment_pipeline.packaging.targets import get_target

    manifest = Manifest.load(args.manifest)
    plan_functions(manifest, only=[args.name])  # an unknown name: the names it has
    environment = parse_env(args.env)
    event = load_event(args.event, body=args.body, function=args.name, region=aws_region(args.aws))
    for runtime in manifest.runtimes([args.name]):
        warn(get_target(runtime).deprecation_warning())

    def stderr(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    options = InvokeOptions(
        build=BuildOptions(
            backend=args.backend,
            out=args.out,
            engine=args.engine,
            offline=args.offline,
            progress=lambda message: stderr(f"  ... {message}"),
        ),
        environment=environment,
        aws=args.aws,
        interpreter=args.interpreter,
        log=stderr,
    )
    try:
        with _warnings_as_lines():
            result = invoke(
                manifest, args.name, event.payload, options, request_id=event.request_id
            )
    except VerificationFailedError as exc:
        print(f"sentiment-pipeline: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(json.dumps(result.to_json() if args.json else result.payload), flush=True)
    return EXIT_OK if result.ok else EXIT_PROBLEMS


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """The library's warnings as ``sentiment-pipeline: warning:`` lines while the block runs.

    A function error is no warning of ours: the function's log already shows it.
    """
    import logging

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR and hasattr(record, "request_id"):
                return  # an invocation's error: its [ERROR] line is in the function's log
            reason = getattr(record, "reason", None)
            warn(record.getMessage() + (f" ({reason})" if reason else ""))

    logger = logging.getLogger("sentiment_pipeline")
    handler = Lines(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def cmd_deploy(args: argparse.Namespace) -> int:
    from sentiment_pipeline.deployment import AwsCallError, DeployOptions, deploy
    from sentiment_pipeline.deployment.record import render

    progress = _progress(json_out=args.json)
    options = DeployOptions(
        backend=args.backend,
        only=args.lambdas,
        out=args.out,
        alias=args.alias,
        region=args.region,
        endpoint_url=args.endpoint_url,
        smoke=args.smoke,
        dry_run=args.dry_run,
        progress=progress,
    )
    try:
        record = deploy(args.manifest, options)
    except AwsCallError as exc:  # a deploy that was attempted: exit 1, not bad input
        print(f"sentiment-pipeline: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(json.dumps(record.to_json(), indent=2) if args.json else render(record))
    return EXIT_OK if record.ok else EXIT_PROBLEMS


def build_table(result: BuildResult) -> str:
    """The build's table: one row per artifact (sizes in MiB, as Lambda's limits), then
    its largest distributions, problems, notes and import check."""
    from sentiment_pipeline.packaging.results import mib

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
                mib(a.zipped),
                mib(a.unzipped),
                str(a.files),
                str(len(a.native)),
                "yes" if a.compiled else "no",
                verdict,
                "hit" if a.cache_hit else "miss",
                f"{a.seconds:.2f} s",
            )
        )
    lines = table(header, rows)
    for a in result.artifacts:
        for problem in a.problems:
            lines.append(f"{a.name}: [{problem.code.value}] {problem.message}")
        for warning in a.warnings:
            lines.append(f"{a.name}: warning: [{warning.code.value}] {warning.message}")
        if a.distributions and not a.cache_hit:
            lines.append(f"{a.name}: {_largest(a)}")
        for note in a.notes:
            lines.append(f"{a.name}: note: {note}")
        if a.dynamic and not a.cache_hit and a.kind == "function":
            lines.append(f"{a.name}: {a.dynamic}")
    lines.append("reports: " + ", ".join(str(p) for p in result.reports))
    return "\n".join(lines)


def _largest(artifact: ArtifactResult, count: int = 3) -> str:
    """``largest: pandas 58.1 MiB, numpy 26.0 MiB, ...; slim saved 31.2 MiB``."""
    from sentiment_pipeline.packaging.results import mib

    shown = ", ".join(f"{d.name} {mib(d.unzipped)}" for d in artifact.distributions[:count])
    more = len(artifact.distributions) - count
    line = f"largest: {shown}" + (f" (+{more} more)" if more > 0 else "")
    if artifact.slim:
        line += f"; {artifact.slim} saved {mib(artifact.saved)}"
    return line


COMMANDS = {
    "targets": cmd_targets,
    "verify": cmd_verify,
    "build": cmd_build,
    "serve": cmd_serve,
    "deploy": cmd_deploy,
    "invoke": cmd_invoke,
}
