"""The target catalog: the facts about each of AWS Lambda's Python runtimes.

The data is a versioned table shipped with the package (``data/targets.json``
and the tables it names). Everything else in sentiment-pipeline asks this module,
never hard-codes a Lambda fact; what a target implies for the execution
environment (paths, import order, environment) is derived in
:mod:`sentiment_pipeline.packaging.sandbox`.

>>> t = get_target("python3.13", "x86_64")
>>> t.glibc, t.os_name
((2, 34), 'Amazon Linux 2023')
>>> "cp313-cp313-manylinux_2_17_x86_64" in t.wheel_tags
True
"""

from __future__ import annotations

import datetime
import functools
import json
from importlib import resources
from typing import Any, Literal, cast

import attrs
from packaging import tags

from sentiment_pipeline.errors import UnknownTargetError

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_ALIASES",
    "CATALOG_VERSION",
    "Limits",
    "Target",
    "all_targets",
    "architecture_name",
    "get_target",
    "retired_runtime",
    "runtimes",
]

Architecture = Literal["x86_64", "arm64"]
ARCHITECTURES: tuple[Architecture, ...] = ("x86_64", "arm64")

# Legacy manylinux names are aliases of glibc versions (PEP 600); pip and uv
# still look for them, so a complete tag list contains both spellings.
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def _load(name: str) -> Any:
    text = (
        resources.files("sentiment_pipeline.packaging").joinpath(f"data/{name}").read_text("utf-8")
    )
    return json.loads(text)


@functools.cache
def _catalog() -> dict[str, Any]:
    data: dict[str, Any] = _load("targets.json")
    return data


@functools.cache
def _stdlib() -> dict[str, frozenset[str]]:
    data = _load("stdlib_modules.json")
    return {version: frozenset(names) for version, names in data["versions"].items()}


@functools.cache
def _libraries() -> dict[str, Any]:
    data: dict[str, Any] = _load("runtime_libraries.json")
    return data


@functools.cache
def _sdk() -> dict[str, Any]:
    data: dict[str, Any] = _load("runtime_sdk.json")
    return data


CATALOG_VERSION: str = _catalog()["catalog_version"]

ARCHITECTURE_ALIASES: dict[str, Architecture] = dict(_catalog()["architecture_aliases"])
"""Other names of Lambda's architectures: ``{"aarch64": "arm64", "amd64": "x86_64"}``."""


@attrs.frozen
class Limits:
    """Lambda's size limits, in bytes (AWS "Lambda quotas")."""

    zipped_upload: int
    unzipped: int
    layers: int
    image: int


