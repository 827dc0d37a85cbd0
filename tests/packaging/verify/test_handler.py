"""The handler's static import walk: only imports that always run must resolve, in the
function's own code and in vendored trees without ``.dist-info``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from tests.support.synth import write_files

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline import Target

# Every kind of guard, each around a module that is nowhere in the artifact.
GUARDED = """\
import json

if FAST:
    import absent_if
elif SMALL:
    import absent_elif
else:
    import absent_else
try:
    import absent_try
except Exception:
    absent_try = None
else:
    import absent_try_else
try:
    pass
except (OSError, ValueError):
    import absent_handler
for _name in ():
    import absent_for
while False:
    import absent_while


def lambda_handler(event, context):
    import absent_function
    return json.dumps(event)


class Codec:
    def load(self):
        from absent_method import loads
        return loads
"""

# Modelled on requests' compat.py (requests 2.31): simplejson when installed, else json.
REQUESTS_INIT = """\
import idna

from . import compat
from .compat import JSONDecodeError, json

__version__ = "2.31.0"
"""
REQUESTS_COMPAT = """\
import sys

try:
    import chardet
except ImportError:
    import charset_normalizer as chardet

has_simplejson = False
try:
    import simplejson as json
    has_simplejson = True
except ImportError:
    import json

if has_simplejson:
    from simplejson import JSONDecodeError
else:
    from json import JSONDecodeError

from collections.abc import Mapping
from urllib.parse import urlparse

is_py3 = sys.version_info[0] == 3
"""
VENDORED = {
    "handler.py": "import requests\n\ndef lambda_handler(event, context):\n"
    "    return requests.__version__\n",
    "requests/__init__.py": REQUESTS_INIT,
    "requests/compat.py": REQUESTS_COMPAT,
    "idna/__init__.py": "from .core import encode\n",
    "idna/core.py": "def encode(s):\n    return s.encode('ascii')\n",
}


def test_guarded_imports_of_every_kind_are_no_failure(tmp_path: Path, py313: Target) -> None:
    fn = write_files(tmp_path / "fn", {"handler.py": GUARDED})
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    assert "absent" not in report.render()  # optional imports are not reported at all


def test_an_unconditional_import_in_a_class_body_must_resolve(
    tmp_path: Path, py313: Target
) -> None:
    fn = write_files(
        tmp_path / "fn",
        {"handler.py": GUARDED + "\n\nclass Settings:\n    import absent_class_body\n"},
    )
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert {(p.code.value, p.path) for p in report.problems} == {
        ("unresolved-import", f"handler.py:{GUARDED.count(chr(10)) + 4}")
    }
    assert "'absent_class_body'" in report.problems[0].message


def test_a_module_imported_only_optionally_is_not_walked(tmp_path: Path, py313: Target) -> None:
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "if PROFILE:\n    from app import profiling\n"
            "def lambda_handler(e, c):\n    return 1\n",
            "app/__init__.py": "",
            "app/profiling.py": "import pyinstrument\n",
        },
    )
    assert verify(fn, py313, VerifyOptions(dynamic=False)).ok


def test_a_vendored_tree_without_dist_info_is_no_failure(tmp_path: Path, py313: Target) -> None:
    """serverless-python-requirements' slim mode and Chalice's vendor/ leave requests
    without .dist-info; its ``if has_simplejson:`` import was an unresolved-import."""
    fn = write_files(tmp_path / "fn", VENDORED)
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    assert report.checked.distributions == 0


def test_a_vendored_trees_unconditional_imports_must_resolve(tmp_path: Path, py313: Target) -> None:
    files = {k: v for k, v in VENDORED.items() if not k.startswith("idna/")}
    fn = write_files(tmp_path / "fn", files)
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert {(p.code.value, p.path) for p in report.problems} == {
        ("unresolved-import", "requests/__init__.py:1")
    }
