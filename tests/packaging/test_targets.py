"""The target catalog: one row per runtime and architecture, facts derived consistently."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
from importlib import resources

import pytest
from packaging.tags import Tag, parse_tag

from sentiment_pipeline import (
    CATALOG_VERSION,
    Target,
    UnknownTargetError,
    all_targets,
    get_target,
    runtimes,
)
from sentiment_pipeline.packaging.targets import _catalog, architecture_name, retired_runtime


def test_every_runtime_on_both_architectures() -> None:
    assert runtimes() == tuple(f"python3.{m}" for m in range(9, 15))
    assert len(all_targets()) == 12
    assert CATALOG_VERSION


@pytest.mark.parametrize(
    ("runtime", "os_name", "glibc"),
    [
        ("python3.9", "Amazon Linux 2", (2, 26)),
        ("python3.11", "Amazon Linux 2", (2, 26)),
        ("python3.12", "Amazon Linux 2023", (2, 34)),
        ("python3.14", "Amazon Linux 2023", (2, 34)),
    ],
)
def test_os_and_glibc(runtime: str, os_name: str, glibc: tuple[int, int]) -> None:
    t = get_target(runtime)
    assert (t.os_name, t.glibc) == (os_name, glibc)


def test_wheel_tags_best_first_with_legacy_aliases() -> None:
    t = get_target("python3.13", "x86_64")
    assert t.wheel_tags[0] == "cp313-cp313-manylinux_2_34_x86_64"
    for tag in (
        "cp313-cp313-manylinux2014_x86_64",
        "cp313-abi3-manylinux1_x86_64",
        "cp313-none-manylinux_2_17_x86_64",
        "cp311-abi3-manylinux_2_28_x86_64",
        "py3-none-manylinux_2_17_x86_64",
        "py3-none-any",
        "py313-none-any",
    ):
        assert tag in t.wheel_tag_set, tag
    for tag in (
        "cp312-cp312-manylinux_2_17_x86_64",
        "cp313-cp313-manylinux_2_35_x86_64",
        "cp313-cp313-linux_x86_64",
        "cp313-cp313-musllinux_1_2_x86_64",
        "cp313-cp313-manylinux_2_17_aarch64",
        "cp313-cp313t-manylinux_2_17_x86_64",
    ):
        assert tag not in t.wheel_tag_set, tag
    # The order is pip's: the exact interpreter first, the most specific platform first.
    assert (
        t.wheel_tags.index("cp313-cp313-manylinux_2_34_x86_64")
        < t.wheel_tags.index("cp313-abi3-manylinux_2_34_x86_64")
        < t.wheel_tags.index("py3-none-any")
    )
    assert all(isinstance(next(iter(parse_tag(s))), Tag) for s in t.wheel_tags)


def test_arm64_has_no_pre_2014_aliases() -> None:
    t = get_target("python3.11", "arm64")
    assert t.platform_tags[0] == "manylinux_2_26_aarch64"
    assert t.platform_tags[-1] == "manylinux2014_aarch64"
    assert not any("manylinux1" in p or "manylinux2010" in p for p in t.platform_tags)


def test_extension_suffixes_and_libraries() -> None:
    t = get_target("python3.13", "arm64")
    assert t.extension_suffixes == (".cpython-313-aarch64-linux-gnu.so", ".abi3.so", ".so")
    assert {
        "libc.so.6",
        "libm.so.6",
        "libstdc++.so.6",
        "ld-linux-aarch64.so.1",
    } <= t.runtime_libraries
    assert "libssl.so.3" in t.runtime_libraries  # Lambda has it; the manylinux policy does not
    assert "libssl.so.3" not in t.wheel_policy_libraries
    assert "Amazon Linux 2023" in t.libraries_source
    assert "auditwheel" in t.wheel_policy_source


@pytest.mark.parametrize("target", all_targets(), ids=lambda t: f"{t.runtime}-{t.architecture}")
def test_lambda_lacks_libraries_the_manylinux_policy_allows(target: Target) -> None:
    for lib in ("libGL.so.1", "libX11.so.6", "libxcb.so.1", "libgomp.so.1", "libatomic.so.1"):
        assert lib not in target.runtime_libraries
    assert {"libGL.so.1", "libatomic.so.1"} <= target.wheel_policy_libraries
    for lib in ("libc.so.6", "libm.so.6", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1"):
        assert lib in target.runtime_libraries
    assert "liblzma.so.5" in target.runtime_libraries  # /var/lang/lib on AL2, /lib64 on AL2023
    assert f"libpython{target.python}.so.1.0" in target.runtime_libraries
    loader = "ld-linux-x86-64.so.2" if target.machine == "x86_64" else "ld-linux-aarch64.so.1"
    assert loader in target.runtime_libraries and loader in target.wheel_policy_libraries
    assert ("libmvec.so.1" in target.runtime_libraries) == (target.machine == "x86_64")


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13", "python3.14"])
def test_amazon_linux_2023_has_no_libexpat_libnsl_or_libffi_6(runtime: str) -> None:
    t = get_target(runtime, "arm64")
    assert not {"libexpat.so.1", "libnsl.so.1", "libffi.so.6", "libcrypt.so.2"} & (
        t.runtime_libraries
    )
    assert {"libffi.so.8", "libssl.so.3", "libsqlite3.so.0", "libglib-2.0.so.0"} <= (
        t.runtime_libraries
    )


@pytest.mark.parametrize("runtime", ["python3.9", "python3.10", "python3.11"])
def test_amazon_linux_2_has_libffi_6_and_libnsl_but_not_the_images_extras(runtime: str) -> None:
    t = get_target(runtime, "x86_64")
    assert {"libffi.so.6", "libnsl.so.1", "libssl.so.10", "libcrypto.so.10"} <= t.runtime_libraries
    # In the container images (yum's dependencies), not in the managed runtime.
    assert not {"libexpat.so.1", "libglib-2.0.so.0", "libcurl.so.4", "libxml2.so.2"} & (
        t.runtime_libraries
    )
    assert not {"libffi.so.8", "libssl.so.3"} & t.runtime_libraries


def test_the_library_data_cites_its_sources_and_never_says_both() -> None:
    data = json.loads(
        resources.files("sentiment_pipeline.packaging")
        .joinpath("data/runtime_libraries.json")
        .read_text("utf-8")
    )
    for name, family in data["families"].items():
        present = {s for g in family["present"] for s in g["sonames"]}
        absent = {s for g in family["absent"] for s in g["sonames"]}
        assert not present & absent, name
        for group in family["present"] + family["absent"]:
            assert set(group["sources"]) <= set(data["sources"]), group
            # Every group is sourced, or says why it is listed without one.
            assert group["sources"] or "nverified" in group["note"], group


def test_stdlib_and_sdk_modules() -> None:
    assert "distutils" in get_target("python3.11").stdlib_modules
    assert "distutils" not in get_target("python3.12").stdlib_modules
    assert "annotationlib" in get_target("python3.14").stdlib_modules
    assert {"boto3", "botocore"} <= get_target("python3.13").sdk_modules


def test_limits() -> None:
    limits = get_target("python3.13").limits
    assert (limits.zipped_upload, limits.unzipped, limits.layers) == (52428800, 262144000, 5)
    assert limits.image == 10 * 1024**3


def test_unknown_runtimes_name_the_known_ones() -> None:
    with pytest.raises(
        UnknownTargetError, match=r"unknown Lambda runtime 'python4.0'.*python3\.13/x86_64"
    ):
        get_target("python4.0", "x86_64")


def test_an_unknown_architecture_names_lambdas_and_the_aliases() -> None:
    with pytest.raises(UnknownTargetError) as err:
        get_target("python3.13", "sparc")
    assert str(err.value) == (
        "unknown Lambda architecture 'sparc': Lambda runs x86_64 or arm64 "
        "(aarch64 and amd64 are accepted as aliases)."
    )


@pytest.mark.parametrize(("alias", "name"), [("aarch64", "arm64"), ("amd64", "x86_64")])
def test_aarch64_and_amd64_are_lambdas_arm64_and_x86_64(alias: str, name: str) -> None:
    assert architecture_name(alias) == name
    assert get_target("python3.12", alias) is get_target("python3.12", name)


@pytest.mark.parametrize(
    ("runtime", "date"),
    [
        ("python3.8", "2024-10-14"),
        ("python3.7", "2023-12-04"),
        ("python3.6", "2022-07-18"),
        ("python2.7", "2021-07-15"),
    ],
)
def test_retired_runtimes_are_named_with_their_date_and_what_to_use(
    runtime: str, date: str
) -> None:
    with pytest.raises(UnknownTargetError) as err:
        get_target(runtime, "arm64")
    assert str(err.value) == (
        f"{runtime} was retired by Lambda on {date}; use python3.9 or newer "
        "(python3.13 recommended)."
    )
    assert retired_runtime(runtime) == str(err.value).rstrip(".")
    assert retired_runtime("python3.9") is None


@pytest.mark.parametrize(
    ("runtime", "warned"),
    [("python3.9", True), ("python3.10", True), ("python3.11", True), ("python3.12", False)],
)
def test_a_runtime_past_its_deprecation_date_is_warned_about_and_still_a_target(
    runtime: str, warned: bool
) -> None:
    target = get_target(runtime)
    warning = target.deprecation_warning(datetime.date(2026, 11, 30))
    if warned:
        assert warning is not None
        assert warning.startswith(f"{runtime} is deprecated since {target.deprecated}: ")
        assert warning.endswith("move to python3.13")
        assert "\n" not in warning
    else:
        assert warning is None
    # the day before the date: no warning
    day_before = datetime.date.fromisoformat(str(target.deprecated)) - datetime.timedelta(days=1)
    assert target.deprecation_warning(day_before) is None


def test_python314_without_a_deprecation_date_is_never_warned_about() -> None:
    assert get_target("python3.14").deprecation_warning(datetime.date(2100, 1, 1)) is None


def _uv_manylinux_values() -> set[str]:
    """The manylinux values the installed uv lists for --python-platform."""
    from sentiment_pipeline.packaging.lock import uv_binary

    help_text = subprocess.run(
        [uv_binary(), "pip", "install", "--help"], capture_output=True, text=True, check=True
    ).stdout
    listed = re.search(r"--python-platform.*?\[possible\s+values:(.*?)\]", help_text, re.S)
    assert listed is not None, help_text
    return {v.strip() for v in listed[1].split(",") if "-manylinux_" in v}


def test_the_catalogs_uv_platforms_are_the_ones_the_installed_uv_accepts() -> None:
    accepted = _uv_manylinux_values()
    for machine in ("x86_64", "aarch64"):
        listed = {v.removeprefix(f"{machine}-") for v in accepted if v.startswith(machine)}
        catalog = {
            f"manylinux_{v.replace('.', '_')}"
            for v in _catalog()["uv_python_platforms"]["manylinux"]
        }
        assert catalog == listed
    # every target resolves with a value uv accepts, never above its glibc
    for target in all_targets():
        assert target.uv_platform in accepted
        minor = int(target.uv_platform.rsplit("_", 1)[-1])
        assert (2, minor) <= target.glibc


@pytest.mark.parametrize(
    ("runtime", "arch", "uv", "pip_last"),
    [
        ("python3.11", "x86_64", "x86_64-manylinux_2_17", "manylinux2014_x86_64"),
        ("python3.9", "arm64", "aarch64-manylinux_2_17", "manylinux2014_aarch64"),
        ("python3.13", "x86_64", "x86_64-manylinux_2_34", "manylinux_2_34_x86_64"),
        ("python3.12", "arm64", "aarch64-manylinux_2_34", "manylinux_2_34_aarch64"),
    ],
)
def test_resolution_platforms_never_exceed_the_runtimes_glibc(
    runtime: str, arch: str, uv: str, pip_last: str
) -> None:
    target = get_target(runtime, arch)
    assert target.uv_platform == uv
    assert target.pip_platforms[0] == f"manylinux2014_{target.machine}"
    assert target.pip_platforms[-1] == pip_last
