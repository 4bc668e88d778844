"""The ingest benchmark of issue 14: `python -m benchmarks.ingest --help` (see __main__)."""
