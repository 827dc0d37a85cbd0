"""Lambda's dynamic loader, modelled over real ELF files the tests link with gcc: where
DT_NEEDED libraries resolve (RPATH, LD_LIBRARY_PATH, RUNPATH, the runtime's own),
and the walk from each extension module that names the library an import needs."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ProblemCode, get_target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.sandbox import Placed
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.loader import LambdaFiles, Loader
from sentiment_pipeline.packaging.verify.native import parse_elf
from sentiment_pipeline.packaging.verify.sources import open_tree

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from sentiment_pipeline import Target
    from sentiment_pipeline.packaging.verify.report import Report

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

_ARCHITECTURES = {"x86_64": "x86_64", "aarch64": "arm64"}


@pytest.fixture(scope="module")
def target() -> Target:
    """python3.13 on this machine's architecture: what gcc here links for."""
    architecture = _ARCHITECTURES.get(platform.machine())
    if architecture is None:
        pytest.skip(f"gcc here links for {platform.machine()}, no Lambda architecture")
    return get_target("python3.13", architecture)


class Linker:
    """Links small shared objects in one directory: ``lib(name, needs=...)``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def lib(
        self,
        name: str,
        *,
        needs: Sequence[str] = (),
        rpath: str | None = None,
        runpath: str | None = None,
        init: str | None = None,
        soname: str | None = None,
    ) -> Path:
        """``name`` needing each of ``needs`` (sonames linked earlier here), with a
        DT_RPATH or DT_RUNPATH, exporting ``PyInit_<init>`` when given."""
        source = self.dir / f"{name}.c"
        body = f"int PyInit_{init}(void) {{ return 0; }}\n" if init else ""
        symbol = re.sub(r"\W", "_", name)
        source.write_text(body + f"int sym_{symbol}(void) {{ return 1; }}\n")
        args = ["gcc", "-shared", "-fPIC", "-o", name, source.name]
        args.append(f"-Wl,-soname,{soname or name}")
        if rpath is not None:
            args += ["-Wl,--disable-new-dtags", f"-Wl,-rpath,{rpath}"]
        if runpath is not None:
            args += ["-Wl,--enable-new-dtags", f"-Wl,-rpath,{runpath}"]
        args += ["-Wl,--no-as-needed", "-L."] + [f"-l:{lib}" for lib in needs]
        subprocess.run(args, cwd=self.dir, check=True, capture_output=True)
        return self.dir / name


@pytest.fixture(scope="module")
def linker(tmp_path_factory: pytest.TempPathFactory) -> Linker:
    linker = Linker(tmp_path_factory.mktemp("elf"))
    # Stand-ins for libraries Lambda lacks (linked against, never bundled).
    linker.lib("libGL.so.1")
    linker.lib("libxcb.so.1")
    linker.lib("libnothere.so.3")
    linker.lib("libz.so.1")  # a name the runtime has
    return linker


def ext(target: Target, module: str) -> str:
    return module + target.extension_suffixes[0]


def zip_of(path: Path, files: Mapping[str, Path | bytes], links: Mapping[str, str] = {}) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content if isinstance(content, bytes) else content.read_bytes())
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = 0o120777 << 16
            zf.writestr(info, target)
    return path


def check(
    tmp_path: Path,
    target: Target,
    files: Mapping[str, Path | bytes],
    layers: Sequence[Mapping[str, Path | bytes]] = (),
    links: Mapping[str, str] = {},
) -> Report:
    artifact = zip_of(tmp_path / "fn.zip", files, links)
    paths = [zip_of(tmp_path / f"layer{i}.zip", layer) for i, layer in enumerate(layers)]
    return verify(artifact, target, VerifyOptions(layers=paths, dynamic=False))


def unresolved(report: Report) -> list[tuple[str, str]]:
    return [
        (p.path, p.message) for p in report.problems if p.code is ProblemCode.UNRESOLVED_LIBRARY
    ]


def test_a_library_bundled_through_rpath_origin_resolves(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    dep = linker.lib("libdep-1a2b.so.1", needs=["libz.so.1"])
    module = linker.lib("core_a.so", needs=[dep.name], rpath="$ORIGIN/../pkg.libs", init="_core")
    files = {f"pkg/{ext(target, '_core')}": module, f"pkg.libs/{dep.name}": dep}
    report = check(tmp_path, target, files)
    assert report.ok, report.render()
    assert not any(dep.name in note for note in report.checked.notes)


def test_a_bundled_library_the_search_misses_is_a_note_not_a_failure(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    dep = linker.lib("libdep-3c4d.so.1")
    module = linker.lib("core_b.so", needs=[dep.name], init="_core")  # no RPATH
    files = {f"pkg/{ext(target, '_core')}": module, f"pkg.libs/{dep.name}": dep}
    report = check(tmp_path, target, files)
    assert report.ok, report.render()
    note = next(n for n in report.checked.notes if dep.name in n)
    assert "does not reach pkg.libs/" in note and "loaded before" in note


@pytest.mark.parametrize("where", ["layer", "function"])
def test_a_library_in_a_lib_directory_resolves_through_ld_library_path(
    where: str, linker: Linker, tmp_path: Path, target: Target
) -> None:
    dep = linker.lib("libshared-5e6f.so.2")
    module = linker.lib("fast.so", needs=[dep.name], init="fast")
    files: dict[str, Path | bytes] = {f"pkg/{ext(target, 'fast')}": module}
    layers: list[dict[str, Path | bytes]] = []
    if where == "layer":
        layers.append({f"lib/{dep.name}": dep, "python/.keep": b""})
    else:
        files[f"lib/{dep.name}"] = dep
    report = check(tmp_path, target, files, layers)
    assert report.ok, report.render()
    assert report.checked.notes == ()


def test_a_library_lambda_lacks_names_the_chain_from_the_extension(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    qt = linker.lib("libQt5Gui-9a8b.so.5.15.0", needs=["libGL.so.1"], rpath="$ORIGIN")
    module = linker.lib(
        "cv2.so", needs=[qt.name], rpath="$ORIGIN/../opencv_python.libs", init="cv2"
    )
    files = {
        f"cv2/{ext(target, 'cv2')}": module,
        f"opencv_python.libs/{qt.name}": qt,
    }
    report = check(tmp_path, target, files)
    ((path, message),) = unresolved(report)
    assert path == f"cv2/{ext(target, 'cv2')}"
    assert f"cv2/{ext(target, 'cv2')} -> opencv_python.libs/{qt.name} -> libGL.so.1" in message
    assert "manylinux policy lets wheels assume libGL.so.1" in message
    assert "headless" in message
    assert "lib/" in message and "a wheel that does not need it" in message


def test_a_need_only_a_plugin_has_is_a_note(linker: Linker, tmp_path: Path, target: Target) -> None:
    plugin = linker.lib("libqxcb.so", needs=["libxcb.so.1"])
    module = linker.lib("cv2b.so", init="cv2")
    files = {
        f"cv2/{ext(target, 'cv2')}": module,
        # Importable by its path alone; no PyInit_libqxcb says it is no extension module.
        "cv2/qt/plugins/platforms/libqxcb.so": plugin,
    }
    report = check(tmp_path, target, files)
    assert report.ok, report.render()
    note = next(n for n in report.checked.notes if "libxcb.so.1" in n)
    assert note.startswith("1 file(s) that no extension module loads at import")
    assert note.endswith("cv2/qt/plugins/platforms/libqxcb.so (libxcb.so.1).")


def test_a_chain_of_three_uses_the_rpath_of_the_files_that_loaded_it(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    third = linker.lib("libthird.so.1", needs=["libnothere.so.3"])
    second = linker.lib("libsecond.so.1", needs=[third.name])  # no path of its own
    first = linker.lib("libfirst.so.1", needs=[second.name])
    module = linker.lib("chain.so", needs=[first.name], rpath="$ORIGIN/.libs", init="chain")
    files = {
        f"pkg/{ext(target, 'chain')}": module,
        **{f"pkg/.libs/{lib.name}": lib for lib in (first, second, third)},
    }
    report = check(tmp_path, target, files)
    ((path, message),) = unresolved(report)
    e = f"pkg/{ext(target, 'chain')}"
    assert path == e
    assert (
        f"{e} -> pkg/.libs/libfirst.so.1 -> pkg/.libs/libsecond.so.1 -> "
        "pkg/.libs/libthird.so.1 -> libnothere.so.3" in message
    )
    assert message.startswith(f"Importing {e} needs libnothere.so.3 ")


def test_runpath_is_not_inherited_by_the_libraries_it_finds(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    second = linker.lib("librun2.so.1")
    first = linker.lib("librun1.so.1", needs=[second.name])
    module = linker.lib("run.so", needs=[first.name], runpath="$ORIGIN/.libs", init="run")
    files = {
        f"pkg/{ext(target, 'run')}": module,
        f"pkg/.libs/{first.name}": first,
        f"pkg/.libs/{second.name}": second,
    }
    report = check(tmp_path, target, files)
    assert report.ok, report.render()  # found elsewhere in the artifact: a note
    assert any(
        f"-> pkg/.libs/{first.name} -> {second.name}: the loader's search does not reach" in n
        for n in report.checked.notes
    )


def test_each_missing_library_is_reported_once_per_extension(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    inner = linker.lib("libinner.so.1", needs=["libnothere.so.3", "libGL.so.1"])
    a = linker.lib("a.so", needs=["libnothere.so.3", inner.name], rpath="$ORIGIN", init="a")
    b = linker.lib("b.so", needs=["libnothere.so.3"], init="b")
    files = {
        f"pkg/{ext(target, 'a')}": a,
        f"pkg/{ext(target, 'b')}": b,
        f"pkg/{inner.name}": inner,
    }
    report = check(tmp_path, target, files)
    problems = dict(unresolved(report))
    assert set(problems) == {f"pkg/{ext(target, 'a')}", f"pkg/{ext(target, 'b')}"}
    a_message = problems[f"pkg/{ext(target, 'a')}"]
    first, also = a_message.split(" Also missing: ")
    assert first.startswith(f"Importing pkg/{ext(target, 'a')} needs libnothere.so.3 ")
    # libnothere.so.3 again through libinner is the same missing library: named once.
    assert also.startswith(f"pkg/{ext(target, 'a')} -> pkg/{inner.name} -> libGL.so.1.")
    assert "libnothere" not in also


def test_a_system_library_wins_over_a_bundled_copy_in_lib(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    # /lib64 comes before /var/task/lib: the bundled libz.so.1 (and what it needs) never loads.
    bundled = linker.lib("libz-bundled.so", needs=["libnothere.so.3"], soname="libz.so.1")
    module = linker.lib("zz.so", needs=["libz.so.1"], init="zz")
    files = {f"pkg/{ext(target, 'zz')}": module, "lib/libz.so.1": bundled}
    report = check(tmp_path, target, files)
    assert report.ok, report.render()


def test_a_symlinked_library_resolves_to_its_file(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    real = linker.lib("libreal.so.1", needs=["libGL.so.1"])
    module = linker.lib("sym.so", needs=["libreal.so.1"], init="sym")
    files = {f"pkg/{ext(target, 'sym')}": module, "lib/libreal.so.1.2.3": real}
    report = check(tmp_path, target, files, links={"lib/libreal.so.1": "libreal.so.1.2.3"})
    ((_path, message),) = unresolved(report)
    assert "-> lib/libreal.so.1.2.3 -> libGL.so.1" in message


def test_an_extension_for_another_python_is_no_root(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    module = linker.lib("old.so", needs=["libGL.so.1"], init="old")
    name = f"pkg/old.cpython-312-{target.machine}-linux-gnu.so"
    report = check(tmp_path, target, {name: module})
    assert unresolved(report) == []
    assert report.codes() == {"abi-mismatch"}


def test_the_loader_searches_rpath_then_ld_library_path_then_runpath(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    lib = linker.lib("libboth.so.1")
    by_rpath = linker.lib("by_rpath.so", needs=[lib.name], rpath="$ORIGIN/r")
    by_runpath = linker.lib("by_runpath.so", needs=[lib.name], runpath="$ORIGIN/r")
    artifact = zip_of(
        tmp_path / "fn.zip",
        {
            "m/a.so": by_rpath,
            "m/b.so": by_runpath,
            f"m/r/{lib.name}": lib,
            f"lib/{lib.name}": lib,
        },
    )
    tree = open_tree(artifact)
    try:
        placed = [Placed(tree, "function", 0)]
        elf = {}
        for name in ("m/a.so", "m/b.so", f"m/r/{lib.name}", f"lib/{lib.name}"):
            with tree.open(next(e for e in tree.entries() if e.name == name)) as fh:
                info = parse_elf(fh)
            assert not isinstance(info, str)
            elf[(0, name)] = info
        files = LambdaFiles(placed, elf)
        loader = Loader(target, files)
        a, b = files.lookup("/var/task/m/a.so"), files.lookup("/var/task/m/b.so")
        assert a is not None and b is not None
        found_a, found_b = loader.search(lib.name, (a,)), loader.search(lib.name, (b,))
        assert found_a is not None and found_b is not None
        assert found_a.directory == "/var/task/m/r"  # DT_RPATH first
        assert found_b.directory == "/var/task/lib"  # LD_LIBRARY_PATH before DT_RUNPATH
        assert loader.search("libGL.so.1", (a,)) is None
        system = loader.search("libstdc++.so.6", (a,))
        assert system is not None and system.system
    finally:
        tree.close()


def test_a_candidate_for_another_machine_is_skipped_as_ld_so_does(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    dep = linker.lib("libpick.so.1", needs=["libGL.so.1"])
    foreign = bytearray(dep.read_bytes())
    other = 183 if target.machine == "x86_64" else 62  # EM_AARCH64 / EM_X86_64
    foreign[18:20] = other.to_bytes(2, "little")  # e_machine
    module = linker.lib("pick.so", needs=[dep.name], rpath="$ORIGIN/wrong", init="pick")
    files: dict[str, Path | bytes] = {
        f"pkg/{ext(target, 'pick')}": module,
        f"pkg/wrong/{dep.name}": bytes(foreign),
        f"lib/{dep.name}": dep,
    }
    report = check(tmp_path, target, files)
    assert (ProblemCode.ARCH_MISMATCH, f"pkg/wrong/{dep.name}") in {
        (p.code, p.path) for p in report.problems
    }
    ((_path, message),) = unresolved(report)
    assert f"-> lib/{dep.name} -> libGL.so.1" in message  # found after the skipped one


def test_a_layer_verified_alone_resolves_from_opt(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    dep = linker.lib("libopt.so.1")
    module = linker.lib("inlayer.so", needs=[dep.name], init="m")
    site = f"python/lib/python{target.python}/site-packages"
    artifact = zip_of(
        tmp_path / "layer.zip", {f"{site}/{ext(target, 'm')}": module, f"lib/{dep.name}": dep}
    )
    report = verify(artifact, target, VerifyOptions(dynamic=False))
    assert report.checked.kind == "layer"
    assert report.ok, report.render()
    assert report.checked.notes == ()


def test_the_last_layer_s_copy_of_a_library_is_the_one_that_loads(
    linker: Linker, tmp_path: Path, target: Target
) -> None:
    good = linker.lib("libover.so.1")
    bad = linker.lib("libover-bad.so", needs=["libGL.so.1"], soname="libover.so.1")
    module = linker.lib("over.so", needs=["libover.so.1"], init="over")
    files = {f"pkg/{ext(target, 'over')}": module}
    first: dict[str, Path | bytes] = {"lib/libover.so.1": good, "python/.keep": b""}
    second: dict[str, Path | bytes] = {"lib/libover.so.1": bad, "python/.keep": b""}
    assert check(tmp_path, target, files, [second, first]).ok
    ((_path, message),) = unresolved(check(tmp_path, target, files, [first, second]))
    assert "-> layer1.zip:lib/libover.so.1 -> libGL.so.1" in message
