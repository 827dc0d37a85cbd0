"""The package's import boundary: runtime code never drags in the packaging side."""

from __future__ import annotations

import subprocess
import sys

import sentiment_pipeline

PACKAGING_ONLY = (
    "elftools",
    "packaging",
    "installer",
    "sentiment_pipeline.packaging.verify",
    "sentiment_pipeline.packaging.targets",
)


def test_importing_the_package_loads_no_packaging_code() -> None:
    code = (
        "import sys, sentiment_pipeline, sentiment_pipeline.errors\n"
        f"loaded = [m for m in {PACKAGING_ONLY!r} if m in sys.modules]\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_public_api_resolves_lazily() -> None:
    for name in sentiment_pipeline.__all__:
        assert getattr(sentiment_pipeline, name) is not None
    assert set(sentiment_pipeline.__all__) <= set(dir(sentiment_pipeline))
