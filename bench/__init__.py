"""Benchmarks, run from the repository root as modules (``python -m bench.dashboard_bench``), so
they share the tests' harness (``tests.support``) without sys.path edits."""
