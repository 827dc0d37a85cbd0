"""The errors of a deploy: refused input (nothing was uploaded) and failed AWS calls.

A refusal is unusable input (the CLI exits 2): an artifact that is missing, failed its
verification or changed since, a function that cannot be created. A failed call is a
deploy that was attempted (exit 1). Each problem is one line naming the function, what
happened and the fix.
"""

from __future__ import annotations

from sentiment_pipeline.errors import PipelineError, one_line

__all__ = ["AwsCallError", "DeployError", "RefusedError"]


class DeployError(PipelineError, RuntimeError):
    """Base class of the deploy's errors."""


class RefusedError(DeployError, ValueError):
    """What the deploy was asked to deploy cannot be deployed; ``problems`` has one line
    per problem, each with the command that fixes it. Nothing was uploaded."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [one_line(p) for p in problems]
        super().__init__("\n".join(self.problems))


class AwsCallError(DeployError, ConnectionError):
    """An AWS call failed for good (after its retries): one sentence with the function,
    the call and the fix; never a credential."""

    def __init__(self, function: str, call: str, message: str) -> None:
        self.function = function
        self.call = call
        super().__init__(one_line(f"{function}: {call}: {message}"))
