"""Where the target's architecture and the handler come from: given, declared by the
artifact itself, or the defaults.

An image declares both in its config: ``architecture`` (``amd64``, ``arm64``) and
``Cmd``, the one ``module.function`` string Lambda's base images hand to their runtime
interface client. What is given wins. An image built for another architecture than the
one given is a conflict: an error naming both (:class:`ArchitectureConflictError`), or,
when a build verifies the image it made for a known target, an ``arch-mismatch`` problem.
Zips and directories declare nothing: the architecture is then given or ``x86_64``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from sentiment_pipeline.errors import ArtifactError
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.imports import parse_handler

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.sources import Tree

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "ArchitectureConflictError",
    "Conflicts",
    "Declared",
    "Origin",
    "declared",
]

Origin = Literal["given", "image", "default"]
"""Where a fact of the verification came from: the caller (``--architecture``,
``--handler``, a :class:`~sentiment_pipeline.packaging.targets.Target`), the image's
config, or the default."""

Conflicts = Literal["raise", "report"]
"""What a conflict between the given architecture and the image's is: an error
(``raise``), or a problem of the report (``report``: a build's own image)."""

DEFAULT_ARCHITECTURE = "x86_64"
"""The architecture when neither the caller nor the artifact names one (Lambda's default)."""


class ArchitectureConflictError(ArtifactError):
    """An image built for one architecture, verified for another one given explicitly."""

    def __init__(self, label: str, declared: str, given: str) -> None:
        self.declared = declared
        self.given = given
        super().__init__(label, conflict_message(declared, given))


def conflict_message(declared: str, given: str) -> str:
    """Why an image built for ``declared`` cannot be verified for ``given``, and the fix."""
    return (
        f"the image is built for {declared} (its config's architecture), but {given} was "
        f"given as the target's architecture (--architecture): verify it for {declared} "
        f"(drop --architecture, or pass --architecture {declared}), or build the image "
        f"for {given}"
    )


@attrs.frozen
class Declared:
    """The target and handler to verify with, where each came from, and what to note."""

    target: Target
    handler: str | None
    origin: dict[str, Origin] = attrs.field(hash=False)
    """``{"architecture": ..., "handler": ...}`` (``handler`` only when there is one)."""
    notes: tuple[str, ...] = ()
    conflict: str | None = None
    """The conflict's message, when it is reported as a problem rather than raised."""


def _cmd_handler(cmd: object) -> tuple[str | None, str | None]:
    """The handler ``Cmd`` names, or a note on why it names none."""
    if cmd is None or cmd == []:
        return None, None
    if (
        isinstance(cmd, list)
        and len(cmd) == 1
        and isinstance(cmd[0], str)
        and parse_handler(cmd[0]) is not None
    ):
        return cmd[0], None
    return None, (
        f"the image's Cmd {cmd!r} is not a Lambda handler (one 'module.function' string, "
        'as Lambda\'s base images expect); set CMD ["module.function"] or give --handler'
    )


def declared(
    tree: Tree,
    target: Target | str,
    handler: str | None,
    *,
    conflicts: Conflicts = "raise",
) -> Declared:
    """The target and handler of ``tree``: ``target`` is a
    :class:`~sentiment_pipeline.packaging.targets.Target` (its architecture is given) or
    a runtime name (the architecture is the image's, else :data:`DEFAULT_ARCHITECTURE`);
    ``handler`` is the one given, or None (the image's ``Cmd``, if it names one).

    Raises :class:`ArchitectureConflictError` when a given architecture differs from
    the image's and ``conflicts`` is ``"raise"``.
    """
    image_arch: str | None = getattr(tree, "architecture", None) if tree.kind == "image" else None
    origin: dict[str, Origin] = {}
    notes: list[str] = []
    conflict = None
    if isinstance(target, str):
        chosen = get_target(target, image_arch or DEFAULT_ARCHITECTURE)
        origin["architecture"] = "image" if image_arch else "default"
    else:
        chosen = target
        origin["architecture"] = "given"
        if image_arch is not None and image_arch != chosen.architecture:
            if conflicts == "raise":
                raise ArchitectureConflictError(tree.label, image_arch, chosen.architecture)
            conflict = conflict_message(image_arch, chosen.architecture)
    if tree.kind == "image":
        from_cmd, why_not = _cmd_handler(getattr(tree, "cmd", None))
        if handler is None and from_cmd is not None:
            handler = from_cmd
            origin["handler"] = "image"
        elif handler is not None:
            origin["handler"] = "given"
            if from_cmd is not None and from_cmd != handler:
                notes.append(
                    f"handler {handler} was given; the image's Cmd names {from_cmd}, which "
                    "Lambda runs unless the function's ImageConfig overrides the command"
                )
        if why_not is not None and handler is None:
            notes.append(why_not)
    elif handler is not None:
        origin["handler"] = "given"
    return Declared(chosen, handler, origin, tuple(notes), conflict)
