"""Native-code checks on ELF files the tests compile themselves with gcc."""

from __future__ import annotations

import subprocess
import zipfile
from typing import TYPE_CHECKING

import attrs
import pytest

from sentiment_pipeline import ProblemCode, Target
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.native import ElfInfo, parse_elf, sniff

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

EXT = "ext.cpython-313-x86_64-linux-gnu.so"


def gcc(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["gcc", *map(str, args)], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libspfake.so.1 exports sp_fake at version GLIBC_2.99; versioned.so links to it;
    needs.so, an extension module ``ext``, to libspmissing.so (RPATH $ORIGIN/../pkg.libs)."""
    d = tmp_path_factory.mktemp("native")
    (d / "fake.c").write_text("int sp_fake(void) { return 42; }\n")
    (d / "fake.map").write_text("GLIBC_2.99 { global: sp_fake; local: *; };\n")
    gcc(
        "-shared",
        "-fPIC",
        "-o",
        "libspfake.so.1",
        "-Wl,-soname,libspfake.so.1",
        "-Wl,--version-script=fake.map",
        "fake.c",
        cwd=d,
    )
    (d / "missing.c").write_text("int sp_missing(void) { return 1; }\n")
    gcc(
        "-shared",
        "-fPIC",
        "-o",
        "libspmissing.so",
        "-Wl,-soname,libspmissing.so",
        "missing.c",
        cwd=d,
    )
    (d / "ext.c").write_text(
        "extern int sp_fake(void);\nint use_fake(void) { return sp_fake(); }\n"
    )
    gcc(
        "-shared",
        "-fPIC",
        "-o",
        "versioned.so",
        "ext.c",
        "-L.",
        "-l:libspfake.so.1",
        "-Wl,--no-as-needed",
        cwd=d,
    )
    (d / "needs.c").write_text(
        "extern int sp_missing(void);\nint PyInit_ext(void) { return sp_missing(); }\n"
    )
    gcc(
        "-shared",
        "-fPIC",
        "-o",
        "needs.so",
        "needs.c",
        "-Wl,--disable-new-dtags",
        "-Wl,-rpath,$ORIGIN/../pkg.libs",
        "-L.",
        "-lspmissing",
        "-Wl,--no-as-needed",
        cwd=d,
    )
    return d


def build(tmp_path: Path, files: Mapping[str, Path | bytes]) -> Path:
    artifact = tmp_path / "fn.zip"
    with zipfile.ZipFile(artifact, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content if isinstance(content, bytes) else content.read_bytes())
    return artifact


def test_dt_needed_on_an_absent_library_is_unresolved(
    native: Path, tmp_path: Path, py313: Target
) -> None:
    report = verify(build(tmp_path, {f"pkg/{EXT}": native / "needs.so"}), target=py313)
    assert [(p.code, p.path) for p in report.problems] == [
        (ProblemCode.UNRESOLVED_LIBRARY, f"pkg/{EXT}")
    ]
    assert "libspmissing.so" in report.problems[0].message


def test_a_bundled_library_resolves(native: Path, tmp_path: Path, py313: Target) -> None:
    files = {
        f"pkg/{EXT}": native / "needs.so",
        "pkg.libs/libspmissing.so": native / "libspmissing.so",
    }
    report = verify(build(tmp_path, files), target=py313)
    assert report.ok, report.render()
    assert report.checked.native_files == 2
    assert report.checked.notes == ()


def test_a_symbol_version_above_the_targets_glibc_is_glibc_too_new(
    native: Path, tmp_path: Path, py313: Target
) -> None:
    files = {
        f"pkg/{EXT}": native / "versioned.so",
        "pkg.libs/libspfake.so.1": native / "libspfake.so.1",
    }
    report = verify(build(tmp_path, files), target=py313)
    assert report.codes() == {"glibc-too-new"}
    assert report.problems[0].path == f"pkg/{EXT}"
    assert "GLIBC_2.99" in report.problems[0].message and "glibc 2.34" in report.problems[0].message


def test_parse_elf_reads_needed_and_versions(native: Path) -> None:
    with (native / "versioned.so").open("rb") as fh:
        info = parse_elf(fh)
    assert not isinstance(info, str)
    assert info.machine == "EM_X86_64" and info.elfclass == 64
    assert "libspfake.so.1" in info.needed
    assert (2, 99) in info.glibc_versions


def test_parse_elf_reads_rpath_soname_and_init_functions(native: Path) -> None:
    with (native / "needs.so").open("rb") as fh:
        ext = parse_elf(fh)
    with (native / "libspmissing.so").open("rb") as fh:
        lib = parse_elf(fh)
    assert not isinstance(ext, str) and not isinstance(lib, str)
    assert ext.rpath == ("$ORIGIN/../pkg.libs",) and ext.runpath == ()
    assert ext.search_rpath == ext.rpath
    assert ext.init_functions == frozenset({"ext"})
    assert lib.soname == "libspmissing.so" and lib.init_functions == frozenset()


def test_parse_elf_reads_runpath_apart_from_rpath(tmp_path: Path) -> None:
    (tmp_path / "both.c").write_text("int PyInit_both(void) { return 0; }\n")
    gcc(
        "-shared",
        "-fPIC",
        "-o",
        "both.so",
        "both.c",
        "-Wl,--enable-new-dtags",
        "-Wl,-rpath,$ORIGIN/r",
        cwd=tmp_path,
    )
    with (tmp_path / "both.so").open("rb") as fh:
        info = parse_elf(fh)
    assert not isinstance(info, str)
    assert info.runpath == ("$ORIGIN/r",) and info.rpath == ()


def test_the_loader_ignores_an_rpath_beside_a_runpath() -> None:
    both = ElfInfo(64, "EM_X86_64", (), ("$ORIGIN/a",), (), runpath=("$ORIGIN/b",))
    assert both.search_rpath == ()
    assert attrs.evolve(both, runpath=()).search_rpath == ("$ORIGIN/a",)


def test_truncated_elf_is_a_note_not_a_crash(native: Path, tmp_path: Path, py313: Target) -> None:
    head = (native / "needs.so").read_bytes()[:200]
    report = verify(build(tmp_path, {f"pkg/{EXT}": head}), target=py313)
    assert any("unreadable ELF" in note for note in report.checked.notes)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pkg/_speedups.cpython-313-darwin.so", b"\xcf\xfa\xed\xfe" + bytes(60)),
        ("pkg/_speedups.so", b"\xcf\xfa\xed\xfe" + bytes(60)),
        ("pkg/_speedups.cp313-win_amd64.pyd", b"MZ" + bytes(62)),
        ("pkg/helper.dll", b"MZ" + bytes(62)),
    ],
)
def test_mach_o_and_pe_are_not_linux(
    name: str, content: bytes, tmp_path: Path, py313: Target
) -> None:
    report = verify(build(tmp_path, {name: content}), target=py313)
    assert (ProblemCode.NOT_LINUX, name) in {(p.code, p.path) for p in report.problems}


def test_java_class_files_are_not_mistaken_for_mach_o() -> None:
    assert sniff(b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "pkg/Main.class") == ""
    assert sniff(b"\xca\xfe\xba\xbe\x00\x00\x00\x02", "pkg/lib.dylib") == "mach-o"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("m.cpython-312-x86_64-linux-gnu.so", ProblemCode.ABI_MISMATCH),
        ("m.cpython-313t-x86_64-linux-gnu.so", ProblemCode.ABI_MISMATCH),
        ("m.cpython-313-x86_64-linux-musl.so", ProblemCode.ABI_MISMATCH),
        ("m.cpython-313-aarch64-linux-gnu.so", ProblemCode.ARCH_MISMATCH),
        ("m.cpython-313-darwin.so", ProblemCode.NOT_LINUX),
    ],
)
def test_extension_names_are_checked_without_reading_them(
    name: str, code: ProblemCode, tmp_path: Path, py313: Target
) -> None:
    report = verify(build(tmp_path, {f"pkg/{name}": b"not really a library"}), target=py313)
    assert (code, f"pkg/{name}") in {(p.code, p.path) for p in report.problems}


@pytest.mark.parametrize("suffix", [".cpython-313-x86_64-linux-gnu.so", ".abi3.so", ".so"])
def test_accepted_extension_names_pass(
    suffix: str, native: Path, tmp_path: Path, py313: Target
) -> None:
    report = verify(build(tmp_path, {f"pkg/m{suffix}": native / "libspmissing.so"}), target=py313)
    assert report.ok, report.render()
    assert report.checked.native_files == 1
