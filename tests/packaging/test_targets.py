"""The target catalog: one row per runtime and architecture, facts derived consistently."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(("runtime", "arch"), [("python2.7", "x86_64"), ("python3.13", "sparc")])
def test_unknown_targets_name_the_known_ones(runtime: str, arch: str) -> None:
    with pytest.raises(UnknownTargetError, match=r"python3\.13/x86_64"):
        get_target(runtime, arch)
