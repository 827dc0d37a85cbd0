"""One distribution at two versions on Lambda's import path: the first copy on the
path is imported, code built against the other may break."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.verify.findings import ProblemCode, where

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sentiment_pipeline.packaging.sandbox import ImportRoot, Placed
    from sentiment_pipeline.packaging.verify.distributions import Distribution
    from sentiment_pipeline.packaging.verify.findings import Findings

__all__ = ["check_shadowing"]


def check_shadowing(
    findings: Findings,
    roots: Iterable[ImportRoot],
    importable: Mapping[int, Sequence[Distribution]],
) -> None:
    """Every distribution shadowed by the same one at another version earlier on the
    path: ``roots`` in ``sys.path`` order, ``importable`` the distributions installed in
    an import root of each artifact (by its order)."""
    seen: dict[str, tuple[Placed, Distribution]] = {}
    for root in roots:
        placed = root.placed
        for dist in importable.get(placed.order, ()):
            if dist.base != root.prefix:
                continue
            if dist.name not in seen:
                seen[dist.name] = (placed, dist)
                continue
            winner_placed, winner = seen[dist.name]
            if winner.version == dist.version:
                continue
            findings.add(
                ProblemCode.SHADOWED_DISTRIBUTION,
                where(placed, dist.dist_info),
                f"{dist.display_name} {dist.version} in {placed.label} "
                f"({placed.tree.path.name}) is shadowed by {winner.display_name} "
                f"{winner.version} in {winner_placed.label} "
                f"({winner_placed.tree.path.name}): Lambda imports the "
                f"{winner.version} copy, and code built against {dist.version} may "
                "break. Pin one version everywhere, or drop it from the "
                f"{winner_placed.label} so the other copy is used.",
            )