@attrs.frozen
class Target:
    """One Lambda runtime on one architecture, with every fact we rely on.

    Get one with :func:`get_target`; every check and build reads its facts from here.

    >>> target = get_target("python3.13", "arm64")
    >>> target.python, target.cp, target.os_name, target.glibc_str
    ('3.13', 'cp313', 'Amazon Linux 2023', '2.34')
    """

    runtime: str
    """Lambda's runtime identifier, ``"python3.13"``."""
    architecture: Architecture
    """``"x86_64"`` or ``"arm64"``."""
    python_version: tuple[int, int]
    """``(3, 13)``."""
    os_name: str
    """The runtime's operating system, ``"Amazon Linux 2023"``."""
    glibc: tuple[int, int]
    """The runtime's glibc version, ``(2, 34)``."""
    machine: str
    """The machine name in wheel tags, ``"x86_64"`` or ``"aarch64"``."""
    elf_machine: str
    """The ELF ``e_machine`` of the architecture, ``"EM_X86_64"`` or ``"EM_AARCH64"``."""
    sdk: dict[str, str | None] = attrs.field(hash=False)
    """Documented SDK versions (None: AWS no longer publishes them)."""
    sdk_reference: dict[str, str] = attrs.field(hash=False)
    """The SDK release the dynamic check uses in place of the runtime's."""
    sdk_modules: frozenset[str]
    """Top-level modules of the runtime's SDK (``boto3``, ``botocore``...)."""
    stdlib_modules: frozenset[str] = attrs.field(repr=False)
    """Top-level modules of the runtime's standard library."""
    runtime_libraries: frozenset[str] = attrs.field(repr=False)
    """Shared libraries (sonames) Lambda's runtime has in its system directories and
    ``/var/lang/lib``: what the dynamic loader finds outside the artifact."""
    libraries_source: str = attrs.field(repr=False)
    """Where ``runtime_libraries`` comes from (the image family's sources)."""
    wheel_policy_libraries: frozenset[str] = attrs.field(repr=False)
    """The manylinux policy's allow-list for the runtime's glibc: what wheels may assume
    the system has, never what Lambda has (Lambda lacks ``libGL.so.1``, which it allows)."""
    wheel_policy_source: str = attrs.field(repr=False)
    """Where ``wheel_policy_libraries`` comes from."""
    limits: Limits
    """Lambda's size limits."""
    deprecated: str | None = None
    """The runtime's deprecation date (ISO), if AWS announced one."""

    @property
    def python(self) -> str:
        """``"3.13"``."""
        return f"{self.python_version[0]}.{self.python_version[1]}"

    @property
    def cp(self) -> str:
        """The CPython tag, ``"cp313"``."""
        return f"cp{self.python_version[0]}{self.python_version[1]}"

    @property
    def glibc_str(self) -> str:
        """``"2.34"``."""
        return f"{self.glibc[0]}.{self.glibc[1]}"

    @property
    def manylinux(self) -> str:
        """The newest manylinux platform tag the runtime satisfies."""
        return f"manylinux_{self.glibc[0]}_{self.glibc[1]}_{self.machine}"

    @functools.cached_property
    def platform_tags(self) -> tuple[str, ...]:
        """Compatible platform tags, best first: manylinux_2_<glibc> ... 2_17 (2_5 on x86_64).

        ``linux_<arch>`` is deliberately absent: such wheels were built for one
        machine and are not portable to Lambda.
        """
        lowest = 5 if self.machine == "x86_64" else 17
        out: list[str] = []
        for minor in range(self.glibc[1], lowest - 1, -1):
            out.append(f"manylinux_2_{minor}_{self.machine}")
            legacy = _LEGACY_MANYLINUX.get((2, minor))
            if legacy:
                out.append(f"{legacy}_{self.machine}")
        return tuple(out)

    @functools.cached_property
    def wheel_tags(self) -> tuple[str, ...]:
        """Every wheel tag the runtime accepts, in pip's order of preference."""
        platforms = list(self.platform_tags)
        ordered = [
            *tags.cpython_tags(self.python_version, abis=[self.cp], platforms=platforms),
            *tags.compatible_tags(self.python_version, self.cp, platforms=platforms),
        ]
        return tuple(str(tag) for tag in ordered)

    @functools.cached_property
    def wheel_tag_set(self) -> frozenset[str]:
        """:attr:`wheel_tags` as a set, for membership tests."""
        return frozenset(self.wheel_tags)

    @property
    def extension_suffixes(self) -> tuple[str, ...]:
        """What the runtime's import system accepts for extension modules, in order."""
        return (f".cpython-{self.cp[2:]}-{self.machine}-linux-gnu.so", ".abi3.so", ".so")

    @property
    def cache_tag(self) -> str:
        """The runtime's ``sys.implementation.cache_tag``: the only ``__pycache__`` files
        its interpreter reads are ``NAME.<cache_tag>[.opt-N].pyc`` (``cpython-313``)."""
        return f"cpython-{self.cp[2:]}"

    @property
    def uv_platform(self) -> str:
        """uv's ``--python-platform`` for the target: the newest manylinux value uv accepts
        that does not exceed the runtime's glibc, so uv never selects a wheel the runtime
        cannot load (uv has no ``manylinux_2_26``: Amazon Linux 2 resolves with ``_2_17``).

        >>> get_target("python3.11").uv_platform, get_target("python3.13", "arm64").uv_platform
        ('x86_64-manylinux_2_17', 'aarch64-manylinux_2_34')
        """
        accepted = [_version_tuple(v) for v in _catalog()["uv_python_platforms"]["manylinux"]]
        major, minor = max(v for v in accepted if v <= self.glibc)
        return f"{self.machine}-manylinux_{major}_{minor}"

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        """pip's ``--platform`` values for the target. pip matches each exactly (expanding
        only the legacy ``manylinux2014``, to 2010 and 1), so: manylinux2014, and the
        newer values uv accepts, up to the runtime's glibc.

        >>> get_target("python3.11").pip_platforms
        ('manylinux2014_x86_64',)
        >>> get_target("python3.13", "arm64").pip_platforms[-1]
        'manylinux_2_34_aarch64'
        """
        newer = [
            _version_tuple(v)
            for v in _catalog()["uv_python_platforms"]["manylinux"]
            if (2, 17) < _version_tuple(v) <= self.glibc
        ]
        return (
            f"manylinux2014_{self.machine}",
            *(f"manylinux_{major}_{minor}_{self.machine}" for major, minor in newer),
        )

    def deprecation_warning(self, today: datetime.date | None = None) -> str | None:
        """One line when ``today`` (default: today) is past the runtime's deprecation
        date, else None. Such a runtime still builds and verifies.

        >>> import datetime
        >>> get_target("python3.10").deprecation_warning(datetime.date(2026, 11, 30))
        'python3.10 is deprecated since 2026-06-30: Lambda no longer patches it, ...'
        >>> get_target("python3.13").deprecation_warning(datetime.date(2026, 11, 30)) is None
        True
        """
        if self.deprecated is None:
            return None
        when = datetime.date.fromisoformat(self.deprecated)
        if (today or datetime.date.today()) < when:
            return None
        return (
            f"{self.runtime} is deprecated since {self.deprecated}: Lambda no longer patches "
            "it, then blocks creating and updating functions on it; move to "
            f"{_catalog()['recommended']}"
        )

    @property
    def build_image(self) -> str:
        """The public Lambda base image of this runtime and architecture."""
        return f"public.ecr.aws/lambda/python:{self.python}-{self.architecture}"

    def to_json(self) -> dict[str, Any]:
        """The catalog row as plain JSON (``verify --json`` and ``targets --json`` add
        Lambda's import path: :func:`sentiment_pipeline.packaging.sandbox.describe_target`)."""
        return {
            "runtime": self.runtime,
            "architecture": self.architecture,
            "python": self.python,
            "os": self.os_name,
            "glibc": self.glibc_str,
            "machine": self.machine,
            "extension_suffixes": list(self.extension_suffixes),
            "platform_tags": list(self.platform_tags),
            "sdk": dict(self.sdk),
            "sdk_reference": dict(self.sdk_reference),
            "limits": attrs.asdict(self.limits),
            "build_image": self.build_image,
            "runtime_libraries": sorted(self.runtime_libraries),
            "libraries_source": self.libraries_source,
            "wheel_policy_libraries": sorted(self.wheel_policy_libraries),
            "wheel_policy_source": self.wheel_policy_source,
            "deprecated": self.deprecated,
            "deprecation_warning": self.deprecation_warning(),
            "uv_python_platform": self.uv_platform,
            "catalog_version": CATALOG_VERSION,
        }


