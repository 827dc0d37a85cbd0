"""The verifier: every static check, then the dynamic import, into one report."""

from __future__ import annotations

import hashlib
import posixpath
import tempfile
from typing import IO, TYPE_CHECKING, Any

from packaging.tags import parse_tag

from ..errors import one_line
from .distributions import Distribution, RecordRow, find_distributions, record_digest
from .findings import Problem, ProblemCode
from .handler import HandlerChecks
from .layout import ImportRoot, Layout, Placed, is_layer_tree
from .native import ElfInfo, parse_elf, parse_extension_name, sniff
from .report import Report
from .sources import READ_ERRORS, Entry, Tree, open_tree

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from ..install.engines import Engine
    from ..targets import Target

__all__ = ["verify"]

_CHUNK = 1 << 20
_SPOOL = 8 << 20  # larger ELF files go to a temporary file: memory stays flat


def _rebuild_hint(target: Target) -> str:
    return (
        f"Reinstall the dependencies for the target, e.g. `uv pip install --python-platform "
        f"{target.machine}-manylinux_{target.glibc[0]}_{target.glibc[1]} --python-version "
        f"{target.python} --only-binary :all: --target DIR -r requirements.txt`"
    )


def _expand(compressed: tuple[str, ...]) -> set[str]:
    """Expand compressed tag sets (``cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64``)."""
    out: set[str] = set()
    for tag in compressed:
        try:
            out.update(str(t) for t in parse_tag(tag))
        except ValueError:
            continue  # a malformed tag matches nothing
    return out


