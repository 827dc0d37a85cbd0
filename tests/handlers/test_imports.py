"""A handler's import never drags in the packaging side (the Lambda zips do not carry it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.test_architecture import BUILD_SIDE

FORBIDDEN = (
    *BUILD_SIDE,
    # and what only the build side depends on
    "elftools",
    "packaging",
    "installer",
    "stevedore",
    "uv",
)


@pytest.mark.parametrize("handler", ["ingestion", "analysis", "dashboard"])
def test_importing_a_handler_loads_no_packaging_module(handler: str) -> None:
    code = (
        "import json, sys\n"
        f"import handlers.{handler} as h\n"
        "assert callable(h.lambda_handler)\n"
        f"forbidden = {FORBIDDEN!r}\n"
        "loaded = sorted(m for m in sys.modules if m in forbidden"
        " or any(m.startswith(f + '.') for f in forbidden))\n"
        "print(json.dumps({'loaded': loaded, 'botocore': 'botocore.client' in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-c", code], capture_output=True, text=True, check=True
    )
    report = json.loads(out.stdout)
    assert report["loaded"] == []
    assert report["botocore"] is True  # the probe sees real imports: the adapters did load


def test_the_domains_do_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "import sentiment_pipeline.ingestion, sentiment_pipeline.analysis\n"
        "import sentiment_pipeline.dashboard, sentiment_pipeline.newsapi\n"
        "import sentiment_pipeline.memory, sentiment_pipeline.secretcache\n"
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_dashboard_answers_without_pydantic() -> None:
    """Its cold start stays free of pydantic's import and schema builds (bench_coldstart.py)."""
    code = (
        "import json, sys\n"
        "import handlers.dashboard\n"
        "from sentiment_pipeline.config import Settings\n"
        "from sentiment_pipeline.dashboard import Dashboard, Request\n"
        "from sentiment_pipeline.memory import InMemoryRepository\n"
        "app = Dashboard(Settings.from_env({}), InMemoryRepository, lambda: 'key-123456')\n"
        "codes = [app.handle(Request('GET', path, {'x-api-key': 'key-123456'})).status\n"
        "         for path in ('/health', '/api/items', '/api/metrics', '/api/stream')]\n"
        "print(json.dumps({'codes': codes, 'pydantic': 'pydantic' in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {"codes": [200, 200, 200, 200], "pydantic": False}
