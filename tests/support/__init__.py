"""Code the test folders share, imported as ``tests.support.…`` (the repository root is on sys.path:
pytest puts it there for the root conftest.py)."""
