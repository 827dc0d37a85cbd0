"""Installed distributions against the target: their wheel tags (``WHEEL``), and, in a
layer, whether they sit in the site-packages the target's runtime reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.tags import parse_tag

from sentiment_pipeline.packaging.sandbox import LAYER_PYTHON, layer_site_packages
from sentiment_pipeline.packaging.verify.findings import ProblemCode, rebuild_hint, where

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.distributions import Distribution
    from sentiment_pipeline.packaging.verify.findings import Findings

__all__ = ["check_distribution"]


def _expand(compressed: tuple[str, ...]) -> set[str]:
    """Expand compressed tag sets (``cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64``)."""
    out: set[str] = set()
    for tag in compressed:
        try:
            out.update(str(t) for t in parse_tag(tag))
        except ValueError:
            continue  # a malformed tag matches nothing
    return out


def check_distribution(
    findings: Findings, target: Target, placed: Placed, dist: Distribution, *, importable: bool
) -> None:
    """``dist`` of ``placed``: installed where Lambda looks (``importable``) and from a
    wheel the target accepts."""
    t = target
    site = layer_site_packages(t)
    if (
        not importable
        and placed.role == "layer"
        and dist.base.startswith(f"{LAYER_PYTHON}/lib/python")
    ):
        findings.add(
            ProblemCode.ABI_MISMATCH,
            where(placed, dist.dist_info),
            f"{dist.display_name} {dist.version} is installed under "
            f"{dist.base}/, which {t.runtime} never puts on sys.path (it reads "
            f"{site}/ and {LAYER_PYTHON}/). Rebuild the layer for {t.runtime}.",
        )
    if dist.tags and not any(tag in t.wheel_tag_set for tag in _expand(dist.tags)):
        findings.add(
            ProblemCode.WHEEL_TAG_INCOMPATIBLE,
            where(placed, dist.dist_info),
            f"{dist.display_name} {dist.version} was installed from a wheel tagged "
            f"{', '.join(dist.tags)}, which {t.runtime} on {t.architecture} does "
            f"not accept (it takes {t.cp}, abi3 or py3 wheels for "
            f"{t.platform_tags[0]} or older).",
            fix=rebuild_hint(t),
        )
