"""The options of a deploy: every choice of ``sentiment-pipeline deploy`` in one value."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs

from sentiment_pipeline.packaging.options import OptionsError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["SMOKE_CHOICES", "DeployOptions", "SmokeMode"]

SmokeMode = Literal["aws", "local", "none"]
"""How a new version is tested before traffic moves to it: invoked in AWS (``aws``),
its artifact run by the local runner (``local``), or not at all (``none``)."""

SMOKE_CHOICES: tuple[SmokeMode, ...] = get_args(SmokeMode)


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _absolute(value: str | Path) -> Path:
    return Path(value).resolve()


def _known_smoke(instance: Any, attribute: Any, value: object) -> None:
    if value not in SMOKE_CHOICES:
        raise OptionsError(
            attribute.name, f"unknown smoke {value!r}; choose one of {', '.join(SMOKE_CHOICES)}"
        )


def _alias(instance: Any, attribute: Any, value: str | None) -> None:
    import re

    if value is not None and (not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", value) or value.isdigit()):
        raise OptionsError(
            attribute.name,
            f"{value!r} is not an alias name (letters, digits, '-', '_'; not a number)",
        )


def _quiet(message: str) -> None:
    """The default progress callback: says nothing."""


@attrs.frozen
class DeployOptions:
    """What to deploy and how: every choice of ``sentiment-pipeline deploy`` in one value.

    ``out`` (where the build wrote its reports) is made absolute against the working
    directory when the options are made, as the build's.

    >>> options = DeployOptions(only="api", smoke="local", dry_run=True)
    >>> options.only, options.smoke, options.out.is_absolute()
    (('api',), 'local', True)
    """

    backend: str | None = None
    """Deploy the artifacts this backend built (``--backend``), instead of each
    Lambda's ``backend`` setting."""
    only: tuple[str, ...] = attrs.field(default=(), converter=_names)
    """The Lambdas to deploy (``--lambda``); empty: all of them."""
    out: Path = attrs.field(default=Path("dist"), converter=_absolute)
    """The build's output folder: ``<out>/<backend>/report.json`` is read,
    ``<out>/deploy.json`` written (``--out``)."""
    alias: str | None = attrs.field(default=None, validator=_alias)
    """The alias that takes traffic, instead of the manifest's (``--alias``)."""
    region: str | None = None
    """The AWS region (``--region``); default: the AWS configuration's."""
    endpoint_url: str | None = None
    """Another Lambda endpoint (``--endpoint-url``): a moto server, a proxy."""
    smoke: SmokeMode = attrs.field(default="aws", validator=_known_smoke)
    """How each new version is tested before its alias moves (``--smoke``)."""
    dry_run: bool = False
    """Read the state, print the plan, change nothing (``--dry-run``)."""
    progress: Callable[[str], None] = attrs.field(default=_quiet, eq=False, repr=False)
    """Called with one line per step (``api: updating code``)."""
