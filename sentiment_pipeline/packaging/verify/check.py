"""The verifier: every static check and the dynamic import, into one report.

The listing is checked first (names, sizes, installed distributions, the handler);
then every member is read once (by two threads when the artifact allows it): hashed
against RECORD, sniffed, parsed if native, and written into the import check's
sandbox, whose interpreter was started first and imports as soon as the sandbox is
complete, while the ELF files are parsed beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.sandbox import Placed, is_layer_tree
from sentiment_pipeline.packaging.verify.contents import ContentChecks
from sentiment_pipeline.packaging.verify.declared import declared
from sentiment_pipeline.packaging.verify.distributions import find_distributions, installed_by
from sentiment_pipeline.packaging.verify.findings import Findings, ProblemCode, rebuild_hint
from sentiment_pipeline.packaging.verify.handler import HandlerChecks
from sentiment_pipeline.packaging.verify.modules import Layout
from sentiment_pipeline.packaging.verify.report import Checked, DynamicResult, Report
from sentiment_pipeline.packaging.verify.rules.binaries import BinaryChecks
from sentiment_pipeline.packaging.verify.rules.extensions import check_extension_names
from sentiment_pipeline.packaging.verify.rules.listing import ListingChecks
from sentiment_pipeline.packaging.verify.rules.records import check_missing
from sentiment_pipeline.packaging.verify.rules.shadowing import check_shadowing
from sentiment_pipeline.packaging.verify.rules.wheeltags import check_distribution
from sentiment_pipeline.packaging.verify.sources import open_tree

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.sandbox import Role
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.declared import Conflicts
    from sentiment_pipeline.packaging.verify.distributions import Distribution
    from sentiment_pipeline.packaging.verify.liveimport import LiveImport
    from sentiment_pipeline.packaging.verify.memo import ReadMemo
    from sentiment_pipeline.packaging.verify.rules.records import Owners
    from sentiment_pipeline.packaging.verify.sources import Tree

__all__ = ["verify", "verify_with"]


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
            findings.counts.distributions += 1
            for row in dist.records:
                claims[row.path] = (dist, row)
            visible = dist.base in prefixes
            if visible:
                found.append(dist)
            check_distribution(findings, target, placed, dist, importable=visible)
        owners[placed.order] = claims
        importable[placed.order] = found
    return owners, importable


def _add_loaded_libraries(findings: Findings, target: Target, dynamic: DynamicResult) -> None:
    """An ``unresolved-library`` problem for each module whose import loaded a library
    from outside the artifact and the runtime, except a soname a static check reported."""
    from sentiment_pipeline.packaging.verify.loaded import library_problems, named_libraries

    reported = named_libraries(
        p.message for p in findings.problems.values() if p.code == ProblemCode.UNRESOLVED_LIBRARY
    )
    place = "this machine" if dynamic.host_libraries else "the image"
    for module, message, fix in library_problems(target, dynamic.loaded, reported, place):
        findings.add(ProblemCode.UNRESOLVED_LIBRARY, module, message, fix)


def _not_checked(role: Role, handler: str | None, dynamic: DynamicResult) -> tuple[str, ...]:
    """What an "OK" does not cover, for the verdict: the handler, or its import."""
    if role == "layer":
        return ("handler not checked: a layer has none (verify its function with --layer)",)
    if handler is None:
        return ("handler not checked: no handler.py at the root and no --handler",)
    if not dynamic.ran:
        return (f"import not checked: {dynamic.summary.removeprefix('dynamic check skipped: ')}",)
    return ()


def verify(
    artifact: str | os.PathLike[str],
    target: Target | str,
    options: VerifyOptions | None = None,
) -> Report:
    """Check that ``artifact`` (with the layers of ``options``) will import and run on ``target``.

    ``artifact`` is a function zip, a layer zip, a directory, an OCI image layout
    (``oci:LAYOUT[:TAG]``) or an image in a registry (``docker://HOST/REPO:TAG``).
    ``target`` is a :class:`~sentiment_pipeline.packaging.targets.Target`, or a runtime
    name (``"python3.13"``): the architecture is then the image's (its config's
    ``architecture``), else ``x86_64``. An image's ``Cmd`` names the handler unless
    :attr:`VerifyOptions.handler` does; the report's ``checked.origin`` says where each
    came from. An image built for another architecture than a given ``Target``'s is
    unusable input:
    :class:`~sentiment_pipeline.packaging.verify.declared.ArchitectureConflictError`.
    Static checks always run; the handler is then imported in an interpreter of the
    target's Python version and architecture when one is available, or inside an
    image with a container engine (see :class:`VerifyOptions`; ``None``: the CLI's
    defaults, no layers and no engine). Problems are in the :class:`Report`, never
    raised; :class:`~sentiment_pipeline.errors.ArtifactError` is raised for unusable
    input (an artifact that cannot be read), and
    :class:`~sentiment_pipeline.packaging.install.engines.EngineError` for an engine
    named in ``options`` that cannot run here, when the import needs it.

    >>> from sentiment_pipeline import VerifyOptions, get_target
    >>> report = verify(
    ...     "dist/dashboard.zip",
    ...     get_target("python3.13"),
    ...     VerifyOptions(layers=["dist/common.zip"]),
    ... )  # doctest: +SKIP
    >>> report.ok, report.codes()  # doctest: +SKIP
    (False, {'missing-file'})
    """
    from sentiment_pipeline.packaging.install.engines import detect

    chosen = VerifyOptions() if options is None else options
    # Detected only when the import needs a container: a host interpreter makes it moot.
    return verify_with(artifact, target, chosen, container=lambda: detect(chosen.engine))


def verify_with(
    artifact: str | os.PathLike[str],
    target: Target | str,
    options: VerifyOptions,
    *,
    container: Callable[[], Engine | None],
    conflicts: Conflicts = "raise",
    memo: ReadMemo | None = None,
) -> Report:
    """:func:`verify` with the container engine given: ``container()`` returns it (or
    None), called only when the import check needs one. A build passes the engine it
    detected already (:attr:`VerifyOptions.engine` is then only what the user chose),
    and ``conflicts="report"``: its own image built for another architecture than the
    target's is an ``arch-mismatch`` problem, not unusable input. With ``memo``, the
    members' facts are recorded for, or replayed from, an artifact verified earlier in
    the same build (:mod:`.memo`)."""
    from sentiment_pipeline.packaging.verify.dynamic import run_dynamic
    from sentiment_pipeline.packaging.verify.liveimport import start_import

    trees: list[Tree] = []
    try:
        main = open_tree(artifact)
        trees.append(main)
        described = declared(main, target, options.handler, conflicts=conflicts)
        target, handler = described.target, described.handler
        origin: dict[str, str] = dict(described.origin)
        for layer in options.layers:
            trees.append(open_tree(layer))
        main_entries = main.entries()
        role: Role = "layer" if handler is None and is_layer_tree(main_entries) else "function"
        placed = [Placed(main, role, 0 if role == "function" else 1)]
        base = 1 if role == "function" else 2
        placed += [Placed(tree, "layer", base + i) for i, tree in enumerate(trees[1:])]
        layout = Layout(target, placed)
        findings = Findings()
        findings.notes.extend(described.notes)
        if described.conflict is not None:
            findings.add(ProblemCode.ARCH_MISMATCH, "image config", described.conflict)
        if installed_by(trees) == "pip":  # the fix in the words the artifact was made with
            findings.spelling[rebuild_hint(target)] = rebuild_hint(target, "pip")
        listing = ListingChecks(findings, target)
        for p in placed:
            listing.check(p)
            check_extension_names(findings, target, p)
        listing.check_size(placed, s3_upload=options.s3_upload)
        listing.note_foreign_bytecode()
        owners, importable = _installed(findings, target, layout)
        check_shadowing(findings, layout.roots, importable)
        for p in placed:
            check_missing(findings, p, owners[p.order])
        if handler is None and role == "function" and layout.find_module("handler") is not None:
            handler = "handler.lambda_handler"
            origin["handler"] = "default"
        found = handler is not None and HandlerChecks(
            target, layout, owners, findings.add, findings.notes
        ).check_handler(handler)
        skip = None
        if not options.dynamic:
            skip = "--no-import"
        elif not found:
            skip = "no importable handler"
        elif findings.found(ProblemCode.UNSAFE_PATH):
            skip = "unsafe paths"
        in_image = options.prefer_image and options.engine != "none"
        # The import check starts now and waits while the static checks stream every
        # member once, writing each into its sandbox; then it imports while the ELF
        # files are parsed (two cores busy instead of one after the other).
        live: LiveImport | None = None
        if skip is None and handler is not None and not in_image:
            live = start_import(
                target,
                placed,
                handler,
                interpreter=options.interpreter,
                offline=options.offline,
                own=options.environment,
            )
        binaries = BinaryChecks(findings, target, placed)
        contents = ContentChecks(findings, binaries)
        try:
            for p, path in zip(placed, (artifact, *options.layers), strict=True):
                contents.stream(
                    p,
                    owners[p.order],
                    live.sandbox if live is not None else None,
                    known=memo.known(path) if memo is not None else None,
                    record=memo.recording(path) if memo is not None else None,
                )
            contents.open_pending()
            if live is not None:
                live.go()
            contents.parse_pending()
            binaries.check_libraries()
            if skip or handler is None:
                dynamic = DynamicResult(False, f"dynamic check skipped: {skip}")
            else:
                if live is not None:
                    dynamic = live.finish()
                else:
                    engine = container()
                    dynamic = run_dynamic(
                        target,
                        placed,
                        handler,
                        interpreter=options.interpreter,
                        offline=options.offline,
                        engine=engine,
                        image=options.image or target.build_image,
                        prefer_image=options.prefer_image,
                        own=options.environment,
                    )
                if dynamic.problem is not None:
                    findings.add(ProblemCode.IMPORT_FAILED, handler, dynamic.problem)
                _add_loaded_libraries(findings, target, dynamic)
                if dynamic.imported:
                    # The import check is what the runtime does at import time: an import
                    # the static walk could not resolve did not stop it (a guard it cannot
                    # read, a path the code adds to sys.path): a warning, not a failure.
                    findings.demote(
                        ProblemCode.UNRESOLVED_IMPORT,
                        f"Not a failure: {dynamic.interpreter} imported {handler} all the "
                        "same (found at run time in a way the static check cannot follow, e.g. "
                        "a folder the code adds to sys.path).",
                    )
        finally:
            contents.close()
            if live is not None:
                live.close()
        counts = findings.counts
        checked = Checked(
            artifact=str(artifact),
            kind=role,
            layers=tuple(str(layer) for layer in options.layers),
            files=counts.files,
            bytes_unzipped=counts.bytes_unzipped,
            hashed_files=counts.hashed_files,
            native_files=counts.native_files,
            distributions=counts.distributions,
            handler=handler,
            dynamic=dynamic,
            not_checked=_not_checked(role, handler, dynamic),
            native=tuple(findings.native),
            notes=tuple(findings.notes),
            origin=origin,
            warnings=tuple(w for w in (target.deprecation_warning(),) if w),
        )
        return Report(
            target=target,
            problems=findings.sorted_problems(),
            checked=checked,
            warnings=findings.sorted_warnings(),
        )
    finally:
        for tree in trees:
            tree.close()
