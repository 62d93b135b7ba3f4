"""Fixtures for the client tests (a pytest plugin loaded by conftest)."""
