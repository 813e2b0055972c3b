"""Test suite package: keeps tests/ itself off sys.path, where tests/cs231n would shadow
the real cs231n package as a namespace package."""
