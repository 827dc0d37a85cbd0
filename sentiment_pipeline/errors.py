"""The one exception hierarchy of sentiment-pipeline.

Every error the library raises on purpose derives from :class:`PipelineError`
and also from the built-in exception that fits, so callers can catch either.
Messages say what happened, the offending value and the fix; the CLI prints
them without a traceback.
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "PipelineError",
    "UnknownTargetError",
    "one_line",
]


def one_line(text: str) -> str:
    """Escape control characters (newlines in member names...) so a message stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class PipelineError(Exception):
    """Base class of every error raised by sentiment-pipeline."""


class UnknownTargetError(PipelineError, LookupError):
    """A runtime or architecture that the target catalog does not know.

    >>> raise UnknownTargetError("python2.7", "x86_64")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.errors.UnknownTargetError: unknown Lambda runtime 'python2.7' ...
    """

    def __init__(self, runtime: str, architecture: str, *, known: tuple[str, ...] = ()) -> None:
        self.runtime = runtime
        self.architecture = architecture
        self.known = known
        choices = f" Known: {', '.join(known)}." if known else ""
        super().__init__(
            f"unknown Lambda runtime {runtime!r} for architecture {architecture!r}.{choices}"
        )


class ArtifactError(PipelineError, ValueError):
    """An artifact that cannot be read at all (missing, not a zip, unreadable).

    This is unusable input (CLI exit 2), as opposed to a readable artifact
    with problems (exit 1).
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(one_line(f"{path}: {reason}"))