class _Checker:
    def __init__(self, target: Target, layout: Layout, *, s3_upload: bool) -> None:
        self.target = target
        self.layout = layout
        self.s3_upload = s3_upload
        self.problems: dict[tuple[ProblemCode, str], Problem] = {}
        self.notes: list[str] = []
        self.native: list[str] = []
        self.stats: dict[str, int] = {
            "files": 0,
            "bytes_unzipped": 0,
            "hashed_files": 0,
            "native_files": 0,
            "distributions": 0,
        }
        self.dists: dict[int, list[Distribution]] = {}
        self.owned: dict[int, dict[str, tuple[Distribution, RecordRow]]] = {}

    # -- helpers -----------------------------------------------------------------------
    def add(self, code: ProblemCode, path: str, message: str) -> None:
        path = one_line(path)
        self.problems.setdefault((code, path), Problem(code, path, one_line(message)))

    @staticmethod
    def where(placed: Placed, name: str) -> str:
        if placed.role == "function":
            return name
        return f"{placed.tree.path.name}:{name}"

    # -- listing-level checks ----------------------------------------------------------
    def check_listing(self, placed: Placed) -> None:
        t = self.target
        for entry in placed.tree.entries():
            if entry.unsafe:
                self.add(
                    ProblemCode.UNSAFE_PATH,
                    self.where(placed, entry.name),
                    f"{entry.name} {entry.unsafe}. Rebuild the artifact from a clean "
                    "directory; never deploy an archive with such entries.",
                )
                continue
            if entry.kind != "file":
                continue
            self.stats["files"] += 1
            self.stats["bytes_unzipped"] += entry.size
            ext = parse_extension_name(entry.name)
            if ext is None:
                continue
            where = self.where(placed, entry.name)
            if ext.os == "windows":
                self.add(
                    ProblemCode.NOT_LINUX,
                    where,
                    f"{entry.name} is a Windows extension module; Lambda runs Linux. "
                    + _rebuild_hint(t),
                )
            elif ext.os == "darwin":
                self.add(
                    ProblemCode.NOT_LINUX,
                    where,
                    f"{entry.name} is a macOS extension module; Lambda runs Linux. "
                    + _rebuild_hint(t),
                )
            elif ext.machine is not None and ext.machine != t.machine:
                self.add(
                    ProblemCode.ARCH_MISMATCH,
                    where,
                    f"{entry.name} is built for {ext.machine}; {t.runtime} on "
                    f"{t.architecture} needs {t.machine} extensions. " + _rebuild_hint(t),
                )
            elif ext.python != t.python_version or ext.flags or ext.os != "linux-gnu":
                built = f"CPython {ext.python[0]}.{ext.python[1]}"
                if ext.flags:
                    built += f" with ABI flags {ext.flags!r}"
                    if "t" in ext.flags:
                        built += " (free-threaded)"
                if ext.os != "linux-gnu":
                    built += f" on {ext.os}"
                self.add(
                    ProblemCode.ABI_MISMATCH,
                    where,
                    f"{entry.name} is built for {built}; {t.runtime} needs "
                    f"{t.extension_suffixes[0].strip('.')} or abi3 extensions, and the "
                    "import fails with 'No module named ...'. " + _rebuild_hint(t),
                )

    def check_size(self) -> None:
        t = self.target
        layers = [p for p in self.layout.placed if p.role == "layer"]
        if len(layers) > t.limits.layers:
            self.add(
                ProblemCode.SIZE_LIMIT,
                "layers",
                f"{len(layers)} layers given; Lambda allows at most {t.limits.layers} per "
                "function. Merge layers, or move dependencies into the function.",
            )
        total = self.stats["bytes_unzipped"]
        if any(p.tree.kind == "image" for p in self.layout.placed):
            if total > t.limits.image:
                self.add(
                    ProblemCode.SIZE_LIMIT,
                    "image",
                    f"/var/task holds {total} bytes, over Lambda's {t.limits.image} byte "
                    "(10 GB) image limit. Drop unused dependencies, data and models.",
                )
        elif total > t.limits.unzipped:
            what = "function and layers" if layers else "artifact"
            self.add(
                ProblemCode.SIZE_LIMIT,
                "unzipped",
                f"the {what} unpack to {total} bytes ({total / 2**20:.1f} MiB); Lambda's "
                f"limit is {t.limits.unzipped} bytes (250 MiB) including all layers. Drop "
                "unused dependencies, strip tests and data, or use a container image "
                "(10 GB).",
            )
        for placed in self.layout.placed:
            size = placed.tree.archive_size
            if size is not None and size > t.limits.zipped_upload and not self.s3_upload:
                self.add(
                    ProblemCode.SIZE_LIMIT,
                    placed.tree.label,
                    f"the zip is {size} bytes ({size / 2**20:.1f} MiB), over the "
                    f"{t.limits.zipped_upload} byte (50 MiB) limit of a direct upload. "
                    "Upload it through S3 (then pass --s3-upload), or move dependencies "
                    "into a layer.",
                )

    # -- distributions -----------------------------------------------------------------
    def collect_distributions(self, placed: Placed) -> None:
        t = self.target
        dists = find_distributions(placed.tree, placed.tree.entries())
        roots = self.roots_of(placed)
        owned: dict[str, tuple[Distribution, RecordRow]] = {}
        visible: list[Distribution] = []
        for dist in dists:
            self.stats["distributions"] += 1
            for row in dist.records:
                owned[row.path] = (dist, row)
            if dist.base in roots:
                visible.append(dist)
            elif placed.role == "layer" and dist.base.startswith("python/lib/python"):
                self.add(
                    ProblemCode.ABI_MISMATCH,
                    self.where(placed, dist.dist_info),
                    f"{dist.display_name} {dist.version} is installed under "
                    f"{dist.base}/, which {t.runtime} never puts on sys.path (it reads "
                    f"{t.layer_site_packages}/ and python/). Rebuild the layer for "
                    f"{t.runtime}.",
                )
            if dist.tags and not any(tag in t.wheel_tag_set for tag in _expand(dist.tags)):
                self.add(
                    ProblemCode.WHEEL_TAG_INCOMPATIBLE,
                    self.where(placed, dist.dist_info),
                    f"{dist.display_name} {dist.version} was installed from a wheel tagged "
                    f"{', '.join(dist.tags)}, which {t.runtime} on {t.architecture} does "
                    f"not accept (it takes {t.cp}, abi3 or py3 wheels for "
                    f"{t.platform_tags[0]} or older). " + _rebuild_hint(t),
                )
        self.dists[placed.order] = visible
        self.owned[placed.order] = owned

    def roots_of(self, placed: Placed) -> dict[str, ImportRoot]:
        return {r.prefix: r for r in self.layout.roots if r.placed is placed}

    def check_shadowing(self) -> None:
        seen: dict[str, tuple[Placed, Distribution]] = {}
        # Lambda's path order: function first, then layers (the last-listed first).
        order = [p for p in self.layout.placed if p.role == "function"]
        order += [p for p in reversed(self.layout.placed) if p.role == "layer"]
        for placed in order:
            for dist in self.dists.get(placed.order, []):
                if dist.name not in seen:
                    seen[dist.name] = (placed, dist)
                    continue
                winner_placed, winner = seen[dist.name]
                if winner.version == dist.version:
                    continue
                self.add(
                    ProblemCode.SHADOWED_DISTRIBUTION,
                    self.where(placed, dist.dist_info),
                    f"{dist.display_name} {dist.version} in {placed.label} "
                    f"({placed.tree.path.name}) is shadowed by {winner.display_name} "
                    f"{winner.version} in {winner_placed.label} "
                    f"({winner_placed.tree.path.name}): Lambda imports the "
                    f"{winner.version} copy, and code built against {dist.version} may "
                    "break. Pin one version everywhere, or drop it from the "
                    f"{winner_placed.label} so the other copy is used.",
                )

    # -- contents ----------------------------------------------------------------------
    def check_missing(self, placed: Placed) -> None:
        files = {e.name for e in placed.tree.entries() if e.kind in ("file", "symlink")}
        for path, (dist, row) in self.owned[placed.order].items():
            if path in files or row.digest is None:
                continue  # unhashed rows: RECORD itself, bytecode compiled at install time
            self.add(
                ProblemCode.MISSING_FILE,
                self.where(placed, path),
                f"{path} is listed in {dist.record_path} of {dist.display_name} "
                f"{dist.version} but is not in the artifact; importing it fails at run "
                "time (the preprod 502: 'No module named ...'). Reinstall "
                f"{dist.display_name} for the target and check that nothing strips files "
                "(exclude patterns, size trimming).",
            )

    def stream_contents(self, placed: Placed, native_files: dict[str, ElfInfo]) -> None:
        owned = self.owned[placed.order]
        for entry in placed.tree.entries():
            if entry.kind != "file" or entry.unsafe:
                continue
            claim = owned.get(entry.name)
            row = claim[1] if claim else None
            self.stream_one(placed, entry, row, claim[0] if claim else None, native_files)

    def stream_one(
        self,
        placed: Placed,
        entry: Entry,
        row: RecordRow | None,
        dist: Distribution | None,
        native_files: dict[str, ElfInfo],
    ) -> None:
        hasher = None
        if row is not None and row.algorithm and row.digest:
            try:
                hasher = hashlib.new(row.algorithm)
            except ValueError:
                self.notes.append(f"{entry.name}: unknown RECORD hash {row.algorithm!r}")
        spool: IO[bytes] | None = None
        with placed.tree.open(entry) as fh:
            try:
                head = fh.read(_CHUNK)
                kind = sniff(head, entry.name)
                if hasher is None and not kind:
                    return
                size = len(head)
                if kind == "elf":
                    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115
                    spool.write(head)
                if hasher is not None:
                    hasher.update(head)
                while chunk := fh.read(_CHUNK):
                    size += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    if spool is not None:
                        spool.write(chunk)
            except READ_ERRORS as exc:
                if spool is not None:
                    spool.close()
                raise placed.tree.corrupt(entry, exc) from exc
        where = self.where(placed, entry.name)
        if hasher is not None and row is not None and dist is not None:
            self.stats["hashed_files"] += 1
            digest = record_digest(hasher.name, hasher.digest())
            if digest != row.digest or (row.size is not None and row.size != size):
                self.add(
                    ProblemCode.RECORD_MISMATCH,
                    where,
                    f"{entry.name} differs from {dist.record_path} ("
                    + (
                        f"size {size}, RECORD says {row.size}; "
                        if row.size not in (None, size)
                        else ""
                    )
                    + f"{row.algorithm} {digest}, RECORD says {row.digest}): the file was "
                    "modified or corrupted after install. Reinstall "
                    f"{dist.display_name} {dist.version} for the target.",
                )
        if kind in ("mach-o", "pe"):
            self.stats["native_files"] += 1
            self.native.append(where)
            system = "macOS (Mach-O)" if kind == "mach-o" else "Windows (PE)"
            self.add(
                ProblemCode.NOT_LINUX,
                where,
                f"{entry.name} is a {system} binary; Lambda runs Linux and cannot load "
                "it. " + _rebuild_hint(self.target),
            )
        elif spool is not None:
            self.stats["native_files"] += 1
            spool.seek(0)
            info = parse_elf(spool)
            spool.close()
            self.native.append(where)
            if isinstance(info, str):
                self.notes.append(f"{where}: unreadable ELF ({info})")
            else:
                native_files[where] = info
                self.check_elf(placed, entry, info)

    def check_elf(self, placed: Placed, entry: Entry, info: ElfInfo) -> None:
        t = self.target
        where = self.where(placed, entry.name)
        if info.elfclass != 64 or info.machine != t.elf_machine:
            arch = {
                "EM_X86_64": "x86_64",
                "EM_AARCH64": "aarch64",
                "EM_386": "i386",
                "EM_ARM": "32-bit ARM",
            }.get(info.machine, info.machine)
            self.add(
                ProblemCode.ARCH_MISMATCH,
                where,
                f"{entry.name} is a {info.elfclass}-bit ELF for {arch}; {t.runtime} on "
                f"{t.architecture} needs 64-bit {t.machine}. " + _rebuild_hint(t),
            )
            return  # symbol versions and libraries of a foreign binary are moot
        too_new = [v for v in info.glibc_versions if v[:2] > t.glibc]
        if too_new:
            needed = ".".join(str(p) for p in max(too_new))
            self.add(
                ProblemCode.GLIBC_TOO_NEW,
                where,
                f"{entry.name} needs GLIBC_{needed}; {t.runtime} ({t.os_name}) has glibc "
                f"{t.glibc_str}, so loading it fails with 'version `GLIBC_{needed}' not "
                f"found'. Use a wheel for {t.platform_tags[0]} or older. " + _rebuild_hint(t),
            )
        for lib in info.needed:
            if lib in t.runtime_libraries or self.bundled(lib):
                continue
            self.add(
                ProblemCode.UNRESOLVED_LIBRARY,
                where,
                f"{entry.name} needs {lib}, which is neither in the artifact nor part of "
                f"the {t.runtime} runtime (its libraries: the manylinux policy's, "
                f"{t.libraries_source}). Bundle it (auditwheel repair, or a layer's lib/), "
                "or use a manylinux wheel.",
            )

    def bundled(self, lib: str) -> bool:
        if not hasattr(self, "_basenames"):
            names: set[str] = set()
            for placed in self.layout.placed:
                for e in placed.tree.entries():
                    if e.kind in ("file", "symlink") and not e.unsafe:
                        names.add(posixpath.basename(e.name))
            self._basenames = names
        return lib in self._basenames


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
    from .dynamic import DynamicResult, run_dynamic

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
        checker = _Checker(target, layout, s3_upload=s3_upload)
        for p in placed:
            checker.check_listing(p)
        checker.check_size()
        for p in placed:
            checker.collect_distributions(p)
        checker.check_shadowing()
        native: dict[str, ElfInfo] = {}
        for p in placed:
            checker.check_missing(p)
            checker.stream_contents(p, native)
        if handler is None and role == "function" and layout.find_module("handler") is not None:
            handler = "handler.lambda_handler"
        handler_info: dict[str, Any] = {}
        if handler is not None:
            handler_info = HandlerChecks(
                target, layout, checker.owned, checker.add, checker.notes
            ).check_handler(handler)
        elif role == "function":
            checker.notes.append(
                "no --handler given and no handler.py at the root: the handler was not checked"
            )
        unsafe = any(p.code == ProblemCode.UNSAFE_PATH for p in checker.problems.values())
        skip = None
        if not dynamic:
            skip = "--no-import"
        elif not handler_info.get("found"):
            skip = "no importable handler"
        elif unsafe:
            skip = "unsafe paths"
        if skip or handler is None:
            dyn = DynamicResult(False, f"dynamic check skipped: {skip}").to_json()
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
                checker.add(ProblemCode.IMPORT_FAILED, handler, result.problem)
        checked: dict[str, Any] = {
            "artifact": str(artifact),
            "kind": role,
            "layers": [str(layer) for layer in layers],
            **checker.stats,
            "handler": handler,
            "dynamic": dyn,
            "native": checker.native,
            "notes": checker.notes,
        }
        problems = tuple(sorted(checker.problems.values(), key=lambda p: (p.code.value, p.path)))
        return Report(target=target, problems=problems, checked=checked)
    finally:
        for tree in trees:
            tree.close()
