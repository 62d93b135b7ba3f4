"""Fixtures for the search tests (a pytest plugin loaded by conftest)."""
