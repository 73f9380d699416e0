"""The privacy tests reuse the fuzzers' small province (tests/fuzz/conftest.py)."""

from tests.fuzz.conftest import _own_limiter_storage, province  # noqa: F401
