"""The ``sentiment-pipeline`` command.

Exit codes: 0 success (no problems found), 1 problems found, 2 unusable input (bad
arguments, unknown runtime, unreadable artifact), 128 + the signal's number when
interrupted. Errors are one line on stderr, never a traceback.

The grammar is :mod:`.arguments`, what each command does :mod:`.commands`, and how
SIGINT and SIGTERM unwind a command :mod:`.signals`.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING

from sentiment_pipeline.cli.arguments import EXIT_PROBLEMS, EXIT_USAGE, build_parser
from sentiment_pipeline.cli.signals import Interrupted, signals_interrupt
from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Interrupted", "main"]


def _failures() -> tuple[type[Exception], ...]:
    """Errors of a build that was attempted (exit 1), as opposed to bad input (exit 2)."""
    from sentiment_pipeline.local.serve import BuildFailedError
    from sentiment_pipeline.local.stack import InitError
    from sentiment_pipeline.packaging.backend import StepError
    from sentiment_pipeline.packaging.cache import CacheError
    from sentiment_pipeline.packaging.install.sdist import SdistError
    from sentiment_pipeline.packaging.lock import ResolutionError

    return (ResolutionError, StepError, CacheError, SdistError, BuildFailedError, InitError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from sentiment_pipeline.cli.commands import COMMANDS

    args = build_parser().parse_args(argv)
    try:
        with signals_interrupt():
            return COMMANDS[args.command](args)
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
