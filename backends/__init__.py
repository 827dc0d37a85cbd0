"""Packaging backends (stevedore plugins in the ``sentiment_pipeline.backends`` namespace).

Each backend builds the artifacts a ``lambdas.toml`` describes and hands them to
:func:`sentiment_pipeline.packaging.verify` before they reach their final path.
"""