def runtimes() -> tuple[str, ...]:
    """Every runtime the catalog knows, oldest first.

    >>> runtimes()[0], "python3.13" in runtimes()
    ('python3.9', True)
    """
    return tuple(_catalog()["runtimes"])


def _family_sonames(family: dict[str, Any], machine: str, python: str) -> frozenset[str]:
    """The sonames an image family has on ``machine`` (``libpython{python}`` filled in)."""
    return frozenset(
        soname.format(python=python)
        for group in family["present"]
        if machine in group.get("architectures", (machine,))
        for soname in group["sonames"]
    )


def _version_tuple(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def architecture_name(architecture: str) -> Architecture:
    """Lambda's name of ``architecture``: ``aarch64`` is ``arm64``, ``amd64`` is ``x86_64``.

    Raises :class:`~sentiment_pipeline.errors.UnknownTargetError` for anything else.

    >>> architecture_name("aarch64"), architecture_name("x86_64")
    ('arm64', 'x86_64')
    """
    catalog = _catalog()
    name = ARCHITECTURE_ALIASES.get(architecture, architecture)
    if name not in catalog["architectures"]:
        aliases = " and ".join(sorted(ARCHITECTURE_ALIASES))
        raise UnknownTargetError(
            "",
            architecture,
            reason=f"unknown Lambda architecture {architecture!r}: Lambda runs "
            f"{' or '.join(catalog['architectures'])} ({aliases} are accepted as aliases)",
        )
    return cast("Architecture", name)  # one of the catalog's architectures


def retired_runtime(runtime: str) -> str | None:
    """Why ``runtime`` cannot be a target when Lambda has retired it (its date and what
    to use instead), else None.

    >>> retired_runtime("python3.8")
    'python3.8 was retired by Lambda on 2024-10-14; use python3.9 or newer (python3.13 recommended)'
    """
    catalog = _catalog()
    row = catalog["retired"].get(runtime)
    if row is None:
        return None
    gone = _version_tuple(row["python"])
    nearest = next(
        name
        for name, supported in catalog["runtimes"].items()
        if _version_tuple(supported["python"]) > gone
    )
    return (
        f"{runtime} was retired by Lambda on {row['deprecated']}; use {nearest} or newer "
        f"({catalog['recommended']} recommended)"
    )


def get_target(runtime: str, architecture: str = "x86_64") -> Target:
    """The catalog entry for ``runtime`` on ``architecture`` (``aarch64`` and ``amd64``
    are accepted for ``arm64`` and ``x86_64``).

    Raises :class:`~sentiment_pipeline.errors.UnknownTargetError` naming the known
    runtimes when the runtime is unknown, the date and the runtime to use when Lambda
    retired it, and the architectures when the architecture is unknown.

    >>> get_target("python3.11").manylinux
    'manylinux_2_26_x86_64'
    >>> get_target("python3.13", "aarch64").architecture
    'arm64'
    """
    return _get_target(runtime, architecture_name(architecture))


@functools.cache
def _get_target(runtime: str, architecture: Architecture) -> Target:
    catalog = _catalog()
    row = catalog["runtimes"].get(runtime)
    arch = catalog["architectures"][architecture]
    if row is None:
        retired = retired_runtime(runtime)
        if retired is not None:
            raise UnknownTargetError(runtime, architecture, reason=retired)
        known = tuple(f"{r}/{a}" for r in catalog["runtimes"] for a in catalog["architectures"])
        raise UnknownTargetError(runtime, architecture, known=known)
    os_row = catalog["os"][row["os"]]
    glibc = _version_tuple(os_row["glibc"])
    policy = _libraries()["manylinux_policy"]
    allowed = policy["policies"][f"manylinux_{glibc[0]}_{glibc[1]}"][arch["machine"]]
    family = _libraries()["families"][row["os"]]
    limits = catalog["limits"]
    sdk = _sdk()
    return Target(
        runtime=runtime,
        architecture=architecture,
        python_version=_version_tuple(row["python"]),
        os_name=os_row["name"],
        glibc=glibc,
        machine=arch["machine"],
        elf_machine=arch["elf_machine"],
        sdk=dict(sdk["runtimes"][runtime]),
        sdk_reference=dict(row["sdk_reference"]),
        sdk_modules=frozenset(sdk["top_level_modules"]),
        stdlib_modules=_stdlib()[row["python"]],
        runtime_libraries=_family_sonames(family, arch["machine"], row["python"]),
        libraries_source=family["source"],
        wheel_policy_libraries=frozenset(allowed) | {policy["dynamic_loaders"][arch["machine"]]},
        wheel_policy_source=policy["source"],
        limits=Limits(
            zipped_upload=limits["zipped_upload_bytes"],
            unzipped=limits["unzipped_bytes"],
            layers=limits["layers"],
            image=limits["image_bytes"],
        ),
        deprecated=row.get("deprecated"),
    )


def all_targets() -> tuple[Target, ...]:
    """Every runtime on every architecture, in catalog order.

    >>> [(t.runtime, t.architecture) for t in all_targets()][:2]
    [('python3.9', 'x86_64'), ('python3.9', 'arm64')]
    """
    return tuple(get_target(r, a) for r in runtimes() for a in ARCHITECTURES)
