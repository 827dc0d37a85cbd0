"""Tests of sentiment_pipeline.oci."""
