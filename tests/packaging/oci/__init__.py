"""Tests of sentiment_pipeline.packaging.oci."""
