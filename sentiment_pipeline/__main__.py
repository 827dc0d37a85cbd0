"""``python -m sentiment_pipeline``: the same as the ``sentiment-pipeline`` command."""

from __future__ import annotations

import sys

from sentiment_pipeline.cli import main

sys.exit(main())
