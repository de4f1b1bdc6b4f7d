"""The test suites. Every folder is a package, so a test, a conftest and a benchmark all import
shared helpers the same way, as ``tests.support.<module>`` or ``tests.<suite>.<module>``, with
only the repository root on sys.path (pytest's ``pythonpath = ["."]``)."""
