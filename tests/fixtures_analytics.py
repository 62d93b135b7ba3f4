"""Fixtures for the analytics tests (a pytest plugin loaded by conftest)."""
