"""The one exception hierarchy of sentiment-pipeline.

Every error the library raises on purpose derives from :class:`PipelineError`
and also from the built-in exception that fits, so callers can catch either.
Messages say what happened, the offending value and the fix; the CLI prints
them without a traceback.
"""

from __future__ import annotations

__all__ = [
    "AnalysisRetryError",
    "ArtifactError",
    "ConfigurationError",
    "InvalidCursorError",
    "NewsAPIError",
    "PipelineError",
    "SecretUnavailableError",
    "StorageUnavailableError",
    "UnknownModelError",
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

    def __init__(
        self,
        runtime: str,
        architecture: str,
        *,
        known: tuple[str, ...] = (),
        reason: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.architecture = architecture
        self.known = known
        choices = f" Known: {', '.join(known)}." if known else ""
        # ``reason``: what exactly is unknown (the architecture, a retired runtime).
        problem = reason or f"unknown Lambda runtime {runtime!r} for architecture {architecture!r}"
        super().__init__(one_line(f"{problem}.{choices}"))


class ArtifactError(PipelineError, ValueError):
    """An artifact that cannot be read at all (missing, not a zip, unreadable).

    This is unusable input (CLI exit 2), as opposed to a readable artifact
    with problems (exit 1).
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(one_line(f"{path}: {reason}"))


# --- the pipeline's runtime errors (importable inside a Lambda: no packaging code) ---


class ConfigurationError(PipelineError, RuntimeError):
    """A setting the Lambda needs is missing or invalid in its environment.

    >>> raise ConfigurationError("DYNAMODB_TABLE", "is not set")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.errors.ConfigurationError: DYNAMODB_TABLE is not set; set it ...
    """

    def __init__(self, setting: str, problem: str = "is not set") -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(
            one_line(f"{setting} {problem}; set it in the function's environment variables")
        )


class SecretUnavailableError(PipelineError, ConnectionError):
    """Secrets Manager could not give a secret (unreachable, denied, missing, empty).

    The secret's ARN is named, never its value.
    """

    def __init__(self, secret_id: str, reason: str) -> None:
        self.secret_id = secret_id
        self.reason = reason
        super().__init__(one_line(f"secret {secret_id!r} unavailable: {reason}"))


class StorageUnavailableError(PipelineError, ConnectionError):
    """The item store (DynamoDB) could not be reached or refused the request."""

    def __init__(self, table: str, reason: str) -> None:
        self.table = table
        self.reason = reason
        super().__init__(one_line(f"table {table!r} unavailable: {reason}"))


class InvalidCursorError(PipelineError, ValueError):
    """A pagination or stream cursor that this library did not produce."""

    def __init__(self, cursor: str) -> None:
        self.cursor = cursor
        shown = cursor if len(cursor) <= 80 else cursor[:77] + "..."
        super().__init__(
            one_line(f"invalid cursor {shown!r}: pass back a cursor from a previous response")
        )


class NewsAPIError(PipelineError, RuntimeError):
    """NewsAPI answered with an error that stops the run (or could not be reached).

    ``code`` is NewsAPI's own error code (``apiKeyInvalid``, ``rateLimited``...)
    or ``networkError``.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(one_line(f"NewsAPI {status} {code}: {message}"))


class UnknownModelError(PipelineError, LookupError):
    """A sentiment model name with no entry point in ``sentiment_pipeline.models``."""

    def __init__(self, name: str, available: tuple[str, ...]) -> None:
        self.name = name
        self.available = available
        super().__init__(
            one_line(
                f"no sentiment model {name!r}. Available: {', '.join(available) or 'none'}. "
                "Set SENTIMENT_MODEL to one of them, or install a package that declares it "
                "in the 'sentiment_pipeline.models' entry-point group."
            )
        )


class AnalysisRetryError(PipelineError, RuntimeError):
    """Some items of an SNS event failed to analyse but have attempts left.

    The analysis handler raises it after recording every other result, so that
    Lambda's asynchronous retry delivers the event again; the items already
    analysed are then duplicates and change nothing.
    """

    def __init__(self, pks: tuple[str, ...]) -> None:
        self.pks = pks
        super().__init__(f"{len(pks)} item(s) to retry: {', '.join(pks[:5])}")
