#!/usr/bin/env python3
"""Generate sentiment_pipeline/packaging/data/stdlib_modules.json.

Top-level standard-library module names for CPython 3.9 ... 3.14, used by the
AWS Lambda target catalog.

* 3.10-3.13: ``sys.stdlib_module_names`` read from real interpreters.
* 3.9: has no ``sys.stdlib_module_names``; derived from the 3.10 list plus the
  modules that 3.10 removed, then cross-checked against what a real 3.9
  interpreter can find (``pkgutil.iter_modules`` over its stdlib and
  lib-dynload directories + ``sys.builtin_module_names``).
* 3.14: no interpreter here; derived from the 3.13 list with the documented
  3.14 additions/removals hard-coded below.

Interpreter paths default to the pyenv builds on the dev machine and can be
overridden with PYTHON3_9 ... PYTHON3_13 environment variables.  Run from the
repo root:  python3 scripts/gen_stdlib_modules.py
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sentiment_pipeline" / "data" / "stdlib_modules.json"

INTERPRETERS = {
    "3.9": "/root/.pyenv/versions/3.9.18/bin/python3.9",
    "3.10": "/root/.pyenv/versions/3.10.13/bin/python3.10",
    "3.11": "/root/.pyenv/versions/3.11.7/bin/python3.11",
    "3.12": "/root/.pyenv/versions/3.12.1/bin/python3.12",
    "3.13": "/root/.pyenv/versions/3.13.0/bin/python3.13",
}

# What's New In Python 3.10 (https://docs.python.org/3/whatsnew/3.10.html),
# "Removed": the ``formatter`` module (bpo-42299), the ``parser`` module and
# the ``symbol`` module (bpo-40939, old LL(1) parser removed).  Private modules
# dropped in 3.10 alongside them: ``_peg_parser`` (went with the old parser)
# and ``_bootlocale`` (bpo-42208).  3.10 added no new top-level modules
# ("New Modules: None").  All five are confirmed importable in CPython 3.9.18.
REMOVED_IN_3_10 = {"formatter", "parser", "symbol", "_peg_parser", "_bootlocale"}
ADDED_IN_3_10 = set()

# What's New In Python 3.14 (https://docs.python.org/3/whatsnew/3.14.html),
# "New modules": annotationlib (PEP 749), compression incl. compression.zstd
# (PEP 784; C accelerator _zstd), concurrent.interpreters and
# string.templatelib (submodules, so no new top-level names).  Private
# top-level modules new in 3.14 are not listed in What's New; they are taken
# from the PyPI package ``stdlibs`` 2026.9.3 (py313 -> py314 difference; it is
# built from the CPython 3.13.15 / 3.14.7 sources) and agree with published
# copies of a 3.14 interpreter's sys.stdlib_module_names:
#   _hmac (HACL* HMAC), _remote_debugging (PEP 768 / asyncio introspection),
#   _types, _py_warnings (concurrent-safe warnings), _ast_unparse,
#   _apple_support (already shipped in late 3.13.x patch releases, absent
#   from 3.13.0).
# Removed: the private _compression helper (moved to compression._common).
# No public top-level module was removed in 3.14.
ADDED_IN_3_14 = {
    "annotationlib",
    "compression",
    "_zstd",
    "_hmac",
    "_remote_debugging",
    "_types",
    "_py_warnings",
    "_ast_unparse",
    "_apple_support",
}
REMOVED_IN_3_14 = {"_compression"}

_INVENTORY = r"""
import json, os, pkgutil, sys, sysconfig
stdlib = sysconfig.get_paths()["stdlib"]
names = set(sys.builtin_module_names)
for m in pkgutil.iter_modules([stdlib, os.path.join(stdlib, "lib-dynload")]):
    names.add(m.name)
print(json.dumps(sorted(names)))
"""


def interpreter(version):
    return os.environ.get("PYTHON" + version, INTERPRETERS[version])


def run(version, code):
    out = subprocess.run(
        [interpreter(version), "-c", code],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def stdlib_names(version):
    return set(run(version, "import json, sys; print(json.dumps(sorted(sys.stdlib_module_names)))"))


def full_version(version):
    return run(version, "import json, platform; print(json.dumps(platform.python_version()))")


def main():
    versions = {}
    real = {}
    for v in ("3.10", "3.11", "3.12", "3.13"):
        versions[v] = stdlib_names(v)
        real[v] = full_version(v)

    # 3.9: 3.10 list adjusted by the 3.10 What's New differences.
    v39 = (versions["3.10"] - ADDED_IN_3_10) | REMOVED_IN_3_10
    inventory = set(run("3.9", _INVENTORY))
    # Test/demo extension modules are excluded from sys.stdlib_module_names
    # by design (Tools/scripts/generate_stdlib_module_names.py IGNORE list).
    ignored = {
        n
        for n in inventory
        if n == "test" or n.startswith(("_test", "_xx", "xx", "_ctypes_test", "_sysconfigdata"))
    }
    missing = inventory - ignored - v39
    if missing:
        sys.exit(f"3.9 modules found by the interpreter but not derived: {sorted(missing)}")
    not_found = sorted(v39 - inventory)  # platform-specific (Windows/macOS) or not built here
    versions["3.9"] = v39
    real["3.9"] = full_version("3.9")

    versions["3.14"] = (versions["3.13"] - REMOVED_IN_3_14) | ADDED_IN_3_14

    # Optional cross-check against the `stdlibs` package if it is importable.
    try:
        from stdlibs import py314  # type: ignore
    except ImportError:
        pass
    else:
        ref = {
            n
            for n in py314.module_names
            if not n.startswith(("_test", "xx", "_xx", "__hello", "__phello", "_ctypes_test"))
        }
        diff = ref ^ versions["3.14"]
        if diff:
            print("note: 3.14 differs from stdlibs.py314 on", sorted(diff), file=sys.stderr)

    source = {
        v: f"sys.stdlib_module_names of CPython {real[v]}" for v in ("3.10", "3.11", "3.12", "3.13")
    }
    source["3.9"] = (
        "derived: 3.10 sys.stdlib_module_names + modules removed in 3.10 {} "
        "(What's New In Python 3.10, 'Removed'); cross-checked against "
        "pkgutil.iter_modules + sys.builtin_module_names of CPython {} "
        "(names not found there are platform-specific or not built: {})".format(
            sorted(REMOVED_IN_3_10), real["3.9"], not_found
        )
    )
    source["3.14"] = (
        f"derived: 3.13 sys.stdlib_module_names + added {sorted(ADDED_IN_3_14)} "
        f"- removed {sorted(REMOVED_IN_3_14)} "
        "(What's New In Python 3.14 'New modules' for annotationlib/compression/_zstd; "
        "private names from the py313->py314 difference of PyPI 'stdlibs' 2026.9.3, "
        "built from CPython 3.14.7 sources; no 3.14 interpreter was run)"
    )
    source["3.13_note"] = "3.13 is 3.13.0; later 3.13.x patch releases also list _apple_support"
    source["scope"] = (
        "all top-level names CPython considers stdlib on any platform (includes "
        "Windows-only nt/winreg/msvcrt/_winapi etc.); excludes test/demo modules "
        "(test, _test*, xx*)"
    )

    data = {
        "source": "; ".join(f"{k}: {v}" for k, v in source.items()),
        "source_by_version": source,
        "versions": {
            v: sorted(versions[v])
            for v in sorted(versions, key=lambda s: tuple(map(int, s.split("."))))
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    for v, names in data["versions"].items():
        print(v, len(names))


if __name__ == "__main__":
    main()
