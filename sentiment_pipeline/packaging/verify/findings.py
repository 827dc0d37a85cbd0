"""Problem codes and findings of the verifier, and where the checks collect them.

The codes are a stable, public interface: scripts match on them, so a code is
never renamed or reused for another meaning.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Literal

import attrs

from sentiment_pipeline.errors import one_line

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target

__all__ = ["Counts", "Findings", "Installer", "Problem", "ProblemCode", "rebuild_hint", "where"]


class ProblemCode(enum.StrEnum):
    """Why an artifact would fail on its target runtime: the stable codes of the report.

    >>> ProblemCode("missing-file") is ProblemCode.MISSING_FILE
    True
    """

    MISSING_FILE = "missing-file"
    """A file listed in a ``*.dist-info/RECORD`` is absent (the preprod 502)."""
    RECORD_MISMATCH = "record-mismatch"
    """A file's hash or size differs from its RECORD line (bytecode under ``__pycache__``,
    which installers recompile, is a note instead)."""
    ABI_MISMATCH = "abi-mismatch"
    """An extension module built for another Python version or ABI."""
    ARCH_MISMATCH = "arch-mismatch"
    """A native file for another CPU architecture."""
    NOT_LINUX = "not-linux"
    """A Mach-O or PE file: built for macOS or Windows."""
    GLIBC_TOO_NEW = "glibc-too-new"
    """A native file needs a GLIBC symbol version newer than the runtime's glibc."""
    UNRESOLVED_LIBRARY = "unresolved-library"
    """A library an extension needs (DT_NEEDED) or the import loaded (``ctypes`` too),
    neither bundled nor provided by the runtime."""
    WHEEL_TAG_INCOMPATIBLE = "wheel-tag-incompatible"
    """An installed distribution whose wheel tags the target does not accept."""
    HANDLER_MISSING = "handler-missing"
    """The handler's module or function does not exist."""
    UNRESOLVED_IMPORT = "unresolved-import"
    """An import that always runs at import time, found in none of function, layers,
    stdlib and runtime SDK; a warning when the import check imported the handler."""
    IMPORT_FAILED = "import-failed"
    """Importing the handler in an interpreter of the target failed."""
    UNSAFE_PATH = "unsafe-path"
    """An absolute path, a ``..`` component, a link leaving the root, or a zip bomb."""
    SIZE_LIMIT = "size-limit"
    """Over one of Lambda's size or count limits."""
    SHADOWED_DISTRIBUTION = "shadowed-distribution"
    """One distribution at different versions in function and layer, or in two layers."""


@attrs.frozen(order=True)
class Problem:
    """One finding: what, where, and (in the message) why and how to fix it.

    ``fix`` repeats the end of ``message`` when that advice is shared by other
    problems (one rebuild command for every foreign extension): the rendered report
    prints it once per code, under the problems it fixes. The JSON keeps the whole
    message.

    >>> p = Problem(ProblemCode.SIZE_LIMIT, "layers", "6 layers given. Merge.", "Merge.")
    >>> p.finding
    '6 layers given.'
    """

    code: ProblemCode
    """What kind of problem it is."""
    path: str
    """Where: a member of the artifact, ``path:line`` of an import, or the handler."""
    message: str
    """The whole message: what is wrong, the offending value, and the fix."""
    fix: str = ""

    @property
    def finding(self) -> str:
        """The message without its shared ``fix``."""
        if self.fix and self.message.endswith(self.fix):
            return self.message.removesuffix(self.fix).rstrip()
        return self.message

    def to_json(self) -> dict[str, str]:
        """``{"code", "path", "message"}``, as in ``verify --json``."""
        return {"code": self.code.value, "path": self.path, "message": self.message}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Problem:
        """A problem read back from :meth:`to_json` (its shared ``fix`` stays in ``message``).

        Raises ``ValueError`` for an unknown code, ``KeyError`` for a missing key.

        >>> Problem.from_json({"code": "missing-file", "path": "a.py", "message": "gone"}).code
        <ProblemCode.MISSING_FILE: 'missing-file'>
        """
        return cls(ProblemCode(data["code"]), str(data["path"]), str(data["message"]))


