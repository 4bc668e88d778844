"""Benchmarks for maildesk (run from the repository root: `python -m benchmarks.ingest`)."""
