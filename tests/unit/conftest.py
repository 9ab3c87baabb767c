"""Fixtures shared by the unit tests."""

from tests.unit.test_api import api  # noqa: F401  (the API fixture, for every module)