def where(placed: Placed, name: str) -> str:
    """How a report names member ``name`` of ``placed``: as is in the function,
    ``layer.zip:name`` in a layer."""
    if placed.role == "function":
        return name
    return f"{placed.tree.path.name}:{name}"


Installer = Literal["uv", "pip"]
"""Whose command line a printed fix uses: pip's when the artifact was installed by pip."""


def rebuild_hint(target: Target, installer: Installer = "uv") -> str:
    """The fix shared by every file built for another platform: reinstall for the target,
    with ``installer``'s command line (``uv pip install`` or ``pip install``).

    Both select only wheels within the runtime's glibc: uv's
    :attr:`~sentiment_pipeline.packaging.targets.Target.uv_platform`, pip's
    :attr:`~sentiment_pipeline.packaging.targets.Target.pip_platforms`.

    >>> from sentiment_pipeline.packaging.targets import get_target
    >>> print(rebuild_hint(get_target("python3.11")).split("`")[1])
    uv pip install --python-platform x86_64-manylinux_2_17 --python-version 3.11 ...
    >>> print(rebuild_hint(get_target("python3.11"), "pip").split("`")[1])
    pip install --platform manylinux2014_x86_64 --implementation cp --python-version 3.11 ...
    """
    if installer == "pip":
        platforms = " ".join(f"--platform {p}" for p in target.pip_platforms)
        command = (
            f"pip install {platforms} --implementation cp --python-version {target.python} "
            "--only-binary=:all: --target DIR -r requirements.txt"
        )
    else:
        command = (
            f"uv pip install --python-platform {target.uv_platform} --python-version "
            f"{target.python} --only-binary :all: --target DIR -r requirements.txt"
        )
    return f"Reinstall the dependencies for the target, e.g. `{command}`"


@attrs.define
class Counts:
    """What the checks counted while they ran (the report's ``checked`` gives them)."""

    files: int = 0
    bytes_unzipped: int = 0
    hashed_files: int = 0
    native_files: int = 0
    distributions: int = 0


class Findings:
    """What the checks found while they run: problems, warnings, notes, native files
    and counts."""

    def __init__(self) -> None:
        self.problems: dict[tuple[ProblemCode, str], Problem] = {}
        self.warnings: dict[tuple[ProblemCode, str], Problem] = {}
        """Problems :meth:`demote` made warnings: reported, never a failure."""
        self.notes: list[str] = []
        self.native: list[str] = []
        """Every native file, as :func:`where` names it."""
        self.counts = Counts()
        self.spelling: dict[str, str] = {}
        """Shared fixes in the artifact's own words: the rules name the fix for the target
        (:func:`rebuild_hint`, uv's command), the artifact says whose command line it is
        (pip's when pip installed it). Set before the checks run."""

    def add(self, code: ProblemCode, path: str, message: str, fix: str = "") -> None:
        """Record a problem (the first for its code and path counts); ``fix``, advice
        other problems share, ends its message (in the artifact's :attr:`spelling`)."""
        path, fix = one_line(path), one_line(self.spelling.get(fix, fix))
        text = one_line(f"{message} {fix}" if fix else message)
        self.problems.setdefault((code, path), Problem(code, path, text, fix))

    def found(self, code: ProblemCode) -> bool:
        return any(p.code == code for p in self.problems.values())

    def demote(self, code: ProblemCode, reason: str) -> None:
        """Make every problem of ``code`` a warning, ``reason`` (why it is no failure)
        ending its message."""
        for key, problem in list(self.problems.items()):
            if problem.code == code:
                del self.problems[key]
                text = one_line(f"{problem.message} {reason}")
                self.warnings.setdefault(key, Problem(code, problem.path, text))

    def sorted_problems(self) -> tuple[Problem, ...]:
        """The problems in the report's order: by code, then path."""
        return tuple(sorted(self.problems.values(), key=lambda p: (p.code.value, p.path)))

    def sorted_warnings(self) -> tuple[Problem, ...]:
        """The warnings in the report's order: by code, then path."""
        return tuple(sorted(self.warnings.values(), key=lambda p: (p.code.value, p.path)))
