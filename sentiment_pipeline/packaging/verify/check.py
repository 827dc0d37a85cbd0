"""The verifier: every static check and the dynamic import, into one report.

The listing is checked first (names, sizes, installed distributions, the handler);
then every member is read once (by two threads when the artifact allows it): hashed
against RECORD, sniffed, parsed if native, and written into the import check's
sandbox, whose interpreter was started first and imports as soon as the sandbox is
complete, while the ELF files are parsed beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.sandbox import Placed, is_layer_tree
from sentiment_pipeline.packaging.verify.contents import ContentChecks
from sentiment_pipeline.packaging.verify.distributions import find_distributions
from sentiment_pipeline.packaging.verify.findings import Findings, ProblemCode
from sentiment_pipeline.packaging.verify.handler import HandlerChecks
from sentiment_pipeline.packaging.verify.modules import Layout
from sentiment_pipeline.packaging.verify.report import Report
from sentiment_pipeline.packaging.verify.rules.binaries import BinaryChecks
from sentiment_pipeline.packaging.verify.rules.extensions import check_extension_names
from sentiment_pipeline.packaging.verify.rules.listing import ListingChecks
from sentiment_pipeline.packaging.verify.rules.records import check_missing
from sentiment_pipeline.packaging.verify.rules.shadowing import check_shadowing
from sentiment_pipeline.packaging.verify.rules.wheeltags import check_distribution
from sentiment_pipeline.packaging.verify.sources import open_tree

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.distributions import Distribution
    from sentiment_pipeline.packaging.verify.liveimport import LiveImport
    from sentiment_pipeline.packaging.verify.rules.records import Owners
    from sentiment_pipeline.packaging.verify.sources import Tree

__all__ = ["verify"]


def _installed(
    findings: Findings, target: Target, layout: Layout
) -> tuple[dict[int, Owners], dict[int, list[Distribution]]]:
    """Per artifact (by order): which distribution claims each file, and the
    distributions installed where Lambda imports from; each checked against the target."""
    owners: dict[int, Owners] = {}
    importable: dict[int, list[Distribution]] = {}
    for placed in layout.placed:
        prefixes = {root.prefix for root in layout.roots if root.placed is placed}
        claims: Owners = {}
        found: list[Distribution] = []
        for dist in find_distributions(placed.tree, placed.tree.entries()):
            findings.stats["distributions"] += 1
            for row in dist.records:
                claims[row.path] = (dist, row)
            visible = dist.base in prefixes
            if visible:
                found.append(dist)
            check_distribution(findings, target, placed, dist, importable=visible)
        owners[placed.order] = claims
        importable[placed.order] = found
    return owners, importable


def _not_checked(role: str, handler: str | None, dynamic: dict[str, Any]) -> list[str]:
    """What an "OK" does not cover, for the verdict: the handler, or its import."""
    if role == "layer":
        return ["handler not checked: a layer has none (verify its function with --layer)"]
    if handler is None:
        return ["handler not checked: no handler.py at the root and no --handler"]
    if not dynamic.get("ran"):
        reason = str(dynamic.get("summary", "")).removeprefix("dynamic check skipped: ")
        return [f"import not checked: {reason}"]
    return []


def verify(
    artifact: str | os.PathLike[str],
    *,
    target: Target,
    layers: Sequence[str | os.PathLike[str]] = (),
    handler: str | None = None,
    dynamic: bool = True,
    s3_upload: bool = False,
    interpreter: str | None = None,
    offline: bool = False,
    engine: Engine | None = None,
    image: str | None = None,
    prefer_image: bool = False,
) -> Report:
    """Check that ``artifact`` (plus ``layers``) will import and run on ``target``.

    Static checks always run; the dynamic import runs when ``dynamic`` is true and
    an interpreter of the target's Python version and architecture is available.
    ``offline`` keeps it from fetching the runtime's SDK when it is not cached. With
    ``engine`` and ``image``, the import runs inside that image when this machine has no
    interpreter of the target (a python3.13 artifact proven on a python3.11 host).
    Raises :class:`~sentiment_pipeline.errors.ArtifactError` for unusable input.

    >>> from sentiment_pipeline import get_target
    >>> report = verify("dist/dashboard.zip", target=get_target("python3.13"))  # doctest: +SKIP
    >>> report.ok, report.codes()  # doctest: +SKIP
    (False, {'missing-file'})
    """
    from sentiment_pipeline.packaging.verify.dynamic import DynamicResult, run_dynamic
    from sentiment_pipeline.packaging.verify.liveimport import start_import

    trees: list[Tree] = []
    try:
        main = open_tree(artifact)
        trees.append(main)
        for layer in layers:
            trees.append(open_tree(layer))
        main_entries = main.entries()
        role = "layer" if handler is None and is_layer_tree(main_entries) else "function"
        placed = [Placed(main, role, 0 if role == "function" else 1)]  # type: ignore[arg-type]
        base = 1 if role == "function" else 2
        placed += [Placed(tree, "layer", base + i) for i, tree in enumerate(trees[1:])]
        layout = Layout(target, placed)
        findings = Findings()
        listing = ListingChecks(findings, target)
        for p in placed:
            listing.check(p)
            check_extension_names(findings, target, p)
        listing.check_size(placed, s3_upload=s3_upload)
        listing.note_foreign_bytecode()
        owners, importable = _installed(findings, target, layout)
        check_shadowing(findings, layout.roots, importable)
        for p in placed:
            check_missing(findings, p, owners[p.order])
        if handler is None and role == "function" and layout.find_module("handler") is not None:
            handler = "handler.lambda_handler"
        handler_info: dict[str, Any] = {}
        if handler is not None:
            handler_info = HandlerChecks(
                target, layout, owners, findings.add, findings.notes
            ).check_handler(handler)
        skip = None
        if not dynamic:
            skip = "--no-import"
        elif not handler_info.get("found"):
            skip = "no importable handler"
        elif findings.found(ProblemCode.UNSAFE_PATH):
            skip = "unsafe paths"
        # The import check starts now and waits while the static checks stream every
        # member once, writing each into its sandbox; then it imports while the ELF
        # files are parsed (two cores busy instead of one after the other).
        live: LiveImport | None = None
        if skip is None and handler is not None and not (prefer_image and engine and image):
            live = start_import(target, placed, handler, interpreter=interpreter, offline=offline)
        contents = ContentChecks(findings, BinaryChecks(findings, target, placed))
        try:
            for p in placed:
                contents.stream(p, owners[p.order], live.sandbox if live is not None else None)
            contents.open_pending()
            if live is not None:
                live.go()
            contents.parse_pending()
            if skip or handler is None:
                dyn = DynamicResult(False, f"dynamic check skipped: {skip}").to_json()
            else:
                if live is not None:
                    result = live.finish()
                else:
                    result = run_dynamic(
                        target,
                        placed,
                        handler,
                        interpreter=interpreter,
                        offline=offline,
                        engine=engine,
                        image=image,
                        prefer_image=prefer_image,
                    )
                dyn = result.to_json()
                if result.problem is not None:
                    findings.add(ProblemCode.IMPORT_FAILED, handler, result.problem)
        finally:
            contents.close()
            if live is not None:
                live.close()
        checked: dict[str, Any] = {
            "artifact": str(artifact),
            "kind": role,
            "layers": [str(layer) for layer in layers],
            **findings.stats,
            "handler": handler,
            "dynamic": dyn,
            "not_checked": _not_checked(role, handler, dyn),
            "native": findings.native,
            "notes": findings.notes,
        }
        return Report(target=target, problems=findings.sorted_problems(), checked=checked)
    finally:
        for tree in trees:
            tree.close()
