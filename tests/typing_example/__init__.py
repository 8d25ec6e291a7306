"""A typed user of the library: type-checked (strict) and run by ``tests/test_types.py``."""
